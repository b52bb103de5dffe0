"""The window's model runs on the backend setting (issue #13): with ``onnx`` its image tower goes through an
ONNX Runtime session (exported under the cache), with ``torch`` it stays on torch, and a backend that cannot
run keeps torch instead of breaking the load."""

import pytest
import torch

pytestmark = pytest.mark.gui

WAIT = 60_000


def _load(qtbot, make_window, checkpoint, backend: str):
    win = make_window(None, model_name=str(checkpoint))
    win.settings.backend = backend
    with qtbot.waitSignal(win.models.ready, timeout=WAIT):
        win.load_model()
    return win


def test_settings_backend_defaults_like_the_cli(monkeypatch):
    from photosearch.gui.base.settings import Settings
    from photosearch.paths import app_paths

    s = Settings(app_paths().ensure())
    assert s.backend == "auto"
    monkeypatch.setenv("PHOTOSEARCH_BACKEND", "torch")
    assert s.backend == "torch"
    s.backend = "onnx"
    assert Settings(app_paths()).backend == "onnx"
    s.backend = "no-such-backend"
    assert s.backend == "auto"


def test_with_onnx_the_window_embeds_photos_through_onnx_runtime(qtbot, make_window, tiny_checkpoint):
    from photosearch.model.onnx_backend import OnnxTower

    win = _load(qtbot, make_window, tiny_checkpoint, "onnx")
    runner = win.model._runner("image")
    assert isinstance(runner, OnnxTower)
    assert win.paths.onnx_cache in runner.path.parents and runner.path.is_file()
    # what the indexer calls goes through that session, and agrees with torch
    pixels = torch.randn(3, 3, 64, 64)
    calls = []
    real_run = runner.session.run
    runner.session.run = lambda *a, **k: calls.append(1) or real_run(*a, **k)
    via_onnx = win.model.embed_pixels(pixels)
    assert calls
    win.model.set_tower_runners()
    assert float((via_onnx * win.model.embed_pixels(pixels)).sum(-1).min()) > 0.999


def test_with_torch_the_window_does_not_use_onnx_runtime(qtbot, make_window, tiny_checkpoint):
    win = _load(qtbot, make_window, tiny_checkpoint, "torch")
    assert win.model._runner("image") is None and win.model._runner("text") is None
    assert not win.paths.onnx_cache.exists()


def test_an_onnx_failure_keeps_torch_and_the_model_loads(qtbot, make_window, tiny_checkpoint, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("exporter gap")

    monkeypatch.setattr("photosearch.model.onnx_backend.export_tower", broken)
    win = _load(qtbot, make_window, tiny_checkpoint, "onnx")
    assert win.model is not None and win.model._runner("image") is None
    assert not win.banner.isVisible()


def test_changing_the_runtime_in_settings_reloads_the_model_on_it(qtbot, make_window, tiny_checkpoint):
    from photosearch.model.onnx_backend import OnnxTower

    win = _load(qtbot, make_window, tiny_checkpoint, "torch")
    win.open_settings()
    dlg = win.dialogs.open["settings"]
    assert dlg.backend.currentData() == "torch"
    dlg.backend.setCurrentIndex(dlg.backend.findData("onnx"))
    with qtbot.waitSignal(win.models.ready, timeout=WAIT):
        dlg.accept_and_close()
    assert win.settings.backend == "onnx" and isinstance(win.model._runner("image"), OnnxTower)


def test_changing_the_device_in_settings_reloads_the_model_on_it(qtbot, make_window, tiny_loaded):
    """Choosing another device for the same model was saved but did nothing until the next start: the dialog
    asked the window to switch to the model already in use, which it ignores."""
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    ModelStore(app_paths().ensure()).save(tiny_loaded, "tiny-local")
    win = make_window(None, model_name="tiny-local")
    win.settings.backend = "torch"
    with qtbot.waitSignal(win.models.ready, timeout=WAIT):
        win.load_model()
    before = win.model
    win.open_settings()
    dlg = win.dialogs.open["settings"]
    qtbot.waitUntil(lambda: dlg.device.findData("cpu") >= 0, timeout=WAIT)
    assert win.settings.device == "auto" and dlg.model_page.selected_info()["name"] == "tiny-local"
    dlg.device.setCurrentIndex(dlg.device.findData("cpu"))
    with qtbot.waitSignal(win.models.ready, timeout=WAIT):
        dlg.accept_and_close()
    assert win.settings.device == "cpu" and win.model_name == "tiny-local"
    assert win.model is not before and win.model.device.type == "cpu"


def test_ok_in_settings_keeps_a_model_loaded_from_a_folder(qtbot, make_window, tiny_checkpoint):
    """With a model loaded by path (``photosearch-gui --model FOLDER``) the model page has no row for it; Qt
    made the first row current and OK switched the window to that model (``starter``)."""
    win = _load(qtbot, make_window, tiny_checkpoint, "torch")
    before, name = win.model, win.model_name
    win.open_settings()
    dlg = win.dialogs.open["settings"]
    qtbot.waitUntil(lambda: len(dlg.model_page.models) > 0, timeout=WAIT)
    dlg.model_page.list.setFocus()  # Qt makes the first row current on focus
    loads = []
    win.models.loading.connect(loads.append)
    dlg.accept_and_close()
    qtbot.wait(200)
    assert loads == [] and win.model is before and win.model_name == name
