"""Changing models in the window (issue #13 §2, #11 §3): search keeps using the vectors that are there while the
new model indexes the library in the background, then switches to the new model's own vectors."""

from __future__ import annotations

import pytest
from driver import Driver

pytestmark = pytest.mark.gui

WAIT = 60_000


def test_search_keeps_the_old_vectors_until_the_new_model_has_indexed(qtbot, make_window, tiny_loaded,
                                                                        small_photos, tmp_path):
    from helpers import tiny_model

    from photosearch.library import Library
    from photosearch.model.store import ModelStore

    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    old_id = tiny_loaded.config.model_id
    other = tiny_model(tmp_path / "other", seed=7)
    ModelStore(win.paths).save(other, "other")
    promoted = []
    win.models.promoted.connect(promoted.append)

    with qtbot.waitSignal(win.models.ready, timeout=WAIT):
        win.use_model("other")
    new_id = win.model.config.model_id
    assert new_id != old_id and win.model_name == "other"
    assert win.models.serving is tiny_loaded  # the old model stays in memory, for search only
    assert win.searcher.model is tiny_loaded and "search uses the vectors" in win.banner.text()
    assert win.indexing() and promoted == []  # the new model indexes in the background meanwhile

    qtbot.waitUntil(lambda: promoted == ["other"], timeout=WAIT)
    assert win.models.serving is None and win.searcher.model is win.model
    assert "search uses the vectors" not in win.banner.text()
    qtbot.waitUntil(lambda: win.results.total() == 8, timeout=WAIT)
    with Library.open(win.library_path) as lib:
        counts = lib.models()
    # The old model can still be chosen: its vectors stay (switching back is instant).
    assert counts[new_id] == 8 and counts[old_id] == 8


def test_a_new_model_with_complete_vectors_serves_at_once(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    win.load_model(win.model_name)  # the same model again (e.g. after Settings): nothing to stand in for it
    qtbot.waitUntil(lambda: not win.models.is_loading, timeout=WAIT)
    assert win.models.serving is None and win.searcher.model is win.model
