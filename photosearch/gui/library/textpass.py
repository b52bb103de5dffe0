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

from PySide6.QtCore import QObject, QTimer

from photosearch.gui.tasks.jobs import text_job
from photosearch.gui.tasks.workers import CurrentJob, TaskRunner

START_DELAY_MS = 2000


class TextPass(CurrentJob):
    """Start, cancel and follow the library's text pass (``progress``: TextEvents; ``finished``: its
    TextReport, or None when it is off or failed)."""

    def __init__(self, library_path: Path, parent: QObject | None = None):
        super().__init__(TaskRunner(1), parent)
        self.runner.setParent(self)
        self.library_path = Path(library_path)
        # Low CPU priority (nice 19 OCR threads, see photosearch.ocr). Tests on a shared machine turn it off:
        # there, a niced pass waits behind every other process.
        self.background = True
        self._closed = False
        self._timer = QTimer(self, singleShot=True, interval=START_DELAY_MS)
        self._timer.timeout.connect(self.start)

    def schedule(self) -> None:
        """Start after ``START_DELAY_MS`` (restarts the wait when called again)."""
        self._timer.start()

    def start(self) -> bool:
        """Read what is not read yet (no-op while running)."""
        self._timer.stop()
        if self.running() or self._closed:
            return False
        self._submit(text_job(self.library_path, self.background), "text")
        return True

    def cancel(self) -> None:
        self._timer.stop()
        if self.task is not None:
            self.task.cancel()

    def shutdown(self) -> None:
        self._closed = True
        self.cancel()
        self.runner.shutdown()
