"""people: list, name, merge, split, move, reject, hide, regroup, forget; faces: the faces in image files."""

from __future__ import annotations

import os
import sys

from photosearch.cli import add_json

ACTIONS = ("list", "faces", "name", "merge", "split", "move", "reject", "hide", "show", "unassigned", "regroup",
           "forget")


def register(sub) -> None:
    p = sub.add_parser("people", help="people found in the library's photos: list, name, merge, split, correct; "
                                      "turn the faces pass on/off; forget all faces")
    p.add_argument("action", nargs="?", default="list", choices=ACTIONS, metavar="ACTION",
                   help="list (default) | faces ID (a person's faces, best first) | name ID NAME | merge INTO OTHER | split FACE_ID... | move FACE_ID ID | "
                        "reject FACE_ID (not this person) | hide ID | show ID | unassigned | regroup | "
                        "forget --all")
    p.add_argument("args", nargs="*", metavar="ARG")
    p.add_argument("--all", action="store_true", help="list: hidden people and single faces too; "
                                                      "forget: required, every face and embedding")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--enable", action="store_true", help="find faces while indexing")
    g.add_argument("--disable", action="store_true", help="do not find faces while indexing (the default)")
    add_json(p)
    p.set_defaults(handler=cmd_people)

    p = sub.add_parser("faces", help="the faces in image files (boxes, scores, quality; the person for "
                                     "library photos)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    add_json(p)
    p.set_defaults(handler=cmd_faces)


def _ints(args: list[str], n: int | None, what: str) -> list[int]:
    if n is not None and len(args) != n or not args:
        raise SystemExit(_usage(f"expected {what}"))
    try:
        return [int(a) for a in args]
    except ValueError:
        raise SystemExit(_usage(f"expected {what}, got {' '.join(args)!r}")) from None


def _usage(msg: str) -> int:
    print(f"photosearch: error: {msg}", file=sys.stderr)
    return 2


def cmd_people(ctx) -> int:
    from photosearch.faces import facepass, people
    from photosearch.library import Library

    a = ctx.args
    with Library.open(ctx.library) as lib:
        conn = lib.conn
        if a.enable or a.disable:
            facepass.set_enabled(conn, bool(a.enable))
        if a.action in ("forget", "faces", "unassigned"):
            _show_or_forget(ctx, conn)
            return 0
        _change(ctx, conn)
        rows = people.list_people(conn, include_hidden=a.all, min_faces=1 if a.all else 2)
        status = {"faces_pass": facepass.enabled(conn), **facepass.counts(conn)}
    if a.action == "list" and not ctx.json:
        ctx.info(f"faces pass: {'on' if status['faces_pass'] else 'off'}; {status['faces']} faces in "
                 f"{status['scanned']} photos scanned, {status['people']} people ({status['named']} named)")
    ctx.emit(rows, _human_people)
    return 0


def _change(ctx, conn) -> None:
    """The actions that change people; the list is shown afterwards."""
    from photosearch.faces import people

    act, args = ctx.args.action, ctx.args.args
    if act == "name":
        if len(args) < 2:
            raise SystemExit(_usage("expected: people name ID NAME"))
        people.name(conn, _ints(args[:1], 1, "a person id")[0], " ".join(args[1:]))
    elif act == "merge":
        people.merge(conn, *_ints(args, 2, "two person ids: INTO OTHER"))
    elif act == "split":
        ctx.info(f"new person {people.split(conn, _ints(args, None, 'face ids'))}")
    elif act == "move":
        people.move(conn, *_ints(args, 2, "FACE_ID PERSON_ID"))
    elif act == "reject":
        people.reject(conn, _ints(args, 1, "a face id")[0])
    elif act in ("hide", "show"):
        people.hide(conn, _ints(args, 1, "a person id")[0], act == "hide")
    elif act == "regroup":
        last = None
        for last in people.regroup(conn):
            pass
        ctx.info(f"regrouped {last.total} faces: {last.joined} joined a person, {last.created} new people")


def _show_or_forget(ctx, conn) -> None:
    from photosearch.faces import facepass, people

    act, args = ctx.args.action, ctx.args.args
    if act == "forget":
        if not ctx.args.all:
            raise SystemExit(_usage("people forget deletes every face and embedding: add --all to confirm"))
        n = facepass.forget_all(conn)
        ctx.emit({"forgotten_faces": n, "faces_pass": False},
                 lambda d: f"forgot {d['forgotten_faces']} faces; the faces pass is off")
        return
    if act == "faces":
        pid = _ints(args, 1, "a person id")[0]
        people.name_of(conn, pid)  # an unknown id is one clear line
        rows, note, empty = people.faces_of(conn, pid), "(placed by you)", "no faces"
    else:
        rows, note, empty = people.unassigned(conn), "(you took it out)", "no unassigned faces"
    ctx.emit(rows, lambda fs: "\n".join(f"face {f['face_id']}  {f['path']}  {'' if f['usable'] else '(poor) '}"
                                        f"{note if f['user_set'] else ''}" for f in fs) or empty)


def _human_people(rows: list[dict]) -> str:
    if not rows:
        return "no people yet (turn faces on: photosearch index --faces)"
    return "\n".join(f"{r['id']:>5}  {r['name'] or '(unnamed)':<24} {r['faces']:>4} faces {r['photos']:>4} photos"
                     + (f"  {r['dates'][0]} to {r['dates'][1]}" if r["dates"] else "")
                     + ("  hidden" if r["hidden"] else "") + ("  name me?" if r["suggest"] else "") for r in rows)


def cmd_faces(ctx) -> int:
    from photosearch.faces import facepass
    from photosearch.faces.engine import FaceEngine
    from photosearch.imageio import ImageSkip

    from photosearch.errors import LibraryError

    stored: dict[str, list[dict]] = {}
    if ctx.library.exists():
        from photosearch.library import Library

        try:
            with Library.open(ctx.library, read_only=True) as lib:
                stored = facepass.faces_of_paths(lib.conn, [os.path.abspath(p) for p in ctx.args.paths])
        except LibraryError:  # an older library not upgraded yet, or not ours: the files are still looked at
            stored = {}
    engine = FaceEngine()
    failed = 0
    for path in ctx.args.paths:
        full = os.path.abspath(path)
        if full in stored:  # a library photo: its stored faces, with their people
            faces = stored[full]
        else:
            try:
                faces = [f.to_dict() for f in engine.find_file(path)]
            except ImageSkip as e:
                print(f"photosearch: error: {path}: {e.reason}", file=sys.stderr)
                failed += 1
                continue
        ctx.emit({"path": path, "faces": faces}, _human_faces)
    return 1 if failed else 0


def _human_faces(o: dict) -> str:
    from photosearch.humanize import fixed, format_duration

    if not o["faces"]:
        return f"{o['path']}: no faces found"
    lines = [f"{o['path']}: {len(o['faces'])} face{'s' if len(o['faces']) != 1 else ''}"]
    for f in o["faces"]:
        x, y, w, h = f["box"]
        who = f.get("person") or (f"person {f['person_id']}" if f.get("person_id") else "")
        lines.append(f"  {w:.0f}x{h:.0f} at {fixed(x, 0)},{fixed(y, 0)}  score {fixed(f['score'], 2)}"
                     + ("" if f["usable"] else "  (too small, blurred or turned away)") + (f"  {who}" if who else "")
                     + (f"  (at {format_duration(f['t'])})" if f.get("t") is not None else ""))
    return "\n".join(lines)
