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
