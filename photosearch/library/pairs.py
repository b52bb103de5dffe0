"""One shot, several files: a camera's RAW beside the JPEG or HEIC it wrote of the same shot, and an iPhone Live
Photo's still beside its short MOV. The still is the one photo indexed (decoding a JPEG is cheaper than a RAW,
and a Live Photo's video is the still in motion); the others are its *companions*, listed with it wherever
identical copies are (a hit's ``copies``, library/browse.py) and never indexed on their own.

A pair is found by name and checked by content: the same folder, the same stem (case-insensitively,
``IMG_0001.CR2`` + ``img_0001.jpg``), and for a RAW a date taken within :data:`RAW_MAX_APART_S` of the still's
(when both files carry one), for a Live Photo a video of at most :data:`LIVE_MAX_S` seconds. Pairs are found
again from every scan (library/index.py's ``plan``), so a moved, renamed or deleted file simply is or is not
in a pair next time; the other one then stands alone and is indexed itself.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from photosearch.library.queries import facet_stamp
from photosearch.rawio import RAW_EXTENSIONS, raw_format

STILLS = (".jpg", ".jpeg", ".jpe", ".heic", ".heif", ".hif")  # a shot's photo, in order of preference
LIVE_EXTENSIONS = frozenset({".mov"})  # what an iPhone writes beside a Live Photo still
RAW_MAX_APART_S = 120.0  # a camera writes RAW and JPEG together; minutes apart is another shot
LIVE_MAX_S = 6.0  # a Live Photo's video is about 3 s; a longer video with the same name is a video of its own
ROLES = {"raw": "RAW", "live": "Live video"}  # a companion's role -> how a person names it


@dataclass(frozen=True)
class Companion:
    path: str
    primary: str  # the still indexed for the shot (photos.path)
    role: str  # "raw" | "live"
    folder: str  # the library folder it was found under
    size: int
    mtime_ns: int


def _role(ext: str) -> str | None:
    if ext in RAW_EXTENSIONS:
        return "raw"
    return "live" if ext in LIVE_EXTENSIONS else None


def by_name(paths) -> dict[str, tuple[str, str]]:
    """Companion path -> (its still, role), from the names alone: in each folder, files sharing a stem
    (case-insensitively) with a still; the preferred still (a JPEG before a HEIC) is the shot's photo."""
    shots: dict[tuple[str, str], list[str]] = {}
    for p in paths:
        d, name = os.path.split(p)
        stem, ext = os.path.splitext(name)
        ext = ext.lower()
        if ext in STILLS or _role(ext):
            shots.setdefault((d, stem.casefold()), []).append(p)
    out: dict[str, tuple[str, str]] = {}
    for files in shots.values():
        if len(files) < 2:
            continue
        stills = sorted((p for p in files if os.path.splitext(p)[1].lower() in STILLS),
                        key=lambda p: (STILLS.index(os.path.splitext(p)[1].lower()), p))
        if not stills:
            continue
        for p in files:
            role = _role(os.path.splitext(p)[1].lower())
            if role:
                out[p] = (stills[0], role)
    return out


def _seconds_apart(a: str | None, b: str | None) -> float | None:
    try:
        return abs((datetime.fromisoformat(a) - datetime.fromisoformat(b)).total_seconds()) if a and b else None
    except ValueError:
        return None


def same_shot(companion: str, still: str, role: str) -> bool:
    """Whether the files named alike are one shot: RAW and still taken together (or a date missing on
    either), a Live Photo's video short."""
    if role == "raw":
        from photosearch.imageio import still_taken
        from photosearch.rawio import raw_taken

        apart = _seconds_apart(raw_taken(companion), still_taken(still))
        return apart is None or apart <= RAW_MAX_APART_S
    from photosearch.video import video_duration

    d = video_duration(companion)
    return d is not None and d <= LIVE_MAX_S


def find(files: dict, known: dict, bad: set[str], check: Callable[[str, str, str], bool] = same_shot
         ) -> dict[str, Companion]:
    """The companions among a scan's ``files`` (path -> scan.FileStat). ``known``: the stored companions
    (path -> row with primary, size, mtime_ns): an unchanged one with the same still is not checked again;
    ``bad``: stills that could not be decoded, which stand for no shot."""
    out: dict[str, Companion] = {}
    for path, (still, role) in by_name(files).items():
        if still in bad:
            continue
        f, k = files[path], known.get(path)
        same = k is not None and (k["primary"], k["size"], k["mtime_ns"]) == (still, f.size, f.mtime_ns)
        if same or check(path, still, role):
            out[path] = Companion(path, still, role, f.folder, f.size, f.mtime_ns)
    return out


def changed(found: dict[str, Companion], known: dict) -> list[Companion]:
    """The companions of ``found`` (:func:`find`) not stored as they are in ``known`` (path -> row with folder,
    primary, role, size, mtime_ns): what a run writes. Rewriting every pair on every run would move the facet
    count (queries.set_companions) and reload the columns in memory for nothing."""
    out = []
    for c in found.values():
        k = known.get(c.path)
        if k is None or (k["folder"], k["primary"], k["role"], k["size"], k["mtime_ns"]) != (
                c.folder, c.primary, c.role, c.size, c.mtime_ns):
            out.append(c)
    return out


def label(path: str, others: list[str], roles: dict[str, str]) -> str | None:
    """How a person names a result's files: "RAW + JPEG", "HEIC + Live video", "3 copies", "RAW + JPEG, 2
    copies"; None for a single file. ``roles``: companion path -> role (the rest are identical copies)."""
    if not others:
        return None
    copies = 1 + sum(1 for p in others if p not in roles)
    had = {roles[p] for p in others if p in roles}
    if not had:
        return f"{copies} copies"
    still = os.path.splitext(path)[1].lstrip(".").upper().replace("JPG", "JPEG")
    kinds = (["RAW"] if "raw" in had else []) + [still] + (["Live video"] if "live" in had else [])
    return " + ".join(kinds) + (f", {copies} copies" if copies > 1 else "")


_RAW_SHOTS: dict[tuple, tuple[tuple, list[int]]] = {}  # (library key, formats) -> (stamp, photo ids)
_RAW_LOCK = threading.Lock()


def with_raw_of(conn, formats: list[str], key: str = "") -> list[int]:
    """Ids of the photos whose shot has a RAW of one of ``formats`` (as stored: "RAW-NEF"): a RAW+JPEG shot is a
    RAW photo to a person filtering by RAW, though its JPEG is what is indexed. (A Live Photo stays a photo: its
    MOV does not make it a video.) Kept per library (``key``) until the facet count moves (queries.facet_stamp:
    a photo indexed or forgotten, a pair made, unmade or changed): the RAW facet asks with every search (at 20k pairs in 100k photos: 45-62 ms to
    build, under 0.2 ms from the cache). Counting rows was not enough: a RAW renamed from one JPEG's name to
    another's in one run left the same number of companions, the same largest rowid and the same photos."""
    wanted = frozenset(f for f in formats if f.startswith("RAW-"))
    if not wanted:
        return []
    stamp = facet_stamp(conn)
    with _RAW_LOCK:
        hit = _RAW_SHOTS.get((key, wanted))
        if hit is not None and hit[0] == stamp:
            return hit[1]
    ids = [pid for pid, path in conn.execute("SELECT p.id, c.path FROM companions c JOIN photos p ON p.path = "
                                             "c.primary_path WHERE c.role = 'raw'")
           if raw_format(path) in wanted]
    with _RAW_LOCK:
        _RAW_SHOTS[(key, wanted)] = (stamp, ids)
    return ids
