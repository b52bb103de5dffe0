"""Text in photos, in the GUI: the "T" badge of a text match, the recognised text with the query's words
highlighted, and the text boxes drawn over the preview. Pure painting and widgets: the lines come with the
photo's details (``Library.photo_info(path)["text_lines"]``), loaded by a reader task like the rest."""

from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QTextBrowser

from photosearch.library.textindex import fold, highlight_spans


def query_words(query: str | None) -> list[str]:
    """The folded words (and phrases) of a query that the text side of search looks for."""
    if not query:
        return []
    from photosearch.library.search import QueryError
    from photosearch.library.textindex import parse_text_query

    try:
        return parse_text_query(query).words
    except QueryError:  # text:"" with no words: nothing to highlight (the search says why)
        return []


def paint_text_badge(p: QPainter, box: QRect, base_font: QFont) -> QRect:
    """A small "T" at the bottom-left corner of a thumbnail: this photo's text matched the query."""
    f = QFont(base_font)
    f.setBold(True)
    f.setPointSizeF(max(7.0, f.pointSizeF() * 0.85))
    fm = QFontMetrics(f)
    side = fm.height() + 2
    badge = QRect(box.left() + 4, box.bottom() - side - 4, side, side)
    p.save()
    p.setFont(f)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(25, 118, 210, 220))
    p.drawRoundedRect(QRectF(badge), 5, 5)
    p.setPen(QColor("white"))
    p.drawText(badge, Qt.AlignmentFlag.AlignCenter, "T")
    p.restore()
    return badge


def paint_text_boxes(p: QPainter, target: QRect, photo_w: int, photo_h: int, lines: list[dict],
                     words: list[str] | None = None) -> int:
    """The lines' boxes (in the photo's pixels) over the photo drawn in ``target``; lines holding a query
    word are filled. Returns how many boxes were drawn."""
    if not lines or not photo_w or not photo_h:
        return 0
    sx, sy = target.width() / photo_w, target.height() / photo_h
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    n = 0
    for ln in lines:
        box = ln.get("box") or []
        if len(box) < 3:
            continue
        poly = QPolygonF([QPointF(target.left() + x * sx, target.top() + y * sy) for x, y in box])
        hit = bool(words) and bool(highlight_spans(ln.get("text", ""), words))
        p.setPen(QPen(QColor(255, 193, 7) if hit else QColor(0, 200, 255), 2))
        p.setBrush(QColor(255, 193, 7, 70) if hit else Qt.BrushStyle.NoBrush)
        p.drawPolygon(poly)
        n += 1
    p.restore()
    return n


def text_html(lines: list[dict], words: list[str] | None = None) -> str:
    """The recognised lines as HTML, query words marked (case and accents folded as search does)."""
    out = []
    for ln in lines:
        t = ln.get("text", "")
        spans = highlight_spans(t, words or [])
        parts, pos = [], 0
        for a, b in spans:
            parts.append(html.escape(t[pos:a]))
            parts.append(f'<span style="background-color:#ffd54f;color:#000">{html.escape(t[a:b])}</span>')
            pos = b
        parts.append(html.escape(t[pos:]))
        out.append("".join(parts))
    return "<br>".join(out)


class TextPanel(QTextBrowser):
    """The words read in the previewed photo, query matches highlighted; hidden when there are none."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setMaximumHeight(120)
        self.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.lines: list[dict] = []
        self.words: list[str] = []
        self.hide()

    def set_lines(self, lines: list[dict] | None, words: list[str] | None = None) -> None:
        self.lines = list(lines or [])
        self.words = [fold(w) for w in (words or [])]
        if not self.lines:
            self.clear()
            self.hide()
            return
        self.setHtml(text_html(self.lines, self.words))
        self.show()
