"""A small line chart painted with QPainter (QtCharts lives in PySide6-Addons, which we do not require)."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SERIES_COLORS = ("#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#14b8a6")


def nice_ticks(lo: float, hi: float, n: int = 5, integer: bool = False) -> list[float]:
    """Round tick values covering [lo, hi] (the 1-2-5 rule); ``integer`` keeps steps whole (epochs, steps)."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0, 1.0]
    if hi - lo < 1e-12:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1, math.ceil(step))
    start = math.floor(lo / step) * step
    ticks, v = [], start
    while v <= hi + step * 0.5 and len(ticks) < 50:
        ticks.append(round(v, 10))
        v += step
    return ticks


class LineChart(QWidget):
    """Named series of (x, y) points with axes, grid, ticks and a legend; follows the palette (dark/light)."""

    def __init__(self, title: str, x_label: str = "", y_label: str = "", y_min: float | None = None,
                 y_max: float | None = None, parent=None):
        super().__init__(parent)
        self.title = title
        self.x_label = x_label
        self.y_label = y_label
        self.y_min, self.y_max = y_min, y_max
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.colors: dict[str, QColor] = {}
        self.markers = False
        self.setMinimumSize(260, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self) -> None:
        self.series.clear()
        self.update()

    def add_point(self, name: str, x: float, y: float) -> None:
        if y is None or not math.isfinite(y):
            return
        if name not in self.series:
            self.series[name] = []
            self.colors.setdefault(name, QColor(SERIES_COLORS[len(self.colors) % len(SERIES_COLORS)]))
        self.series[name].append((float(x), float(y)))
        self.update()

    def points(self, name: str) -> list[tuple[float, float]]:
        return list(self.series.get(name, []))

    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        faint = QColor(text)
        faint.setAlpha(40)
        soft = QColor(text)
        soft.setAlpha(150)
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        fm = QFontMetrics(self.font())
        title_f = self.font()
        title_f.setBold(True)
        p.setFont(title_f)
        p.setPen(text)
        p.drawText(QRectF(8, 4, self.width() - 16, fm.height() + 4), Qt.AlignmentFlag.AlignLeft, self.title)
        p.setFont(self.font())
        pts = [pt for s in self.series.values() for pt in s]
        left, top, right, bottom = 48, fm.height() + 14, 12, fm.height() * 2 + 8
        plot = QRectF(left, top, max(10, self.width() - left - right), max(10, self.height() - top - bottom))
        if not pts:
            p.setPen(soft)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No data yet")
            p.end()
            return
        xs = [x for x, _ in pts]
        x0, x1, y0, y1, yt = self._ranges(pts)

        def to_px(x: float, y: float) -> QPointF:
            return QPointF(plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                           plot.bottom() - (y - y0) / (y1 - y0) * plot.height())

        for t in yt:
            if y0 - 1e-9 <= t <= y1 + 1e-9:
                py = to_px(x0, t).y()
                p.setPen(QPen(faint, 1))
                p.drawLine(QPointF(plot.left(), py), QPointF(plot.right(), py))
                p.setPen(soft)
                lab = f"{t:g}" if abs(t) >= 0.01 or t == 0 else f"{t:.1e}"
                p.drawText(QRectF(0, py - fm.height() / 2, left - 6, fm.height()),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, lab)
        for t in nice_ticks(x0, x1, 6, integer=all(float(x).is_integer() for x in xs)):
            if x0 - 1e-9 <= t <= x1 + 1e-9:
                px = to_px(t, y0).x()
                p.setPen(soft)
                p.drawText(QRectF(px - 30, plot.bottom() + 2, 60, fm.height()), Qt.AlignmentFlag.AlignHCenter,
                           f"{t:g}")
        p.setPen(QPen(soft, 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.drawLine(plot.bottomLeft(), plot.topLeft())
        if self.x_label:
            p.drawText(QRectF(plot.left(), plot.bottom() + fm.height() + 2, plot.width(), fm.height()),
                       Qt.AlignmentFlag.AlignHCenter, self.x_label)
        self._draw_series(p, to_px)
        self._draw_legend(p, plot, fm, text)
        p.end()

    def _ranges(self, pts: list[tuple[float, float]]) -> tuple[float, float, float, float, list[float]]:
        """x range, y range (widened to whole ticks, or the fixed limits) and the y ticks."""
        xs, ys = [x for x, _ in pts], [y for _, y in pts]
        x0, x1 = min(xs), max(xs)
        if x1 - x0 < 1e-12:
            x0, x1 = x0 - 0.5, x1 + 0.5
        y0 = self.y_min if self.y_min is not None else min(ys)
        y1 = self.y_max if self.y_max is not None else max(ys)
        yt = nice_ticks(y0, y1)
        y0, y1 = min(y0, yt[0]), max(y1, yt[-1])
        if y1 - y0 < 1e-12:
            y1 = y0 + 1
        return x0, x1, y0, y1, yt

    def _draw_series(self, p: QPainter, to_px) -> None:
        for name, series in self.series.items():
            if not series:
                continue
            color = self.colors[name]
            path = QPainterPath(to_px(*series[0]))
            for pt in series[1:]:
                path.lineTo(to_px(*pt))
            p.setPen(QPen(color, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            if self.markers or len(series) <= 12:
                p.setBrush(color)
                for pt in series:
                    p.drawEllipse(to_px(*pt), 3, 3)

    def _draw_legend(self, p: QPainter, plot: QRectF, fm: QFontMetrics, text: QColor) -> None:
        lx = plot.right()
        ly = 4  # the legend shares the title's line, clear of the data
        for name in reversed(list(self.series)):
            w = fm.horizontalAdvance(name)
            lx -= w + 22
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self.colors[name])
            p.drawRoundedRect(QRectF(lx, ly + fm.height() / 2 - 4, 10, 8), 2, 2)
            p.setPen(text)
            p.drawText(QRectF(lx + 14, ly, w + 4, fm.height()), Qt.AlignmentFlag.AlignLeft, name)
