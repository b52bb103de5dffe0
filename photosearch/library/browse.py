"""Browsing and ordering: the library newest first, date order within the good matches, identical files as
one result with its copies (and a shot's RAW and Live Photo video), and which filter emptied a search.

A photo's date is its date taken (EXIF), else its file's modification time. Copies are photos with the
same content hash (library/scan.py's ``content_hash``); the best-ranked one stands for all of them.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import numpy as np

from photosearch.library import pairs
from photosearch.library import queries as sql
from photosearch.library.search import SearchHit

SORTS = ("relevance", "date")


def _date(taken_at: str | None, mtime_ns: int | None) -> str | None:
    if taken_at:
        return taken_at[:19]
    if mtime_ns:
        return datetime.fromtimestamp(mtime_ns / 1e9).replace(microsecond=0).isoformat()
    return None


def photo_rows(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[str, str | None, str, float | None]]:
    """id -> (path, date, content hash, a video's duration), for the ids that still exist."""
    out: dict[int, tuple[str, str | None, str, float | None]] = {}
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        for pid, path, taken, mtime, h, dur in conn.execute(
                f"SELECT id, path, taken_at, mtime_ns, hash, duration_s FROM photos "
                f"WHERE id IN ({', '.join('?' * len(chunk))})", chunk):
            out[pid] = (path, _date(taken, mtime), h, dur)
    return out


def copies_of(conn: sqlite3.Connection, hashes: list[str]) -> dict[str, list[str]]:
    """content hash -> every library path with it, sorted."""
    out: dict[str, list[str]] = {}
    for i in range(0, len(hashes), 900):
        chunk = hashes[i:i + 900]
        for h, path in conn.execute(f"SELECT hash, path FROM photos WHERE hash IN ({', '.join('?' * len(chunk))}) "
                                    "ORDER BY path", chunk):
            out.setdefault(h, []).append(path)
    return out


def hit_score(s) -> float:
    """A score as a hit carries it (and every front end shows it): clamped, rounded to 6 places, never -0."""
    return round(min(1.0, max(-1.0, float(s))), 6) + 0.0


def make_hits(conn: sqlite3.Connection, ids: list[int], scores, threshold: float, top_k: int,
              sort: str = "relevance", group: bool = True) -> list[SearchHit]:
    """Hits best first (ids/scores best first): copies folded into the best-ranked one, then the good
    matches reordered newest first when ``sort == "date"`` (the weaker ones stay by score)."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}")
    rows = photo_rows(conn, ids)
    hits, seen = [], {}
    for i, s in zip(ids, scores):
        if i not in rows:
            continue  # deleted since the matrix was loaded
        path, date, h, duration = rows[i]
        if group and h in seen:
            continue
        hit = SearchHit(path, hit_score(s), bool(s >= threshold), date, duration_s=duration)
        seen[h] = hit
        hits.append(hit)
    if group and hits:
        multi = copies_of(conn, list(seen))
        for h, hit in seen.items():
            paths = multi.get(h, [])
            if len(paths) > 1:
                hit.copies = [p for p in paths if p != hit.path]
    hits = hits[:top_k]
    with_companions(conn, hits)
    if sort == "date":
        good = [h for h in hits if h.relevant]
        good.sort(key=lambda h: h.date or "", reverse=True)
        hits = good + [h for h in hits if not h.relevant]
    return hits


def with_companions(conn: sqlite3.Connection, hits: list[SearchHit]) -> None:
    """Each hit's shot files (a RAW beside it, its Live Photo video: library/pairs.py) join its ``copies``
    (and its copies' companions too: a copied RAW+JPEG pair is one result); ``files`` names them all."""
    if not hits:
        return
    comp = sql.companions_of(conn, list({p for h in hits for p in [h.path, *h.copies]}))
    for hit in hits:
        roles = {c: role for p in [hit.path, *hit.copies] for c, role in comp.get(p, [])}
        hit.copies = hit.copies + sorted(roles)
        hit.files = pairs.label(hit.path, hit.copies, roles)


def newest_first(conn: sqlite3.Connection, model_id: str, allowed: np.ndarray | None, top_k: int,
                 group: bool = True) -> list[SearchHit]:
    """The library (photos with this model's vectors, within ``allowed`` ids when given), newest first."""
    rows = conn.execute("SELECT p.id, p.taken_at, p.mtime_ns FROM photos p JOIN embeddings e ON e.photo_id = p.id "
                        "WHERE e.model_id = ?", (model_id,)).fetchall()
    if allowed is not None:
        keep = set(int(i) for i in allowed)
        rows = [r for r in rows if r[0] in keep]
    rows.sort(key=lambda r: _date(r[1], r[2]) or "", reverse=True)
    ids = [r[0] for r in rows[: top_k * 3 + 50]]  # headroom for copies folded together
    return make_hits(conn, ids, [0.0] * len(ids), 0.0, top_k, "relevance", group)


def why_empty(n_total: int, counts: dict[str, int], undated: int, include_undated: bool) -> str | None:
    """One sentence naming the filter that leaves nothing, from the photos each filter alone keeps
    (``counts``: filter description -> photos it keeps). None when no single filter explains it."""
    if n_total == 0:
        return "the library has no photos indexed with this model yet"
    for desc, n in counts.items():
        if n == 0:
            msg = f"no photos {desc}"
            if desc.startswith("taken") and undated and not include_undated:
                msg += f"; {undated} photo{'s' if undated != 1 else ''} ha{'ve' if undated != 1 else 's'} no " \
                       f"date taken (include undated photos to see them)"
            return msg
    if len(counts) > 1:
        return "no photo passes all the filters together (" + ", ".join(counts) + ")"
    return None
