"""things: name a few photos of a pet or an object ("Rex") and search with the name (search --thing Rex)."""

from __future__ import annotations

import sys

from photosearch.cli import add_json


def register(sub) -> None:
    p = sub.add_parser("things", help="named things beyond faces: name photos of a pet or an object, then "
                                      "search --thing NAME")
    p.add_argument("action", nargs="?", default="list", choices=("list", "name", "forget"), metavar="ACTION",
                   help="list (default) | name NAME PHOTO... (again to add photos) | forget NAME")
    p.add_argument("args", nargs="*", metavar="ARG")
    add_json(p)
    p.set_defaults(handler=cmd_things)


def cmd_things(ctx) -> int:
    from photosearch.library import Library, things

    a = ctx.args
    if a.action == "name" and len(a.args) < 2:
        print("photosearch: error: expected: things name NAME PHOTO...", file=sys.stderr)
        return 2
    if a.action == "forget" and len(a.args) != 1:
        print("photosearch: error: expected: things forget NAME", file=sys.stderr)
        return 2
    with Library.open(ctx.library) as lib:
        if a.action == "name":
            things.name_thing(lib.conn, a.args[0], a.args[1:])
        elif a.action == "forget":
            things.forget_thing(lib.conn, a.args[0])
        rows = things.list_things(lib.conn)
    ctx.emit(rows, lambda rs: "\n".join(f"{r['name']:<24} {r['photos']:>4} photos" for r in rs) or
             "no named things (name some: photosearch things name Rex PHOTO...)")
    return 0
