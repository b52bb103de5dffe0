"""info (everything read from photos) and places (the library's places with counts)."""

from __future__ import annotations

import os


def register(sub) -> None:
    from photosearch.cli import add_json

    p = sub.add_parser("info", help="everything read from photos: date, place, camera, exposure, kind, colours")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files (in the library or not)")
    add_json(p)
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("places", help="the places of the library's photos: countries, regions, cities, counts")
    add_json(p)
    p.set_defaults(handler=cmd_places)


def cmd_info(ctx) -> int:
    """One entry per PATH; a file that cannot be read is {"path", "error"} and the exit status is 1."""
    from photosearch.imageio import ImageSkip
    from photosearch.meta.record import read_file

    out, failed = [], False
    lib = _library(ctx)
    try:
        for path in ctx.args.paths:
            p = os.path.abspath(os.path.expanduser(path))
            try:
                d = read_file(p)
            except ImageSkip as e:
                out.append({"path": p, "error": e.reason})
                failed = True
                continue
            d["library"] = lib.photo_info(p) if lib is not None else None
            out.append(d)
    finally:
        if lib is not None:
            lib.close()
    ctx.emit(out, _human_info)
    return 1 if failed else 0


def _library(ctx):
    """The library, read-only, when there is one (info works without)."""
    from photosearch.errors import LibraryError
    from photosearch.library import Library

    if not ctx.library.exists():
        return None
    try:
        return Library.open(ctx.library, read_only=True)
    except LibraryError:
        return None


_LABELS = (("taken_at", "taken"), ("taken_offset", "UTC offset"), ("make", "make"), ("model", "model"),
           ("lens", "lens"), ("focal_mm", "focal length mm"), ("aperture", "f/"), ("exposure_s", "exposure s"),
           ("iso", "ISO"), ("flash", "flash fired"), ("lat", "latitude"), ("lon", "longitude"),
           ("altitude", "altitude m"), ("direction", "direction °"), ("kind", "kind"), ("fault", "metadata problem"))


def _human_info(items: list[dict]) -> str:
    lines = []
    for d in items:
        lines.append(d["path"])
        if "error" in d:
            lines.append(f"  cannot read: {d['error']}")
            continue
        lines.append(f"  {d['width']}x{d['height']} {d['format']}")
        lines += [f"  {label}: {d[k]}" for k, label in _LABELS if d.get(k) is not None]
        if d.get("place"):
            pl = d["place"]
            lines.append("  place: " + ", ".join(x for x in (pl["city"], pl["region"], pl["country"]) if x))
        lines.append(f"  colours: {', '.join(d['colours']) or '-'}")
    return "\n".join(lines)


def cmd_places(ctx) -> int:
    from photosearch.cli.library_cmd import _open_to_read
    from photosearch.meta.places import ATTRIBUTION

    with _open_to_read(ctx, create=False) as lib:
        tree = lib.places()

    def human(t):
        if not t:
            return "no places: no photo in the library has GPS coordinates"
        lines = []
        for c in t:
            lines.append(f"{c['count']:>6}  {c['name']}")
            for r in c["regions"]:
                lines.append(f"{r['count']:>6}    {r['name'] or '-'}")
                lines += [f"{x['count']:>6}      {x['name']}" for x in r["cities"]]
        return "\n".join(lines) + f"\n{ATTRIBUTION}"

    ctx.emit(tree, human)
    return 0
