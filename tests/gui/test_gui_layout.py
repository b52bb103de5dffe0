"""The window's layout: it fits a 1366×768 and a 1280×720 screen, with Settings and Fine-tune (issue 20, item 6):
every window lies on the screen, the status bar and the indexing bar's Pause are visible, Settings' OK/Cancel
are on screen and no window is squeezed below its layout's minimum (its widgets would overlap). Small windows
keep a usable grid and whole labels; side panels fold away; the grid never scrolls sideways."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize

from helpers import cli_env
from photosearch.gui.base.screen import fitted
from driver import Driver, deliver_posted_events

pytestmark = pytest.mark.gui
WAIT = 60_000
PROBE = Path(__file__).with_name("screen_probe.py")


def test_fitted_shrinks_to_the_screen_and_brings_a_window_back_onto_it():
    avail = QRect(0, 0, 1366, 768)
    r = fitted(QRect(0, 0, 1320, 820), avail, QSize(16, 40))
    assert avail.contains(r.adjusted(-8, -32, 8, 8)) and r.width() == 1320 and r.height() == 728
    far = fitted(QRect(1700, 1000, 900, 600), avail, QSize(16, 40))  # saved on a larger screen
    assert avail.contains(far.adjusted(-8, -32, 8, 8)) and far.size() == QSize(900, 600)
    assert fitted(QRect(100, 100, 640, 480), avail, QSize(16, 40)) == QRect(100, 100, 640, 480)  # fits: unchanged


def _probe(tmp_path: Path, width: int, height: int, *args: str) -> dict:
    cfg = tmp_path / "screen.json"
    cfg.write_text(json.dumps({"screens": [{"name": "probe", "x": 0, "y": 0, "width": width, "height": height,
                                            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = cli_env(tmp_path / "home")
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={cfg}"
    env["PYTHONPATH"] = os.pathsep.join([str(PROBE.parents[1]), env["PYTHONPATH"]])
    r = subprocess.run([sys.executable, str(PROBE), *args], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _inside(screen: list[int], rect: list[int]) -> bool:
    sx, sy, sw, sh = screen
    x, y, w, h = rect
    return sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh


@pytest.mark.parametrize("width,height", [(1366, 768), (1280, 720)])
def test_every_window_fits_the_screen(tmp_path, width, height):
    out = _probe(tmp_path, width, height)
    screen = out["screen"]
    assert screen == [0, 0, width, height]
    for part in ("window", "status_bar", "index_bar", "pause", "settings", "settings_ok", "finetune"):
        assert _inside(screen, out[part]), (part, out[part], screen)
    assert not out["window_squeezed"] and not out["finetune_squeezed"]
    assert [p["name"] for p in out["settings_pages"]] == ["Model", "Search", "Folders", "Storage"]
    assert not any(p["squeezed"] for p in out["settings_pages"]), out["settings_pages"]


def test_a_window_saved_on_a_larger_screen_is_restored_onto_this_one(tmp_path):
    out = _probe(tmp_path, 1280, 720, "restored")
    assert _inside(out["screen"], out["window"]), out
    assert _inside(out["screen"], out["status_bar"]), out


def _cut_controls(win) -> list[str]:
    """Buttons and check boxes narrower than their text needs (shown cut, as "Show in folc")."""
    from PySide6.QtWidgets import QAbstractButton

    return [f"{b.text()!r} {b.width()} < {b.sizeHint().width()}"
            for part in (win.sidebar, win.preview) for b in part.findChildren(QAbstractButton)
            if b.isVisible() and b.text() and b.width() < b.sizeHint().width()]


@pytest.mark.parametrize("size", [(900, 600), (800, 500)])
def test_small_windows_keep_a_usable_grid_and_whole_labels(qtbot, make_window, tiny_loaded, small_photos, size):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    drv.type_query("a round shape")
    drv.grid.setCurrentIndex(win.results.index(0))
    win.resize(*size)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size, timeout=5_000)
    deliver_posted_events()
    assert win.preview.isVisible() and win.sidebar.isVisible()
    view = drv.grid
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
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    drv.type_query("a round shape")
    win.resize(900, 600)
    assert win.splitter.isCollapsible(0) and win.splitter.isCollapsible(2) and not win.splitter.isCollapsible(1)
    win.toggle_sidebar()
    assert not win.sidebar.isVisible()
    win.toggle_sidebar()
    assert win.sidebar.isVisible()
    # squeezed narrower than one thumbnail: the thumbnails shrink instead of a horizontal scrollbar
    win.search_bar.zoom.setValue(320)
    total = sum(win.splitter.sizes())
    win.splitter.setSizes([total - 400, 150, 250])
    deliver_posted_events()
    assert drv.grid.horizontalScrollBar().maximum() == 0
    assert drv.grid.visualRect(win.results.index(0)).width() <= drv.grid.viewport().width()
