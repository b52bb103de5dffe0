"""Window defects found by using it as a new user would (issue #10, items 13-17); each test failed before
its fix."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, Qt

pytestmark = pytest.mark.gui
WAIT = 60_000


@pytest.fixture
def many_photos(tmp_path):
    from PIL import Image

    d = tmp_path / "many"
    d.mkdir()
    for i in range(160):
        Image.new("RGB", (64, 48), (i % 255, (7 * i) % 255, 90)).save(d / f"m{i:03d}.png")
    return d


def _deliver_posted_events() -> None:
    # What the workers emitted before they stopped arrives as posted events: deliver all of them.
    for _ in range(5):
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()


def test_closing_while_indexing_and_searching_joins_every_thread(qtbot, make_window, tiny_loaded, many_photos):
    win = make_window(tiny_loaded)
    win.settings.batch_size = 4
    win.add_folder(str(many_photos))
    qtbot.waitUntil(lambda: win.last_index_event is not None and win.last_index_event.phase == "embed",
                    timeout=WAIT)
    with qtbot.waitSignal(win.searchFinished, timeout=WAIT):
        qtbot.keyClicks(win.search_box, "a photo")
        qtbot.keyClick(win.search_box, Qt.Key.Key_Return)
    win.run_search()  # one more in flight while the window closes
    assert win.indexing()
    win.close()
    assert win.clean_shutdown
    _deliver_posted_events()
    # Nothing starts again after the close: no search thread, no pool thread (a QThread still running when
    # the window is destroyed aborts the process).
    assert not win.search_service.isRunning()
    for pool in (win.readers.pool, win.writer.pool, win.thumbs.pool):
        assert pool.activeThreadCount() == 0


def _index(qtbot, win, folder):
    with qtbot.waitSignal(win.indexingFinished, timeout=WAIT):
        win.add_folder(str(folder))


def test_down_highlights_at_once_and_new_searches_reset_the_preview(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    _index(qtbot, win, small_photos)
    with qtbot.waitSignal(win.searchFinished, timeout=WAIT):
        qtbot.keyClicks(win.search_box, "a red circle")
    win.search_box.setFocus()
    qtbot.keyClick(win.search_box, Qt.Key.Key_Down)
    cur = win.view.currentIndex()
    assert win.view.hasFocus() and cur.row() == 0
    assert win.view.selectionModel().isSelected(cur)  # highlighted without pressing an arrow
    first = win.results.paths()[0]
    assert win.preview.path == first
    qtbot.keyClick(win.view, Qt.Key.Key_Right)
    second = win.results.paths()[1]
    assert win.preview.path == second
    # "More like this": a new search, so the preview no longer shows the old photo and its old score
    with qtbot.waitSignal(win.searchFinished, timeout=WAIT):
        qtbot.mouseClick(win.preview.like_btn, Qt.MouseButton.LeftButton)
    assert win.like_path == second
    assert win.preview.path is None and win.preview.fields["Score"].text() == "—"
    # a typed search after selecting again: the same
    win.view.setCurrentIndex(win.results.index(2))
    assert win.preview.path == win.results.paths()[2]
    win.search_box.setFocus()
    with qtbot.waitSignal(win.searchFinished, timeout=WAIT):
        qtbot.keyClicks(win.search_box, "green")
    assert win.preview.path is None
