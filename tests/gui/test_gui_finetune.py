"""The fine-tuning dialog runs a tiny real training to completion; the new model is used by the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from driver import Driver

pytestmark = pytest.mark.gui
WAIT = 180_000


@pytest.fixture
def shapes(tmp_path):
    from photosearch.train.synthetic import make_shapes_dataset

    return make_shapes_dataset(tmp_path / "shapes", n_images=40, size=64)


@pytest.fixture
def tiny_base(tmp_path):
    from helpers import tiny_model

    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    ModelStore(app_paths().ensure()).save(tiny_model(tmp_path), "tinybase")
    return "tinybase"


def make_dialog(qtbot, win=None, **kw):
    from photosearch.gui.base.settings import Settings
    from photosearch.gui.finetune.dialog import FineTuneDialog
    from photosearch.paths import app_paths

    paths = app_paths().ensure()
    dlg = FineTuneDialog(win, paths, Settings(paths), **kw)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_tiny_training_runs_to_completion_and_the_window_switches_to_it(qtbot, make_window, tiny_loaded,
                                                                        small_photos, shapes, tiny_base):
    from photosearch.model.store import ModelStore

    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    drv.add_folder(small_photos)
    dlg = make_dialog(qtbot, win)
    dlg.useModel.connect(win.use_model)
    qtbot.waitUntil(lambda: dlg.form.base.findData(tiny_base) >= 0, timeout=WAIT)
    assert dlg.form.epochs.value() == 4 and dlg.form.head_lr.value() == pytest.approx(1e-3)  # the tutorial's defaults
    dlg.form.base.setCurrentIndex(dlg.form.base.findData(tiny_base))
    dlg.form.data_edit.setText(str(shapes))
    dlg.form.name_edit.setText("tiny-ft")
    dlg.form.epochs.setValue(2)
    dlg.form.batch.setValue(8)
    with qtbot.waitSignal(dlg.trainingFinished, timeout=WAIT) as blocker:
        dlg.start(num_workers=0, warmup_steps=1)
        assert dlg.running() and not dlg.form.start_btn.isEnabled()
    res = blocker.args[0]
    assert res is not None and not res.cancelled and res.model == "tiny-ft"
    assert "tiny-ft" in ModelStore(win.paths).installed()
    assert len(dlg.panel.loss_chart.points("loss")) >= 2
    assert [x for x, _ in dlg.panel.recall_chart.points("R@1")] == [0, 1, 2]  # zero-shot, then each epoch
    assert dlg.panel.table.rowCount() == 6
    assert dlg.panel.table.item(0, 1).text().endswith("%") and dlg.panel.table.item(0, 2).text().endswith("%")
    assert dlg.panel.use_btn.isEnabled()

    # "Use this model": the window loads it and indexes only what it lacks (here: every photo).
    with qtbot.waitSignal(win.models.ready, timeout=WAIT) as ready:
        qtbot.mouseClick(dlg.panel.use_btn, Qt.MouseButton.LeftButton)
    assert ready.args == ["tiny-ft"]
    qtbot.waitUntil(lambda: win.model_name == "tiny-ft", timeout=WAIT)
    with drv.wait_indexed() as idx:
        pass
    assert idx.args[0].indexed == 8  # the run's IndexReport
    assert win.settings.model == "tiny-ft"
    assert ModelStore(win.paths).active() == "tiny-ft"


def test_cancel_then_resume_finishes_the_run(qtbot, shapes, tiny_base):
    dlg = make_dialog(qtbot)
    qtbot.waitUntil(lambda: dlg.form.base.findData(tiny_base) >= 0, timeout=WAIT)
    dlg.form.base.setCurrentIndex(dlg.form.base.findData(tiny_base))
    dlg.form.data_edit.setText(str(shapes))
    dlg.form.name_edit.setText("tiny-resume")
    dlg.form.epochs.setValue(2)
    dlg.form.batch.setValue(8)
    steps = []

    def on_event(ev):
        if ev.kind == "step":
            steps.append(ev.step)
            dlg.cancel()

    with qtbot.waitSignal(dlg.trainingFinished, timeout=WAIT) as blocker:
        dlg.start(num_workers=0, warmup_steps=1, zero_shot=False)
        dlg.task.progress.connect(on_event)
    res = blocker.args[0]
    assert res.cancelled and steps
    assert dlg.form.resume_btn.isEnabled()
    with qtbot.waitSignal(dlg.trainingFinished, timeout=WAIT) as blocker:
        qtbot.mouseClick(dlg.form.resume_btn, Qt.MouseButton.LeftButton)
    res2 = blocker.args[0]
    assert not res2.cancelled and res2.model == "tiny-resume" and res2.epochs == 2
    assert min(x for x, _ in dlg.panel.loss_chart.points("loss")) > min(steps)  # continued, not restarted


def test_training_errors_show_in_the_dialog(qtbot, tmp_path):
    dlg = make_dialog(qtbot)
    dlg.form.data_edit.setText(str(tmp_path / "no-such-folder"))
    with qtbot.waitSignal(dlg.trainingFailed, timeout=WAIT) as blocker:
        dlg.start(num_workers=0)
    assert blocker.args[0]
    assert dlg.panel.status.text().startswith("⚠")
    qtbot.waitUntil(lambda: dlg.form.start_btn.isEnabled(), timeout=WAIT)
    dlg.form.data_edit.setText("")
    with qtbot.waitSignal(dlg.trainingFailed, timeout=5_000):
        dlg.start()
    assert "Flickr8k" in dlg.panel.status.text()


def test_a_training_error_names_the_windows_control_not_a_flag(qtbot, shapes, tiny_base):
    """Issue 20.11: "lower --batch-size" was shown inside the window."""
    from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton

    from photosearch.gui.finetune.form import FLAG_CONTROLS

    dlg = make_dialog(qtbot)
    shown = {w.text() for t in (QLabel, QPushButton, QCheckBox) for w in dlg.form.findChildren(t)}
    assert set(FLAG_CONTROLS.values()) <= shown  # every name the window uses is one of its own controls
    qtbot.waitUntil(lambda: dlg.form.base.findData(tiny_base) >= 0, timeout=WAIT)
    dlg.form.base.setCurrentIndex(dlg.form.base.findData(tiny_base))
    dlg.form.data_edit.setText(str(shapes))
    dlg.form.batch.setValue(512)  # more than the 40-image set's train split
    with qtbot.waitSignal(dlg.trainingFailed, timeout=WAIT) as blocker:
        dlg.start(num_workers=0)
    msg = dlg.panel.status.text()
    assert "fewer than one batch" in msg and "“Batch size”" in msg and "--" not in msg, msg
    assert blocker.args[0] == msg[2:]


def test_download_asks_where_and_refuses_a_disk_without_room(qtbot, tmp_path, monkeypatch):
    """Issue 20.11: "Download Flickr8k" started at once, without asking where or saying how much room it needs."""
    from PySide6.QtWidgets import QFileDialog

    from photosearch.gui.finetune import dialog as dialog_mod

    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: asked.append(a) or "")
    dlg = make_dialog(qtbot)
    qtbot.mouseClick(dlg.form.download_btn, Qt.MouseButton.LeftButton)
    assert asked and "2.3 GB" in asked[0][1] and asked[0][2] == str(dlg.paths.downloads)  # a sensible default
    assert dlg.task is None  # cancelled: nothing started
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: str(tmp_path))
    monkeypatch.setattr(dialog_mod, "DISK_NEEDED", 10 ** 18)  # more than any disk has
    qtbot.mouseClick(dlg.form.download_btn, Qt.MouseButton.LeftButton)
    assert dlg.task is None and "free" in dlg.panel.status.text() and "more room" in dlg.panel.status.text()


def test_download_shows_progress_and_fills_in_the_folder(qtbot, tmp_path, monkeypatch):
    import functools
    import threading
    import zipfile
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from photosearch.train import load_captions
    from photosearch.train.synthetic import make_shapes_dataset

    src = make_shapes_dataset(tmp_path / "src", n_images=12, size=48)
    site = tmp_path / "site"
    site.mkdir()
    with zipfile.ZipFile(site / "Flickr8k_Dataset.zip", "w") as zf:
        for p in sorted((src / "Flicker8k_Dataset").iterdir()):
            zf.write(p, f"Flicker8k_Dataset/{p.name}")
    (site / "dataset_flickr8k.json").write_bytes((src / "dataset_flickr8k.json").read_bytes())

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}"
        dlg = make_dialog(qtbot, download_urls={"images_url": url + "/Flickr8k_Dataset.zip",
                                                "captions_url": url + "/dataset_flickr8k.json"})
        from PySide6.QtWidgets import QFileDialog

        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: str(tmp_path / "chosen"))
        (tmp_path / "chosen").mkdir()
        seen = []
        with qtbot.waitSignal(dlg.downloaded, timeout=WAIT) as blocker:
            qtbot.mouseClick(dlg.form.download_btn, Qt.MouseButton.LeftButton)
            dlg.task.progress.connect(seen.append)
        path = blocker.args[0]
    finally:
        srv.shutdown()
        srv.server_close()
    assert dlg.form.data_edit.text() == path and path.startswith(str(tmp_path / "chosen"))
    assert len(load_captions(path).images) == 12
    assert seen and seen[-1][0] == seen[-1][1] == (site / "Flickr8k_Dataset.zip").stat().st_size
    from photosearch.humanize import format_size

    size = format_size((site / "Flickr8k_Dataset.zip").stat().st_size)
    assert dlg.panel.rate.text() == f"{size} of {size}"  # the one size format (it read "0 of 0 MB")
