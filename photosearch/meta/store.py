"""The ``photo_meta`` table (schema version 6, library/db.py): written by the indexer in the same transaction
as the photo's vector, read by the filters, the facets and ``photosearch info``. Writes take a connection
inside the caller's ``Tx``, as library/queries.py's."""

from __future__ import annotations

import sqlite3
import time

_EXIF_COLUMNS = ("taken_offset", "lat", "lon", "altitude", "direction", "make", "model", "lens", "focal_mm",
                 "focal_35mm", "aperture", "exposure_s", "iso", "flash", "orientation", "fault")
PLACE_COLUMNS = ("country_code", "country", "region", "city", "place_km")


def put(conn: sqlite3.Connection, photo_id: int, content_hash: str, meta) -> None:
    """Replace the photo's record (``meta``: meta/record.py's ``PhotoMeta``, not imported here: record reads
    places, whose ``fill`` writes through this module); its place is looked up again by ``places.fill``."""
    e = meta.exif
    values = [getattr(e, c) for c in _EXIF_COLUMNS]
    values[_EXIF_COLUMNS.index("flash")] = None if e.flash is None else int(e.flash)
    cols = ("photo_id", "hash", *_EXIF_COLUMNS, "kind", "colours", "colour_bits", "read_at")
    conn.execute(f"INSERT OR REPLACE INTO photo_meta ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                 [photo_id, content_hash, *values, meta.kind, ",".join(meta.colours), meta.colour_bits, time.time()])


def record(conn: sqlite3.Connection, path: str) -> dict | None:
    """The stored record of the photo at ``path`` as a dict (None: not in the library or not read yet)."""
    from photosearch.library.queries import db_text

    cur = conn.cursor()
    cur.row_factory = sqlite3.Row
    row = cur.execute("SELECT m.* FROM photo_meta m JOIN photos p ON p.id = m.photo_id "
                      "WHERE p.path = CAST(? AS TEXT)", (db_text(path),)).fetchone()
    if row is None:
        return None
    d = dict(row)
    d.pop("photo_id")
    d["colours"] = [c for c in d["colours"].split(",") if c]
    d["flash"] = None if d["flash"] is None else bool(d["flash"])
    return d


def missing_places(conn: sqlite3.Connection) -> list[tuple[int, float, float]]:
    """(photo_id, lat, lon) of records with GPS whose place was not looked up yet."""
    return conn.execute("SELECT photo_id, lat, lon FROM photo_meta WHERE lat IS NOT NULL AND place_km IS NULL"
                        ).fetchall()


def put_places(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """rows: (country_code, country, region, city, place_km, photo_id)."""
    conn.executemany("UPDATE photo_meta SET country_code = ?, country = ?, region = ?, city = ?, place_km = ? "
                     "WHERE photo_id = ?", rows)


def ids_missing(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(photo_id, path) of photos with no record (indexed before this table existed)."""
    return conn.execute("SELECT p.id, p.path FROM photos p LEFT JOIN photo_meta m ON m.photo_id = p.id "
                        "WHERE m.photo_id IS NULL ORDER BY p.id").fetchall()


def distinct_places(conn: sqlite3.Connection) -> list[tuple]:
    """(country, region, city) of every place in the library (the place index covers it)."""
    return conn.execute("SELECT DISTINCT country, region, city FROM photo_meta WHERE country IS NOT NULL").fetchall()


def distinct_cameras(conn: sqlite3.Connection) -> list[str]:
    """Camera names as the facets show them ("Apple iPhone 12")."""
    from photosearch.meta.facets import camera_name

    rows = conn.execute("SELECT DISTINCT make, model FROM photo_meta WHERE make IS NOT NULL OR model IS NOT NULL")
    return sorted({n for n in (camera_name(m, mo) for m, mo in rows) if n})
