"""The indexing pipeline: scan and plan (library/plan.py), decode in parallel, embed in batches, commit per batch.

Decoding (hash + JPEG draft decode + resize/crop/normalise) runs in a thread pool; Pillow and torch release
the GIL, so it overlaps the model's inference on the calling thread. With a face engine (the faces setting on)
each photo is decoded once, at the size the face detector needs, in the same workers: the faces come from that
image and the model's input is reduced from it (faces/facepass.py's ``find_in``), and they are committed in the
photo's batch; a video's faces are left to the faces pass, which looks at its moments at the detection size.
Every embedding batch is one SQLite transaction holding the photos' rows, their vectors and any skips: a killed
process keeps whole batches, and the next run finds them unchanged (same size + mtime, vector present) and does
not redo them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Generator, Iterator

import numpy as np

from photosearch.errors import LibraryError
from photosearch.library import queries as sql
from photosearch.library.db import Tx
from photosearch.library.queries import VECTOR_DTYPE
from photosearch.library.plan import Job, apply_plan, plan
from photosearch.library.scan import content_hash
from photosearch.meta import store as meta_store
from photosearch.meta.record import describe


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
    missing_folders: list[str] = field(default_factory=list)  # not there or offline (unmounted?): photos kept
    unreadable_folders: list[str] = field(default_factory=list)  # could not be listed: their photos were kept
    faces_scanned: int = 0  # photos whose faces were looked for in the same decode as their vector (faces on)
    faces_with: int = 0  # of those, photos with a face
    faces_found: int = 0  # faces found so

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Ready:
    job: Job
    tensor: object = None
    hash: str | None = None
    meta: object = None
    skip: str | None = None
    record: object = None  # meta/record.py's PhotoMeta: EXIF, kind, colours
    file_fault: bool = True  # the skip is the file's own fault (see queries.put_skip)
    times: list[float] | None = None  # a video: the time of each moment, one tensor row each (library/frames.py)
    faces: tuple[list, str | None] | None = None  # found in the same decode: (faces, why not); None: not looked


VANISHED = "vanished: the file was removed during indexing"


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


CHANGING = "changing while it was read: indexed again once it stays the same"
READ_TRIES = 3


def _identity(path: str) -> tuple:
    """What changes whenever a file's bytes may have changed: a new inode (replaced), size, mtime, ctime."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _prepare(job: Job, min_side: int, transform, faces=None) -> _Ready:
    """Runs in a worker thread: never raises, a failure is a skip reason.

    The hash and the pixels must be of the same bytes (a vector stored under another version's hash is never
    corrected): the file is hashed and decoded between two looks at its identity and read again when it
    changed meanwhile. What was read is recorded with the size and mtime it had then. With a face engine
    (``faces``) the photo is decoded as the faces pass decodes it, its faces are found, and the model's input
    is reduced from the same image."""
    from photosearch.faces import facepass
    from photosearch.imageio import ImageMissing, ImageSkip, load_image, load_video, shrink_to
    from photosearch.video import is_video_name

    video, info = is_video_name(job.path), None
    for _ in range(READ_TRIES):
        try:
            before = _identity(job.path)
            # A file unchanged since it was stored (only a new model's vector is missing) keeps its hash.
            same = not job.content_changed and (before[2], before[3]) == (job.size, job.mtime_ns)
            h = job.hash if same and job.hash else content_hash(job.path)
            if video:  # every sampled moment; the poster frame stands in for the photo
                img, meta, info = load_video(job.path)
            else:
                img, meta = load_image(job.path, min_side=max(min_side, facepass.DECODE_MIN_SIDE) if faces
                                       else min_side)
            after = _identity(job.path)
        except ImageMissing:
            return _Ready(job, skip=VANISHED, file_fault=False)
        except ImageSkip as e:
            return _Ready(job, skip=e.reason, file_fault=e.file_fault)
        except FileNotFoundError:
            return _Ready(job, skip=VANISHED, file_fault=False)
        except PermissionError:
            return _Ready(job, skip="unreadable: permission denied", file_fault=False)
        except OSError as e:
            return _Ready(job, skip=f"unreadable: {e.strerror or e}", file_fault=False)
        except MemoryError:
            return _Ready(job, skip="too large to decode in memory", file_fault=False)
        except Exception as e:  # noqa: BLE001 - a hostile file must never stop the run
            return _Ready(job, skip=f"damaged: {e}")
        if before == after:
            break
    else:
        return _Ready(job, skip=CHANGING, file_fault=False)
    if not same and job.hash is not None and h != job.hash:
        job.content_changed = True  # rewritten since it was planned: every model's old vector is stale
    job.size, job.mtime_ns = before[2], before[3]
    found = None
    if faces is not None and info is None:  # a video's faces are the faces pass's: it decodes its moments again
        found = facepass.find_in(faces, np.asarray(img), meta.width / max(1, img.width))
        img = shrink_to(img, min_side)
    try:
        if info is not None:  # a video: one tensor row per moment, the times ride along
            import torch

            ready = _Ready(job, torch.stack([transform(m.image) for m in info.moments]), h, meta,
                           times=[m.t for m in info.moments])
        else:
            ready = _Ready(job, transform(img), h, meta)
    except MemoryError:
        return _Ready(job, skip="too large to prepare in memory", file_fault=False)
    except Exception as e:  # noqa: BLE001 - the file decoded: the model's preprocessing failed, not the file
        return _Ready(job, skip=f"the model could not prepare it: {e}", file_fault=False)
    ready.record = describe(img, meta.width, meta.height, meta.format, meta.exif, job.path)  # never raises
    ready.faces = found
    return ready


