"""The indexing pipeline: scan, plan, decode in parallel, embed in batches, commit per batch.

Decoding (hash + JPEG draft decode + resize/crop/normalise) runs in a thread pool; Pillow and torch release
the GIL, so it overlaps the model's inference on the calling thread. Every embedding batch is one SQLite
transaction holding the photos' rows, their vectors and any skips: a killed process keeps whole batches,
and the next run finds them unchanged (same size + mtime, vector present) and does not redo them.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Iterator

import numpy as np

from photosearch.errors import LibraryError
from photosearch.library.db import Tx
from photosearch.library.scan import content_hash, walk_folders

VECTOR_DTYPE = "<f2"  # float16: half the size of float32, well below the ranking noise of these models


@dataclass
class IndexEvent:
    phase: str  # "scan" | "embed" | "done"
    done: int  # files processed in this run (embedded or skipped)
    total: int  # files to process in this run (known after scan)
    indexed: int
    skipped: int
    rate: float  # images/s over this run
    eta: float | None  # seconds
    current: str | None  # path being processed
    new_skips: list[dict]  # skips since the previous event [{"path","reason"}]
    report: "IndexReport | None" = None  # set on phase "done"


@dataclass
class IndexReport:
    indexed: int  # files embedded in this run (new, changed, or lacking this model's vector)
    unchanged: int
    moved: int  # recognised by content hash at a new path; their vectors were kept
    removed: int  # gone from disk, forgotten
    skipped: list[dict]  # this run's bad files [{"path","reason"}]; Library.skipped() has all
    seconds: float
    images_per_second: float
    cancelled: bool = False
    missing_folders: list[str] = field(default_factory=list)  # not there (unmounted?): their photos were kept

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Job:
    path: str
    folder: str
    size: int
    mtime_ns: int
    photo_id: int | None  # existing row to update
    content_changed: bool  # the old vectors (every model's) are stale
    hash: str | None = None  # known already (computed while planning)


@dataclass
class _Ready:
    job: _Job
    tensor: object = None
    hash: str | None = None
    meta: object = None
    skip: str | None = None


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _prepare(job: _Job, min_side: int, transform) -> _Ready:
    """Runs in a worker thread: never raises, a failure is a skip reason."""
    from photosearch.imageio import ImageSkip, load_image

    try:
        h = job.hash or content_hash(job.path)
        img, meta = load_image(job.path, min_side=min_side)
        return _Ready(job, transform(img), h, meta)
    except ImageSkip as e:
        return _Ready(job, skip=e.reason)
    except FileNotFoundError:
        return _Ready(job, skip="vanished: the file was removed during indexing")
    except PermissionError:
        return _Ready(job, skip="unreadable: permission denied")
    except OSError as e:
        return _Ready(job, skip=f"unreadable: {e.strerror or e}")
    except MemoryError:
        return _Ready(job, skip="too large to decode in memory")
    except Exception as e:  # noqa: BLE001 - a hostile file must never stop the run
        return _Ready(job, skip=f"damaged: {type(e).__name__}: {e}")


def _ensure_model(conn: sqlite3.Connection, model_id: str, dim: int) -> None:
    row = conn.execute("SELECT dim FROM models WHERE model_id = ?", (model_id,)).fetchone()
    if row and row[0] != dim:
        raise LibraryError(f"the library holds {row[0]}-d vectors for model {model_id!r} but it now makes "
                           f"{dim}-d ones; give the changed model a new name")
    if not row:
        with Tx(conn):
            conn.execute("INSERT OR IGNORE INTO models VALUES (?, ?, ?, ?)", (model_id, dim, VECTOR_DTYPE,
                                                                            time.time()))


def run(conn: sqlite3.Connection, model, folders: list[str], all_folders: list[str], *, batch_size: int = 32,
        workers: int | None = None, cancel: threading.Event | None = None) -> Iterator[IndexEvent]:
    t0 = time.perf_counter()
    model_id = model.config.model_id
    _ensure_model(conn, model_id, int(model.config.embed_dim))
    yield IndexEvent("scan", 0, 0, 0, 0, 0.0, None, None, [])

    # -- scan and plan ---------------------------------------------------------------------------------
    walk = walk_folders(folders, all_folders)
    present = set(folders) - set(walk.missing_folders)
    photos = {r[1]: r for r in conn.execute("SELECT id, path, folder, size, mtime_ns, hash FROM photos")}
    with_vec = {r[0] for r in conn.execute("SELECT photo_id FROM embeddings WHERE model_id = ?", (model_id,))}
    skipped_rows = {r[0]: r for r in conn.execute("SELECT path, folder, size, mtime_ns FROM skipped")}

    jobs: list[_Job] = []
    new: list[_Job] = []
    touches: list[tuple[int, int, int]] = []  # (mtime_ns, size, id): same content, new mtime
    unchanged = 0
    for path, f in walk.files.items():
        row = photos.get(path)
        if row is not None:
            pid, _, _, size, mtime_ns, h = row
            if (size, mtime_ns) != (f.size, f.mtime_ns):
                same = False
                if size == f.size:
                    try:
                        same = content_hash(path) == h
                    except OSError:
                        same = False
                if not same:
                    jobs.append(_Job(path, f.folder, f.size, f.mtime_ns, pid, content_changed=True))
                    continue
                touches.append((f.mtime_ns, f.size, pid))
            if pid in with_vec:
                unchanged += 1
            else:  # a model this photo was not indexed with yet
                jobs.append(_Job(path, f.folder, f.size, f.mtime_ns, pid, content_changed=False, hash=h))
            continue
        s = skipped_rows.get(path)
        if s is not None and (s[2], s[3]) == (f.size, f.mtime_ns):
            continue  # known bad file, unchanged: not retried
        new.append(_Job(path, f.folder, f.size, f.mtime_ns, None, content_changed=True))

    # Rows of present folders that were not found: deleted, or moved (found again by hash below).
    gone = {p: r for p, r in photos.items() if r[2] in present and p not in walk.files}
    moves: list[tuple[str, str, int, int, int]] = []  # (path, folder, size, mtime_ns, id)
    if gone and new:
        by_hash = {}
        for r in gone.values():
            by_hash.setdefault((r[3], r[5]), r)
        sizes = {r[3] for r in gone.values()}
        still_new = []
        for j in new:
            if j.size in sizes:
                try:
                    j.hash = content_hash(j.path)
                except OSError:
                    j.hash = None
                r = by_hash.pop((j.size, j.hash), None) if j.hash else None
                if r is not None:
                    gone.pop(r[1], None)
                    moves.append((j.path, j.folder, j.size, j.mtime_ns, r[0]))
                    if r[0] in with_vec:
                        continue
                    still_new.append(_Job(j.path, j.folder, j.size, j.mtime_ns, r[0], False, j.hash))
                    continue
            still_new.append(j)
        new = still_new
    jobs.extend(new)
    jobs.sort(key=lambda j: j.path)
    stale_skips = [p for p, s in skipped_rows.items() if s[1] in present and p not in walk.files]

    try:
        with Tx(conn):
            conn.executemany("UPDATE photos SET path = ?, folder = ?, size = ?, mtime_ns = ? WHERE id = ?", moves)
            conn.executemany("UPDATE photos SET mtime_ns = ?, size = ? WHERE id = ?", touches)
            conn.executemany("DELETE FROM photos WHERE id = ?", [(r[0],) for r in gone.values()])
            conn.executemany("DELETE FROM skipped WHERE path = ?", [(p,) for p in stale_skips])
    except sqlite3.Error as e:
        raise LibraryError(f"could not update the library: {e}") from None
    total = len(jobs)
    yield IndexEvent("scan", 0, total, 0, 0, 0.0, None, None, [])

    # -- decode + embed ----------------------------------------------------------------------------------
    pre = model.config.preprocess
    min_side = int(math.ceil(pre.input_size / max(pre.crop_pct, 1e-3)))
    transform = model.eval_transform()
    workers = workers or default_workers()
    max_inflight = batch_size * 2 + workers
    done = indexed = 0
    all_skips: list[dict] = []
    new_skips: list[dict] = []
    cancelled = False
    t_embed = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="photosearch-decode")
    inflight: deque[Future] = deque()
    todo = iter(jobs)
    try:
        import torch

        batch: list[_Ready] = []
        failed: list[_Ready] = []
        exhausted = False
        while True:
            if cancel is not None and cancel.is_set():
                cancelled = True
                # Committed batches are kept; decoded-but-not-embedded files are dropped so that cancel
                # is prompt (they are simply new again on the next run).
                for fut in inflight:
                    fut.cancel()
                inflight.clear()
                batch, failed = [], []
                break
            while not exhausted and len(inflight) < max_inflight:
                j = next(todo, None)
                if j is None:
                    exhausted = True
                    break
                inflight.append(pool.submit(_prepare, j, min_side, transform))
            if inflight:
                r = inflight.popleft().result()
                if r.skip is not None:
                    failed.append(r)
                else:
                    batch.append(r)
            flush = len(batch) >= batch_size or (not inflight and (batch or failed)) or len(failed) >= batch_size
            if flush:
                vecs = None
                if batch:
                    vecs = model.embed_pixels(torch.stack([b.tensor for b in batch])).numpy()
                _commit(conn, model_id, batch, vecs, failed)
                skips = [{"path": f.job.path, "reason": f.skip} for f in failed]
                all_skips.extend(skips)
                new_skips.extend(skips)
                done += len(batch) + len(failed)
                indexed += len(batch)
                current = (batch or failed)[-1].job.path
                batch, failed = [], []
                el = time.perf_counter() - t_embed
                rate = done / el if el > 0 else 0.0
                eta = (total - done) / rate if rate > 0 and not cancelled else None
                yield IndexEvent("embed", done, total, indexed, len(all_skips), rate, eta, current, new_skips)
                new_skips = []
            if not inflight and exhausted and not batch and not failed:
                break
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

    seconds = time.perf_counter() - t0
    report = IndexReport(indexed=indexed, unchanged=unchanged, moved=len(moves), removed=len(gone),
                         skipped=all_skips, seconds=round(seconds, 3),
                         images_per_second=round(indexed / seconds, 2) if seconds > 0 else 0.0,
                         cancelled=cancelled, missing_folders=list(walk.missing_folders))
    el = time.perf_counter() - t_embed
    yield IndexEvent("done", done, total, indexed, len(all_skips), done / el if el > 0 else 0.0, 0.0, None,
                     new_skips, report)


def _commit(conn: sqlite3.Connection, model_id: str, batch: list[_Ready], vecs: np.ndarray | None,
            failed: list[_Ready]) -> None:
    """One transaction: the batch's photo rows, their vectors and the skips."""
    now = time.time()
    try:
        with Tx(conn):
            for i, r in enumerate(batch):
                j, m = r.job, r.meta
                if j.photo_id is not None and j.content_changed:
                    conn.execute("DELETE FROM embeddings WHERE photo_id = ?", (j.photo_id,))
                pid = conn.execute(
                    "INSERT INTO photos (path, folder, size, mtime_ns, hash, width, height, format, taken_at, "
                    "indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
                    "folder = excluded.folder, size = excluded.size, mtime_ns = excluded.mtime_ns, "
                    "hash = excluded.hash, width = excluded.width, height = excluded.height, "
                    "format = excluded.format, taken_at = excluded.taken_at, indexed_at = excluded.indexed_at "
                    "RETURNING id",
                    (j.path, j.folder, j.size, j.mtime_ns, r.hash, m.width, m.height, m.format, m.taken_at, now),
                ).fetchone()[0]
                conn.execute("DELETE FROM embeddings WHERE photo_id = ? AND model_id = ?", (pid, model_id))
                conn.execute("INSERT INTO embeddings (photo_id, model_id, vector, indexed_at) VALUES (?, ?, ?, ?)",
                             (pid, model_id, vecs[i].astype(VECTOR_DTYPE).tobytes(), now))
                conn.execute("DELETE FROM skipped WHERE path = ?", (j.path,))
            for r in failed:
                j = r.job
                # A photo that turned bad (or vanished) must not keep answering searches with old vectors.
                conn.execute("DELETE FROM photos WHERE path = ?", (j.path,))
                if r.skip.startswith("vanished"):
                    conn.execute("DELETE FROM skipped WHERE path = ?", (j.path,))
                else:
                    conn.execute("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?, ?, ?)",
                                 (j.path, j.folder, j.size, j.mtime_ns, r.skip, now))
    except sqlite3.Error as e:
        raise LibraryError(f"could not write to the library: {e}") from None
