"""Reusable widgets: search box, thumbnail grid (view + delegate), empty states, banners."""

from __future__ import annotations

import os
from typing import Callable

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QLabel, QLineEdit, QListView, QPushButton,
                               QSizePolicy, QSplitter, QStyle, QStyledItemDelegate, QToolButton, QVBoxLayout, QWidget)

from photosearch.imageio import is_image_name


def dropped_paths(mime) -> list[str]:
    """Local file paths carried by a drag-and-drop payload."""
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()] if mime.hasUrls() else []


def dropped_folders_and_images(mime) -> tuple[list[str], list[str]]:
    """The folders and the image files among the dropped paths (anything else is ignored)."""
    paths = dropped_paths(mime)
    return ([p for p in paths if os.path.isdir(p)],
            [p for p in paths if os.path.isfile(p) and is_image_name(p)])


def muted(widget: QWidget) -> None:
    """Secondary text: the palette's placeholder colour, so light and dark palettes both work."""
    widget.setForegroundRole(QPalette.ColorRole.PlaceholderText)


class SearchBox(QLineEdit):
    """The query line. Dropping an image file on it searches by example."""

    imageDropped = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText("Describe a photo — e.g. “a dog on the beach” — or drop an image here")
        self.setClearButtonEnabled(True)
        self.setMinimumHeight(34)
        f = self.font()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.setFont(f)
        from photosearch.gui.base.theme import icon

        self.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.setAcceptDrops(True)

    def _image(self, mime) -> str | None:
        for p in dropped_paths(mime):
            if os.path.isfile(p) and is_image_name(p):
                return p
        return None

    def dragEnterEvent(self, e):
        if self._image(e.mimeData()):
            e.acceptProposedAction()
        else:
            super().dragEnterEvent(e)

    def dragMoveEvent(self, e):
        if self._image(e.mimeData()):
            e.acceptProposedAction()
        else:
            super().dragMoveEvent(e)

    def dropEvent(self, e):
        p = self._image(e.mimeData())
        if p:
            e.acceptProposedAction()
            self.imageDropped.emit(p)
        else:
            super().dropEvent(e)


MIN_FIT_THUMB = 48  # thumbnails shrink down to this when the grid is narrower than one of them


class ThumbDelegate(QStyledItemDelegate):
    """Paints a square-fit thumbnail with its file name; the score shows as a badge on hover."""

    PAD = 6

    def __init__(self, size: int, parent=None):
        super().__init__(parent)
        self.size = size

    def sizeHint(self, option, index) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(self.size + 2 * self.PAD, self.size + 2 * self.PAD + fm.height() + 4)

    def thumb_box(self, rect: QRect) -> QRect:
        r = rect.adjusted(2, 2, -2, -2)
        return QRect(r.x() + self.PAD - 2, r.y() + self.PAD - 2, self.size, self.size)

    def feedback_rects(self, rect: QRect) -> tuple[QRect, QRect]:
        """The hover buttons "more like this" (+) and "less like this" (-), bottom corners of the thumbnail."""
        box = self.thumb_box(rect)
        d = max(18, min(26, self.size // 6))
        return (QRect(box.left() + 4, box.bottom() - d - 4, d, d), QRect(box.right() - d - 4, box.bottom() - d - 4, d, d))

    def _paint_marker(self, p: QPainter, option, marker) -> None:
        r = option.rect.adjusted(6, 6, -6, -6)
        pal = option.palette
        c = QColor(pal.color(QPalette.ColorRole.Text))
        c.setAlpha(150)
        f = QFont(option.font)
        f.setBold(True)
        p.setFont(f)
        if marker.kind == "divider":
            line = QColor(pal.color(QPalette.ColorRole.Mid))
            p.setPen(QPen(line, 2))
            p.drawLine(r.left() + 2, r.top() + 4, r.left() + 2, r.bottom() - 4)
            p.setPen(c)
            p.drawText(r.adjusted(12, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
                       | Qt.TextFlag.TextWordWrap, marker.text + "  →")
        else:
            p.setPen(c)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, marker.text)

    def paint(self, p: QPainter, option, index) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        marker = index.model().marker_at(index) if hasattr(index.model(), "marker_at") else None
        if marker is not None:
            self._paint_marker(p, option, marker)
            p.restore()
            return
        r = option.rect.adjusted(2, 2, -2, -2)
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hover:
            c = QColor(pal.color(QPalette.ColorRole.Highlight))
            c.setAlpha(90 if selected else 35)
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 1.5) if selected else Qt.PenStyle.NoPen)
            p.setBrush(c)
            p.drawRoundedRect(QRectF(r), 8, 8)
        box = QRect(r.x() + self.PAD - 2, r.y() + self.PAD - 2, self.size, self.size)
        model = index.model()
        path = model.path_at(index)
        pm = model.thumbnail(path) if path else None
        if isinstance(pm, QPixmap) and not pm.isNull():
            s = pm.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, s.width(), s.height())
            target.moveCenter(box.center())
            clip = QPainterPath()
            clip.addRoundedRect(QRectF(target), 4, 4)
            p.setClipPath(clip)
            p.drawPixmap(target, pm)
            p.setClipping(False)
        else:
            p.setPen(Qt.PenStyle.NoPen)
            c = QColor(pal.color(QPalette.ColorRole.Mid))
            c.setAlpha(60)
            p.setBrush(c)
            p.drawRoundedRect(QRectF(box.adjusted(8, 8, -8, -8)), 6, 6)
        text_rect = QRect(r.x() + 4, box.bottom() + 4, r.width() - 8, option.fontMetrics.height())
        p.setPen(pal.color(QPalette.ColorRole.HighlightedText if False else QPalette.ColorRole.Text))
        name = option.fontMetrics.elidedText(os.path.basename(path or ""),
                                             Qt.TextElideMode.ElideMiddle, text_rect.width())
        p.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)
        hit = model.hit(index.row()) if hasattr(model, "hit") else None
        copies = len(getattr(hit, "copies", None) or [])
        if copies:
            f = QFont(option.font)
            f.setPointSizeF(max(7.0, f.pointSizeF() * 0.8))
            p.setFont(f)
            label = f"{copies + 1} copies"
            w = QFontMetrics(f).horizontalAdvance(label) + 10
            badge = QRect(box.left() + 4, box.top() + 4, w, QFontMetrics(f).height() + 2)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 0, 0, 150))
            p.drawRoundedRect(QRectF(badge), 6, 6)
            p.setPen(QColor("white"))
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
            p.setFont(option.font)
        if model.text_match_at(index):
            from photosearch.gui.search.textview import paint_text_badge

            paint_text_badge(p, box, option.font)
        if hover:
            for rect, sign in zip(self.feedback_rects(option.rect), ("+", "−")):
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(0, 0, 0, 150))
                p.drawEllipse(QRectF(rect))
                p.setPen(QColor("white"))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, sign)
            score = model.score_at(index)
            if score is not None:
                f = QFont(option.font)
                f.setPointSizeF(max(7.0, f.pointSizeF() * 0.85))
                f.setBold(True)
                p.setFont(f)
                label = f"{score:.2f}"
                w = QFontMetrics(f).horizontalAdvance(label) + 10
                badge = QRect(box.right() - w - 2, box.top() + 4, w, QFontMetrics(f).height() + 2)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(0, 0, 0, 160))
                p.drawRoundedRect(QRectF(badge), 6, 6)
                p.setPen(QColor("white"))
                p.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        p.restore()


