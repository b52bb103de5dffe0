"""The library's SQL, behind named functions (as rclip's ``db.py``): the indexer, the search and the
:class:`~photosearch.library.library.Library` ask for rows by name instead of writing SQL of their own.

Reads return ``sqlite3.Row`` (columns by name); writes take a connection inside a :class:`~db.Tx` the caller
opened, so one embedding batch stays one transaction. Nothing here catches errors: the callers turn
``sqlite3.Error`` into :class:`~photosearch.errors.LibraryError` with their own words.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Iterable

VECTOR_DTYPE = "<f2"  # float16: half the size of float32, well below the ranking noise of these models
_CHUNK = 900  # stays under SQLite's bound-parameter limit


def db_text(value: str) -> str | bytes:
    """A path as bound to SQL (always inside ``CAST(? AS TEXT)``): itself, or, for a name that is not valid
    UTF-8 (surrogate-escaped by Python, e.g. a Latin-1 name from an old drive), its bytes with the escapes
    kept as UTF-8 surrogates. SQLite stores them as TEXT; :func:`read_text` turns them back, so the original
    bytes survive the round trip (``os.fsencode`` of the read value is the file's real name)."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def read_text(b: bytes) -> str:
    """The connection's ``text_factory``: the inverse of :func:`db_text`."""
    return b.decode("utf-8", "surrogatepass")


def _rows(conn: sqlite3.Connection, sql: str, args=()) -> list[sqlite3.Row]:
    cur = conn.cursor()
    cur.row_factory = sqlite3.Row
    return cur.execute(sql, args).fetchall()


# -- models -----------------------------------------------------------------------------------------------
def model_dim(conn: sqlite3.Connection, model_id: str) -> int | None:
    row = conn.execute("SELECT dim FROM models WHERE model_id = ?", (model_id,)).fetchone()
    return None if row is None else int(row[0])


def add_model(conn: sqlite3.Connection, model_id: str, dim: int) -> None:
    conn.execute("INSERT OR IGNORE INTO models VALUES (?, ?, ?, ?)", (model_id, dim, VECTOR_DTYPE, time.time()))


def photos_per_model(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT m.model_id, (SELECT count(*) FROM embeddings e WHERE e.model_id = m.model_id) "
                        "FROM models m ORDER BY m.model_id").fetchall()
    return {m: n for m, n in rows}


# -- folders ----------------------------------------------------------------------------------------------
def folder_paths(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT path FROM folders ORDER BY path")]


def add_folder(conn: sqlite3.Connection, path: str) -> None:
    conn.execute("INSERT OR IGNORE INTO folders (path, added_at) VALUES (CAST(? AS TEXT), ?)",
                 (db_text(path), time.time()))


def folder_devices(conn: sqlite3.Connection) -> dict[str, int | None]:
    """folder -> the st_dev it was on when last indexed (None before the first index)."""
    return dict(conn.execute("SELECT path, device FROM folders").fetchall())


def set_folder_devices(conn: sqlite3.Connection, devices: dict[str, int]) -> None:
    conn.executemany("UPDATE folders SET device = ? WHERE path = CAST(? AS TEXT)",
                     [(d, db_text(p)) for p, d in devices.items()])


def meta_json(conn: sqlite3.Connection, key: str):
    """The JSON value stored under ``key`` in ``meta``; None when there is none or it is damaged."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    try:
        return json.loads(row[0]) if row else None
    except (ValueError, TypeError):
        return None


def set_meta_json(conn: sqlite3.Connection, key: str, value) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value, sort_keys=True)))


MOUNTS_KEY = "mount_points"  # meta: JSON {sub-folder: st_dev} of drives mounted inside library folders


def mount_points(conn: sqlite3.Connection) -> dict[str, int]:
    """Sub-folders of library folders that were on another device than their parent when last indexed."""
    try:
        return {str(k): int(v) for k, v in (meta_json(conn, MOUNTS_KEY) or {}).items()}
    except (ValueError, TypeError, AttributeError):
        return {}  # a damaged record: mount points are found again by the next walk


def set_mount_points(conn: sqlite3.Connection, mounts: dict[str, int]) -> None:
    set_meta_json(conn, MOUNTS_KEY, mounts)


def photo_sample(conn: sqlite3.Connection, prefix: str, n: int) -> list[sqlite3.Row]:
    """Up to ``n`` photos (path, size, hash) whose path starts with ``prefix``: to recognise a folder by its
    content."""
    p = db_text(prefix)
    return _rows(conn, "SELECT path, size, hash FROM photos WHERE substr(CAST(path AS BLOB), 1, ?) = "
                       "CAST(CAST(? AS TEXT) AS BLOB) ORDER BY id LIMIT ?",
                 (len(p.encode() if isinstance(p, str) else p), p, n))


def folders_with_photos(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT DISTINCT folder FROM photos")}


def delete_folder(conn: sqlite3.Connection, path: str) -> None:
    if conn.execute("DELETE FROM companions WHERE folder = CAST(? AS TEXT)", (db_text(path),)).rowcount:
        facets_changed(conn)
    conn.execute("DELETE FROM skipped WHERE folder = CAST(? AS TEXT)", (db_text(path),))
    conn.execute("DELETE FROM folders WHERE path = CAST(? AS TEXT)", (db_text(path),))


def photo_parent_folders(conn: sqlite3.Connection, sep: str) -> list[str]:
    """Each folder that directly holds photos, once, ending in ``sep``."""
    # rtrim(path, <its characters other than sep>) strips the file name and leaves the folder and a sep.
    return [r[0] for r in conn.execute("SELECT DISTINCT rtrim(path, replace(path, ?, '')) FROM photos", (sep,))]


# -- photos -----------------------------------------------------------------------------------------------
def photos_by_path(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    """Every photo row (id, path, folder, size, mtime_ns, hash) by path: what the planner compares a scan to."""
    return {r["path"]: r for r in _rows(conn, "SELECT id, path, folder, size, mtime_ns, hash FROM photos")}


def photo_id_at(conn: sqlite3.Connection, path: str) -> int | None:
    row = conn.execute("SELECT id FROM photos WHERE path = CAST(? AS TEXT)", (db_text(path),)).fetchone()
    return None if row is None else int(row[0])


def photo_ids_with_vector(conn: sqlite3.Connection, model_id: str) -> set[int]:
    return {r[0] for r in conn.execute("SELECT photo_id FROM embeddings WHERE model_id = ?", (model_id,))}


def photos_under(conn: sqlite3.Connection, folder: str, sep: str) -> list[sqlite3.Row]:
    """(id, path) of the photos stored under ``folder`` (by folder, or by a path below it)."""
    prefix = db_text(folder.rstrip(sep) + sep)
    return _rows(conn, "SELECT id, path FROM photos WHERE folder = CAST(? AS TEXT) OR "
                       "substr(CAST(path AS BLOB), 1, ?) = CAST(CAST(? AS TEXT) AS BLOB)",
                 (db_text(folder), len(prefix.encode() if isinstance(prefix, str) else prefix), prefix))


def photo_ids_in_range(conn: sqlite3.Connection, lo: str, hi: str) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM photos WHERE path >= CAST(? AS TEXT) AND "
                                       "path < CAST(? AS TEXT)", (db_text(lo), db_text(hi)))]


def paths_of(conn: sqlite3.Connection, ids: list[int]) -> dict[int, str]:
    """id -> path for the given photo ids (one query per 900 ids; missing ids are left out)."""
    out: dict[int, str] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        out.update(conn.execute(f"SELECT id, path FROM photos WHERE id IN ({', '.join('?' * len(chunk))})",
                                chunk).fetchall())
    return out


def photo_ids_at(conn: sqlite3.Connection, paths: list[str]) -> list[int]:
    """The ids of those of ``paths`` that are in the library (at most 900 paths)."""
    marks = ", ".join(["CAST(? AS TEXT)"] * len(paths))
    return [r[0] for r in conn.execute(f"SELECT id FROM photos WHERE path IN ({marks})", [db_text(p) for p in paths])]


def photos_at(conn: sqlite3.Connection, paths: list[str]) -> dict[str, sqlite3.Row]:
    """path -> (path, width, height, taken_at, size, mtime_ns, format, folder, indexed_at, duration_s) for the paths
    that are in the library: one query per 900 paths."""
    out: dict[str, sqlite3.Row] = {}
    for i in range(0, len(paths), _CHUNK):
        chunk = paths[i:i + _CHUNK]
        marks = ", ".join(["CAST(? AS TEXT)"] * len(chunk))
        for r in _rows(conn, "SELECT path, width, height, taken_at, size, mtime_ns, format, folder, indexed_at, "
                             f"duration_s FROM photos WHERE path IN ({marks})", [db_text(p) for p in chunk]):
            out[r["path"]] = r
    return out


def vector_of(conn: sqlite3.Connection, path: str, model_id: str) -> bytes | None:
    row = conn.execute("SELECT e.vector FROM embeddings e JOIN photos p ON p.id = e.photo_id "
                       "WHERE p.path = CAST(? AS TEXT) AND e.model_id = ?", (db_text(path), model_id)).fetchone()
    return None if row is None else row[0]


def count_photos(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM photos").fetchone()[0])


def move_photos(conn: sqlite3.Connection, moves: Iterable[tuple[str, str, int, int, int]]) -> None:
    """(path, folder, size, mtime_ns, id): a file found again by content at a new path keeps its vectors."""
    conn.executemany("UPDATE photos SET path = CAST(? AS TEXT), folder = CAST(? AS TEXT), size = ?, mtime_ns = ? "
                     "WHERE id = ?", [(db_text(p), db_text(f), s, m, i) for p, f, s, m, i in moves])


def set_hashes(conn: sqlite3.Connection, hashes: Iterable[tuple[str, int]]) -> None:
    """(hash, id): the same content, fingerprinted anew (a moved file's full hash replacing a sampled one).
    The words read in it stay valid: their record follows, so the text pass does not read them again."""
    rows = list(hashes)
    for h, pid in rows:
        conn.execute("UPDATE photo_text SET hash = ? WHERE photo_id = ? AND hash = (SELECT hash FROM photos "
                     "WHERE id = ?)", (h, pid, pid))
    conn.executemany("UPDATE photos SET hash = ? WHERE id = ?", rows)


def touch_photos(conn: sqlite3.Connection, touches: Iterable[tuple[int, int, int]]) -> None:
    """(mtime_ns, size, id): same content, new modification time."""
    conn.executemany("UPDATE photos SET mtime_ns = ?, size = ? WHERE id = ?", touches)


def delete_photos(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    conn.executemany("DELETE FROM photos WHERE id = ?", [(i,) for i in ids])


def upsert_photo(conn: sqlite3.Connection, *, path: str, folder: str, size: int, mtime_ns: int, hash: str,
                 width: int, height: int, format: str, taken_at: str | None, indexed_at: float,
                 duration_s: float | None = None) -> int:
    """Insert or update the photo's row; its id."""
    return conn.execute(
        "INSERT INTO photos (path, folder, size, mtime_ns, hash, width, height, format, taken_at, indexed_at, "
        "duration_s) VALUES (CAST(? AS TEXT), CAST(? AS TEXT), ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO "
        "UPDATE SET folder = excluded.folder, size = excluded.size, mtime_ns = excluded.mtime_ns, "
        "hash = excluded.hash, width = excluded.width, height = excluded.height, format = excluded.format, "
        "taken_at = excluded.taken_at, indexed_at = excluded.indexed_at, duration_s = excluded.duration_s "
        "RETURNING id",
        (db_text(path), db_text(folder), size, mtime_ns, hash, width, height, format, taken_at, indexed_at,
         duration_s),
    ).fetchone()[0]


def videos_without_duration(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Videos whose length is not stored (id, path, folder, size, mtime_ns, hash): indexed before the library kept
    lengths, or their header gives none (library/frames.py's ``fill_durations``)."""
    return _rows(conn, "SELECT id, path, folder, size, mtime_ns, hash FROM photos WHERE duration_s IS NULL "
                       "AND format LIKE 'VIDEO-%' ORDER BY id")


def set_durations(conn: sqlite3.Connection, found: Iterable[tuple[float, int, str]]) -> int:
    """(seconds, id, hash): videos' lengths, each stored unless its content changed meanwhile; how many were."""
    return sum(conn.execute("UPDATE photos SET duration_s = ? WHERE id = ? AND hash = ? AND duration_s IS NULL",
                            row).rowcount for row in found)


def delete_photo_at(conn: sqlite3.Connection, path: str) -> None:
    conn.execute("DELETE FROM photos WHERE path = CAST(? AS TEXT)", (db_text(path),))


# -- companions (library/pairs.py) -------------------------------------------------------------------------
def companions_by_path(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    return {r["path"]: r for r in _rows(conn, "SELECT path, folder, primary_path AS \"primary\", role, size, "
                                              "mtime_ns FROM companions")}


def set_companions(conn: sqlite3.Connection, drop: Iterable[str], put: Iterable) -> None:
    """Forget the companions at ``drop``; store ``put`` (pairs.Companion), replacing any at the same path. Moves
    the facet count when anything is written (a shot with a RAW counts as a RAW photo)."""
    drop, put = list(drop), list(put)
    conn.executemany("DELETE FROM companions WHERE path = CAST(? AS TEXT)", [(db_text(p),) for p in drop])
    conn.executemany("INSERT OR REPLACE INTO companions (path, folder, primary_path, role, size, mtime_ns) "
                     "VALUES (CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), ?, ?, ?)",
                     [(db_text(c.path), db_text(c.folder), db_text(c.primary), c.role, c.size, c.mtime_ns)
                      for c in put])
    if drop or put:
        facets_changed(conn)


# -- the facet count (meta/facets.py, pairs.with_raw_of) ---------------------------------------------------
def facet_stamp(conn: sqlite3.Connection) -> tuple:
    """What the facet and filter columns in memory were loaded at; they reload when it moves. ``created_at``
    tells a library re-created at the same path (its count starts again) from the one they came from."""
    return tuple(conn.execute("SELECT key, value FROM meta WHERE key IN ('facet_changes', 'created_at') "
                              "ORDER BY key").fetchall())


def facets_changed(conn: sqlite3.Connection) -> None:
    """Move the ``facet_changes`` count. Triggers move it for ``photo_meta`` and ``photo_text`` (so for every
    photo indexed or forgotten); the companions table has none (and a migration is not worth one), so its
    writers call this."""
    conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'facet_changes'")


def companions_of(conn: sqlite3.Connection, stills: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Still path -> [(companion path, role)], sorted by path."""
    out: dict[str, list[tuple[str, str]]] = {}
    for i in range(0, len(stills), _CHUNK):
        chunk = [db_text(p) for p in stills[i:i + _CHUNK]]
        marks = ", ".join(["CAST(? AS TEXT)"] * len(chunk))
        for path, primary, role in conn.execute(f"SELECT path, primary_path, role FROM companions "
                                                f"WHERE primary_path IN ({marks}) ORDER BY path", chunk):
            out.setdefault(primary, []).append((path, role))
    return out


# -- vectors ----------------------------------------------------------------------------------------------
def delete_vectors(conn: sqlite3.Connection, photo_id: int, model_id: str | None = None) -> None:
    """The photo's vectors (of one model, or of all when its content changed)."""
    if model_id is None:
        conn.execute("DELETE FROM embeddings WHERE photo_id = ?", (photo_id,))
        conn.execute("DELETE FROM video_frames WHERE photo_id = ?", (photo_id,))
    else:
        conn.execute("DELETE FROM embeddings WHERE photo_id = ? AND model_id = ?", (photo_id, model_id))
        conn.execute("DELETE FROM video_frames WHERE photo_id = ? AND model_id = ?", (photo_id, model_id))


def count_missing_from(conn: sqlite3.Connection, model_id: str, other_id: str) -> int:
    """Photos with a vector of ``model_id`` but none of ``other_id``."""
    return conn.execute("SELECT count(*) FROM embeddings e WHERE e.model_id = ? AND NOT EXISTS (SELECT 1 FROM "
                        "embeddings o WHERE o.photo_id = e.photo_id AND o.model_id = ?)",
                        (model_id, other_id)).fetchone()[0]


def delete_model(conn: sqlite3.Connection, model_id: str) -> int:
    """Every vector of ``model_id`` and its row in ``models``; the number of vectors deleted."""
    n = conn.execute("DELETE FROM embeddings WHERE model_id = ?", (model_id,)).rowcount
    conn.execute("DELETE FROM video_frames WHERE model_id = ?", (model_id,))
    conn.execute("DELETE FROM models WHERE model_id = ?", (model_id,))
    return n


def put_vector(conn: sqlite3.Connection, photo_id: int, model_id: str, vector: bytes, indexed_at: float) -> None:
    delete_vectors(conn, photo_id, model_id)
    conn.execute("INSERT INTO embeddings (photo_id, model_id, vector, indexed_at) VALUES (?, ?, ?, ?)",
                 (photo_id, model_id, vector, indexed_at))


# -- skipped files ----------------------------------------------------------------------------------------
def skips_by_path(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    return {r["path"]: r for r in _rows(conn, "SELECT path, folder, size, mtime_ns, file_fault, model_id "
                                              "FROM skipped")}


def skip_list(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return _rows(conn, "SELECT path, reason FROM skipped ORDER BY path")


def put_skip(conn: sqlite3.Connection, *, path: str, folder: str, size: int, mtime_ns: int, reason: str,
             at: float, file_fault: bool, model_id: str) -> None:
    """Record a file that could not be indexed; ``file_fault``: the file itself is bad (not retried until it
    or the model changes), else a passing cause (permissions, memory, the model) retried on the next run."""
    conn.execute("INSERT OR REPLACE INTO skipped (path, folder, size, mtime_ns, reason, at, file_fault, model_id) "
                 "VALUES (CAST(? AS TEXT), CAST(? AS TEXT), ?, ?, ?, ?, ?, ?)",
                 (db_text(path), db_text(folder), size, mtime_ns, reason, at, int(file_fault), model_id))


def delete_skips(conn: sqlite3.Connection, paths: Iterable[str]) -> None:
    conn.executemany("DELETE FROM skipped WHERE path = CAST(? AS TEXT)", [(db_text(p),) for p in paths])
