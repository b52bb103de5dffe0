"""The live library in the window: photos copied into a watched folder appear in the current results, and a
folder that goes away is shown offline with its photos kept."""

from __future__ import annotations

import os

from PIL import Image
from driver import Driver

WAIT = 60_000


def test_a_photo_copied_into_a_watched_folder_appears_in_the_current_results(qtbot, make_window, tiny_loaded,
                                                                            small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    qtbot.waitUntil(lambda: win.live.running(), timeout=WAIT)
    qtbot.waitUntil(lambda: bool(win.live.states), timeout=WAIT)  # the folder is watched now
    assert [s.mode for s in win.live.states] == ["watching"]
    drv.type_query("a photo")
    before = win.results.total()
    Image.new("RGB", (90, 70), "teal").save(small_photos / "arrived.jpg", quality=90)
    qtbot.waitUntil(lambda: win.results.total() == before + 1, timeout=WAIT)  # no click: it came by itself
    assert str(small_photos / "arrived.jpg") in [h.path for h in win.results.hits()]


def test_a_folder_that_goes_away_is_shown_offline_and_keeps_its_photos(qtbot, make_window, tiny_loaded,
                                                                       small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    qtbot.waitUntil(lambda: bool(win.live.states), timeout=WAIT)
    photos = win.library_status.photos
    os.rename(small_photos, small_photos.parent / "unplugged")
    qtbot.waitUntil(lambda: [s.mode for s in win.live.states] == ["offline"], timeout=WAIT)
    item = win.sidebar.folder_list.item(0)
    assert "offline" in item.text() and "Offline" in item.toolTip()
    win.refresh_status()
    qtbot.waitUntil(lambda: win.library_status.photos == photos, timeout=WAIT)
    os.rename(small_photos.parent / "unplugged", small_photos)
    qtbot.waitUntil(lambda: [s.mode for s in win.live.states] == ["watching"], timeout=WAIT)
    assert "offline" not in win.sidebar.folder_list.item(0).text()
