"""The preview pane: the selected result larger, its details and its actions.

The pane fetches what it shows itself (the large image from the thumbnail loader, the photo's details from
the library on a reader thread) and asks for actions by signals; the window decides what they do.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (QFormLayout, QFrame, QGridLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QStyle,
                               QVBoxLayout, QWidget)

from photosearch.gui.base.theme import icon
from photosearch.gui.base.theme import muted
from photosearch.gui.search.explainview import ExplainPanel
from photosearch.gui.search.faceboxes import FaceBoxes
from photosearch.gui.search.textview import TextPanel, paint_text_boxes, query_words
from photosearch.gui.search.moments import MomentStrip
from photosearch.gui.search.thumbnails import PREVIEW_PIXELS, ThumbnailLoader, moment_key, split_key
from photosearch.gui.tasks.jobs import photo_info_job
from photosearch.gui.tasks.workers import Task, TaskRunner
from photosearch.humanize import format_duration, format_size


class ImageView(QWidget):
    """Paints one pixmap scaled to fit, centred; a hint text while there is none."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pm: QPixmap | None = None
        self._hint = ""
        self.overlay = None  # a grid of match scores drawn over the photo (ExplainPanel's heat map)
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Text read in the photo: its boxes are drawn over it while the pointer is on the image.
        self.text_lines: list[dict] = []
        self.photo_size: tuple[int, int] | None = None  # the original's upright size: the boxes' pixels
        self.words: list[str] = []
        self.hovered = False
        self.boxes_drawn = 0  # by the last paint (tests)
        self.faces = None  # the photo's face boxes (faceboxes.FaceBoxes), painted over it
        self.setMouseTracking(True)

    def set_text(self, lines: list[dict] | None, photo_size: tuple[int, int] | None, words: list[str]) -> None:
        self.text_lines, self.photo_size, self.words = list(lines or []), photo_size, list(words)
        if self.text_lines:
            self.setToolTip("Point at the photo to see where its text was read")
        else:
            self.setToolTip("")
        self.update()

    def enterEvent(self, e) -> None:
        self.hovered = True
        self.update()
        super().enterEvent(e)

    def leaveEvent(self, e) -> None:
        self.hovered = False
        self.update()
        super().leaveEvent(e)

    def set_overlay(self, grid) -> None:
        self.overlay = grid
        self.update()

    def set_pixmap(self, pm: QPixmap | None, hint: str = "") -> None:
        self._pm = pm
        self._hint = hint
        self.update()

    def pixmap(self) -> QPixmap | None:
        return self._pm

    def image_rect(self) -> QRect | None:
        """Where the photo is drawn: scaled to fit, centred (None while there is none)."""
        if self._pm is None or self._pm.isNull():
            return None
        r = self.rect().adjusted(4, 4, -4, -4)
        s = self._pm.size().scaled(r.size(), Qt.AspectRatioMode.KeepAspectRatio)
        if s.width() > self._pm.width() * 2:  # never blow small images up beyond 2x
            s = self._pm.size() * 2
        t = QRect(0, 0, s.width(), s.height())
        t.moveCenter(r.center())
        return t

    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.rect().adjusted(4, 4, -4, -4)
        t = self.image_rect()
        if t is not None:
            p.drawPixmap(t, self._pm)
            if self.overlay:
                self._paint_overlay(p, t)
            self.boxes_drawn = 0
            if self.hovered and self.text_lines and self.photo_size:
                self.boxes_drawn = paint_text_boxes(p, t, *self.photo_size, self.text_lines, self.words)
            if self.faces is not None:
                self.faces.paint(p, t)
        else:
            c = QColor(self.palette().color(QPalette.ColorRole.Mid))
            c.setAlpha(50)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(c)
            p.drawRoundedRect(QRectF(r), 10, 10)
            if self._hint:
                p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                p.drawText(r, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._hint)
        p.end()


    def _paint_overlay(self, p: QPainter, t: QRect) -> None:
        """Warm where the query matches best, transparent where least (scores rescaled to this photo)."""
        g = self.overlay
        lo = min(min(r) for r in g)
        hi = max(max(r) for r in g)
        rows, cols = len(g), len(g[0])
        p.setPen(Qt.PenStyle.NoPen)
        for i, row in enumerate(g):
            for j, v in enumerate(row):
                a = (v - lo) / (hi - lo) if hi > lo else 0.0
                x0, x1 = t.left() + t.width() * j // cols, t.left() + t.width() * (j + 1) // cols
                y0, y1 = t.top() + t.height() * i // rows, t.top() + t.height() * (i + 1) // rows
                p.setBrush(QColor(255, int(80 + 120 * a), 0, int(150 * a)))
                p.drawRect(QRect(x0, y0, x1 - x0, y1 - y0))


