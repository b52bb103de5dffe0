"""Video moments in the library: each sampled frame's vector with its time (table ``video_frames``), and at search
time a video scores as its best moment, so a hit carries the second to jump to. The video's own row in
``embeddings`` holds the mean of its moments (browse, example-image search and feedback treat it as one item)."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np

from photosearch.library.queries import VECTOR_DTYPE

_cache: dict[tuple[str, str], tuple[tuple, np.ndarray, np.ndarray, np.ndarray]] = {}
_lock = threading.Lock()


def store(conn: sqlite3.Connection, photo_id: int, model_id: str, times: list[float], vecs: np.ndarray) -> None:
    """Replace the moments of one video for one model (inside the caller's transaction)."""
    conn.execute("DELETE FROM video_frames WHERE photo_id = ? AND model_id = ?", (photo_id, model_id))
    conn.executemany("INSERT INTO video_frames (photo_id, model_id, t, vector) VALUES (?, ?, ?, ?)",
                     [(photo_id, model_id, float(t), v.astype(VECTOR_DTYPE).tobytes()) for t, v in zip(times, vecs)])


def summary(vecs: np.ndarray) -> np.ndarray:
    """The one vector that stands for a whole video: the normalised mean of its moments."""
    m = vecs.astype(np.float32).mean(axis=0)
    return m / max(float(np.linalg.norm(m)), 1e-12)


def _load(conn: sqlite3.Connection, key: str, model_id: str):
    """(photo ids, times, matrix) of every moment of ``model_id``, cached until a row is added or removed."""
    stamp = tuple(conn.execute("SELECT count(*), max(rowid) FROM video_frames WHERE model_id = ?",
                               (model_id,)).fetchone())
    with _lock:
        hit = _cache.get((key, model_id))
        if hit is not None and hit[0] == stamp:
            return hit[1:]
    rows = conn.execute("SELECT photo_id, t, vector FROM video_frames WHERE model_id = ? ORDER BY photo_id, t",
                        (model_id,)).fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    ts = np.array([r[1] for r in rows], dtype=np.float64)
    mat = (np.stack([np.frombuffer(r[2], dtype=VECTOR_DTYPE) for r in rows]).astype(np.float32) if rows
           else np.zeros((0, 0), np.float32))
    with _lock:
        _cache[(key, model_id)] = (stamp, ids, ts, mat)
    return ids, ts, mat


def lift(conn: sqlite3.Connection, key: str, model_id: str, row_ids: np.ndarray, q: np.ndarray,
         scores: np.ndarray) -> tuple[np.ndarray, dict[int, float]]:
    """Scores with each video raised to its best moment's score, and {photo id: that moment's time}.
    ``row_ids``/``scores``: the vector index's photo ids and their scores, row by row."""
    ids, ts, mat = _load(conn, key, model_id)
    if not len(ids) or mat.shape[1] != q.shape[0]:
        return scores, {}
    s = mat @ q.astype(np.float32)
    # Best moment per video: frames are ordered by photo id, so each video is one contiguous run.
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(s)]
    best = np.maximum.reduceat(s, starts)
    arg = np.array([a + int(np.argmax(s[a:b])) for a, b in zip(starts, ends)], dtype=np.int64)
    videos = ids[starts]  # ascending
    rows = np.flatnonzero(np.isin(row_ids, videos))
    which = np.searchsorted(videos, row_ids[rows])
    out = scores.copy()
    out[rows] = np.maximum(out[rows], best[which])
    times = {int(v): float(ts[k]) for v, k in zip(videos[which], arg[which])}
    return out, times


def times_of(conn: sqlite3.Connection, photo_id: int, n: int) -> list[float]:
    """The seconds of a video's sampled moments (any model's), at most ``n`` spread over it; [0.0] when none
    are stored."""
    return spread([r[0] for r in conn.execute("SELECT DISTINCT t FROM video_frames WHERE photo_id = ? ORDER BY t",
                                              (photo_id,))] or [0.0], n)


def spread(ts: list[float], n: int) -> list[float]:
    """At most ``n`` of the seconds ``ts`` (in order), evenly spread from the first to the last."""
    if len(ts) > n > 1:
        return [ts[round(i * (len(ts) - 1) / (n - 1))] for i in range(n)]
    return ts[:max(n, 1)]


def best(conn: sqlite3.Connection, photo_id: int, model_id: str, q: np.ndarray | None,
         n: int) -> list[tuple[float, float | None]]:
    """A video's ``n`` best-matching moments as (second, score), best first; without a query (``q`` None)
    ``n`` moments spread over the whole video, in time order, with no score."""
    rows = conn.execute("SELECT t, vector FROM video_frames WHERE photo_id = ? AND model_id = ? ORDER BY t",
                        (photo_id, model_id)).fetchall()
    if not rows or n < 1:
        return []
    if q is None:
        picks = sorted(set(np.linspace(0, len(rows) - 1, min(n, len(rows))).round().astype(int).tolist()))
        return [(float(rows[i][0]), None) for i in picks]
    mat = np.stack([np.frombuffer(r[1], dtype=VECTOR_DTYPE) for r in rows]).astype(np.float32)
    if mat.shape[1] != q.shape[0]:
        return []
    s = mat @ q.astype(np.float32)
    order = np.argsort(-s, kind="stable")[:n]
    return [(float(rows[i][0]), round(float(s[i]), 4)) for i in order]


def annotate(conn: sqlite3.Connection, hits: list, times: dict[int, float]) -> list:
    """Set ``time_s`` on the hits that are videos (by path)."""
    if not times or not hits:
        return hits
    marks = ",".join("?" * len(times))
    by_path = {r[0]: times[r[1]] for r in conn.execute(f"SELECT path, id FROM photos WHERE id IN ({marks})",
                                                          list(times))}
    for h in hits:
        if h.path in by_path:
            h.time_s = round(by_path[h.path], 2)
    return hits


def fill_durations(conn: sqlite3.Connection) -> int:
    """Lengths of the videos stored without one (indexed before the library kept them), from the container's header
    (no decoding, a few ms each). A video that is not there (its drive unplugged) waits for a later run; one whose
    header gives no length is asked again next run (as cheap as the question). Returns how many were filled."""
    import os

    from photosearch.library.db import Tx
    from photosearch.video import video_duration

    found = []
    for pid, path in conn.execute("SELECT id, path FROM photos WHERE duration_s IS NULL AND format LIKE 'VIDEO-%'"):
        if os.path.isfile(path):
            d = video_duration(path)
            if d:
                found.append((round(d, 3), pid))
    if found:
        with Tx(conn):
            conn.executemany("UPDATE photos SET duration_s = ? WHERE id = ? AND duration_s IS NULL", found)
    return len(found)
