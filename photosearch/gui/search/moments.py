"""The preview's strip of a video's moments: the few that best match the search (its words or its example image;
spread over the video when browsing), each a small frame with its time; a click plays the video from there (``momentRequested``).

The moments come from the library on a reader thread (``Library.video_moments``), their frames from the
thumbnail loader (``thumbnails.moment_key``); nothing is decoded on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPalette, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from photosearch.gui.base.theme import muted
from photosearch.gui.search.thumbnails import ThumbnailLoader, moment_key
from photosearch.gui.tasks.workers import Task, TaskRunner
from photosearch.humanize import format_duration

STRIP_PIXELS = 160  # each moment's frame is made at this size and shown smaller
SHOWN = 6  # moments in the strip


def moments_job(library_path: Path, model, path: str, query: str | None, like: str | None, n: int = SHOWN):
    """``(path, query, [(second, score)])`` of a video (library/library.py's ``video_moments``); ``like``: the
    example image searched by."""
    def job(_task: Task):
        from photosearch.library import Library

        if model is None:
            return path, query, []
        with Library.open(library_path) as lib:
            return path, query, lib.video_moments(model, path, query, n, like)
    return job


class MomentStrip(QWidget):
    """A row of moment buttons under a caption; hidden for photos and for videos with no stored moments."""

    momentRequested = Signal(str, float)  # path, second to play from

    def __init__(self, thumbs: ThumbnailLoader | None, readers: TaskRunner | None, library_path: Path | None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.thumbs, self.readers, self.library_path = thumbs, readers, library_path
        self.path: str | None = None
        self.query: str | None = None
        self.like_of = lambda: None  # () -> the example image the search is by, or None (set by the window)
        self.ranked = False  # the moments shown were ranked by a query or an example
        self.moments: list[tuple[float, float | None]] = []
        self.buttons: list[QToolButton] = []
        self.framed: set[float] = set()  # the moments whose frame is shown
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.caption = QLabel()
        muted(self.caption)
        lay.addWidget(self.caption)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        row = QWidget()
        self.row = QHBoxLayout(row)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(4)
        self.row.addStretch(1)
        scroll.setWidget(row)
        scroll.setFixedHeight(self._icon_size().height() + 40)
        lay.addWidget(scroll)
        if thumbs is not None:
            thumbs.loaded.connect(self._on_frame)
        self.hide()

    def _icon_size(self) -> QSize:
        h = max(36, self.fontMetrics().height() * 3)
        return QSize(h * 16 // 9, h)

    def _placeholder(self) -> QIcon:
        pm = QPixmap(self._icon_size())
        c = self.palette().color(QPalette.ColorRole.Mid)
        c.setAlpha(60)
        pm.fill(c)
        return QIcon(pm)

    def show_for(self, model, path: str | None, query: str | None, video: bool) -> None:
        """Ask for ``path``'s moments (a video) or hide (anything else)."""
        self.path, self.query = (path, query) if video else (None, None)
        self._set([])
        if self.path is None or self.readers is None or self.library_path is None:
            return
        like = self.like_of()
        self.ranked = bool(query) or like is not None
        task = Task(moments_job(self.library_path, model, self.path, query, like), "moments")
        task.returned.connect(self._on_moments)
        self.readers.submit(task)

    def _on_moments(self, out) -> None:
        path, query, moments = out
        if path == self.path and query == self.query:
            self._set(moments)

    def _set(self, moments: list[tuple[float, float | None]]) -> None:
        for b in self.buttons:
            self.row.removeWidget(b)
            b.deleteLater()
        self.moments, self.buttons, self.framed = list(moments), [], set()
        for t, _score in self.moments:
            b = QToolButton()
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setIconSize(self._icon_size())
            b.setIcon(self._placeholder())  # the button has its final size before the frame arrives
            b.setText(format_duration(t))
            b.setToolTip(f"Play from {format_duration(t)}")
            b.setAutoRaise(True)
            b.clicked.connect(lambda _c=False, t=t: self.path and self.momentRequested.emit(self.path, t))
            self.row.insertWidget(self.row.count() - 1, b)
            self.buttons.append(b)
            if self.thumbs is not None:
                self.thumbs.request(moment_key(self.path, t), STRIP_PIXELS)
        self.caption.setText(("Best-matching moments" if self.ranked else "Moments") + " — click to play from there")
        self.setVisible(bool(self.moments))

    def _on_frame(self, key: str, size: int, image) -> None:
        if size != STRIP_PIXELS or self.path is None or image.isNull():
            return
        for (t, _), b in zip(self.moments, self.buttons):
            if key == moment_key(self.path, t):
                b.setIcon(QIcon(QPixmap.fromImage(image)))
                self.framed.add(t)