class ResultsView(QListView):
    """Thumbnail grid: icon mode, uniform cells, per-pixel scrolling, drag out as file URLs."""

    spacePressed = Signal()
    zoomRequested = Signal(int)  # +1 / -1 steps
    feedbackRequested = Signal(str, int)  # path, +1 more like this / -1 less like this (hover buttons, + / -)

    def __init__(self, thumb_size: int, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(300)
        self.setMouseTracking(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Never sideways: a grid narrower than one thumbnail shrinks the thumbnails instead (_fit).
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.thumb_size = thumb_size  # the size asked for; delegate.size is what fits
        self.delegate = ThumbDelegate(thumb_size, self)
        self.setItemDelegate(self.delegate)
        self.set_thumb_size(thumb_size)

    def set_thumb_size(self, size: int) -> None:
        self.thumb_size = size
        self._fit(force=True)

    def _fit(self, force: bool = False) -> None:
        pad = 2 * ThumbDelegate.PAD + 4
        width = self.viewport().width()
        two = (width - 6) // 2 - pad  # the largest thumbnail that still gives two columns (a few px spare)
        if two >= self.thumb_size:
            size = self.thumb_size
        elif two >= 0.75 * self.thumb_size:
            size = two  # slightly smaller thumbnails rather than one column
        else:
            size = min(self.thumb_size, width - pad)
        size = max(MIN_FIT_THUMB, size)
        if size == self.delegate.size and not force:
            return
        self.delegate.size = size
        fm = self.fontMetrics()
        self.setGridSize(QSize(size + 2 * ThumbDelegate.PAD + 4, size + 2 * ThumbDelegate.PAD + fm.height() + 8))
        self.verticalScrollBar().setSingleStep(max(16, size // 5))
        self.doItemsLayout()

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self._fit()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Space and not e.modifiers():
            self.spacePressed.emit()
            e.accept()
            return
        mods = e.modifiers() & ~Qt.KeyboardModifier.ShiftModifier & ~Qt.KeyboardModifier.KeypadModifier
        sign = {Qt.Key.Key_Plus: 1, Qt.Key.Key_Minus: -1}.get(e.key())
        if sign and not mods:
            path = self.model().path_at(self.currentIndex()) if self.model() is not None else None
            if path:
                self.feedbackRequested.emit(path, sign)
                e.accept()
                return
        super().keyPressEvent(e)

    def mousePressEvent(self, e) -> None:
        idx = self.indexAt(e.position().toPoint())
        path = self.model().path_at(idx) if idx.isValid() and self.model() is not None else None
        if path and e.button() == Qt.MouseButton.LeftButton:
            more, less = self.delegate.feedback_rects(self.visualRect(idx))
            for rect, sign in ((more, 1), (less, -1)):
                if rect.contains(e.position().toPoint()):
                    self.feedbackRequested.emit(path, sign)
                    e.accept()
                    return
        super().mousePressEvent(e)

    def wheelEvent(self, e) -> None:
        if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoomRequested.emit(1 if e.angleDelta().y() > 0 else -1)
            e.accept()
            return
        super().wheelEvent(e)

    def selected_paths(self) -> list[str]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes()) if self.selectionModel() else []
        m = self.model()
        return [p for p in (m.path_at(m.index(r, 0)) for r in rows) if p]


class EmptyState(QWidget):
    """A centred icon, title, explanation and optional action: what to do next, not just "nothing here"."""

    actionTriggered = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.key = ""
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        self.icon = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.icon)
        self.title = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.5)
        f.setBold(True)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.body = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.body.setWordWrap(True)
        self.body.setMaximumWidth(520)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        muted(self.body)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.body)
        row.addStretch(1)
        lay.addLayout(row)
        brow = QHBoxLayout()
        brow.addStretch(1)
        self.button = QPushButton()
        self.button.setMinimumHeight(32)
        self.button.clicked.connect(lambda: self.actionTriggered.emit(self.key))
        brow.addWidget(self.button)
        brow.addStretch(1)
        lay.addSpacing(6)
        lay.addLayout(brow)
        lay.addStretch(3)

    def set_state(self, key: str, title: str, body: str, icon=None, button: str | None = None) -> None:
        self.key = key
        self.title.setText(title)
        self.body.setText(body)
        if icon is not None and not icon.isNull():
            self.icon.setPixmap(icon.pixmap(72, 72))
            self.icon.show()
        else:
            self.icon.hide()
        self.button.setVisible(bool(button))
        self.button.setText(button or "")


