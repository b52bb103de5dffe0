"""index, search, status, folders."""

from __future__ import annotations

import argparse
import sys

from photosearch.cli import add_backend, add_json


def register(sub) -> None:
    p = sub.add_parser("index", help="add folders to the library and index new or changed photos")
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders to add and index (default: all library "
                                                            "folders)")
    p.add_argument("--model", metavar="M", help="model name or checkpoint folder (default: the active model)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--batch-size", type=_positive, default=32, metavar="N")
    p.add_argument("--workers", type=_positive, default=None, metavar="N", help="decoding threads")
    p.add_argument("--text", action=argparse.BooleanOptionalAction, default=None,
                   help="then read the words in the photos (default: the library's setting, on unless turned "
                        "off; `photosearch text --disable`)")
    p.add_argument("--faces", action=argparse.BooleanOptionalAction, default=None,
                   help="then find faces and group them into people (default: the library's setting, off unless "
                        "turned on; `photosearch people --enable`)")
    add_backend(p)
    add_json(p)
    p.set_defaults(handler=cmd_index)

    p = sub.add_parser("search", help="find photos by a sentence and/or an example image; no query lists the "
                                      "library newest first")
    p.add_argument("query", nargs="?", metavar="QUERY", help='words; "cat + snow - indoor" adds and subtracts; '
                                                             'photos whose text holds the words come first; '
                                                             'text:"wifi" searches the text only')
    p.add_argument("--like", metavar="IMAGE", help="an example image (in the library or any file)")
    p.add_argument("--top", type=_positive, default=20, metavar="K")
    p.add_argument("--min-score", type=float, default=None, metavar="S",
                   help="a fixed cut instead of the per-query one: drop matches scoring below S")
    p.add_argument("--only-relevant", action="store_true", help="only the good matches (the per-query cut)")
    p.add_argument("--more", nargs="+", action="extend", default=[], metavar="FILE", help="photos to find more like (feedback)")
    p.add_argument("--less", nargs="+", action="extend", default=[], metavar="FILE", help="photos to find less like (feedback)")
    p.add_argument("--sort", choices=("relevance", "date"), default="relevance",
                   help="order of the good matches (newest first with date)")
    p.add_argument("--include-undated", action="store_true", help="date filters keep photos without a date taken")
    p.add_argument("--all-copies", action="store_true", help="list identical files separately")
    p.add_argument("--folder", metavar="DIR", help="only photos under DIR")
    p.add_argument("--after", metavar="DATE", help="taken on or after DATE (YYYY-MM-DD)")
    p.add_argument("--before", metavar="DATE", help="taken on or before DATE (YYYY-MM-DD)")
    p.add_argument("--type", dest="types", action="append", metavar="EXT", help="file type (jpeg, png, ...); "
                                                                                "repeatable")
    p.add_argument("--has-text", action="store_true", help="only photos in which text was read")
    p.add_argument("--person", dest="persons", action="append", default=[], metavar="NAME",
                   help="only photos of this named person (`photosearch people`); repeatable: photos with all")
    p.add_argument("--thing", dest="things", action="append", default=[], metavar="NAME",
                   help="rank by a named thing too (`photosearch things`), e.g. --thing Rex; repeatable")
    add_meta_filters(p)
    p.add_argument("--model", metavar="M")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    add_json(p)
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("status", help="photos per model, folders and files that could not be indexed")
    add_json(p)
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("folders", help="add, remove or list library folders")
    p.add_argument("action", choices=("add", "remove", "list"))
    p.add_argument("paths", nargs="*", metavar="PATH")
    add_json(p)
    p.set_defaults(handler=cmd_folders)


