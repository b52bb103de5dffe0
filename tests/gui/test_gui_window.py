"""The main window driven like a user would: real widgets, the real library and models, offscreen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from photosearch.gui.search.resultsmodel import PathRole
from driver import Driver

pytestmark = pytest.mark.gui
WAIT = 60_000


def wait_indexed(qtbot, win, timeout=WAIT):
    with qtbot.waitSignal(win.indexer.finished, timeout=timeout) as blocker:
        pass
    return blocker.args[0]


def test_empty_state_teaches_when_no_folders(make_window, tiny_loaded):
    win = make_window(tiny_loaded)
    assert win.windowTitle() == "PhotoSearch"
    assert win.results_pane.stack.currentWidget() is win.results_pane.empty
    assert win.results_pane.empty.key == "no-folders"
    assert win.results_pane.empty.button.isVisible() and "Add folder" in win.results_pane.empty.button.text()


def test_add_folder_indexes_lists_skips_and_searches(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    with drv.wait_indexed() as blocker:
        assert win.add_folder(str(small_photos))
    rep = blocker.args[0]  # the run's IndexReport
    assert rep is not None and not rep.cancelled
    assert rep.indexed == 8
    assert win.folders() == [str(small_photos.resolve())]
    skipped = win.skipped()
    assert str(small_photos.resolve() / "broken.jpg") in skipped
    assert skipped[str(small_photos.resolve() / "broken.jpg")]  # a reason, in words
    assert win.skipped_panel.button.isVisible()
    # the empty search box shows the library, newest first
    qtbot.waitUntil(lambda: drv.showing_grid() and win.results.total() == 8, timeout=WAIT)
    assert drv.summary().startswith("Your library, newest first")

    drv.type_query("a round shape")
    assert drv.showing_grid()
    paths = win.results.paths()
    assert sorted(os.path.basename(p) for p in paths) == sorted(p.name for p in small_photos.glob("0*.jpg"))
    # thumbnails are made off the GUI thread and land in the disk cache
    qtbot.waitUntil(lambda: win.results.pixmaps.get(paths[0]) is not None, timeout=WAIT)
    assert any(win.paths.thumbnails.rglob("*.jpg"))

    # selection fills the preview pane; Escape clears the search
    drv.grid.setFocus()
    drv.grid.setCurrentIndex(win.results.index(0))
    assert win.preview.path == paths[0]
    assert win.preview.open_btn.isEnabled()
    qtbot.waitUntil(lambda: win.preview.fields["Dimensions"].text() != "—", timeout=WAIT)
    with drv.wait_search() as blocker:
        qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert drv.search_box.text() == ""
    assert blocker.args[0].browsing and win.results.total() == 8  # back to the library


def test_no_results_above_the_cut_off_says_so(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded, min_score=0.999)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    with drv.wait_search() as blocker:
        qtbot.keyClicks(drv.search_box, "a round shape")
    assert blocker.args[0].hits == []
    assert not drv.showing_grid()
    assert drv.empty.key == "no-results" and "cut-off (1.00)" in drv.empty.body.text()


def test_more_like_this_puts_the_example_first(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    example = str(small_photos.resolve() / "03-yellow.jpg")
    with drv.wait_search():
        win.search_like(example)
    assert win.results.paths()[0] == example
    assert win.search_bar.like_chip.isVisible()


def test_dropping_an_image_on_the_search_box_searches_by_example(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    example = str(small_photos.resolve() / "05-orange.jpg")
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(example)])
    ev = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    with drv.wait_search():
        drv.search_box.dropEvent(ev)
    assert win.search_bar.like_path == example
    assert win.results.paths()[0] == example


def test_folder_filter_limits_results_to_that_folder(qtbot, make_window, tiny_loaded, small_photos, tmp_path):
    from PIL import Image

    other = tmp_path / "other"
    other.mkdir()
    for i in range(3):
        Image.new("RGB", (80, 60), (40 * i, 200, 90)).save(other / f"o{i}.png")
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    for d in (small_photos, other):
        drv.add_folder(d)
    drv.type_query("a photo")
    assert len(win.results.paths()) == 11
    with drv.wait_search():
        win.sidebar.folder_filter.setCurrentIndex(win.sidebar.folder_filter.findData(str(other.resolve())))
    assert sorted(os.path.basename(p) for p in win.results.paths()) == ["o0.png", "o1.png", "o2.png"]


def test_dropping_a_folder_on_the_window_adds_it(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(small_photos))])
    ev = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    with drv.wait_indexed():
        win.dropEvent(ev)
    assert win.folders() == [str(small_photos.resolve())]


def test_cancel_indexing_keeps_finished_work(qtbot, make_window, tiny_loaded, tmp_path):
    from PIL import Image

    d = tmp_path / "many"
    d.mkdir()
    for i in range(120):
        Image.new("RGB", (64, 48), (i * 2 % 255, 80, 160)).save(d / f"p{i:03d}.png")
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    win.settings.batch_size = 4
    first_embed = []
    with drv.wait_indexed() as blocker:
        win.add_folder(str(d))
        qtbot.waitUntil(lambda: win.indexer.last_event is not None and win.indexer.last_event.phase == "embed",
                        timeout=WAIT)
        first_embed.append(win.index_bar.isVisible())
        qtbot.mouseClick(win.index_bar.cancel_btn, Qt.MouseButton.LeftButton)
    rep = blocker.args[0]
    assert first_embed == [True]
    assert rep.cancelled
    assert rep.indexed < 120
    assert not win.index_bar.isVisible()
    # the library keeps exactly the finished photos (the status refresh after indexing reports them)
    qtbot.waitUntil(lambda: win.library_status is not None and win.library_status.photos == rep.indexed,
                    timeout=WAIT)
    assert win.status_line.count_label.text() == f"{rep.indexed} photos"


def test_results_arrive_while_indexing_and_pause_holds_it(qtbot, make_window, tiny_loaded, tmp_path):
    from PIL import Image

    d = tmp_path / "live"
    d.mkdir()
    for i in range(300):
        Image.new("RGB", (64, 48), (i % 255, (i // 255) * 60 + 10, 90)).save(d / f"l{i:03d}.png")  # all different
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    win.settings.batch_size = 4
    with drv.wait_search():
        qtbot.keyClicks(drv.search_box, "a photo")  # typed before anything is indexed
    assert win.results.total() == 0

    paused_once = []

    def pause_early(ev):
        if ev.phase == "embed" and ev.indexed >= 8 and not paused_once:
            paused_once.append(ev.indexed)
            qtbot.mouseClick(win.index_bar.pause_btn, Qt.MouseButton.LeftButton)

    win.add_folder(str(d))
    win.indexer.task.progress.connect(pause_early)
    qtbot.waitUntil(lambda: win.indexer.task is not None and win.indexer.task.paused, timeout=WAIT)
    # the search re-runs by itself and shows what is indexed so far, while indexing is held
    qtbot.waitUntil(lambda: win.results.total() >= 8, timeout=WAIT)
    assert win.indexing() and win.results.total() < 300
    assert drv.showing_grid() and win.index_bar.pause_btn.text() == "Resume"
    with drv.wait_indexed():
        qtbot.mouseClick(win.index_bar.pause_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.results.total() == 300, timeout=WAIT)


def test_errors_surface_in_the_ui(qtbot, make_window, tiny_loaded, tmp_path):
    win = make_window(tiny_loaded)
    assert not win.add_folder(str(tmp_path / "does-not-exist"))
    assert "Not a folder" in win.banner.text()
    # a model that cannot be loaded: a message in the window, not a crash
    win2 = make_window(None, model_name="no-such-model")
    with qtbot.waitSignal(win2.models.failed, timeout=WAIT):
        win2.load_model()
    assert "no-such-model" in win2.banner.text()
    assert win2.results_pane.empty.key in ("no-model", "no-folders")


def test_an_old_library_error_goes_when_a_folder_is_chosen(qtbot, make_window, tiny_loaded, small_photos, tmp_path):
    """Issue 20.11: an offline folder's error stayed in the window after another folder was chosen."""
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    assert not win.add_folder(str(tmp_path / "unplugged-drive" / "photos"))
    assert "Not a folder" in win.banner.text()
    drv.add_folder(small_photos)
    assert win.banner.text() == ""  # the state changed: the old error no longer describes it
    win.indexer.failed.emit("the drive went offline")  # as a run that stopped reports it
    assert "Indexing stopped" in win.banner.text()
    drv.add_folder(tmp_path)  # another folder: a new run, the old stop is history
    assert win.banner.text() == ""
    win.show_error("Search failed: the library is busy", "search")
    drv.type_query("red", enter=True)
    assert win.banner.text() == ""  # a search answered


