"""Video moments in the library: each sampled frame's vector with its time (table ``video_frames``), and at search
time a video scores as its best moment, so a hit carries the second to jump to. The video's own row in
``embeddings`` holds the mean of its moments (browse, example-image search and feedback treat it as one item)."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np

from photosearch.library import queries as sql
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


DURATIONS_KEY = "durations_probed"  # meta: JSON {photo id: content hash} of videos whose header gives no length
_DURATION_BATCH = 64  # videos looked up per transaction: a killed run keeps what it found


def fill_durations(conn: sqlite3.Connection, folders: list[str], cancel: threading.Event | None = None) -> int:
    """Lengths of the videos stored without one (indexed before the library kept them), from the container's header
    (no decoding, a few ms each); ``folders``: the library's. Returns how many were filled. Never raises for a bad
    file (``video_duration`` answers None).

    A video whose header gives no length (a browser's WebM recording, say) stays without one (nothing shows
    "0:00"), noted under the ``meta`` key :data:`DURATIONS_KEY` with the content hash looked at, so it is not
    opened again on every run and watcher batch; a changed file is indexed again, which reads its header anyway.
    A video under an offline folder or drive (unmounted, or another card with the same names mounted there), or
    not as it was indexed (size, mtime), is neither opened nor noted: a later run gets it."""
    from photosearch.library.db import Tx
    from photosearch.video import video_duration

    rows = sql.videos_without_duration(conn)
    noted = sql.meta_json(conn, DURATIONS_KEY)
    noted = noted if isinstance(noted, dict) else {}
    # Notes are kept for the videos still without a length only (filled, changed or forgotten ones drop out).
    probed = {str(r["id"]): r["hash"] for r in rows if noted.get(str(r["id"])) == r["hash"]}
    todo = _reachable(conn, [r for r in rows if str(r["id"]) not in probed], folders)
    filled = 0
    for i in range(0, len(todo), _DURATION_BATCH):
        if cancel is not None and cancel.is_set():
            break
        found = []
        for r in todo[i:i + _DURATION_BATCH]:
            d = round(video_duration(r["path"]) or 0.0, 3)  # as the indexer stores it (imageio.load_video)
            if d:
                found.append((d, r["id"], r["hash"]))
            else:
                probed[str(r["id"])] = r["hash"]
        with Tx(conn):
            filled += sql.set_durations(conn, found)
            sql.set_meta_json(conn, DURATIONS_KEY, probed)
    if not todo and probed != noted:
        with Tx(conn):
            sql.set_meta_json(conn, DURATIONS_KEY, probed)
    return filled


def _reachable(conn: sqlite3.Connection, rows: list, folders: list[str]) -> list:
    """The ``rows`` (videos) whose file is there as it was indexed, on a folder or drive that is not offline."""
    import os

    from photosearch.library.offline import offline_folders, offline_mounts
    from photosearch.library.scan import under

    holding = sorted({r["folder"] for r in rows}.intersection(folders))
    away = [*offline_folders(conn, holding), *offline_mounts(conn, sql.mount_points(conn), holding)] if holding else []
    out = []
    for r in rows:
        if any(under(r["path"], f) for f in away):
            continue
        try:
            st = os.stat(r["path"])
        except (OSError, ValueError):
            continue  # gone (the next run forgets it) or unreadable now
        if (st.st_size, st.st_mtime_ns) == (r["size"], r["mtime_ns"]):
            out.append(r)
    return out
