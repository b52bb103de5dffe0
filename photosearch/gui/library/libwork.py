"""The window's background library work, and its order.

Visual indexing comes first (:class:`~photosearch.gui.library.indexing.Indexer`, on the window's one writer thread).
When a run ends: folders asked for meanwhile start the next run; otherwise a complete run lets a new model
take over search from its stand-in (:meth:`ModelHost.finish_indexing`) and schedules reading the words in the
photos (:class:`~photosearch.gui.library.textpass.TextPass`, which any new run cancels). From the first finished run on
the folders are watched (:class:`~photosearch.gui.library.live.LiveWatcher`), and their changes become incremental runs.
The window shows what happens; this decides what runs next.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from photosearch.gui.library.indexing import Indexer
from photosearch.gui.library.live import LiveWatcher
from photosearch.gui.library.textpass import TextPass
from photosearch.gui.models.modelhost import ModelHost
from photosearch.gui.tasks.workers import Task, TaskRunner


class LibraryWork(QObject):
    """Owns the indexer, the text pass and the folder watcher; ``folders`` and ``batch_size`` are read when a
    run starts (the sidebar and the settings own them)."""

    message = Signal(str, int)  # a passing status-bar message and how long it shows (ms)
    textRead = Signal()  # the text pass read words in new photos: typed searches may rank differently now

    def __init__(self, writer: TaskRunner, library_path: Path, models: ModelHost,
                 folders: Callable[[], list[str]], batch_size: Callable[[], int], parent: QObject | None = None):
        super().__init__(parent)
        self.writer = writer
        self.library_path = Path(library_path)
        self.models = models
        self._folders = folders
        self._batch_size = batch_size
        self.indexer = Indexer(writer, self.library_path, self)
        self.live = LiveWatcher(self.library_path, parent=self)  # started once the first index run ended
        self.text_pass = TextPass(self.library_path, self)  # reads the words in photos after indexing
        self.indexer.started.connect(self.text_pass.cancel)  # visual indexing first; the text pass resumes after
        self.indexer.finished.connect(self._after_index)
        self.live.changesReady.connect(lambda _n: self.start())
        self.text_pass.progress.connect(self._on_text_event)
        self.text_pass.finished.connect(self._on_text_finished)

    def start(self, add: list[str] | None = None) -> None:
        """Index every folder (only what is new/changed, or what the model lacks), adding ``add`` first; without
        a model, or while a run goes, it waits for the next run."""
        folders = self._folders()
        self.indexer.start(self.models.model, folders if add is None else add, self._batch_size(), bool(folders))

    def folders_changed(self) -> None:
        """The set of folders changed (one was removed): a running watcher follows."""
        if self.live.running():
            self.live.start(self._folders())

    def set_read_text(self, on: bool, on_status: Callable[[dict], None], on_error: Callable[[str], None]) -> None:
        """The library's text-pass setting: saved by the writer; on starts reading (unless indexing), off stops
        it. ``on_status`` gets the library's status afterwards."""
        from photosearch.gui.tasks.jobs import set_text_pass_job

        if not on:
            self.text_pass.cancel()
        task = Task(set_text_pass_job(self.library_path, on), "text-setting")
        task.failed.connect(on_error)
        task.returned.connect(on_status)
        if on:
            task.returned.connect(lambda _st: None if self.indexer.running() else self.text_pass.start())
        self.writer.submit(task)

    def shutdown(self) -> bool:
        """Stop indexing (at the next batch), the watcher and the text pass; whether the watcher's thread ended
        (the writer thread is the window's to join)."""
        self.indexer.cancel()
        watcher_ended = self.live.shutdown()
        self.text_pass.shutdown()
        return watcher_ended

    def _after_index(self, rep) -> None:
        """``rep``: the run's IndexReport, None when it failed."""
        if rep is not None and self.indexer.pending is not None:
            QTimer.singleShot(0, lambda: self.start(self.indexer.pending))
        elif rep is not None and not rep.cancelled:
            self.models.finish_indexing(self.writer)
            self.text_pass.schedule()
        if rep is not None:  # from now on new photos appear by themselves (the set of folders may have changed)
            self.live.start(self._folders())

    def _on_text_event(self, ev) -> None:
        if ev.total and ev.done < ev.total:
            self.message.emit(f"Reading text in photos: {ev.done:,} of {ev.total:,}", 5000)

    def _on_text_finished(self, rep) -> None:
        """``rep``: the pass's TextReport, None when it failed."""
        if rep is not None and rep.read:
            self.message.emit(f"Read text in {rep.read:,} photos ({rep.with_text:,} with text)", 6000)
            self.textRead.emit()