def test_a_half_typed_query_is_a_quiet_note_not_a_banner(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    with qtbot.waitSignal(win.searcher.failed, timeout=WAIT):
        qtbot.keyClicks(drv.search_box, "2*")
    assert drv.summary().startswith("⚠")
    assert drv.empty.key == "query-error"
    assert not win.banner.isVisible()
    drv.type_query(" a photo")
    assert win.results.total() == 8


def test_corrupt_library_is_reported_not_fatal(qtbot, make_window, tiny_loaded, tmp_path):
    bad = tmp_path / "library.db"
    bad.write_bytes(b"this is not a database" * 100)
    win = make_window(tiny_loaded, library_path=bad)
    qtbot.waitUntil(lambda: "library" in win.banner.text().lower(), timeout=WAIT)


def test_settings_are_remembered(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    win.search_bar.zoom.setValue(224)
    win.resize(700, 560)  # inside the offscreen screen, so restoreGeometry keeps it
    with qtbot.waitSignal(win.indexer.finished, timeout=WAIT):
        win.add_folder(str(small_photos))
    win.close()
    win2 = make_window(tiny_loaded)
    assert win2.search_bar.zoom.value() == 224
    assert win2.results_pane.view.delegate.size == 224
    assert (win2.size().width(), win2.size().height()) == (700, 560)
    qtbot.waitUntil(lambda: win2.folders() == [str(small_photos.resolve())], timeout=WAIT)  # from the library
    assert Path(os.environ["PHOTOSEARCH_HOME"]) in win2.settings.file.parents


def test_the_folder_list_lives_in_the_library_and_an_older_list_moves_there(qtbot, make_window, tiny_loaded,
                                                                            small_photos, tmp_path):
    from photosearch.gui.base.settings import Settings
    from photosearch.library import Library
    from photosearch.paths import app_paths

    old = Settings(app_paths().ensure())
    old.q.setValue("folders", [str(small_photos), str(tmp_path / "gone")])  # what an older version kept
    old.sync()
    win = make_window(tiny_loaded)
    with qtbot.waitSignal(win.indexer.finished, timeout=WAIT):  # a model and folders: the library is updated
        pass
    assert win.folders() == [str(small_photos.resolve())]
    assert not win.settings.q.contains("folders")  # moved, once
    with Library.open(win.library_path) as lib:
        assert lib.folders() == [str(small_photos.resolve())]
        other = tmp_path / "other"
        other.mkdir()
        lib.add_folder(other)  # e.g. `photosearch folders add` while the window is open
    win.refresh_status()
    qtbot.waitUntil(lambda: sorted(win.folders()) == sorted([str(small_photos.resolve()), str(other)]),
                    timeout=WAIT)


@pytest.mark.slow
def test_typed_query_puts_the_right_real_photo_first(qtbot, make_window, starter_model, photo_dir):
    win = make_window(starter_model, model_name="starter")
    drv = Driver(qtbot, win)
    with qtbot.waitSignal(win.indexer.finished, timeout=180_000):
        win.add_folder(str(photo_dir))
    drv.type_query("a cup of coffee", enter=True)
    assert drv.showing_grid()
    first = win.results.index(0).data(PathRole)
    assert os.path.basename(first) == "coffee.jpg"
    # keyboard: Down moves from the search box into the grid, Space toggles the preview
    qtbot.keyClick(drv.search_box, Qt.Key.Key_Down)
    assert drv.grid.hasFocus() and drv.grid.currentIndex().row() == 0
    assert win.preview.path == first
    qtbot.keyClick(drv.grid, Qt.Key.Key_Space)
    assert not win.preview.isVisible()
    qtbot.keyClick(drv.grid, Qt.Key.Key_Space)
    assert win.preview.isVisible()
    # Nothing in these photos is a snowy mountain: nothing is marked good, it says so, and still shows the
    # closest photos (nothing right is ever hidden).
    win.focus_search()
    drv.search_box.clear()
    with drv.wait_search() as blocker:
        qtbot.keyClicks(drv.search_box, "a snowy mountain")
        qtbot.keyClick(drv.search_box, Qt.Key.Key_Return)
    assert blocker.args[0].hits and not any(h.relevant for h in blocker.args[0].hits)
    assert drv.showing_grid()
    assert drv.summary().startswith("Nothing clearly matches “a snowy mountain” — closest photos:")


def test_down_highlights_at_once_and_new_searches_reset_the_preview(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    drv.type_query("a round shape")
    drv.search_box.setFocus()
    qtbot.keyClick(drv.search_box, Qt.Key.Key_Down)
    cur = drv.grid.currentIndex()
    assert drv.grid.hasFocus() and cur.row() == 0
    assert drv.grid.selectionModel().isSelected(cur)  # highlighted without pressing an arrow
    first = win.results.paths()[0]
    assert win.preview.path == first
    qtbot.keyClick(drv.grid, Qt.Key.Key_Right)
    second = win.results.paths()[1]
    assert win.preview.path == second
    # "More like this": a new search, so the preview no longer shows the old photo and its old score
    with drv.wait_search():
        qtbot.mouseClick(win.preview.like_btn, Qt.MouseButton.LeftButton)
    assert win.search_bar.like_path == second
    assert win.preview.path is None and win.preview.fields["Score"].text() == "—"
    # a typed search after selecting again: the same
    third = win.results.paths()[2]  # by path: section rows (the divider) sit between the photos' rows
    drv.grid.setCurrentIndex(win.results.index(win.results.row_of(third)))
    assert win.preview.path == third
    drv.search_box.setFocus()
    with drv.wait_search():
        qtbot.keyClicks(drv.search_box, "a photo")
    assert win.preview.path is None
