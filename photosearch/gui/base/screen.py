"""Windows that fit the screen they are on: a window's size is clamped to the screen's available area (minus
room for the title bar the window manager adds) and a window restored where no screen is any more comes back
onto the screen. Every top-level window of the app sizes itself through :func:`fit_window`."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

# Room for the window manager's frame around a window that is not shown yet (its frame size is unknown then).
FRAME_ALLOWANCE = QSize(16, 40)


def available(w: QWidget | None = None) -> QRect:
    """The available area (without panels and docks) of ``w``'s screen, or of the primary screen."""
    screen = (w.screen() if w is not None else None) or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fitted(rect: QRect, avail: QRect, frame: QSize = FRAME_ALLOWANCE) -> QRect:
    """``rect`` (a window's geometry, without its frame) made to fit ``avail``: no larger than the available
    area less ``frame``, and moved so that the whole window, frame included, lies inside it."""
    w = min(rect.width(), avail.width() - frame.width())
    h = min(rect.height(), avail.height() - frame.height())
    left = min(max(rect.left(), avail.left() + frame.width() // 2), avail.right() + 1 - frame.width() // 2 - w)
    top = min(max(rect.top(), avail.top() + frame.height() - frame.width() // 2),
              avail.bottom() + 1 - frame.width() // 2 - h)
    return QRect(left, top, w, h)


def fit_window(w: QWidget, want: QSize | None = None) -> None:
    """Size the window ``w`` to ``want`` (default: its current size) or less, so that it fits its screen, and
    bring it onto the screen if it was placed (partly) outside it, e.g. restored after the screen changed."""
    geo = w.geometry()
    r = fitted(QRect(geo.topLeft(), want if want is not None else geo.size()), available(w))
    if r.size() != geo.size():
        w.resize(r.size())
    placed = w.isVisible() or w.testAttribute(Qt.WidgetAttribute.WA_Moved)
    if placed and r.topLeft() != geo.topLeft():
        w.move(r.topLeft() - (geo.topLeft() - w.pos()))  # move() places the frame, geometry() is inside it