def _positive(v: str) -> int:
    import argparse

    try:
        n = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {v!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _open(ctx, create: bool = True):
    from photosearch.library import Library

    return Library.open(ctx.library, create=create)


def _open_to_read(ctx, create: bool = True):
    """Search and status only read: an existing library is opened read-only (a read-only mount works);
    one in an older format is opened for writing once, to bring it up to date."""
    from photosearch.errors import LibraryError
    from photosearch.library import Library

    if not ctx.library.exists():
        return Library.open(ctx.library, create=create)
    try:
        return Library.open(ctx.library, read_only=True)
    except LibraryError as e:
        if "library format" not in str(e):
            raise
        return Library.open(ctx.library)


class IndexProgress:
    """Index events as a tqdm bar on stderr (counts, rate, ETA); skipped files printed above it.

    On a terminal the bar is redrawn in place and cleared at the end; elsewhere (a log file, a pipe) it writes
    a line at most every 10 s and keeps the last one."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = None

    def __call__(self, ev) -> None:
        from tqdm import tqdm

        for s in ev.new_skips:
            tqdm.write(f"skipped {s['path']}: {s['reason']}", file=self.stream)
        if ev.phase == "scan" and ev.total and self.bar is None:
            self.bar = tqdm(total=ev.total, file=self.stream, unit="img", leave=not self.tty, dynamic_ncols=True,
                            mininterval=0.1 if self.tty else 10.0,
                            bar_format="{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {rate_fmt}  ETA {remaining}")
        elif ev.phase == "embed" and self.bar is not None:
            self.bar.update(ev.done - self.bar.n)
        elif ev.phase == "done":
            self.close()
        elif ev.phase in ("text", "faces") and ev.total:  # the text pass after the visual one, then faces
            if self.bar is None:
                self.bar = tqdm(total=ev.total, file=self.stream, unit="img", leave=not self.tty,
                                dynamic_ncols=True, mininterval=0.1 if self.tty else 10.0, desc=ev.phase,
                                bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {rate_fmt}  "
                                           "ETA {remaining}")
            self.bar.update(ev.done - self.bar.n)
        elif ev.phase in ("text-done", "faces-done"):
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def cmd_index(ctx) -> int:
    import threading

    model = ctx.load_model()
    quiet = ctx.json or getattr(ctx.args, "quiet", False)
    cancel = threading.Event()
    text_report = face_report = None
    with _open(ctx) as lib:
        from photosearch.events import drain
        from photosearch.faces import facepass
        from photosearch.library import textindex

        text = textindex.enabled(lib.conn) if ctx.args.text is None else ctx.args.text
        faces = facepass.enabled(lib.conn) if ctx.args.faces is None else ctx.args.faces
        bar = None if quiet else IndexProgress()
        try:
            report = lib.run_index(model, ctx.args.paths or None, on_event=bar, batch_size=ctx.args.batch_size,
                                   workers=ctx.args.workers, cancel=cancel, scan_faces=faces)
            if text and not report.cancelled:  # then the words in the photos
                text_report = drain(lib.read_text(cancel=cancel), bar)
            if faces and not report.cancelled and not cancel.is_set():  # then the faces, grouped into people
                face_report = drain(lib.find_faces(cancel=cancel), bar)
        finally:
            if bar is not None:
                bar.close()
        from photosearch.library import transition

        # Retired builds whose photos all have this model's vectors now are dropped (their vectors too).
        dropped = transition.finish(lib, ctx.model_store(), model.config.model_id)
    d = report.to_dict()
    d["dropped_models"] = dropped
    if text_report is not None:
        d["text"] = text_report.to_dict()
    if face_report is not None:  # the photos scanned while indexing (one decode each), then by the pass
        d["faces"] = f = face_report.to_dict()
        f["while_indexing"] = report.faces_scanned
        f["scanned"] += report.faces_scanned
        f["with_faces"] += report.faces_with
        f["faces"] += report.faces_found

    def human(r):
        lines = [f"indexed {r['indexed']}, unchanged {r['unchanged']}, moved {r['moved']}, removed {r['removed']}, "
                 f"skipped {len(r['skipped'])} in {r['seconds']:.1f} s ({r['images_per_second']:.1f} img/s)"]
        for mid, n in r["dropped_models"].items():
            lines.append(f"dropped the vectors of the superseded model {mid} ({n} photos)")
        for f in r["missing_folders"]:
            lines.append(f"folder not found or offline (its photos are kept): {f}")
        for f in r.get("unreadable_folders", []):
            lines.append(f"folder could not be read (its photos are kept): {f}")
        if r.get("text"):
            t = r["text"]
            lines.append(f"text: read {t['read']} photos, {t['with_text']} with text, in {t['seconds']:.1f} s "
                         f"({t['images_per_second']:.1f} img/s)")
        if r.get("faces"):
            f = r["faces"]
            lines.append(f"faces: scanned {f['scanned']} photos ({f['while_indexing']} while indexing, the rest in "
                         f"{f['seconds']:.1f} s), {f['faces']} faces in {f['with_faces']}, grouped {f['grouped']}")
        return "\n".join(lines)

    ctx.emit(d, human)
    from photosearch.cli import fast_path

    sys.stdout.flush()  # the report first; then, once per model, what makes `search` answer fast
    fast_path.export_later(model)
    return 0


def add_meta_filters(p: argparse.ArgumentParser) -> None:
    """Where/when/what filters and how the query line is read (library/lineparse.py, docs/places.md)."""
    from photosearch.meta.record import KINDS

    p.add_argument("--place", dest="places", action="append", default=[], metavar="NAME",
                   help="only photos taken in this city, region or country (repeatable: any of them)")
    p.add_argument("--camera", dest="cameras", action="append", default=[], metavar="WORD",
                   help="only photos from a camera whose make/model has this word (iPhone, Canon)")
    p.add_argument("--color", "--colour", dest="colors", action="append", default=[], type=_colour, metavar="NAME",
                   help="only photos where this colour is dominant (red, blue, ..., \"black and white\"); repeatable: "
                        "all of them")
    p.add_argument("--kind", dest="kinds", action="append", default=[], choices=KINDS,
                   help="only this kind of image (repeatable)")
    p.add_argument("--literal", action="store_true",
                   help="read QUERY as words only: no places, dates, colours, cameras or kinds taken from it")
    p.add_argument("--explain-query", action="store_true",
                   help="say how QUERY was read (with --json: an object {query, hits} instead of the list of hits)")


def _colour(v: str) -> str:
    from photosearch.meta.colours import NAMES, canonical

    c = canonical(v)
    if c is None:
        raise argparse.ArgumentTypeError(f"not a colour this knows: {v!r} (choose from {', '.join(NAMES)})")
    return c


def _read_query(lib, a):
    """(text for the visual ranking, Filters, ParsedLine or None) from the arguments and the typed line."""
    from photosearch.library.query import Filters

    base = Filters(folder=a.folder, after=a.after, before=a.before, types=a.types or (), has_text=a.has_text,
                   include_undated=a.include_undated, places=a.places, cameras=a.cameras, colors=a.colors,
                   kinds=a.kinds, persons=a.persons)
    return lib.read_search(a.query, base, a.literal)


def _explain(parsed, filters) -> dict:
    from dataclasses import asdict

    d = parsed.to_dict() if parsed is not None else {"line": None, "text": None, "parts": [], "people": [],
                                                     "notes": []}
    d["filters"] = {k: v for k, v in asdict(filters).items() if v not in (None, (), False)}
    return d


def _human_reading(parsed) -> str:
    parts = [f"{p.kind} {p.label or p.value}" if p.kind != "text" else f"words \"{p.source}\"" for p in parsed.parts]
    return "read as: " + " · ".join(parts)


def cmd_search(ctx) -> int:
    from photosearch.library.query import Query

    a = ctx.args
    if a.less and not (a.query and a.query.strip()) and not a.like and not a.more and not a.things:
        return _usage_error("--less sinks photos in a ranking: give a query, --like or --more with it")
    from photosearch.cli import fast_path
    from photosearch.model.text_onnx import NeedsFullModel

    full = None
    with _open_to_read(ctx, create=False) as lib:
        text, filters, parsed = _read_query(lib, a)
        query = Query(text, like=a.like, things=a.things, top_k=a.top, min_score=a.min_score, filters=filters,
                      more=a.more or (), less=a.less or (), only_relevant=a.only_relevant, sort=a.sort,
                      group_copies=not a.all_copies)
        if parsed is not None and not ctx.json and (parsed.chips or a.explain_query):
            ctx.info(_human_reading(parsed))
            for n in parsed.notes:
                ctx.info(f"note: {n}")
        model = fast_path.text_model(ctx, lib)  # torch-free when it gives the same answer (cli/fast_path.py)
        try:
            hits, note = _search(lib, model, query) if model is not None else (None, None)
        except NeedsFullModel:
            hits = None
        if hits is None:
            full = ctx.load_model()
            hits, note = _search(lib, ctx.search_model(lib, full), query)
    if note and not ctx.json:
        ctx.info(note)
    rows = [{"path": h.path, "score": h.score, "relevant": h.relevant, "date": h.date, "copies": h.copies,
             "files": h.files, "text_match": h.text_match, "snippet": h.snippet, "time_s": h.time_s,
             "duration_s": h.duration_s} for h in hits]
    if a.explain_query and ctx.json:
        ctx.emit({"query": _explain(parsed, filters), "hits": rows})
    else:
        ctx.emit(rows, _human_browse if query.browsing else _human_hits)
    if full is not None:
        sys.stdout.flush()  # the answer first; then, once per model, what makes the next search fast
        fast_path.export_later(full)
    return 0


def _search(lib, model, query):
    """(hits, a note for the user or None)."""
    mid = model.config.model_id
    if not lib.models().get(mid):
        return [], f"no photos are indexed with model {mid!r} yet; run `photosearch index`"
    hits = lib.search(model, query)
    return hits, lib.why_empty(model, query.filters) if not hits and query.filters.active else None


def _human_browse(rows: list[dict]) -> str:
    if not rows:
        return "no photos"
    return "\n".join(f"{(r['date'] or '')[:10]:<10}  {r['path']}" + _copies(r) for r in rows)


def _copies(r: dict) -> str:
    return f"  ({r['files']})" if r.get("files") else ""


def _moment(r: dict) -> str:
    t = r.get("time_s")
    return "" if t is None else f"  at {int(t // 60)}:{int(t % 60):02d}"


def _human_hits(rows: list[dict]) -> str:
    """Good matches, then the weaker ones under a divider; or says that nothing clearly matches."""
    from photosearch.humanize import fixed

    if not rows:
        return "nothing relevant found"
    good = [r for r in rows if r["relevant"]]
    lines = [] if good else ["nothing clearly matches; closest photos:"]
    for i, r in enumerate(rows):
        if good and not r["relevant"] and (i == 0 or rows[i - 1]["relevant"]):
            lines.append("-- other results (weaker) --")
        lines.append(f"{fixed(r['score'])}  {r['path']}" + _copies(r) + _moment(r)
                     + (f"  [text: {r['snippet']}]" if r.get("text_match") else ""))
    return "\n".join(lines)


def _usage_error(msg: str) -> int:
    print(f"photosearch: error: {msg}", file=sys.stderr)
    return 2


def cmd_status(ctx) -> int:
    with _open_to_read(ctx) as lib:
        st = lib.status().to_dict()
        offline = lib.offline_folders()

    def human(s):
        lines = [f"library: {s['library']}", f"photos: {s['photos']}"]
        lines += [f"  {n} with model {m}" for m, n in s["models"].items()]
        t = s.get("text") or {}
        if t:
            lines.append(f"text in photos: {'on' if t['enabled'] else 'off'}, {t['read']} read, "
                         f"{t['with_text']} with text")
        f = s.get("faces") or {}
        if f:
            lines.append(f"faces: {'on' if f['enabled'] else 'off'}, {f['faces']} in {f['scanned']} photos scanned, "
                         f"{f['people']} people ({f['named']} named)")
        lines.append("folders:" if s["folders"] else "folders: none (add one with `photosearch folders add PATH`)")
        off = offline
        lines += [f"  {f}{f'  ({off[f]})' if f in off else ''}" for f in s["folders"]]
        if s["skipped"]:
            lines.append(f"skipped files: {len(s['skipped'])}")
            lines += [f"  {x['path']}: {x['reason']}" for x in s["skipped"]]
        return "\n".join(lines)

    ctx.emit(st, human)
    return 0


def cmd_folders(ctx) -> int:
    a = ctx.args
    if a.action != "list" and not a.paths:
        raise SystemExit(_usage_error(f"folders {a.action} needs a PATH"))
    with _open(ctx) as lib:
        for p in a.paths if a.action != "list" else []:
            lib.add_folder(p) if a.action == "add" else lib.remove_folder(p)
        folders = lib.folders()
    ctx.emit(folders, lambda fs: "\n".join(fs) if fs else "no folders")
    return 0
