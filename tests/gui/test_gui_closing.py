"""Closing the window stops and joins every worker, also while indexing and searching."""

from __future__ import annotations

import pytest

from driver import Driver, deliver_posted_events

pytestmark = pytest.mark.gui
WAIT = 60_000


def test_closing_while_indexing_and_searching_joins_every_thread(qtbot, make_window, tiny_loaded, many_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    win.settings.batch_size = 4
    win.add_folder(str(many_photos))
    qtbot.waitUntil(lambda: win.indexer.last_event is not None and win.indexer.last_event.phase == "embed",
                    timeout=WAIT)
    drv.type_query("a photo", enter=True)
    win.run_search()  # one more in flight while the window closes
    assert win.indexing()
    win.close()
    assert win.clean_shutdown
    deliver_posted_events()
    # Nothing starts again after the close: no search thread, no pool thread (a QThread still running when
    # the window is destroyed aborts the process).
    assert not win.searcher.service.isRunning()
    for pool in (win.readers.pool, win.writer.pool, win.thumbs.pool):
        assert pool.activeThreadCount() == 0