def _ensure_model(conn: sqlite3.Connection, model_id: str, dim: int) -> None:
    known = sql.model_dim(conn, model_id)
    if known is not None and known != dim:
        raise LibraryError(f"the library holds {known}-d vectors for model {model_id!r} but it now makes "
                           f"{dim}-d ones; give the changed model a new name")
    if known is None:
        with Tx(conn):
            sql.add_model(conn, model_id, dim)


@dataclass
class _Progress:
    """Counters of the embed phase, and the events made from them."""

    total: int
    t0: float = field(default_factory=time.perf_counter)
    done: int = 0
    indexed: int = 0
    skips: list[dict] = field(default_factory=list)  # every skip of this run
    faces_scanned: int = 0  # photos whose faces were looked for in the same decode
    faces_with: int = 0
    faces_found: int = 0
    new_skips: list[dict] = field(default_factory=list)  # since the last event

    def rate(self) -> float:
        el = time.perf_counter() - self.t0
        return self.done / el if el > 0 else 0.0

    def event(self, phase: str, current: str | None, report: IndexReport | None = None) -> IndexEvent:
        rate = self.rate()
        if phase == "done":
            eta = 0.0
        else:
            eta = (self.total - self.done) / rate if rate > 0 else None
        ev = IndexEvent(phase=phase, done=self.done, total=self.total, indexed=self.indexed,
                        skipped=len(self.skips), rate=rate, eta=eta, current=current, new_skips=self.new_skips,
                        report=report)
        self.new_skips = []
        return ev


def embed(conn: sqlite3.Connection, model, jobs: list[Job], prog: _Progress, *, batch_size: int, workers: int,
          cancel: threading.Event | None, faces=None) -> Iterator[IndexEvent]:
    """Decode ``jobs`` in a thread pool, embed them in batches and commit each batch; an event per batch.
    ``faces``: a face engine, to find the faces in the same decode (committed with the batch).
    Returns True when cancelled (committed batches are kept)."""
    import torch

    from photosearch.faces.facepass import scanned_hashes
    from photosearch.imageio import decode_min_side

    model_id = model.config.model_id
    pre = model.config.preprocess
    min_side = decode_min_side(pre.input_size, pre.crop_pct)
    transform = model.eval_transform()
    scanned = scanned_hashes(conn, faces.model_id) if faces is not None else {}
    max_inflight = batch_size * 2 + workers
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="photosearch-decode")
    inflight: deque[Future] = deque()
    todo = iter(jobs)
    batch: list[_Ready] = []
    failed: list[_Ready] = []
    exhausted = False
    try:
        while True:
            if cancel is not None and cancel.is_set():
                # Decoded-but-not-embedded files are dropped so that cancel is prompt (they are simply new
                # again on the next run).
                for fut in inflight:
                    fut.cancel()
                return True
            while not exhausted and len(inflight) < max_inflight:
                j = next(todo, None)
                if j is None:
                    exhausted = True
                    break
                # A photo re-embedded for a new model keeps its faces (and the people they are in).
                known = not j.content_changed and j.hash is not None and scanned.get(j.photo_id) == j.hash
                inflight.append(pool.submit(_prepare, j, min_side, transform, None if known else faces))
            if inflight:
                r = inflight.popleft().result()
                (failed if r.skip is not None else batch).append(r)
            if len(batch) >= batch_size or len(failed) >= batch_size or (not inflight and (batch or failed)):
                vecs = model.embed_pixels(torch.cat([b.tensor if b.times is not None else b.tensor.unsqueeze(0)
                                                     for b in batch])).numpy() if batch else None
                _commit(conn, model_id, batch, vecs, failed, faces.model_id if faces is not None else None)
                skips = [{"path": f.job.path, "reason": f.skip} for f in failed]
                prog.skips.extend(skips)
                prog.new_skips.extend(skips)
                prog.done += len(batch) + len(failed)
                prog.indexed += len(batch)
                for b in batch:
                    if b.faces is not None:
                        prog.faces_scanned += 1
                        prog.faces_with += bool(b.faces[0])
                        prog.faces_found += len(b.faces[0])
                current = (batch or failed)[-1].job.path
                batch, failed = [], []
                yield prog.event("embed", current)
            if not inflight and exhausted:
                return False
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def run(conn: sqlite3.Connection, model, folders: list[str], all_folders: list[str], *, batch_size: int = 32,
        workers: int | None = None, cancel: threading.Event | None = None,
        faces=None) -> Generator[IndexEvent, None, IndexReport]:
    """Index ``folders`` (``all_folders`` bound where symlinks may lead) with ``model``: events of phase
    "scan", then "embed" per committed batch, then one "done"; returns the :class:`IndexReport` (the "done"
    event carries it too, for progress displays). ``faces``: a loaded face engine, to find the faces of the
    photos embedded in the same decode."""
    t0 = time.perf_counter()
    model_id = model.config.model_id
    _ensure_model(conn, model_id, int(model.config.embed_dim))
    yield IndexEvent(phase="scan", done=0, total=0, indexed=0, skipped=0, rate=0.0, eta=None, current=None,
                     new_skips=[])

    p = plan(conn, model_id, folders, all_folders)
    apply_plan(conn, p)
    yield IndexEvent(phase="scan", done=0, total=len(p.jobs), indexed=0, skipped=0, rate=0.0, eta=None,
                     current=None, new_skips=[])

    prog = _Progress(total=len(p.jobs))
    cancelled = yield from embed(conn, model, p.jobs, prog, batch_size=batch_size,
                                 workers=workers or default_workers(), cancel=cancel, faces=faces)

    seconds = time.perf_counter() - t0
    report = IndexReport(indexed=prog.indexed, unchanged=p.unchanged, moved=len(p.moves), removed=len(p.gone),
                         skipped=prog.skips, seconds=round(seconds, 3),
                         images_per_second=round(prog.indexed / seconds, 2) if seconds > 0 else 0.0,
                         cancelled=cancelled, missing_folders=list(p.walk.missing_folders),
                         unreadable_folders=list(p.walk.unreadable_folders), faces_scanned=prog.faces_scanned,
                         faces_with=prog.faces_with, faces_found=prog.faces_found)
    yield prog.event("done", None, report)
    return report


