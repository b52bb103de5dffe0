"""The light and dark palettes: controls stay visible in both."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui
WAIT = 60_000


def _indicator_contrast(box) -> int:
    """Largest lightness difference between the check-box indicator's pixels and the window colour."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QStyle, QStyleOptionButton

    img = box.grab().toImage()
    opt = QStyleOptionButton()
    opt.initFrom(box)
    r = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, opt, box)
    bg = box.palette().color(QPalette.ColorRole.Window).lightness()
    dpr = img.devicePixelRatio()
    return max(abs(img.pixelColor(int(x * dpr), int(y * dpr)).lightness() - bg)
               for x in range(r.left(), r.right() + 1) for y in range(r.top(), r.bottom() + 1))


def test_unticked_check_boxes_show_in_the_dark_palette(qtbot, qapp):
    from PySide6.QtWidgets import QCheckBox

    from photosearch.gui.base.theme import apply_theme

    def contrast(theme: str) -> int:
        apply_theme(qapp, theme)
        box = QCheckBox("Taken after")  # made after the change: it starts with the new style and palette
        qtbot.addWidget(box)
        box.resize(160, 30)
        assert not box.isChecked()
        return _indicator_contrast(box)

    try:
        dark = contrast("dark")
    finally:
        light = contrast("light")
    print("indicator contrast: dark", dark, "light", light)
    assert dark >= 40  # Fusion alone: about 10, invisible; light Fusion: about 50
    assert light >= 40
