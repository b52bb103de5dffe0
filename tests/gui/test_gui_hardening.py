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


def test_a_model_that_cannot_load_offline_leaves_the_working_one(qtbot, make_window, tiny_loaded, small_photos):
    from photosearch.model.store import ModelStore

    win = make_window(tiny_loaded)
    _index(qtbot, win, small_photos)
    active_before = ModelStore(win.paths).active()
    with qtbot.waitSignal(win.modelFailed, timeout=WAIT):
        win.use_model("clip-vit-b32")  # needs a download; tests are offline (HF_HUB_OFFLINE=1)
    assert win.model is tiny_loaded and win.model_name == "test-model"
    assert "clip-vit-b32" in win.banner.text() and "test-model" in win.banner.text()
    assert win.settings.model != "clip-vit-b32" and ModelStore(win.paths).active() == active_before
    assert win.empty.key != "no-model"
    # Indexing for it resumes and ends. (The test waited for the "ready" empty state, which shows only in the
    # moment between the results being cleared and the library browsed again: missed 1 run in 5.)
    qtbot.waitUntil(lambda: not win.situation().indexing and win.indexer.pending is None, timeout=WAIT)
    with qtbot.waitSignal(win.searchFinished, timeout=WAIT):
        qtbot.keyClicks(win.search_box, "a red circle")
    assert win.results.total() == 8
    # choosing the working model again (as the Settings dialog does) clears the message
    win.use_model("test-model")
    assert not win.banner.isVisible()


def test_the_folder_filter_offers_sub_folders(qtbot, make_window, tiny_loaded, tmp_path):
    from PIL import Image

    root = tmp_path / "trips"
    for k, (sub, n) in enumerate((("2023/summer", 2), ("2023/winter", 1), ("2024", 3))):
        (root / sub).mkdir(parents=True)
        for i in range(n):  # all different: identical files would be one result with copies
            Image.new("RGB", (64, 48), (30 * i, 40 * k, 200)).save(root / sub / f"p{i}.png")
    win = make_window(tiny_loaded)
    _index(qtbot, win, root)
    r = str(root.resolve())
    offered = lambda: [win.folder_filter.itemData(i) for i in range(win.folder_filter.count())]  # noqa: E731
    qtbot.waitUntil(lambda: len(offered()) == 6, timeout=WAIT)
    assert offered() == ["", r, f"{r}/2023", f"{r}/2023/summer", f"{r}/2023/winter", f"{r}/2024"]
    assert win.folder_filter.itemText(3).strip() == "summer"
    with qtbot.waitSignal(win.searchFinished, timeout=WAIT):
        qtbot.keyClicks(win.search_box, "a photo")
    assert win.results.total() == 6
    with qtbot.waitSignal(win.searchFinished, timeout=WAIT):
        win.folder_filter.setCurrentIndex(win.folder_filter.findData(f"{r}/2023"))
    assert sorted(p[len(r) + 1:] for p in win.results.paths()) == ["2023/summer/p0.png", "2023/summer/p1.png",
                                                                  "2023/winter/p0.png"]


def test_the_photo_count_grows_while_indexing(qtbot, make_window, tiny_loaded, many_photos):
    win = make_window(tiny_loaded)
    win.settings.batch_size = 4
    held = []

    def pause_early(ev):
        if ev.phase == "embed" and ev.indexed >= 12 and not held:
            held.append(ev.indexed)
            win.indexer.toggle_pause()

    win.add_folder(str(many_photos))
    win.index_task.progress.connect(pause_early)
    qtbot.waitUntil(lambda: bool(held), timeout=WAIT)

    def counted() -> int:
        text = win.count_label.text().split()
        return int(text[0].replace(",", "")) if text else 0

    qtbot.waitUntil(lambda: counted() >= 12, timeout=20_000)
    assert win.indexing() and counted() < 160
    with qtbot.waitSignal(win.indexingFinished, timeout=WAIT):
        win.indexer.toggle_pause()
    qtbot.waitUntil(lambda: counted() == 160, timeout=WAIT)


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


def _cut_controls(win) -> list[str]:
    """Buttons and check boxes narrower than their text needs (shown cut, as "Show in folc")."""
    from PySide6.QtWidgets import QAbstractButton

    return [f"{b.text()!r} {b.width()} < {b.sizeHint().width()}"
            for part in (win.sidebar, win.preview) for b in part.findChildren(QAbstractButton)
            if b.isVisible() and b.text() and b.width() < b.sizeHint().width()]


@pytest.mark.parametrize("size", [(900, 600), (800, 500)])
def test_small_windows_keep_a_usable_grid_and_whole_labels(qtbot, make_window, tiny_loaded, small_photos, size):
    win = make_window(tiny_loaded)
    _index(qtbot, win, small_photos)
    with qtbot.waitSignal(win.searchFinished, timeout=WAIT):
        qtbot.keyClicks(win.search_box, "a red circle")
    win.view.setCurrentIndex(win.results.index(0))
    win.resize(*size)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size, timeout=5_000)
    _deliver_posted_events()
    assert win.preview.isVisible() and win.sidebar.isVisible()
    view = win.view
    first, second = (view.visualRect(win.results.index(i)) for i in (0, 1))
    assert second.top() == first.top() and second.left() > first.right()  # two columns of thumbnails
    assert view.horizontalScrollBar().maximum() == 0
    assert _cut_controls(win) == []


def test_a_long_message_does_not_stop_the_window_shrinking(qtbot, make_window, tiny_loaded):
    """A banner naming a long library path (no spaces to wrap at) made the window's minimum width wider than
    800 px, and a long message made it as tall as its text: seen when indexing stopped with an error in a deep
    temporary folder, after which the window could not be made 800 px wide."""
    win = make_window(tiny_loaded)
    bare = win.minimumSizeHint().height()
    deep = "/".join(["a-rather-long-folder-name"] * 16) + "/library.db"
    msg = f"Indexing stopped: the library /{deep} is damaged or unreadable: database is locked. " * 4
    win.show_error(msg)
    win.resize(800, 600)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == (800, 600), timeout=5_000)
    assert win.banner.isVisible() and deep in win.banner.toolTip()
    lines = win.banner.label.fontMetrics().lineSpacing()
    assert win.minimumSizeHint().height() <= bare + 3 * lines + 30  # three lines at most, plus its margins


def test_side_panels_collapse_and_the_grid_never_scrolls_sideways(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    _index(qtbot, win, small_photos)
    with qtbot.waitSignal(win.searchFinished, timeout=WAIT):
        qtbot.keyClicks(win.search_box, "a red circle")
    win.resize(900, 600)
    assert win.splitter.isCollapsible(0) and win.splitter.isCollapsible(2) and not win.splitter.isCollapsible(1)
    win.toggle_sidebar()
    assert not win.sidebar.isVisible()
    win.toggle_sidebar()
    assert win.sidebar.isVisible()
    # squeezed narrower than one thumbnail: the thumbnails shrink instead of a horizontal scrollbar
    win.zoom.setValue(320)
    total = sum(win.splitter.sizes())
    win.splitter.setSizes([total - 400, 150, 250])
    _deliver_posted_events()
    assert win.view.horizontalScrollBar().maximum() == 0
    assert win.view.gridSize().width() <= win.view.viewport().width()
