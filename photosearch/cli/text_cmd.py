"""text: read the words in a photo, and the library's text-pass setting."""

from __future__ import annotations

import os
import sys


def register(sub) -> None:
    p = sub.add_parser("text", help="read the words in photos (offline OCR); turn the library's text pass on/off")
    p.add_argument("paths", nargs="*", metavar="PATH", help="image files to read")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--enable", action="store_true", help="read text while indexing (the default)")
    g.add_argument("--disable", action="store_true", help="do not read text while indexing")
    p.add_argument("--json", action="store_true", help='machine-readable output only: {"path", "lines": '
                                                       '[{"text", "confidence", "box"}]} (one per line)')
    p.set_defaults(handler=cmd_text)


def cmd_text(ctx) -> int:
    a = ctx.args
    if a.enable or a.disable or not a.paths:
        from photosearch.library import Library, textindex

        with Library.open(ctx.library) as lib:
            if a.enable or a.disable:
                textindex.set_enabled(lib.conn, bool(a.enable))
            st = {"library": str(lib.path), "text_pass": textindex.enabled(lib.conn), **textindex.counts(lib.conn)}
        if not a.paths:
            ctx.emit(st, lambda s: f"text pass: {'on' if s['text_pass'] else 'off'}; {s['read']} photos read, "
                                   f"{s['with_text']} with text")
            return 0
    from photosearch.imageio import ImageSkip
    from photosearch.ocr import OcrEngine

    engine = OcrEngine()
    failed = 0
    for path in a.paths:
        if not os.path.isfile(path):
            print(f"photosearch: error: {path}: no such file", file=sys.stderr)
            failed += 1
            continue
        try:
            lines = engine.read_file(path)
        except ImageSkip as e:
            print(f"photosearch: error: {path}: {e.reason}", file=sys.stderr)
            failed += 1
            continue
        out = {"path": path, "lines": [ln.to_dict() for ln in lines]}
        ctx.emit(out, lambda o: human_lines(o, named=len(a.paths) > 1))
    return 1 if failed else 0


def human_lines(o: dict, named: bool) -> str:
    """The lines read in one file; with several files each line starts with its file's name, as grep does."""
    if not o["lines"]:
        return f"{o['path']}: no text found"
    prefix = f"{o['path']}: " if named else ""
    return "\n".join(prefix + ln["text"] for ln in o["lines"])
