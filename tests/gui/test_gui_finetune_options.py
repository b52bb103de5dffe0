"""Fine-tune dialog (issue #10 item 18): the fast option by default on a CPU with a time estimate before Start,
hyperparameters under "Advanced", Resume only when there is something to resume, plain words in the status."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui
WAIT = 180_000


def make_dialog(qtbot, device="auto", **kw):
    from photosearch.gui.base.settings import Settings
    from photosearch.gui.finetune.dialog import FineTuneDialog
    from photosearch.paths import app_paths

    paths = app_paths().ensure()
    settings = Settings(paths)
    settings.device = device
    dlg = FineTuneDialog(None, paths, settings, **kw)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


@pytest.fixture
def shapes(tmp_path):
    from photosearch.train.synthetic import make_shapes_dataset

    return make_shapes_dataset(tmp_path / "shapes", n_images=40, size=64)


def test_heads_only_is_the_default_on_a_cpu_with_an_estimate_before_start(qtbot, shapes):
    from photosearch.humanize import format_duration
    from photosearch.train.estimate import estimate_cpu

    dlg = make_dialog(qtbot, device="cpu")
    assert dlg.form.freeze.isChecked()
    assert "processor" in dlg.form.estimate.text() and "Flickr8k" in dlg.form.estimate.text()
    # The Flickr8k estimate (6,000 + 1,000 images, 4 epochs) from the README's measured throughput.
    assert format_duration(estimate_cpu(6000, 1000, 4, True).seconds) in dlg.form.estimate.text()

    dlg.form.device.setCurrentText("cuda")  # not chosen by hand yet: the default follows the device
    assert not dlg.form.freeze.isChecked() and "graphics card" in dlg.form.estimate.text()
    dlg.form.device.setCurrentText("cpu")
    assert dlg.form.freeze.isChecked()
    full = estimate_cpu(6000, 1000, 4, False).seconds
    qtbot.mouseClick(dlg.form.freeze, Qt.MouseButton.LeftButton)  # the user's choice sticks
    assert not dlg.form.freeze.isChecked() and format_duration(full) in dlg.form.estimate.text()
    dlg.form.device.setCurrentText("cuda")
    dlg.form.device.setCurrentText("cpu")
    assert not dlg.form.freeze.isChecked()

    # With a data set chosen the estimate counts its images (here 40 in all, split by the synthetic set).
    dlg.form.data_edit.setText(str(shapes))
    dlg.form.probe_data()
    qtbot.waitUntil(lambda: dlg.form.data_counts is not None, timeout=WAIT)
    n_train, n_val = dlg.form.data_counts
    assert 0 < n_train < 40 and "Flickr8k" not in dlg.form.estimate.text()
    assert format_duration(estimate_cpu(n_train, n_val, 4, False).seconds) in dlg.form.estimate.text()


def test_auto_device_on_a_machine_without_gpu_defaults_to_heads_only(qtbot):
    from photosearch.device import available_devices

    dlg = make_dialog(qtbot, device="auto")
    qtbot.waitUntil(lambda: dlg.form.auto_device is not None, timeout=WAIT)
    assert dlg.form.freeze.isChecked() == (available_devices()[0] == "cpu")


def test_hyperparameters_sit_under_a_collapsed_advanced_section(qtbot):
    dlg = make_dialog(qtbot)
    form = dlg.form
    assert form.epochs.isVisible() and form.freeze.isVisible()
    assert not any(w.isVisible() for w in (form.batch, form.head_lr, form.image_lr, form.text_lr, form.wd))
    qtbot.mouseClick(form.advanced_btn, Qt.MouseButton.LeftButton)
    assert all(w.isVisible() for w in (form.batch, form.head_lr, form.image_lr, form.text_lr, form.wd))
    qtbot.mouseClick(dlg.form.advanced_btn, Qt.MouseButton.LeftButton)
    assert not dlg.form.batch.isVisible()


def test_a_failed_download_does_not_offer_resume(qtbot, monkeypatch, tmp_path):
    import socket

    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: str(tmp_path))  # the user picks a folder

    with socket.socket() as s:  # a port nobody listens on: the download fails at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    dlg = make_dialog(qtbot, download_urls={"images_url": url + "/a.zip", "captions_url": url + "/c.json"})
    assert not dlg.form.resume_btn.isEnabled()
    with qtbot.waitSignal(dlg.trainingFailed, timeout=WAIT):
        qtbot.mouseClick(dlg.form.download_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.form.download_btn.isEnabled(), timeout=WAIT)
    assert dlg.panel.status.text().startswith("⚠")
    assert not dlg.form.resume_btn.isEnabled()


def test_an_interrupted_run_offers_resume_with_its_settings_and_plain_status_words(qtbot, shapes, tmp_path):
    from helpers import tiny_model

    from photosearch.train.runstate import plain_status
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths
    from photosearch.train import TrainOptions, train

    paths = app_paths().ensure()
    ModelStore(paths).save(tiny_model(tmp_path), "tinybase")
    cancel = threading.Event()
    events = []
    opts = TrainOptions(str(shapes), base="tinybase", name="halfway", epochs=2, batch_size=8, num_workers=0,
                        warmup_steps=1, freeze_encoders=True, max_images=30)
    for ev in train(opts, paths, cancel=cancel):
        events.append(ev)
        if ev.kind == "step":
            cancel.set()
    assert events[-1].result.cancelled

    words = [plain_status(ev) for ev in events if ev.kind in ("message", "eval")]
    assert words and all(words)
    jargon = ("zero-shot", "caching", "features", "R@", "encoder", "val ", "captions")
    assert not [w for w in words if any(j in w for j in jargon)], words

    dlg = make_dialog(qtbot, device="cpu")
    assert not dlg.form.resume_btn.isEnabled()  # the default name has no run
    dlg.form.name_edit.setText("halfway")
    assert dlg.form.resume_btn.isEnabled()
    assert (dlg.form.batch.value(), dlg.form.epochs.value(), dlg.form.max_images.value()) == (8, 2, 30)
    assert dlg.form.freeze.isChecked() and dlg.form.data_edit.text() == str(shapes)
    dlg.form.name_edit.setText("halfway-not")
    assert not dlg.form.resume_btn.isEnabled()
