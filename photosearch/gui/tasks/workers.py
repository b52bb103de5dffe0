"""Background work for the GUI. Workers never touch widgets: results come back through signals only.

- :class:`Task` runs a plain function or a generator (the core's progress-event style) in a thread pool,
  emitting ``progress`` per yielded event; cancel/pause are checked between yields (superqt's
  GeneratorWorker pattern). The core receives ``task.cancel_event`` and stops cleanly, keeping finished work.
- :class:`TaskRunner` owns a QThreadPool; a one-thread runner serialises every write to the library
  (Anki's taskman pattern), a wider one runs reads (model loads, status queries).
- :class:`CurrentJob` runs one job at a time whose events count only while it is the current one.

Thumbnails (:mod:`photosearch.gui.search.thumbnails`) and the search thread (:mod:`photosearch.gui.search.service`)
live with the search they serve.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, Signal

log = logging.getLogger(__name__)


def error_text(e: BaseException) -> str:
    """One line for the user: PhotoSearch errors carry their own message; others get their type name."""
    from photosearch.errors import PhotoSearchError

    if isinstance(e, PhotoSearchError):
        return str(e) or type(e).__name__
    if isinstance(e, OSError):
        from photosearch.humanize import os_error_text

        return os_error_text(e)
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
