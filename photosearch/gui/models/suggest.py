"""The first-run suggestion of a stronger model: a quiet strip under the search bar, never a dialog.

When the window's model is still the offline ``starter`` and the user has not dismissed the suggestion
before, :meth:`SuggestionBar.check` asks a reader thread whether the model hub answers (a bounded probe) and
which catalog model suits this machine (:mod:`photosearch.model.recommend`). If both say yes, the strip reads
"A stronger search model is available: <name> (<size>)" with a Download… button that opens Settings' model
page on that model; nothing downloads without the click there. Dismissing it is remembered in the settings.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

from photosearch.gui.base.settings import Settings
from photosearch.gui.tasks.jobs import suggestion_job
from photosearch.gui.tasks.workers import Task, TaskRunner
from photosearch.humanize import format_size

OFFLINE_MODEL = "starter"


def suggestion_text(entry) -> str:
    size = f"{'~' if entry.download_estimate else ''}{format_size(entry.download_bytes)}"
    return f"A stronger search model is available: {entry.name} ({size})"


class SuggestionBar(QFrame):
    """The strip; ``openRequested(name)`` asks for Settings' model page on ``name``."""

    openRequested = Signal(str)
    checked = Signal(object)  # the suggested CatalogEntry, or None (not shown); also when no check was needed

    def __init__(self, settings: Settings, readers: TaskRunner, parent=None):
        super().__init__(parent)
        self.settings, self.readers = settings, readers
        self.entry = None
        self._asked = False  # one probe per window
        self.setObjectName("suggestion")
        self.setStyleSheet("QFrame#suggestion { background: #eef6ee; border: 1px solid #b9dcb9; border-radius: 6px; }"
                           " QFrame#suggestion QLabel, QFrame#suggestion QToolButton { color: #1f4d1f; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 4, 6, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.download_btn = QPushButton("Download…")
        self.download_btn.setToolTip("Open Settings on this model; the download starts only from there")
        self.download_btn.clicked.connect(self._open)
        lay.addWidget(self.download_btn)
        self.dismiss_btn = QToolButton()
        self.dismiss_btn.setText("✕")
        self.dismiss_btn.setAutoRaise(True)
        self.dismiss_btn.setToolTip("Don't suggest this again")
        self.dismiss_btn.clicked.connect(self.dismiss)
        lay.addWidget(self.dismiss_btn)
        self.hide()

    def check(self, model_name: str | None) -> None:
        """Look for a suggestion in the background when ``model_name`` is the starter (once per window)."""
        if model_name != OFFLINE_MODEL:
            self.hide()  # the user moved on to a stronger model
            return
        if self._asked or self.settings.suggestion_dismissed:
            self.checked.emit(None)
            return
        self._asked = True
        task = Task(suggestion_job, "suggest-model")
        task.returned.connect(self._on_result)
        task.failed.connect(lambda _msg: self.checked.emit(None))
        self.readers.submit(task)

    def _on_result(self, entry) -> None:
        if entry is not None and not self.settings.suggestion_dismissed:
            self.entry = entry
            self.label.setText(suggestion_text(entry))
            self.label.setToolTip(entry.description)
            self.show()
        self.checked.emit(entry if self.isVisible() else None)

    def _open(self) -> None:
        self.hide()
        if self.entry is not None:
            self.openRequested.emit(self.entry.name)

    def dismiss(self) -> None:
        self.settings.suggestion_dismissed = True
        self.hide()
