"""Text in photos in the window: the text pass after indexing, the "T" badge, the recognised text with the
query highlighted, the boxes over the photo on hover, the "has text" filter and the Settings switch.
Real OCR on a rendered, photographed-looking sign."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication
from driver import Driver

pytestmark = pytest.mark.gui
WAIT = 120_000


@pytest.fixture
def text_photos(tmp_path):
    from libhelpers import write_jpeg
    from texthelpers import sign

    d = tmp_path / "photos"
    d.mkdir()
    sign(seed=4, out_size=(640, 480)).save(d / "sign.jpg", quality=85)
    for i in range(2):
        write_jpeg(d / f"plain{i}.jpg", i, size=(160, 120))
    return d


def test_text_matches_badge_preview_hover_filter_and_setting(qtbot, make_window, tiny_loaded, text_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    win.text_pass.background = False  # a niced pass waits behind every other process of a shared machine
    with qtbot.waitSignal(win.text_pass.finished, timeout=WAIT) as done:
        win.add_folder(str(text_photos))
    rep = done.args[0]  # the pass's TextReport
    assert (rep.read, rep.with_text) == (3, 1)

    drv.type_query("wifi")
    first = win.results.index(0)
    assert os.path.basename(win.results.path_at(first)) == "sign.jpg"
    assert win.results.text_match_at(first) and not win.results.text_match_at(win.results.index(1))
    drv.grid.grab()  # paints the grid with the badge

    drv.grid.setCurrentIndex(first)
    panel, image = win.preview.text_panel, win.preview.image
    qtbot.waitUntil(lambda: panel.isVisible() and image.pixmap() is not None, timeout=WAIT)
    assert "Trattoria Rossi" in panel.toPlainText()
    assert "#ffd54f" in panel.toHtml()  # "WIFI" highlighted
    QApplication.sendEvent(image, QEnterEvent(QPointF(10, 10), QPointF(10, 10), QPointF(10, 10)))
    assert image.hovered
    image.grab()
    assert image.boxes_drawn >= 2  # one box per line read

    with drv.wait_search():
        drv.search_box.clear()
        qtbot.keyClicks(drv.search_box, "a photo")
    assert win.results.total() == 3
    with drv.wait_search():
        win.sidebar.text_check.setChecked(True)
    assert [os.path.basename(p) for p in win.results.paths()] == ["sign.jpg"]

    win.open_settings()
    dlg = win.dialogs.open["settings"]
    assert dlg.read_text.isChecked()
    dlg.read_text.setChecked(False)
    dlg.accept_and_close()
    # the writer saves the setting, then the window holds the library's new status
    qtbot.waitUntil(lambda: win.library_status is not None and win.library_status.text.enabled is False, timeout=WAIT)
