"""Light/dark palettes and small icons. The app follows the system colour scheme; where the platform has
no theme (bare X11, Xvfb) a Fusion dark palette is applied when dark is asked for."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPalette, QPen
from PySide6.QtWidgets import QProxyStyle, QStyle, QStyleFactory, QWidget

from photosearch.gui.base.resources import resource_path


def icon(name: str) -> QIcon:
    """An icon from resources/icons (an empty icon if missing)."""
    try:
        return QIcon(str(resource_path(f"icons/{name}.svg")))
    except FileNotFoundError:
        return QIcon()


def muted(widget: QWidget) -> None:
    """Secondary text: the palette's placeholder colour, so light and dark palettes both work."""
    widget.setForegroundRole(QPalette.ColorRole.PlaceholderText)


def dark_palette() -> QPalette:
    p = QPalette()
    c = {
        QPalette.ColorRole.Window: "#1f2125", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#17181b", QPalette.ColorRole.AlternateBase: "#23252a",
        QPalette.ColorRole.ToolTipBase: "#2b2d31", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#2b2d31",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: "#3b82f6", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#60a5fa", QPalette.ColorRole.PlaceholderText: "#8b8f97",
        QPalette.ColorRole.Mid: "#3a3d43", QPalette.ColorRole.Midlight: "#34373d",
        QPalette.ColorRole.Dark: "#111214", QPalette.ColorRole.Light: "#3f434a", QPalette.ColorRole.Shadow: "#000000",
    }
    for role, col in c.items():
        p.setColor(role, QColor(col))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6f77"))
    return p


class ReadableFusion(QProxyStyle):
    """Fusion with check-box outlines that show on dark palettes too: Fusion draws them a little darker than
    the window colour, which on a dark window leaves an unticked box nearly invisible."""

    def __init__(self):
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(self, element, option, painter, widget=None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if (element in (QStyle.PrimitiveElement.PE_IndicatorCheckBox,
                        QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck)
                and option.palette.color(QPalette.ColorRole.Window).lightness() < 128):
            painter.save()
            painter.setPen(QPen(option.palette.color(QPalette.ColorRole.PlaceholderText), 1))
            painter.setBrush(QColor(0, 0, 0, 0))
            painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
            painter.restore()


def _is_fusion(app) -> bool:
    return isinstance(app.style(), ReadableFusion) or app.style().name().lower() == "fusion"


def apply_scheme(app, scheme: str) -> None:
    """``"dark"``/``"light"``: set the style hint and, for Fusion without a platform theme, the palette."""
    from PySide6.QtCore import Qt

    hints = app.styleHints()
    hints.setColorScheme(Qt.ColorScheme.Dark if scheme == "dark" else Qt.ColorScheme.Light)
    if _is_fusion(app):
        if not isinstance(app.style(), ReadableFusion):
            app.setStyle(ReadableFusion())
        app.setPalette(dark_palette() if scheme == "dark" else app.style().standardPalette())


def apply_theme(app, theme: str) -> None:
    """Apply a Settings.theme value; "system" leaves the platform's choice alone."""
    if theme in ("light", "dark"):
        if not isinstance(app.style(), ReadableFusion):
            app.setStyle(ReadableFusion())
        apply_scheme(app, theme)