class Banner(QFrame):
    """A dismissable message strip: errors show here, never as a crash or a blocking dialog."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long path has nowhere to wrap and a long message is tall: neither may set the window's minimum
        # size (the whole text stays in the tooltip and in the log).
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(1)
        self.label.setMaximumHeight(self.label.fontMetrics().lineSpacing() * 3 + 4)  # at most three lines
        lay.addWidget(self.label, 1)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(close)
        self.kind = ""
        self.topic = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error", topic: str = "") -> None:
        """Show ``text``; ``topic`` names what it is about, so that :meth:`clear` can take it back when that
        is settled (e.g. "model" once a model works)."""
        bg, fg, border = {"error": ("#fde8e8", "#7f1d1d", "#f5b5b5"),
                          "info": ("#e6f0ff", "#1e3a8a", "#b6ccf5")}.get(kind, ("#eee", "#222", "#ccc"))
        self.setStyleSheet(f"QFrame#banner {{ background: {bg}; border: 1px solid {border}; border-radius: 6px; }}"
                           f" QFrame#banner QLabel, QFrame#banner QToolButton {{ color: {fg}; }}")
        self.kind = kind
        self.topic = topic
        self.label.setText(text)
        self.label.setToolTip(text)
        self.setToolTip(text)
        self.show()

    def clear(self, topic: str) -> None:
        """Hide the message if it is about ``topic``."""
        if self.topic == topic:
            self.hide()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class PanelSplitter(QSplitter):
    """Side panel | main view | side panel, side by side. In a small window the side panels narrow (down to
    their minimums, the last one first) so that the main view keeps ``main_min()`` pixels; growing the window
    gives the room to the main view. Side panels fold away when dragged to the edge."""

    MAIN = 1  # the main view's index

    def __init__(self, main_min: Callable[[], int], parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.main_min = main_min

    def add_panels(self, *widgets: QWidget) -> None:
        for i, w in enumerate(widgets):
            self.addWidget(w)
            self.setStretchFactor(i, 1 if i == self.MAIN else 0)
            self.setCollapsible(i, i != self.MAIN)

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self.fit()

    def fit(self) -> None:
        sizes = self.sizes()
        if len(sizes) <= self.MAIN or not sum(sizes):
            return
        deficit = self.main_min() - sizes[self.MAIN]
        for i in reversed(range(len(sizes))):
            w = self.widget(i)
            if deficit <= 0 or i == self.MAIN or not w.isVisible() or not sizes[i]:
                continue
            give = min(deficit, sizes[i] - max(w.minimumWidth(), w.minimumSizeHint().width()))
            if give > 0:
                sizes[i] -= give
                sizes[self.MAIN] += give
                deficit -= give
        if sizes != self.sizes():
            self.setSizes(sizes)
