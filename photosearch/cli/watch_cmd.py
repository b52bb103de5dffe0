"""watch: keep the library fresh from the command line (a NAS, a server), one line per batch."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from photosearch.cli import add_backend, add_json


def register(sub) -> None:
    p = sub.add_parser("watch", help="watch library folders and index changes as they happen (Ctrl-C stops)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders to add and watch (default: all library "
                                                            "folders)")
    p.add_argument("--model", metavar="M", help="model name or checkpoint folder (default: the active model)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--batch-size", type=int, default=32, metavar="N")
    p.add_argument("--settle", type=float, default=1.0, metavar="S",
                   help="seconds without changes before a batch is indexed (default 1)")
    p.add_argument("--poll-interval", type=float, default=30.0, metavar="S",
                   help="seconds between checks of folders that cannot be watched (default 30)")
    p.add_argument("--poll", action="store_true", help="check periodically instead of watching for events")
    p.add_argument("--no-catch-up", dest="catch_up", action="store_false",
                   help="skip the first incremental index of what changed while nobody watched")
    p.add_argument("--text", action=argparse.BooleanOptionalAction, default=None,
                   help="read the words in new photos after each batch (default: the library's setting, "
                        "see `photosearch text`)")
    add_backend(p)
    add_json(p)
    p.set_defaults(handler=cmd_watch)


def _line(ev) -> str:
    if ev.kind == "folders":
        return "; ".join(f"{s.mode}: {s.folder}" + (f" ({s.reason})" if s.reason else "") for s in ev.folders)
    if ev.kind == "text":
        t = ev.text
        left = t.total - t.done
        return (f"read the words in {t.done} photo{'s' if t.done != 1 else ''}, {t.with_text} with text"
                + (f" ({left} still to read)" if left else ""))
    r = ev.report
    parts = [f"{n} {label}" for n, label in ((r.indexed, "indexed"), (r.moved, "moved"), (r.removed, "removed"),
                                             (len(r.skipped), "skipped")) if n]
    line = (", ".join(parts) or "nothing new") + f" ({ev.changed} changed paths, {ev.seconds:.1f} s)"
    for s in r.skipped:
        line += f"\n  skipped {s['path']}: {s['reason']}"
    return line


def cmd_watch(ctx) -> int:
    from photosearch.library.watch import watch

    a = ctx.args
    model = ctx.load_model()
    cancel = threading.Event()

    def stop(_sig, _frame):
        cancel.set()

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not ctx.json:
            ctx.info("watching; Ctrl-C stops")
        for ev in watch(ctx.library, model, a.paths or None, cancel=cancel, settle=a.settle,
                        poll_interval=a.poll_interval, force_polling=a.poll, catch_up=a.catch_up,
                        batch_size=max(1, a.batch_size), text=a.text):
            if ctx.json:
                ctx.emit(ev.to_dict())
                sys.stdout.flush()
            else:
                print(_line(ev), flush=True)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if not ctx.json:
        ctx.info("stopped")
    return 0
