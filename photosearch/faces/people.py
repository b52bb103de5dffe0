"""People: faces grouped incrementally, with the user's decisions as hard rules, and the operations on them.

Grouping (:func:`group`) looks only at faces not placed yet (usable, no person, not placed by the user): each
joins the person whose centroid (mean of their usable faces, unit length) is nearest, if the cosine similarity
reaches ``THRESHOLD``, or starts a new person. New photos never re-cluster the library. Hard rules:

- two faces in one photo are never the same person (a person already in the photo is not a candidate); in a
  video the rule holds per frame (``faces.t``): one person is seen in many of its moments;
- a face the user placed (moved, split off, merged, or said "not this person" to) is never moved by grouping:
  ``faces.user_set``; a rejected person is never proposed for that face again (``face_rejections``);
- named people are anchors: :func:`regroup` releases only faces that grouping itself put into unnamed people,
  and groups them again against the named ones.

Faces too small, blurred or turned away (``usable = 0``) are kept for display and never grouped automatically.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from photosearch.errors import PhotoSearchError
from photosearch.library.db import Tx

# Cosine similarity to a person's centroid for a face to join them. Chosen on the tuning half of the grouping
# bench (benchmarks/bench_faces.py); SFace's published pairwise same-person threshold is 0.363, centroids are
# steadier than single faces, so a stricter cut costs little recall and keeps precision (siblings apart).
THRESHOLD = 0.45
CHUNK = 1024  # pending faces compared with all centroids in one matrix product
SUGGEST_MIN_FACES = 3  # unnamed groups this large are suggested for naming


class PeopleError(PhotoSearchError):
    """A people operation that would break a rule (two faces of one photo in one person, a name taken...)."""


@dataclass
class GroupEvent:
    phase: str  # "group" while placing faces, "group-done" at the end
    done: int
    total: int
    joined: int  # faces that joined an existing person
    created: int  # people started
    current: str | None = None
    new_skips: tuple = ()  # IndexEvent-compatible for progress displays


def _vec(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


class _Centroids:
    """Sums of usable member embeddings per person, growing as people are added."""

    def __init__(self, ids: list[int], sums: np.ndarray):
        self.ids = list(ids)
        self.row = {p: i for i, p in enumerate(self.ids)}
        self.sums = np.zeros((max(16, len(ids) * 2), sums.shape[1] if sums.size else 128), np.float32)
        self.sums[:len(ids)] = sums

    def __len__(self) -> int:
        return len(self.ids)

    def unit(self, start: int = 0) -> np.ndarray:
        s = self.sums[start:len(self.ids)]
        n = np.linalg.norm(s, axis=1, keepdims=True)
        return s / np.maximum(n, 1e-12)

    def add(self, pid: int, v: np.ndarray) -> None:
        i = self.row.get(pid)
        if i is None:
            if len(self.ids) == len(self.sums):
                self.sums = np.concatenate([self.sums, np.zeros_like(self.sums)])
            i = self.row[pid] = len(self.ids)
            self.ids.append(pid)
        self.sums[i] += v


def _state(conn: sqlite3.Connection):
    """Centroids of the people, who is in which frame (photo id, second), rejections, and the faces to place."""
    placed: dict[int, list[np.ndarray]] = {}
    in_frame: dict[tuple, set[int]] = {}
    todo = []
    for fid, photo, t, person, usable, user_set, emb in conn.execute(
            "SELECT id, photo_id, t, person_id, usable, user_set, embedding FROM faces ORDER BY photo_id, id"):
        if person is not None:
            in_frame.setdefault((photo, t), set()).add(person)
            if usable:
                placed.setdefault(person, []).append(_vec(emb))
        elif usable and not user_set:
            todo.append((fid, (photo, t), _vec(emb)))
    ids = [r[0] for r in conn.execute("SELECT id FROM people ORDER BY id")]
    sums = np.stack([np.sum(placed[p], axis=0) if p in placed else np.zeros(128, np.float32) for p in ids]) \
        if ids else np.zeros((0, 128), np.float32)
    rejected: dict[int, set[int]] = {}
    for fid, pid in conn.execute("SELECT face_id, person_id FROM face_rejections"):
        rejected.setdefault(fid, set()).add(pid)
    return _Centroids(ids, sums.astype(np.float32)), in_frame, rejected, todo


def group(conn: sqlite3.Connection, threshold: float = THRESHOLD,
          cancel: threading.Event | None = None) -> Iterator[GroupEvent]:
    """Place every face not placed yet (see the module's rules); one transaction per chunk, an event per
    chunk. Existing people and the user's placements are never changed."""
    cents, in_frame, rejected, todo = _state(conn)
    total, joined, created = len(todo), 0, 0
    yield GroupEvent("group", 0, total, 0, 0)
    for start in range(0, total, CHUNK):
        if cancel is not None and cancel.is_set():
            break
        chunk = todo[start:start + CHUNK]
        first_new = len(cents)
        sims = np.stack([v for _, _, v in chunk]) @ cents.unit().T if first_new else None
        assign: list[tuple[int, int]] = []
        with Tx(conn):
            for j, (fid, frame, v) in enumerate(chunk):
                s = sims[j].copy() if sims is not None else np.zeros(0, np.float32)
                if len(cents) > first_new:  # people started earlier in this chunk
                    s = np.concatenate([s, cents.unit(first_new) @ v])
                for pid in in_frame.get(frame, set()) | rejected.get(fid, set()):
                    r = cents.row.get(pid)
                    if r is not None and r < len(s):
                        s[r] = -2.0
                best = int(np.argmax(s)) if len(s) else -1
                if best >= 0 and s[best] >= threshold:
                    pid = cents.ids[best]
                    joined += 1
                else:
                    pid = conn.execute("INSERT INTO people (created_at) VALUES (?)", (time.time(),)).lastrowid
                    created += 1
                cents.add(pid, v)
                in_frame.setdefault(frame, set()).add(pid)
                assign.append((pid, fid))
            conn.executemany("UPDATE faces SET person_id = ? WHERE id = ? AND person_id IS NULL AND user_set = 0",
                             assign)
        done = start + len(chunk)
        yield GroupEvent("group", done, total, joined, created)
    yield GroupEvent("group-done", joined + created, total, joined, created)


def regroup(conn: sqlite3.Connection, threshold: float = THRESHOLD,
            cancel: threading.Event | None = None) -> Iterator[GroupEvent]:
    """Group the library again from scratch, except what the user decided: faces of named or hidden people
    and faces the user placed stay; everything grouping put into unnamed people is placed again."""
    with Tx(conn):
        conn.execute("UPDATE faces SET person_id = NULL WHERE user_set = 0 AND person_id IN "
                     "(SELECT id FROM people WHERE name IS NULL AND hidden = 0)")
        conn.execute("DELETE FROM people WHERE name IS NULL AND hidden = 0 AND cover_face IS NULL AND "
                     "id NOT IN (SELECT person_id FROM faces WHERE person_id IS NOT NULL)")
    yield from group(conn, threshold, cancel)


# -- reading ---------------------------------------------------------------------------------------------
def known_person_names(conn: sqlite3.Connection) -> list[str]:
    """The names a query may mention (named, not hidden people), for the search box's person chips."""
    return [r[0] for r in conn.execute("SELECT DISTINCT name FROM people WHERE name IS NOT NULL AND hidden = 0 "
                                       "ORDER BY name COLLATE NOCASE")]


def person_by_name(conn: sqlite3.Connection, name: str) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM people WHERE name = ? COLLATE NOCASE", (name.strip(),))]


def photo_ids_with(conn: sqlite3.Connection, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Photo ids in which every one of ``names`` appears (case-insensitive); empty when a name is unknown."""
    result: set[int] | None = None
    for name in names:
        ids = {r[0] for r in conn.execute("SELECT DISTINCT f.photo_id FROM faces f JOIN people p ON p.id = "
                                          "f.person_id WHERE p.name = ? COLLATE NOCASE", (name.strip(),))}
        result = ids if result is None else result & ids
    return np.fromiter(sorted(result or ()), dtype=np.int64)


def seen_at(conn: sqlite3.Connection, names: tuple[str, ...] | list[str]) -> dict[int, float]:
    """Video id -> the first second at which all of ``names`` are seen together in one of its moments (or, when
    never together, the first at which the first name is): where a search for them starts the video."""
    seen: list[dict[int, set[float]]] = []  # per name: video id -> the seconds they are seen at
    for name in names:
        by_video: dict[int, set[float]] = {}
        for photo, t in conn.execute("SELECT f.photo_id, f.t FROM faces f JOIN people p ON p.id = f.person_id "
                                     "WHERE f.t IS NOT NULL AND p.name = ? COLLATE NOCASE", (name.strip(),)):
            by_video.setdefault(photo, set()).add(t)
        seen.append(by_video)
    out = {}
    for photo, times in (seen[0] if seen else {}).items():
        together = set(times).intersection(*(s.get(photo, ()) for s in seen[1:]))
        out[photo] = min(together or times)
    return out


_NAMED: dict[str, tuple[tuple, dict[str, np.ndarray]]] = {}  # library key -> (signature, name -> photo ids)
_NAMED_LOCK = threading.Lock()


def named_photos(conn: sqlite3.Connection, key: str) -> dict[str, np.ndarray]:
    """Each named, shown person -> the sorted ids of the photos they are in. Kept per library (``key``) until a
    face is added, removed or moves to another person (an index-only signature over ``faces_person``) or a
    person is named, renamed or hidden: the facet counts ask for it with every search."""
    sig = (tuple(conn.execute("SELECT count(*), max(id), total(person_id * id) FROM faces INDEXED BY faces_person "
                              "WHERE person_id IS NOT NULL").fetchone()),
           tuple(conn.execute("SELECT id, name, hidden FROM people WHERE name IS NOT NULL ORDER BY id")))
    with _NAMED_LOCK:
        hit = _NAMED.get(key)
        if hit is not None and hit[0] == sig:
            return hit[1]
    by_name: dict[str, set[int]] = {}
    for name, photo in conn.execute("SELECT p.name, f.photo_id FROM people p JOIN faces f ON f.person_id = p.id "
                                    "WHERE p.name IS NOT NULL AND p.hidden = 0"):
        by_name.setdefault(name, set()).add(photo)
    out = {n: np.fromiter(sorted(ids), np.int64, len(ids)) for n, ids in by_name.items()}
    with _NAMED_LOCK:
        _NAMED[key] = (sig, out)
    return out


def named_counts(conn: sqlite3.Connection, ids: np.ndarray, key: str = "") -> dict[str, int]:
    """Each named, shown person -> how many of the photos ``ids`` they are in (most first; none: left out)."""
    named = named_photos(conn, key)
    ids = np.asarray(ids, np.int64)
    top = max([int(ids.max(initial=0))] + [int(p[-1]) for p in named.values() if len(p)])
    kept = np.zeros(top + 1, bool)  # photo id -> among ``ids``: one pass, then a lookup per person
    kept[ids[ids >= 0]] = True
    counts = {n: int(kept[photos].sum()) for n, photos in named.items()}
    return dict(sorted(((n, c) for n, c in counts.items() if c), key=lambda kv: (-kv[1], kv[0].casefold())))


def list_people(conn: sqlite3.Connection, include_hidden: bool = False, min_faces: int = 1) -> list[dict]:
    """People with their face and photo counts and cover (the user's choice, else the best usable face),
    named first, then by size, with the range of dates their photos were taken. Unnamed groups under
    ``min_faces`` are left out unless the user made them."""
    rows = conn.execute(
        "SELECT p.id, p.name, p.hidden, p.cover_face, count(f.id), count(DISTINCT f.photo_id), sum(f.user_set), "
        "min(ph.taken_at), max(ph.taken_at) FROM people p JOIN faces f ON f.person_id = p.id "
        "JOIN photos ph ON ph.id = f.photo_id GROUP BY p.id").fetchall()
    covers = {}
    for pid, fid, path, x, y, w, h, t in conn.execute(
            "SELECT f.person_id, f.id, ph.path, f.x, f.y, f.w, f.h, f.t FROM faces f JOIN photos ph ON ph.id = "
            "f.photo_id WHERE f.person_id IS NOT NULL ORDER BY f.usable, json_extract(f.quality, '$.quality')"):
        covers[pid] = {"face_id": fid, "path": path, "box": [round(x), round(y), round(w), round(h)], "t": t}
    out = []
    for pid, name, hidden, cover_face, n_faces, n_photos, by_user, first, last in rows:
        if (hidden and not include_hidden) or (n_faces < min_faces and name is None and not by_user):
            continue
        cover = covers.get(pid)
        if cover_face is not None:
            r = conn.execute("SELECT f.id, ph.path, f.x, f.y, f.w, f.h, f.t FROM faces f JOIN photos ph ON ph.id = "
                             "f.photo_id WHERE f.id = ?", (cover_face,)).fetchone()
            if r is not None:
                cover = {"face_id": r[0], "path": r[1], "box": [round(v) for v in r[2:6]], "t": r[6]}
        out.append({"id": pid, "name": name, "faces": n_faces, "photos": n_photos, "hidden": bool(hidden),
                    "dates": [first[:10], last[:10]] if first else None,  # taken, of the dated photos
                    "cover": cover, "suggest": name is None and n_faces >= SUGGEST_MIN_FACES})
    out.sort(key=lambda d: (d["name"] is None, -d["faces"], d["id"]))
    return out


_FACE_COLUMNS = "f.id, ph.path, f.x, f.y, f.w, f.h, f.usable, f.user_set, f.t"


def _face_dict(r) -> dict:
    """One face as the panels and ``photosearch people`` show it (``t``: the second, in a video)."""
    return {"face_id": r[0], "path": r[1], "box": [round(v) for v in r[2:6]], "usable": bool(r[6]),
            "user_set": bool(r[7]), "t": r[8]}


def faces_of(conn: sqlite3.Connection, pid: int, limit: int | None = None) -> list[dict]:
    """A person's faces, the best first (usable, then by quality): what a user checks and corrects."""
    rows = conn.execute(f"SELECT {_FACE_COLUMNS} FROM faces f JOIN photos ph ON ph.id = f.photo_id WHERE "
                        "f.person_id = ? ORDER BY f.usable DESC, json_extract(f.quality, '$.quality') DESC, f.id "
                        "LIMIT ?", (pid, -1 if limit is None else limit))
    return [_face_dict(r) for r in rows]


def unassigned(conn: sqlite3.Connection) -> list[dict]:
    """Faces in no person: too poor to group, or taken out by the user ("not this person")."""
    return [_face_dict(r) for r in conn.execute(f"SELECT {_FACE_COLUMNS} FROM faces f JOIN photos ph ON ph.id = "
                                                "f.photo_id WHERE f.person_id IS NULL ORDER BY f.id")]


# -- the user's operations -------------------------------------------------------------------------------
def name_of(conn: sqlite3.Connection, pid: int) -> str | None:
    """The person's name (None: unnamed); an unknown id is a PeopleError."""
    return _person(conn, pid)[1]


def _person(conn: sqlite3.Connection, pid: int) -> tuple:
    row = conn.execute("SELECT id, name FROM people WHERE id = ?", (pid,)).fetchone()
    if row is None:
        raise PeopleError(f"no person {pid}")
    return row


def _faces(conn: sqlite3.Connection, face_ids) -> list[tuple[int, tuple, int | None]]:
    """(face id, its frame: (photo id, second or None), person id) of each face; a missing one is an error."""
    out = []
    for fid in face_ids:
        row = conn.execute("SELECT id, photo_id, t, person_id FROM faces WHERE id = ?", (int(fid),)).fetchone()
        if row is None:
            raise PeopleError(f"no face {fid}")
        out.append((row[0], (row[1], row[2]), row[3]))
    return out


def _shared_photo(conn: sqlite3.Connection, pid: int, frames, exclude=()) -> str | None:
    """The path of a photo (or video) with a frame among ``frames`` ((photo id, second or None)) where ``pid``
    already has a face (other than ``exclude``)."""
    skip = f" AND f.id NOT IN ({', '.join('?' * len(exclude))})" if exclude else ""
    for photo, t in set(frames):
        row = conn.execute("SELECT ph.path FROM faces f JOIN photos ph ON ph.id = f.photo_id WHERE f.person_id = ? "
                           "AND f.photo_id = ? AND f.t IS ?" + skip, (pid, photo, t, *exclude)).fetchone()
        if row is not None:
            return row[0]
    return None


def name(conn: sqlite3.Connection, pid: int, new_name: str) -> None:
    """Name or rename a person. A name another person has already is refused (merge them instead)."""
    new_name = " ".join((new_name or "").split())
    if not new_name:
        raise PeopleError("a name cannot be empty")
    _person(conn, pid)
    other = [p for p in person_by_name(conn, new_name) if p != pid]
    if other:
        raise PeopleError(f"person {other[0]} is already called {new_name!r}; merge them: "
                          f"photosearch people merge {other[0]} {pid}")
    with Tx(conn):
        conn.execute("UPDATE people SET name = ? WHERE id = ?", (new_name, pid))


def merge(conn: sqlite3.Connection, into: int, other: int) -> None:
    """Move every face of ``other`` into ``into`` (placed by the user from now on) and delete ``other``.
    Refused when both appear in one photo (two faces of one photo are never one person)."""
    if into == other:
        raise PeopleError("cannot merge a person with themself")
    _, into_name = _person(conn, into)
    _, other_name = _person(conn, other)
    frames = [tuple(r) for r in conn.execute("SELECT photo_id, t FROM faces WHERE person_id = ?", (other,))]
    clash = _shared_photo(conn, into, frames)
    if clash:
        raise PeopleError(f"people {into} and {other} are both in {clash}: move the wrong face first")
    with Tx(conn):
        conn.execute("UPDATE faces SET person_id = ?, user_set = 1 WHERE person_id = ?", (into, other))
        conn.execute("DELETE FROM people WHERE id = ?", (other,))
        if into_name is None and other_name is not None:
            conn.execute("UPDATE people SET name = ? WHERE id = ?", (other_name, into))


def split(conn: sqlite3.Connection, face_ids: list[int]) -> int:
    """A new person made of these faces (placed by the user); returns its id."""
    faces = _faces(conn, face_ids)
    if not faces:
        raise PeopleError("no faces given")
    frames = [f[1] for f in faces]
    if len(set(frames)) < len(frames):
        raise PeopleError("two of these faces are in the same photo, so they cannot be one person")
    with Tx(conn):
        pid = conn.execute("INSERT INTO people (created_at) VALUES (?)", (time.time(),)).lastrowid
        conn.executemany("UPDATE faces SET person_id = ?, user_set = 1 WHERE id = ?", [(pid, f[0]) for f in faces])
    return pid


def move(conn: sqlite3.Connection, face_id: int, pid: int) -> None:
    """Put one face into a person (the user's latest word wins over an earlier "not this person")."""
    (fid, frame, _), = _faces(conn, [face_id])
    _person(conn, pid)
    clash = _shared_photo(conn, pid, [frame], exclude=(fid,))
    if clash:
        raise PeopleError(f"person {pid} already has a face in {clash}")
    with Tx(conn):
        conn.execute("DELETE FROM face_rejections WHERE face_id = ? AND person_id = ?", (fid, pid))
        conn.execute("UPDATE faces SET person_id = ?, user_set = 1 WHERE id = ?", (pid, fid))


def name_face(conn: sqlite3.Connection, face_id: int, new_name: str | None, new_person: bool = False) -> int:
    """Say who one face is (the preview's face boxes); returns the face's person. A name some person has already
    moves the face to them; otherwise an unnamed person of the face is named, and a face in no person, or in
    someone named otherwise, starts a new person of that name. ``new_person``: the face always starts a new
    person (named when a name is given; a name in use is refused before anything changes)."""
    new_name = " ".join((new_name or "").split())
    (fid, _, pid), = _faces(conn, [face_id])
    named = person_by_name(conn, new_name) if new_name else []
    if new_person:
        if named:
            raise PeopleError(f"person {named[0]} is already called {new_name!r}: type the name to move the face there")
        pid = split(conn, [fid])
    elif not new_name:
        raise PeopleError("a name cannot be empty")
    elif named:
        if pid not in named:
            move(conn, fid, named[0])
        return pid if pid in named else named[0]
    elif pid is None or name_of(conn, pid) is not None:
        pid = split(conn, [fid])
    if new_name:
        name(conn, pid, new_name)
    return pid


def reject(conn: sqlite3.Connection, face_id: int) -> None:
    """"Not this person": the face leaves its person, stays unassigned and is never proposed there again."""
    (fid, _, pid), = _faces(conn, [face_id])
    if pid is None:
        raise PeopleError(f"face {face_id} is in no person")
    with Tx(conn):
        conn.execute("INSERT OR IGNORE INTO face_rejections (face_id, person_id) VALUES (?, ?)", (fid, pid))
        conn.execute("UPDATE faces SET person_id = NULL, user_set = 1 WHERE id = ?", (fid,))


def hide(conn: sqlite3.Connection, pid: int, hidden: bool = True) -> None:
    _person(conn, pid)
    with Tx(conn):
        conn.execute("UPDATE people SET hidden = ? WHERE id = ?", (int(hidden), pid))
