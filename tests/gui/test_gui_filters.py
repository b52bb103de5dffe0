"""The sidebar's date filters on photos whose EXIF dates are known: both bounds include their day."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QDate
from driver import Driver

pytestmark = pytest.mark.gui
WAIT = 60_000


@pytest.fixture
def dated_photos(tmp_path):
    """Three photos taken on 9, 10 and 11 May 2025 (EXIF DateTime), at midday."""
    from PIL import Image

    d = tmp_path / "dated"
    d.mkdir()
    for day, colour in ((9, "red"), (10, "green"), (11, "blue")):
        exif = Image.Exif()
        exif[306] = f"2025:05:{day:02d} 12:00:00"  # DateTime
        Image.new("RGB", (96, 72), colour).save(d / f"may{day}.jpg", exif=exif)
    return d


def _names(win) -> list[str]:
    return sorted(os.path.basename(p) for p in win.results.paths())


def test_taken_after_and_before_include_their_day_and_no_other(qtbot, make_window, tiny_loaded, dated_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    side = win.sidebar
    drv.add_folder(dated_photos)
    drv.type_query("a photo")
    assert _names(win) == ["may10.jpg", "may11.jpg", "may9.jpg"]

    may10 = QDate(2025, 5, 10)
    side.before_date.setDate(may10)
    with drv.wait_search():
        side.before_check.setChecked(True)
    assert _names(win) == ["may10.jpg", "may9.jpg"]  # not May 11

    with drv.wait_search():
        side.before_check.setChecked(False)
    side.after_date.setDate(may10)
    with drv.wait_search():
        side.after_check.setChecked(True)
    assert _names(win) == ["may10.jpg", "may11.jpg"]

    with drv.wait_search():
        side.before_check.setChecked(True)  # after and before the same day: that day only
    assert _names(win) == ["may10.jpg"]


def test_filters_apply_to_the_library_shown_with_an_empty_search_box(qtbot, make_window, tiny_loaded, dated_photos):
    """Issue 20, item 5: with the box empty the grid shows the library, and ticking a filter narrows it at once
    (it used to wait for the next typed search)."""
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    side = win.sidebar
    drv.add_folder(dated_photos)
    qtbot.waitUntil(lambda: len(_names(win)) == 3, timeout=WAIT)
    assert drv.search_box.text() == ""

    side.after_date.setDate(QDate(2025, 5, 10))
    with drv.wait_search():
        side.after_check.setChecked(True)
    assert _names(win) == ["may10.jpg", "may11.jpg"]

    with drv.wait_search():
        side.text_check.setChecked(True)  # no photo has text: nothing is left, and the window says which filter
    assert _names(win) == []
    assert win.last_outcome.note

    with drv.wait_search():
        side.text_check.setChecked(False)
    with drv.wait_search():
        side.after_check.setChecked(False)
    assert _names(win) == ["may10.jpg", "may11.jpg", "may9.jpg"]


def test_the_folder_filter_offers_sub_folders(qtbot, make_window, tiny_loaded, tmp_path):
    from PIL import Image

    root = tmp_path / "trips"
    for k, (sub, n) in enumerate((("2023/summer", 2), ("2023/winter", 1), ("2024", 3))):
        (root / sub).mkdir(parents=True)
        for i in range(n):  # all different: identical files would be one result with copies
            Image.new("RGB", (64, 48), (30 * i, 40 * k, 200)).save(root / sub / f"p{i}.png")
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(root)
    r = str(root.resolve())
    box = win.sidebar.folder_filter
    offered = lambda: [box.itemData(i) for i in range(box.count())]  # noqa: E731
    qtbot.waitUntil(lambda: len(offered()) == 6, timeout=WAIT)
    assert offered() == ["", r, f"{r}/2023", f"{r}/2023/summer", f"{r}/2023/winter", f"{r}/2024"]
    assert win.sidebar.folder_filter.itemText(3).strip() == "summer"
    drv.type_query("a photo")
    assert win.results.total() == 6
    with drv.wait_search():
        win.sidebar.folder_filter.setCurrentIndex(win.sidebar.folder_filter.findData(f"{r}/2023"))
    assert sorted(p[len(r) + 1:] for p in win.results.paths()) == ["2023/summer/p0.png", "2023/summer/p1.png",
                                                                  "2023/winter/p0.png"]
