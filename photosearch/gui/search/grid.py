"""The results grid: :class:`ResultsView` (an icon-mode list view that fits its thumbnails to its width) and
:class:`ThumbDelegate`, which paints each thumbnail with its name, badges and hover buttons."""

from __future__ import annotations

import os

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView, QStyle, QStyledItemDelegate

from photosearch.humanize import format_duration

MIN_FIT_THUMB = 48  # thumbnails shrink down to this when the grid is narrower than one of them


class ThumbDelegate(QStyledItemDelegate):
    """Paints a square-fit thumbnail with its file name; the score shows as a badge on hover."""

    PAD = 6

    def __init__(self, size: int, parent=None):
        super().__init__(parent)
        self.size = size

    def sizeHint(self, option, index) -> QSize:
        fm = QFontMetrics(option.font)
        model = index.model()
        if model is not None and hasattr(model, "marker_at") and model.marker_at(index) is not None:
            return self.section_size(fm)
        return QSize(self.size + 2 * self.PAD + 4, self.size + 2 * self.PAD + fm.height() + 8)

    def section_size(self, fm: QFontMetrics) -> QSize:
        """A section row (month header, the divider before the weaker results): the grid's whole width, so the
        photos after it start on a new line below it."""
        view = self.parent()
        width = view.viewport().width() - 2 * view.spacing() - 1 if isinstance(view, QListView) else 400
        return QSize(max(1, width), 2 * fm.height() + 6)

    def thumb_box(self, rect: QRect) -> QRect:
        r = rect.adjusted(2, 2, -2, -2)
        return QRect(r.x() + self.PAD - 2, r.y() + self.PAD - 2, self.size, self.size)

    def button_side(self) -> int:
        return max(18, min(26, self.size // 6))

    def feedback_rects(self, rect: QRect) -> tuple[QRect, QRect]:
        """The hover buttons "more like this" (+) and "less like this" (-), bottom corners of the thumbnail."""
        box = self.thumb_box(rect)
        d = self.button_side()
        return (QRect(box.left() + 4, box.bottom() - d - 4, d, d), QRect(box.right() - d - 4, box.bottom() - d - 4, d, d))

    @staticmethod
    def play_label(model, index) -> str | None:
        """The play badge of a video tile: "▶ 0:42 / 3:05" (its best-matching moment and its length), "▶ 3:05"
        without a moment (browsing), a bare "▶" when neither is known; None for a photo."""
        if not (hasattr(model, "is_video_at") and model.is_video_at(index)):
            return None
        t = model.time_at(index)
        d = model.duration_at(index) if hasattr(model, "duration_at") else None
        times = [format_duration(v) for v in (t, d) if v is not None]
        return " ".join(["▶", " / ".join(times)]) if times else "▶"

    def _paint_marker(self, p: QPainter, option, marker) -> None:
        """A section row: its title in bold, on the left, and a rule across the rest of the row."""
        pal = option.palette
        f = QFont(option.font)
        f.setBold(True)
        if marker.kind == "month":
            f.setPointSizeF(f.pointSizeF() * 1.1)
        p.setFont(f)
        fm = QFontMetrics(f)
        r = option.rect.adjusted(self.PAD, 0, -self.PAD, 0)
        text = fm.elidedText(marker.text, Qt.TextElideMode.ElideRight, r.width())
        baseline = r.bottom() - (r.height() - fm.height()) // 2 - fm.descent()
        # Active colours: the row is not selectable, and Qt would paint it with the faint disabled ones.
        p.setPen(pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text))
        p.drawText(r.left(), baseline, text)
        x = r.left() + fm.horizontalAdvance(text) + 12
        if x < r.right():
            y = baseline - fm.xHeight() // 2
            p.setPen(QPen(pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Mid), 1))
            p.drawLine(x, y, r.right(), y)

    def paint(self, p: QPainter, option, index) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        model = index.model()
        marker = model.marker_at(index) if hasattr(model, "marker_at") else None
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
        path = model.path_at(index)
        shown = self._paint_thumbnail(p, pal, box, model.thumbnail(path) if path else None)
        text_rect = QRect(r.x() + 4, box.bottom() + 4, r.width() - 8, option.fontMetrics.height())
        p.setPen(pal.color(QPalette.ColorRole.Text))
        name = option.fontMetrics.elidedText(os.path.basename(path or ""),
                                             Qt.TextElideMode.ElideMiddle, text_rect.width())
        p.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)
        hit = model.hit(index.row()) if hasattr(model, "hit") else None
        copies = getattr(hit, "copies", None) or []
        if copies:  # "3 copies", "RAW + JPEG" (library/pairs.py)
            self._paint_badge(p, option.font, getattr(hit, "files", None) or f"{len(copies) + 1} copies", box, left=True)
        if model.text_match_at(index):
            from photosearch.gui.search.textview import paint_text_badge

            paint_text_badge(p, box, option.font)
        play = self.play_label(model, index)
        if play:
            self._paint_play_badge(p, option.font, play, shown, raised=hover)
        if hover:
            for rect, sign in zip(self.feedback_rects(option.rect), ("+", "−")):
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(0, 0, 0, 150))
                p.drawEllipse(QRectF(rect))
                p.setPen(QColor("white"))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, sign)
            score = model.score_at(index)
            if score is not None:
                self._paint_badge(p, option.font, f"{score:.2f}", box, left=False)
        p.restore()

    @staticmethod
    def _paint_thumbnail(p: QPainter, pal, box: QRect, pm) -> QRect:
        """The thumbnail fitted into ``box`` with rounded corners, or a placeholder while it loads; returns the
        rectangle painted."""
        if isinstance(pm, QPixmap) and not pm.isNull():
            s = pm.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, s.width(), s.height())
            target.moveCenter(box.center())
            clip = QPainterPath()
            clip.addRoundedRect(QRectF(target), 4, 4)
            p.setClipPath(clip)
            p.drawPixmap(target, pm)
            p.setClipping(False)
            return target
        p.setPen(Qt.PenStyle.NoPen)
        c = QColor(pal.color(QPalette.ColorRole.Mid))
        c.setAlpha(60)
        p.setBrush(c)
        p.drawRoundedRect(QRectF(box.adjusted(8, 8, -8, -8)), 6, 6)
        return box.adjusted(8, 8, -8, -8)

    def _paint_play_badge(self, p: QPainter, font: QFont, label: str, box: QRect, raised: bool) -> QRect:
        """White "▶ 0:42" on a dark pill at the bottom-right corner of a video's thumbnail (``box``: the image as
        painted); above the hover buttons while they show (``raised``)."""
        f = QFont(font)
        f.setPointSizeF(max(7.0, f.pointSizeF() * 0.85))
        f.setBold(True)
        fm = QFontMetrics(f)
        w, h = fm.horizontalAdvance(label) + 10, fm.height() + 2
        lift = self.button_side() + 4 if raised else 0
        badge = QRect(box.right() - w - 4, box.bottom() - h - 4 - lift, w, h)
        p.save()
        p.setFont(f)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 170))
        p.drawRoundedRect(QRectF(badge), 6, 6)
        p.setPen(QColor("white"))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        p.restore()
        return badge

    @staticmethod
    def _paint_badge(p: QPainter, font: QFont, label: str, box: QRect, left: bool) -> None:
        """White text on a dark pill in a top corner of the thumbnail: the files (left) or the score (right)."""
        f = QFont(font)
        f.setPointSizeF(max(7.0, f.pointSizeF() * (0.8 if left else 0.85)))
        f.setBold(not left)
        p.setFont(f)
        fm = QFontMetrics(f)
        w = fm.horizontalAdvance(label) + 10
        badge = QRect(box.left() + 4 if left else box.right() - w - 2, box.top() + 4, w, fm.height() + 2)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 150 if left else 160))
        p.drawRoundedRect(QRectF(badge), 6, 6)
        p.setPen(QColor("white"))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        p.setFont(font)


class ResultsView(QListView):
    """Thumbnail grid: icon mode, uniform cells, per-pixel scrolling, drag out as file URLs."""

    spacePressed = Signal()
    zoomRequested = Signal(int)  # +1 / -1 steps
    feedbackRequested = Signal(str, int)  # path, +1 more like this / -1 less like this (hover buttons, + / -)

    def __init__(self, thumb_size: int, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        # Not uniform: section rows (month headers, the divider) span the grid's width between the photos.
        self.setUniformItemSizes(False)
        self.setSpacing(0)
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