def _commit(conn: sqlite3.Connection, model_id: str, batch: list[_Ready], vecs: np.ndarray | None,
            failed: list[_Ready], face_model: str | None = None) -> None:
    """One transaction: the batch's photo rows, their vectors, their faces (when looked for) and the skips.
    Files of a folder removed from the library since the run started are dropped (checked inside the
    transaction: no orphans)."""
    from photosearch.faces.facepass import scanned_hashes, store_scan
    from photosearch.library import frames

    now = time.time()
    try:
        with Tx(conn):
            current = set(sql.folder_paths(conn))
            row = 0  # a photo takes one row of vecs, a video one per moment
            for r in batch:
                n = len(r.times) if r.times is not None else 1
                v, row = vecs[row:row + n], row + n
                if r.job.folder not in current:
                    continue
                j, m = r.job, r.meta
                if j.photo_id is not None and j.content_changed:
                    sql.delete_vectors(conn, j.photo_id)  # every model's vectors are stale
                pid = sql.upsert_photo(conn, path=j.path, folder=j.folder, size=j.size, mtime_ns=j.mtime_ns,
                                     hash=r.hash, width=m.width, height=m.height, format=m.format,
                                     taken_at=m.taken_at, indexed_at=now, duration_s=m.duration_s)
                sql.put_vector(conn, pid, model_id, (v[0] if r.times is None else frames.summary(v))
                               .astype(VECTOR_DTYPE).tobytes(), now)
                if r.times is not None:
                    frames.store(conn, pid, model_id, r.times, v)
                if r.record is not None:
                    meta_store.put(conn, pid, r.hash, r.record)
                if r.faces is not None and scanned_hashes(conn, face_model, pid).get(pid) != r.hash:
                    store_scan(conn, pid, r.hash, face_model, *r.faces, now)  # new or changed content
                sql.delete_skips(conn, [j.path])
            for r in failed:
                j = r.job
                if j.folder not in current:
                    continue
                # A photo that turned bad (or vanished) must not keep answering searches with old vectors.
                sql.delete_photo_at(conn, j.path)
                if r.skip == VANISHED:
                    sql.delete_skips(conn, [j.path])
                else:
                    sql.put_skip(conn, path=j.path, folder=j.folder, size=j.size, mtime_ns=j.mtime_ns,
                               reason=r.skip, at=now, file_fault=r.file_fault, model_id=model_id)
    except sqlite3.Error as e:
        raise LibraryError(f"could not write to the library: {e}") from None


MAX_BATCH = 1024


def bounded_batch_size(requested: int, input_size: int, available: int | None = None) -> int:
    """``requested``, lowered so the decoded tensors in flight (about three batches of float32
    ``3 x input_size^2``, see :func:`embed`) take at most a quarter of the available memory, and at most
    ``MAX_BATCH``: an oversized ``--batch-size`` slows nothing down by being cut, but could exhaust memory."""
    if available is None:
        available = available_memory()
    per_image = 3 * max(1, input_size) ** 2 * 4
    fit = max(1, available // 4 // (3 * per_image))
    return max(1, min(requested, MAX_BATCH, fit))


def available_memory() -> int:
    """Bytes of memory available now (Linux: MemAvailable; elsewhere free pages; 4 GB when unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * 1024**3
