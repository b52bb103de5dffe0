"""Indexing in the window: :class:`Indexer` runs the core's ``Library.index`` on the writer thread, one run
at a time, and :class:`IndexingBar` shows its progress with Pause and Cancel.

Folders asked for while a run is going (or before the model is ready) wait in ``pending`` for the next run.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from photosearch.gui.tasks.jobs import index_job
from photosearch.gui.tasks.workers import CurrentJob, TaskRunner
from photosearch.humanize import format_duration

LIVE_REFRESH_S = 1.5  # while indexing, the window refreshes counts and the current search at most this often


def index_summary(report) -> str:
    """One line about a finished (or cancelled) run, for the status bar."""
    if report.cancelled:
        return f"Indexing cancelled: {report.indexed:,} photos indexed, the rest next time"
    text = (f"Indexed {report.indexed:,} new photos in {format_duration(report.seconds)}"
            + (f", {len(report.skipped)} skipped" if report.skipped else ""))
    unreadable = getattr(report, "unreadable_folders", [])
    if unreadable:
        text += (f"; {len(unreadable)} folder{'s' if len(unreadable) > 1 else ''} could not be read "
                 f"(their photos are kept): {', '.join(unreadable[:3])}" + (", ..." if len(unreadable) > 3 else ""))
    if report.missing_folders:
        text += f"; offline or not found (photos kept): {', '.join(report.missing_folders[:3])}"
    return text


class Indexer(CurrentJob):
    """Owns the indexing task: start, pause/resume, cancel, and the last progress event (``progress``:
    IndexEvents; ``finished``: the run's IndexReport, or None when it failed)."""

    started = Signal()
    grew = Signal()  # more photos are in the library: at most every LIVE_REFRESH_S while embedding, and on pause
    pausedChanged = Signal(bool)

    def __init__(self, writer: TaskRunner, library_path: Path, parent: QObject | None = None):
        super().__init__(writer, parent)
        self.writer = writer
        self.library_path = Path(library_path)
        self.pending: list[str] | None = None  # folders to add at the next run; [] means "update all"
        self._last_grew = 0.0

    def paused(self) -> bool:
        return self.running() and self.task.paused

    def start(self, model, add: list[str], batch_size: int, have_folders: bool) -> bool:
        """Index (adding ``add`` first); without a model or while a run goes, remember it for later."""
        if model is None or self.running():
            self.pending = sorted(set((self.pending or []) + list(add)))
            return False
        self.pending = None
        if not add and not have_folders:
            return False
        self.last_event = None
        self._submit(index_job(self.library_path, model, list(add), batch_size), "index")
        self.started.emit()
        return True

    def toggle_pause(self) -> None:
        if not self.running():
            return
        if self.task.paused:
            self.task.resume()
        else:
            self.task.pause()
        self.pausedChanged.emit(self.task.paused)
        if self.task.paused:
            self.grew.emit()  # show everything indexed up to the pause

    def cancel(self) -> None:
        """Stop the run at the next batch; finished photos are kept."""
        if self.task is not None:
            self.task.cancel()

    def _on_event(self, ev) -> None:
        super()._on_event(ev)
        now = time.monotonic()
        if ev.phase == "embed" and now - self._last_grew > LIVE_REFRESH_S:
            self._last_grew = now
            self.grew.emit()


class IndexingBar(QFrame):
    """Progress of the indexer's run: a bar, counts with rate and ETA, Pause/Resume and Cancel. Hidden
    between runs."""

    def __init__(self, indexer: Indexer, parent: QWidget | None = None):
        super().__init__(parent)
        self.indexer = indexer
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 2)
        self.label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(320)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(12)
        self.pause_btn = QPushButton("Pause")
        self.pause_btn.clicked.connect(indexer.toggle_pause)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self._cancel)
        lay.addWidget(self.progress, 1)
        lay.addWidget(self.label, 2)
        lay.addWidget(self.pause_btn)
        lay.addWidget(self.cancel_btn)
        indexer.started.connect(self._on_started)
        indexer.progress.connect(self._on_event)
        indexer.pausedChanged.connect(self._on_paused)
        indexer.finished.connect(lambda _ev: self.hide())
        self.hide()

    def _on_started(self) -> None:
        self.progress.setRange(0, 0)
        self.label.setText("Looking for photos…")
        self.pause_btn.setText("Pause")
        self.pause_btn.setEnabled(True)
        self.cancel_btn.setEnabled(True)
        self.show()

    def _on_event(self, ev) -> None:
        if ev.phase == "scan":
            self.progress.setRange(0, 0)
            self.label.setText(f"Looking for photos… {ev.total or ev.done} found")
        elif ev.phase == "embed":
            self.progress.setRange(0, max(1, ev.total))
            self.progress.setValue(ev.done)
            rate = f"{ev.rate:.1f} photos/s" if ev.rate else ""
            eta = f"about {format_duration(ev.eta)} left" if ev.eta is not None else ""
            text = " · ".join(p for p in (f"Indexing {ev.done:,} of {ev.total:,}", rate, eta) if p)
            self.label.setText(text + (" — paused" if self.indexer.paused() else ""))

    def _on_paused(self, paused: bool) -> None:
        self.pause_btn.setText("Resume" if paused else "Pause")
        base = self.label.text().split(" — ")[0]
        self.label.setText(base + " — paused" if paused else base)

    def _cancel(self) -> None:
        if self.indexer.running():
            self.indexer.cancel()
            self.cancel_btn.setEnabled(False)
            self.pause_btn.setEnabled(False)
            self.label.setText("Stopping… finished photos are kept")
