"""Background work for the GUI. Workers never touch widgets: results come back through signals only.

- :class:`Task` runs a plain function or a generator (the core's progress-event style) in a thread pool,
  emitting ``progress`` per yielded event; cancel/pause are checked between yields (superqt's
  GeneratorWorker pattern). The core receives ``task.cancel_event`` and stops cleanly, keeping finished work.
- :class:`TaskRunner` owns a QThreadPool; a one-thread runner serialises every write to the library
  (Anki's taskman pattern), a wider one runs reads (model loads, status queries).
- :class:`ThumbnailLoader` makes thumbnails off the GUI thread, most recent request first, cached on disk.
- :class:`SearchService` is one long-lived reader thread with its own library connection; only the newest
  pending query runs, so typing fast never queues stale searches.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, QThreadPool, Signal
from PySide6.QtGui import QImage

from photosearch.library.query import Query

log = logging.getLogger(__name__)


def error_text(e: BaseException) -> str:
    """One line for the user: PhotoSearch errors carry their own message; others get their type name."""
    from photosearch.errors import PhotoSearchError

    if isinstance(e, PhotoSearchError):
        return str(e) or type(e).__name__
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


class Task(QObject):
    """One background job. ``fn(task)`` returns a result, or a generator whose events become ``progress``
    and whose ``return`` value is the result (superqt's ``GeneratorWorker``: ``StopIteration.value``).

    Signals arrive on the GUI thread (the Task object lives there): ``returned`` or ``errored`` (with
    ``failed``, the same error as one line for the user), then ``finished``, always last.
    """

    progress = Signal(object)
    returned = Signal(object)  # the function's result, or the generator's return value
    errored = Signal(object)  # the exception that ended it
    failed = Signal(str)  # that exception as one user-readable line
    finished = Signal()

    def __init__(self, fn: Callable[["Task"], Any], name: str = ""):
        super().__init__()
        self.fn = fn
        self.name = name
        self.cancel_event = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self.done = False

    # -- control, from the GUI thread -----------------------------------------------------------
    def cancel(self) -> None:
        self.cancel_event.set()
        self._resume.set()

    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def report(self, obj: Any) -> None:
        """For callback-style core functions: forward a progress object from the worker thread."""
        self.progress.emit(obj)

    # -- body, in a pool thread -----------------------------------------------------------------
    def run(self) -> None:
        ok, out = True, None
        try:
            out = self.fn(self)
            if hasattr(out, "__next__"):
                out = self._drive(out)
        except BaseException as e:  # a worker must report, never take the app down
            log.debug("task %s failed", self.name, exc_info=True)
            ok, out = False, e
        # ``done`` is set before the result signals: a slot reacting to them may start the next job at once.
        self.done = True
        if ok:
            self.returned.emit(out)
        else:
            self.errored.emit(out)
            self.failed.emit(error_text(out))
        self.finished.emit()

    def _drive(self, events) -> Any:
        """Emit each event of a generator; returns what it returns."""
        while True:
            try:
                event = next(events)
            except StopIteration as stop:
                return stop.value
            self.progress.emit(event)
            # Pausing holds the generator at its yield: no new work starts until resume/cancel.
            while not self._resume.wait(0.2):
                pass


class TaskRunner(QObject):
    """A thread pool for Tasks that keeps them alive until they finish and can cancel and join them all."""

    def __init__(self, threads: int, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._tasks: set[Task] = set()
        self._closed = False

    def submit(self, task: Task) -> Task:
        """Run ``task`` on the pool; after :meth:`shutdown` it is cancelled and never runs (a result that
        arrives after the window closed must not start new work)."""
        if self._closed:
            task.cancel()
            return task
        self._tasks.add(task)
        task.finished.connect(lambda t=task: self._tasks.discard(t))
        self.pool.start(task.run)
        return task

    def busy(self) -> bool:
        return any(not t.done for t in self._tasks)

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Refuse new tasks, cancel everything and wait for the threads up to ``timeout_ms`` (-1: as long as
        it takes; a torch import in flight cannot be interrupted). Returns whether they all stopped."""
        self._closed = True
        for t in list(self._tasks):
            t.cancel()
        return self.pool.waitForDone(timeout_ms)


# -- thumbnails -----------------------------------------------------------------------------------
THUMB_PIXELS = 320  # grid thumbnails are made once at the largest zoom and scaled down when painted
PREVIEW_PIXELS = 1200


class CurrentJob(QObject):
    """One background job at a time whose events count only while it is the current one: after a newer
    start (or a cancel that forgets it) a late task's events are ignored. The indexer, the text pass and the
    folder watcher are this, each with its own job and runner."""

    progress = Signal(object)  # an event the job yielded
    finished = Signal(object)  # its return value (a report), or None when it failed
    failed = Signal(str)  # one line for the user (finished(None) follows)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self.task: Task | None = None
        self.last_event = None  # the newest event of the current (or last) run

    def running(self) -> bool:
        return self.task is not None and not self.task.done

    def _submit(self, job: Callable[[Task], Any], name: str) -> Task:
        task = Task(job, name)
        task.progress.connect(lambda ev, t=task: self._on_event(ev) if t is self.task else None)
        task.returned.connect(lambda out, t=task: self._on_done(out) if t is self.task else None)
        task.failed.connect(lambda msg, t=task: self._on_failed(msg) if t is self.task else None)
        self.task = task
        self.runner.submit(task)
        return task

    def _on_event(self, ev) -> None:
        self.last_event = ev
        self.progress.emit(ev)

    def _on_done(self, out) -> None:
        self.task = None
        self.finished.emit(out)

    def _on_failed(self, msg: str) -> None:
        self.task = None
        self.failed.emit(msg)
        self.finished.emit(None)


def thumbnail_cache_file(cache_dir: Path, path: str, size: int) -> Path | None:
    """Cache file for ``path`` at ``size``; the key includes mtime and size, so edited photos refresh."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = hashlib.sha1(f"{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}|{size}".encode()).hexdigest()
    return Path(cache_dir) / key[:2] / f"{key}.jpg"


def _qimage_from_pil(img) -> QImage:
    img = img.convert("RGB")
    data = img.tobytes()
    return QImage(data, img.width, img.height, img.width * 3, QImage.Format.Format_RGB888).copy()


def make_thumbnail(path: str, size: int, cache_dir: Path | None) -> QImage:
    """A thumbnail no larger than ``size`` px, upright (EXIF), from the disk cache when fresh.

    Runs in worker threads. Returns a null QImage for anything that cannot be decoded.
    """
    cache = thumbnail_cache_file(cache_dir, path, size) if cache_dir is not None else None
    if cache is not None and cache.is_file():
        img = QImage(str(cache))
        if not img.isNull():
            return img
    try:
        from photosearch.imageio import ImageSkip, load_image

        pil, _ = load_image(path, min_side=size)
    except ImageSkip:
        return QImage()
    except Exception:  # a thumbnail failure shows a placeholder, nothing more
        log.debug("thumbnail failed for %s", path, exc_info=True)
        return QImage()
    pil.thumbnail((size, size))
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f".{cache.name}.{threading.get_ident()}.tmp")
            pil.save(tmp, "JPEG", quality=85)
            os.replace(tmp, cache)
        except OSError:
            log.debug("could not cache thumbnail %s", cache, exc_info=True)
    return _qimage_from_pil(pil)


class ThumbnailLoader(QObject):
    """Makes thumbnails on a small pool, newest request first; a capped queue drops what scrolled away."""

    loaded = Signal(str, int, QImage)  # path, size, image (null: undecodable)

    def __init__(self, cache_dir: Path | None, threads: int = 2, max_pending: int = 600,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._threads = threads
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._pending: collections.OrderedDict[tuple[str, int], None] = collections.OrderedDict()
        self._active = 0
        self._stop = False
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)

    def request(self, path: str, size: int = THUMB_PIXELS) -> None:
        key = (path, size)
        with self._lock:
            if self._stop:
                return
            self._pending.pop(key, None)
            self._pending[key] = None
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)
            if self._active >= self._threads:
                return
            self._active += 1
        self.pool.start(self._drain)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending or self._stop:
                    self._active -= 1
                    return
                (path, size), _ = self._pending.popitem(last=True)
            self.loaded.emit(path, size, make_thumbnail(path, size, self.cache_dir))

    def clear_pending(self) -> None:
        with self._lock:
            self._pending.clear()

    def shutdown(self) -> None:
        with self._lock:
            self._stop = True
            self._pending.clear()
        self.pool.waitForDone(-1)

    def clear_cache(self) -> int:
        """Delete the disk cache; returns how many files went."""
        import shutil

        if self.cache_dir is None or not self.cache_dir.is_dir():
            return 0
        n = sum(1 for p in self.cache_dir.rglob("*.jpg"))
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        return n


# -- search ---------------------------------------------------------------------------------------
@dataclass
class SearchRequest:
    """One search the window asked for: the core :class:`~photosearch.library.query.Query`, and how to show the
    answer. ``id`` is set by :meth:`SearchService.submit`; answers and failures carry the request back."""

    query: Query = field(default_factory=Query)
    keep_selection: bool = False  # a refresh of the same search (indexing went on): keep selection and scroll
    id: int = 0


@dataclass
class SearchOutcome:
    """The answer to a :class:`SearchRequest`."""

    request: SearchRequest
    hits: list  # SearchHit, best first
    infos: dict = field(default_factory=dict)  # path -> library photo_info dict
    seconds: float = 0.0
    note: str | None = None  # no hits: which filter emptied the search (Library.why_empty)

    @property
    def browsing(self) -> bool:
        return self.request.query.browsing


class SearchService(QThread):
    """The one reader thread: owns a Library connection, runs only the newest pending request."""

    results = Signal(object)  # SearchOutcome
    failed = Signal(object, object)  # the SearchRequest, the exception (QueryError: the text itself is wrong)

    def __init__(self, library_path: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.library_path = Path(library_path)
        self._queue: queue.Queue = queue.Queue()
        self._model = None
        self._next_id = 0
        self._closed = False

    def set_model(self, model) -> None:
        self._model = model

    def submit(self, req: SearchRequest) -> int:
        """Queue ``req`` (only the newest queued request runs) and return its id; after :meth:`stop` nothing
        runs and the id is 0."""
        if self._closed:
            return 0
        self._next_id += 1
        req.id = self._next_id
        self._queue.put(req)
        if not self.isRunning():
            self.start()
        return req.id

    def stop(self, timeout_ms: int = -1) -> bool:
        """Stop for good: the running search finishes, queued ones are dropped, and the thread is joined
        for up to ``timeout_ms`` (-1: as long as it takes). Returns whether the thread has ended."""
        self._closed = True
        self._queue.put(None)
        return self.wait() if timeout_ms < 0 else self.wait(timeout_ms)

    def run(self) -> None:
        lib = None
        try:
            while True:
                req = self._queue.get()
                stop = req is None
                try:  # only the newest request matters
                    while True:
                        req = self._queue.get_nowait()
                        stop = stop or req is None
                except queue.Empty:
                    pass
                if stop:
                    return
                model = self._model
                if model is None:
                    from photosearch.errors import ModelError

                    self.failed.emit(req, ModelError("the search model is not loaded yet"))
                    continue
                t0 = time.perf_counter()
                try:
                    if lib is None:
                        from photosearch.library import Library

                        lib = Library.open(self.library_path)
                    hits = lib.search(model, req.query)
                    note = lib.why_empty(model, req.query.filters) if not hits and req.query.filters.active else None
                    # details for the first screens, in one query; the rest load on selection
                    infos = lib.photo_infos([h.path for h in hits[:200]])
                except Exception as e:  # reported to the UI, which decides how loud
                    log.debug("search failed", exc_info=True)
                    self.failed.emit(req, e)
                    continue
                self.results.emit(SearchOutcome(req, hits, infos, time.perf_counter() - t0, note))
        finally:
            if lib is not None:
                lib.close()
