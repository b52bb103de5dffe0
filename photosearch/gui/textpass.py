"""The text pass in the window: reading the words in photos after each indexing run, in the background.

It runs on its own worker thread (its own library connection: SQLite serialises its short per-batch
commits with the writer's), at low CPU priority (the OCR engine's threads are niced), and gives way to
visual indexing: starting an indexing run cancels it (what was read is kept) and the next run's end starts
it again, so new photos become searchable by their look first. The library's setting decides whether it
runs at all (``photosearch text --enable/--disable``, the Settings dialog). It starts a moment after an
indexing run ends (``START_DELAY_MS``): right then the user is searching and thumbnails are being made.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from photosearch.gui.jobs import text_job
from photosearch.gui.workers import Task, TaskRunner

START_DELAY_MS = 2000


class TextPass(QObject):
    """Start, cancel and follow the library's text pass."""

    progress = Signal(object)  # TextEvent
    finished = Signal(object)  # the last TextEvent (``text_report`` set), or None (off, or it failed)
    failed = Signal(str)

    def __init__(self, library_path: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.library_path = Path(library_path)
        self.runner = TaskRunner(1, self)
        self.task: Task | None = None
        self.last_event = None
        # Low CPU priority (nice 19 OCR threads, see photosearch.ocr). Tests on a shared machine turn it off:
        # there, a niced pass waits behind every other process.
        self.background = True
        self._closed = False
        self._timer = QTimer(self, singleShot=True, interval=START_DELAY_MS)
        self._timer.timeout.connect(self.start)

    def running(self) -> bool:
        return self.task is not None and not self.task.done

    def schedule(self) -> None:
        """Start after ``START_DELAY_MS`` (restarts the wait when called again)."""
        self._timer.start()

    def start(self) -> bool:
        """Read what is not read yet (no-op while running)."""
        self._timer.stop()
        if self.running() or self._closed:
            return False
        task = Task(text_job(self.library_path, self.background), "text")
        task.progress.connect(lambda ev, t=task: self._on_event(ev, t))
        task.succeeded.connect(lambda ev, t=task: self._on_done(ev, t))
        task.failed.connect(lambda msg, t=task: self._on_failed(msg, t))
        self.task = task
        self.runner.submit(task)
        return True

    def cancel(self) -> None:
        self._timer.stop()
        if self.task is not None:
            self.task.cancel()

    def shutdown(self) -> None:
        self._closed = True
        self.cancel()
        self.runner.shutdown()

    def _on_event(self, ev, task: Task) -> None:
        if task is self.task:
            self.last_event = ev
            self.progress.emit(ev)

    def _on_done(self, ev, task: Task) -> None:
        if task is self.task:
            self.task = None
            self.finished.emit(ev)

    def _on_failed(self, msg: str, task: Task) -> None:
        if task is self.task:
            self.task = None
            self.failed.emit(msg)
            self.finished.emit(None)
