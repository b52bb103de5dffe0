"""Named things beyond faces: a few photos of a pet or an object given a name ("Rex"), usable in a search.

A named thing is the set of photos the user chose (``things``/``thing_photos``, schema version 5); its vector,
for whichever model searches, is the mean of those photos' vectors in that model (unit length), so a new model
needs nothing re-done and a photo removed from the library simply leaves the set. A search ranks by the typed
words and the named things together (``Query.things``; ``photosearch search "on the sofa" --thing Rex``). Turning
a name typed in the search box into a thing is the query parser's job: :func:`known_thing_names` lists them.
"""

from __future__ import annotations

import sqlite3
import time

import numpy as np

from photosearch.errors import PhotoSearchError
from photosearch.library.db import Tx


class ThingError(PhotoSearchError):
    """A named thing that does not exist, an empty name, or photos that are not in the library."""


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ThingError("a name cannot be empty")
    return name


def name_thing(conn: sqlite3.Connection, name: str, paths: list[str]) -> int:
    """Give ``paths`` (library photos) a name; naming again with the same name adds photos. Returns its id."""
    import os

    from photosearch.library.queries import db_text

    name = _name(name)
    if not paths:
        raise ThingError("give at least one photo")
    ids = {}
    for p in paths:
        full = os.path.abspath(os.path.expanduser(str(p)))
        row = conn.execute("SELECT id FROM photos WHERE path = CAST(? AS TEXT)", (db_text(full),)).fetchone()
        if row is None:
            raise ThingError(f"not a library photo (index it first): {p}")
        ids[full] = row[0]
    with Tx(conn):
        row = conn.execute("SELECT id FROM things WHERE name = ? COLLATE NOCASE", (name,)).fetchone()
        tid = row[0] if row else conn.execute("INSERT INTO things (name, created_at) VALUES (?, ?)",
                                              (name, time.time())).lastrowid
        conn.executemany("INSERT OR IGNORE INTO thing_photos (thing_id, photo_id) VALUES (?, ?)",
                         [(tid, i) for i in ids.values()])
    return tid


def forget_thing(conn: sqlite3.Connection, name: str) -> None:
    with Tx(conn):
        if conn.execute("DELETE FROM things WHERE name = ? COLLATE NOCASE", (_name(name),)).rowcount == 0:
            raise ThingError(f"no named thing {name!r}")


def known_thing_names(conn: sqlite3.Connection) -> list[str]:
    """The names a query may mention, for the search box's chips."""
    return [r[0] for r in conn.execute("SELECT name FROM things ORDER BY name COLLATE NOCASE")]


def list_things(conn: sqlite3.Connection) -> list[dict]:
    return [{"id": r[0], "name": r[1], "photos": r[2]} for r in conn.execute(
        "SELECT t.id, t.name, count(tp.photo_id) FROM things t LEFT JOIN thing_photos tp ON tp.thing_id = t.id "
        "GROUP BY t.id ORDER BY t.name COLLATE NOCASE")]


def thing_vector(conn: sqlite3.Connection, name: str, model_id: str) -> np.ndarray:
    """The mean of the thing's photos' vectors in ``model_id``, unit length. ThingError when the name is
    unknown or none of its photos has a vector of that model yet."""
    from photosearch.library.queries import VECTOR_DTYPE

    row = conn.execute("SELECT id, name FROM things WHERE name = ? COLLATE NOCASE", (_name(name),)).fetchone()
    if row is None:
        raise ThingError(f"no named thing {name!r}; name some photos first: photosearch things name "
                         f"{name.strip()!r} PHOTO...")
    vecs = [np.frombuffer(b, dtype=VECTOR_DTYPE).astype(np.float32) for (b,) in conn.execute(
        "SELECT e.vector FROM thing_photos tp JOIN embeddings e ON e.photo_id = tp.photo_id "
        "WHERE tp.thing_id = ? AND e.model_id = ?", (row[0], model_id))]
    if not vecs:
        raise ThingError(f"no photo of {row[1]} is indexed with this model yet; run photosearch index")
    v = np.mean([x / max(float(np.linalg.norm(x)), 1e-6) for x in vecs], axis=0)
    return (v / max(float(np.linalg.norm(v)), 1e-6)).astype(np.float32)
