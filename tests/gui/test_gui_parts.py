"""The GUI's pieces on their own: results model, thumbnails, chart, resources, settings dialog, start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from photosearch.gui.search.resultsmodel import BATCH, PathRole, ResultsModel, ScoreRole
from photosearch.library import SearchHit

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[2]


def test_results_model_is_a_valid_qt_model_and_fills_in_batches(qtmodeltester, tmp_path):
    model = ResultsModel(loader=None)
    hits = [SearchHit(str(tmp_path / f"p{i:04d}.jpg"), 1.0 - i / 1000) for i in range(BATCH * 2 + 7)]
    model.set_hits(hits)
    assert model.rowCount() == BATCH and model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 2 * BATCH
    qtmodeltester.check(model)  # (the checker fetches the rest itself)
    model.fetchMore()
    assert model.rowCount() == len(hits) and not model.canFetchMore()
    idx = model.index(3)
    assert idx.data(PathRole) == hits[3].path
    assert idx.data(ScoreRole) == pytest.approx(hits[3].score)
    assert "score 0.997" in idx.data(Qt.ItemDataRole.ToolTipRole)
    md = model.mimeData([model.index(0), model.index(1)])
    assert [u.toLocalFile() for u in md.urls()] == [hits[0].path, hits[1].path]
    assert model.flags(idx) & Qt.ItemFlag.ItemIsDragEnabled


def test_thumbnails_are_upright_small_cached_and_failures_are_null(tmp_path):
    from PIL import Image

    from photosearch.gui.search.thumbnails import make_thumbnail, thumbnail_cache_file

    src = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    Image.new("RGB", (400, 200), "red").save(src, exif=exif)
    cache = tmp_path / "thumbs"
    img = make_thumbnail(str(src), 100, cache)
    assert not img.isNull()
    assert (img.width(), img.height()) == (50, 100)
    cached = thumbnail_cache_file(cache, str(src), 100)
    assert cached.is_file()
    again = make_thumbnail(str(src), 100, cache)
    assert (again.width(), again.height()) == (50, 100)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    assert make_thumbnail(str(bad), 100, cache).isNull()
    assert make_thumbnail(str(tmp_path / "missing.jpg"), 100, cache).isNull()


def test_thumbnail_loader_delivers_on_the_gui_thread(qtbot, tmp_path):
    from PIL import Image
    from PySide6.QtCore import QThread

    from photosearch.gui.search.thumbnails import ThumbnailLoader

    p = tmp_path / "a.png"
    Image.new("RGB", (300, 150), "blue").save(p)
    loader = ThumbnailLoader(tmp_path / "cache")
    threads = []
    loader.loaded.connect(lambda *_: threads.append(QThread.currentThread()))
    with qtbot.waitSignal(loader.loaded, timeout=10_000) as blocker:
        loader.request(str(p), 64)
    path, size, img = blocker.args
    assert (path, size, img.width(), img.height()) == (str(p), 64, 64, 32)
    assert threads == [QThread.currentThread()]
    assert loader.clear_cache() == 1
    loader.shutdown()


def test_chart_ticks_and_painting(qtbot):
    from photosearch.gui.finetune.charts import LineChart, nice_ticks

    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert all(float(t).is_integer() for t in nice_ticks(1, 16, 6, integer=True))
    assert nice_ticks(0.31, 0.92)[0] <= 0.31 and nice_ticks(0.31, 0.92)[-1] >= 0.92
    chart = LineChart("loss", "step")
    qtbot.addWidget(chart)
    chart.resize(400, 240)
    empty = chart.grab().toImage()
    for i, y in enumerate([4.0, 3.1, 2.5, float("nan"), 2.2]):
        chart.add_point("loss", i, y)
    assert [y for _, y in chart.points("loss")] == [4.0, 3.1, 2.5, 2.2]  # NaN is not plotted
    drawn = chart.grab().toImage()
    assert drawn != empty


def test_resources_are_found_and_the_icon_loads(qapp):
    from photosearch.gui.base.resources import app_icon, resource_path

    svg = resource_path("photosearch.svg")
    assert svg.read_text().lstrip().startswith("<?xml")
    icon = app_icon()
    assert not icon.isNull() and not icon.pixmap(64, 64).isNull()
    desktop = resource_path("io.github.photosearch.PhotoSearch.desktop").read_text()
    assert "Name=PhotoSearch" in desktop and "Exec=photosearch-gui" in desktop
    with pytest.raises(FileNotFoundError):
        resource_path("nope.svg")


def test_settings_dialog_lists_models_with_tags_and_clears_the_cache(qtbot, tmp_path):
    from photosearch.gui.app.dialogs import SettingsDialog
    from photosearch.gui.base.settings import Settings
    from photosearch.gui.search.thumbnails import ThumbnailLoader
    from photosearch.paths import app_paths

    paths = app_paths().ensure()
    settings = Settings(paths)
    (paths.thumbnails / "ab").mkdir(parents=True)
    (paths.thumbnails / "ab" / "x.jpg").write_bytes(b"x")
    loader = ThumbnailLoader(paths.thumbnails)
    dlg = SettingsDialog(None, paths, settings, current_model="starter", thumbs=loader, folders=["/photos"])
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: len(dlg.models) >= 3 and dlg.device.count() >= 2, timeout=30_000)
    texts = [dlg.model_list.item(i).text() for i in range(dlg.model_list.count())]
    assert any(t.startswith("starter") and "[offline]" in t for t in texts)
    assert any("[needs download]" in t for t in texts)  # the hub models are not in this test's cache
    assert dlg.selected_model() == "starter"
    tip = dlg.min_score.toolTip()  # issue 20.11: it described a cosine threshold
    assert "from 0 to 1" in tip and "0.50 and above is a good match" in tip and "cosine" not in tip.lower()
    dlg.clear_cache()
    assert not (paths.thumbnails / "ab" / "x.jpg").exists()
    assert "cleared (1 files)" in dlg.cache_label.text()
    dlg.batch.setValue(8)
    dlg.theme.setCurrentIndex(dlg.theme.findData("dark"))
    dlg.model_list.setCurrentRow(texts.index(next(t for t in texts if t.startswith("tutorial"))))
    assert not dlg.model_page.use_btn.isEnabled()  # not on disk: it cannot be chosen until downloaded (#13)
    with qtbot.assertNotEmitted(dlg.modelChosen):
        dlg.accept_and_close()
    assert settings.batch_size == 8
    assert settings.theme == "dark"
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
    from photosearch.gui.base.theme import apply_theme

    apply_theme(QApplication.instance(), "light")
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 180
    loader.shutdown()


def _probe(module: str, home: Path) -> dict:
    env = dict(os.environ, PHOTOSEARCH_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PHOTOSEARCH_STARTUP_PROBE="paint", PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-m", module], env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("{")))


def test_bare_photosearch_opens_the_window_before_torch_is_imported(home):
    probe = _probe("photosearch", home)  # a bare `photosearch` is the GUI
    assert probe["first_paint_s"] > 0
    assert probe["heavy_modules_at_paint"] == []
    assert (home / "config" / "PhotoSearch.ini").is_file()  # settings live under PHOTOSEARCH_HOME


def test_the_core_imports_no_qt():
    code = ("import sys, photosearch.library, photosearch.model.store, photosearch.cli, photosearch.imageio;"
            "print([m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))])")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_void_calls_cannot_exhaust_none(qapp):
    """PySide6 6.12 on Python 3.11 leaks a reference to None per void call; painting must never abort."""
    import photosearch.gui  # noqa: F401 - applies the guard
    from PySide6.QtCore import QPoint, QRect

    from photosearch.gui.base.compat import guard_none_refcount

    from PySide6.QtCore import QObject, Signal

    class Pinger(QObject):
        ping = Signal(int)

    r, c = QRect(0, 0, 4, 4), QPoint(1, 1)
    # Unguarded, None and the bools hold some thousands of references: 200k leaked ones would free them.
    for _ in range(200_000):
        r.moveCenter(c)
    o = Pinger()
    for i in range(200_000):
        o.ping.emit(i)
    assert sys.getrefcount(None) > 0 and sys.getrefcount(True) > 0
    assert guard_none_refcount() in (True, False)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the crash is the point
def test_a_crash_in_a_worker_thread_shows_where_the_report_is(qtbot, qapp, home):
    """The launcher's crash hook: a report is written under the log folder and a message box names it."""
    import threading

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from photosearch.gui.app.launcher import _show_crash
    from photosearch.logs import crash_reports, install_excepthook, uninstall_excepthook

    seen: list[str] = []

    def close_box():
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        if not boxes:
            QTimer.singleShot(50, close_box)
            return
        seen.append(boxes[0].text())
        boxes[0].accept()

    install_excepthook(show=lambda path, summary: _show_crash(qapp, path, summary))
    try:
        QTimer.singleShot(50, close_box)
        t = threading.Thread(target=lambda: 1 / 0, name="worker")
        t.start()
        t.join()
        qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    finally:
        uninstall_excepthook()
    reports = crash_reports()
    assert reports and reports[-1].parent == home / "logs"
    assert "ZeroDivisionError" in reports[-1].read_text()
    assert str(reports[-1]) in seen[0] and "ZeroDivisionError" in seen[0]