class PreviewPane(QWidget):
    """A larger image and the details of the selected result, with its actions."""

    openRequested = Signal(str)
    revealRequested = Signal(str)
    copyRequested = Signal(str)
    moreLikeRequested = Signal(str)
    infoLoaded = Signal(str, dict)  # path, library details fetched for it (the window caches them)

    def __init__(self, thumbs: ThumbnailLoader | None = None, readers: TaskRunner | None = None,
                 library_path: Path | None = None, parent=None, writer: TaskRunner | None = None):
        super().__init__(parent)
        self.path: str | None = None
        self.thumbs, self.readers, self.library_path = thumbs, readers, library_path
        self.explain_context = None  # () -> (model, typed query or None): what "why this photo" explains
        if thumbs is not None:
            thumbs.loaded.connect(self._on_image_loaded)
        # Everything in a vertical scroll area: in a short window the pane scrolls instead of setting the
        # window's minimum height (its minimum width is that of its widest row, set below).
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(10, 10, 10, 10)
        lay.setSpacing(8)
        self.image = ImageView()
        self.image.faces = self.faces = FaceBoxes(self.image, readers, writer, library_path)  # names by the writer
        lay.addWidget(self.image, 1)
        self.words: list[str] = []  # the current query's words, highlighted in the photo's text
        self.text_panel = TextPanel()
        lay.addWidget(self.text_panel)
        self.title = QLabel()
        f = self.title.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.kind = QLabel()  # "Video · best moment at 0:42"; hidden for photos
        self.kind.setWordWrap(True)
        lay.addWidget(self.kind)
        self.kind.hide()
        self.moments = MomentStrip(thumbs, readers, library_path)  # a video's best moments (search/moments.py)
        lay.addWidget(self.moments)
        self.time_s: float | None = None  # the shown video's best-matching moment
        self.video = False
        self.path_label = QLabel()
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        muted(self.path_label)
        lay.addWidget(self.path_label)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(4)
        self.fields: dict[str, QLabel] = {}
        for key in ("Score", "Taken", "Dimensions", "File size", "Modified"):
            lab = QLabel("—")
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = lab
            name = QLabel(key)
            muted(name)
            form.addRow(name, lab)
        lay.addLayout(form)
        self.why = ExplainPanel(readers)
        self.why.heatmapReady.connect(lambda path, grid: self.image.set_overlay(grid if path == self.path else None))
        self.why.openRequested.connect(self.openRequested)  # the result's other files (a RAW, a Live video)
        self.why.revealRequested.connect(self.revealRequested)
        lay.addWidget(self.why)
        st = self.style()
        self.open_btn = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton), "Open")
        self.reveal_btn = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon), "Show in folder")
        self.copy_btn = QPushButton("Copy path")
        self.like_btn = QPushButton(icon("search"), "More like this")
        # Two by two: the pane stays narrow enough for small windows without cutting a label.
        buttons = QGridLayout()
        for i, b in enumerate((self.open_btn, self.reveal_btn, self.copy_btn, self.like_btn)):
            buttons.addWidget(b, i // 2, i % 2)
        lay.addLayout(buttons)
        self.setMinimumWidth(body.minimumSizeHint().width()
                             + self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent))
        self.open_btn.clicked.connect(lambda: self.path and self.openRequested.emit(self.path))
        self.reveal_btn.clicked.connect(lambda: self.path and self.revealRequested.emit(self.path))
        self.copy_btn.clicked.connect(lambda: self.path and self.copyRequested.emit(self.path))
        self.like_btn.clicked.connect(lambda: self.path and self.moreLikeRequested.emit(self.path))
        self.show_path(None)

    def show_path(self, path: str | None, score: float | None = None, info: dict | None = None,
                  pixmap: QPixmap | None = None, time_s: float | None = None, video: bool = False) -> None:
        """``time_s``: a video hit's best-matching moment; ``video``: the result is a video (also learnt from
        its details' format)."""
        self.path = path
        self.time_s, self.video = time_s, video or time_s is not None
        self._show_kind(info)
        self.image.set_overlay(None)
        # The old photo's boxes go at once; the new one's are read (a video's: those of the moment it shows).
        self.faces.show_for(None if self.video and time_s is None else path, time_s if self.video else None)
        for b in (self.open_btn, self.reveal_btn, self.copy_btn, self.like_btn):
            b.setEnabled(path is not None)
        if path is None:
            self.why.show_for(None, None, None)
            self.title.setText("No photo selected")
            self.path_label.setText("Select a result to see it larger here. Space toggles this pane.")
            for lab in self.fields.values():
                lab.setText("—")
            self.image.set_pixmap(None, "Preview")
            return
        self.title.setText(os.path.basename(path))
        self.path_label.setText(str(Path(path).parent))
        self.path_label.setToolTip(path)
        self.fields["Score"].setText(f"{score:.3f}" if score is not None else "—")
        self.set_info(info)
        self.image.set_pixmap(pixmap, "Loading…")

    def follow(self, view, results) -> None:
        """Show whichever result becomes current in ``view`` (a grid over the ResultsModel ``results``)."""
        def on_current(cur, _prev=None) -> None:
            path = results.path_at(cur)
            if path is None:
                self.show_path(None)
                self.moments.show_for(None, None, None, False)
            else:
                self.show_result(path, results.score_at(cur), results.infos.get(path), results.pixmaps.get(path),
                                 results.time_at(cur), results.is_video_at(cur))
                model, query = self.explain_context() if self.explain_context else (None, None)
                hit = results.hit(cur.row())
                self.why.show_for(model, query, path, getattr(hit, "copies", None), getattr(hit, "files", None),
                                  results.score_at(cur))
                self.moments.show_for(model, path, query, results.is_video_at(cur))
        view.selectionModel().currentChanged.connect(on_current)
        # Tab from the grid reaches the photo's faces (Qt ignores the order of a widget taking no focus, as the
        # photo does while it has no faces; Tab skips it then).
        policy = self.image.focusPolicy()
        self.image.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        QWidget.setTabOrder(view, self.image)
        self.image.setFocusPolicy(policy)
        self.infoLoaded.connect(results.set_info)

    def show_result(self, path: str | None, score: float | None = None, info: dict | None = None,
                    pixmap: QPixmap | None = None, time_s: float | None = None, video: bool = False) -> None:
        """Show a result at once (with what the caller has), then fetch the large image and any missing
        details in the background."""
        self.show_path(path, score, info, pixmap, time_s, video)
        if path is None:
            return
        if self.thumbs is not None:
            self.thumbs.request(moment_key(path, time_s) if time_s is not None else path, PREVIEW_PIXELS)
        if info is None and self.readers is not None and self.library_path is not None:
            task = Task(photo_info_job(self.library_path, path), "info")
            task.returned.connect(self._on_info)
            self.readers.submit(task)

    def _on_info(self, out) -> None:
        path, info = out
        if info:
            self.infoLoaded.emit(path, info)
            if path == self.path:
                self.set_info(info)
                self._show_kind(info)

    def _on_image_loaded(self, path: str, size: int, image) -> None:
        if size == PREVIEW_PIXELS and split_key(path)[0] == self.path:  # the file, or its matching moment
            self.set_image(self.path, QPixmap.fromImage(image) if not image.isNull() else None)

    def _show_kind(self, info: dict | None) -> None:
        """The line under the title for a video: "Video · best moment at 0:42", or "Video" without a moment."""
        fmt = str((info or {}).get("format") or "").upper()
        self.video = self.path is not None and (self.video or fmt.startswith("VIDEO-"))
        text = ""
        if self.video:
            d = (info or {}).get("duration_s")
            text = "Video" + (f" · {format_duration(d)}" if d else "") + (
                f" · best moment at {format_duration(self.time_s)}" if self.time_s is not None else "")
        self.kind.setText(text)
        self.kind.setVisible(bool(text))

    def set_info(self, info: dict | None) -> None:
        info = info or {}
        w, h = info.get("width"), info.get("height")
        self.fields["Dimensions"].setText(f"{w} × {h}" if w and h else "—")
        self.fields["Taken"].setText(_nice_date(info.get("taken_at")) or "—")
        self.fields["File size"].setText(format_size(info.get("size")) if info.get("size") is not None else "—")
        mt = info.get("mtime")
        self.fields["Modified"].setText(_nice_date(mt) or "—")
        lines = info.get("text_lines") or []
        self.text_panel.set_lines(lines, self.words)
        # A video's lines were read in several moments ("t"): their boxes do not belong on the frame shown.
        self.image.set_text([ln for ln in lines if "t" not in ln], (w, h) if w and h else None, self.words)

    def set_query(self, query: str | None) -> None:
        """The query whose words are highlighted in the recognised text (of the photo shown and the next)."""
        self.words = query_words(query)
        if self.text_panel.lines:
            self.text_panel.set_lines(self.text_panel.lines, self.words)
            self.image.set_text(self.image.text_lines, self.image.photo_size, self.words)

    def set_image(self, path: str, pm: QPixmap | None) -> None:
        if path == self.path:
            self.image.set_pixmap(pm, "" if pm else "Cannot show this file")


def _nice_date(v) -> str | None:
    if v is None or v == "":
        return None
    try:
        if isinstance(v, (int, float)):
            d = datetime.fromtimestamp(float(v))
        else:
            d = datetime.fromisoformat(str(v))
    except (ValueError, OverflowError, OSError):
        return str(v)
    return d.strftime("%Y-%m-%d %H:%M")


