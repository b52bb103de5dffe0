"""Indexing as the window shows it: the summary line names the folders whose photos were kept (issue #10.2,
#10.3), and the photo count grows while a run goes on."""

from __future__ import annotations

import pytest
from driver import WAIT, Driver


def test_gui_summary_names_unreadable_and_offline_folders():
    """#10.2: the window says which folders could not be read (the GUI shows the core's report)."""
    from photosearch.gui.library.indexing import index_summary
    from photosearch.library.index import IndexReport

    rep = IndexReport(indexed=1, unchanged=0, moved=0, removed=0, skipped=[], seconds=1.0, images_per_second=1.0,
                      missing_folders=["/media/disk"], unreadable_folders=["/p/private"])
    text = index_summary(rep)
    assert "could not be read" in text and "/p/private" in text and "/media/disk" in text


@pytest.mark.gui
def test_the_photo_count_grows_while_indexing(qtbot, make_window, tiny_loaded, many_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    win.settings.batch_size = 4
    held = []

    def pause_early(ev):
        if ev.phase == "embed" and ev.indexed >= 12 and not held:
            held.append(ev.indexed)
            win.indexer.toggle_pause()

    win.add_folder(str(many_photos))
    win.indexer.task.progress.connect(pause_early)
    qtbot.waitUntil(lambda: bool(held), timeout=WAIT)

    def counted() -> int:
        text = win.status_line.count_label.text().split()
        return int(text[0].replace(",", "")) if text else 0

    qtbot.waitUntil(lambda: counted() >= 12, timeout=20_000)
    assert win.indexing() and counted() < 160
    with drv.wait_indexed():
        win.indexer.toggle_pause()
    qtbot.waitUntil(lambda: counted() == 160, timeout=WAIT)
