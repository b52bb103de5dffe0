"""The faces pass in the window: finding faces and grouping them after the text pass, in the background.

Like the text pass it runs on its own worker thread (its own library connection; SQLite serialises its
per-batch commits with the writer's) and gives way to visual indexing: a new indexing run cancels it (what
was scanned is kept) and the text pass's end starts it again. It runs only while the library's faces setting
is on (off by default; the People panel's checkbox or ``photosearch people --enable``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from photosearch.gui.tasks.workers import CurrentJob, Task, TaskRunner


def faces_job(library_path: Path):
    """The faces pass then grouping, when the setting is on: yields FaceEvents and GroupEvents and returns the
    FaceReport; returns None at once when it is off."""
    def job(task: Task):
        from photosearch.faces import facepass
        from photosearch.library import Library

        lib = Library.open(library_path)
        try:
            if not facepass.enabled(lib.conn):
                return None
            return (yield from lib.find_faces(cancel=task.cancel_event))
        finally:
            lib.close()
    return job


def set_faces_job(library_path: Path, on: bool):
    def job(_task: Task):
        from photosearch.faces import facepass
        from photosearch.library import Library

        with Library.open(library_path) as lib:
            facepass.set_enabled(lib.conn, on)
        return on
    return job


class FacesPass(CurrentJob):
    """Start, cancel and follow the faces pass (``progress``: FaceEvents then GroupEvents; ``finished``: the
    FaceReport, or None when it is off or failed)."""

    def __init__(self, library_path: Path, parent: QObject | None = None):
        super().__init__(TaskRunner(1), parent)
        self.runner.setParent(self)
        self.library_path = Path(library_path)
        self._closed = False

    def start(self) -> bool:
        """Scan what is not scanned yet (no-op while running)."""
        if self.running() or self._closed:
            return False
        self._submit(faces_job(self.library_path), "faces")
        return True

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def follow(self, indexer, text_pass) -> None:
        """Visual indexing first, then the text pass, then faces."""
        indexer.started.connect(self.cancel)
        text_pass.finished.connect(lambda _ev: self.start())

    def shutdown(self) -> None:
        self._closed = True
        self.cancel()
        self.runner.shutdown()
