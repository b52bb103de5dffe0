"""GUI test fixtures: real widgets (offscreen), the real core, small real or generated photos."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def _no_unanswered_file_dialogs(monkeypatch):
    """A modal file dialog nobody answers waits for ever offscreen (a test once hung the suite that way): a test
    that reaches one without saying what the user picks fails at once. Tests answer with their own
    ``monkeypatch.setattr(QFileDialog, "getExistingDirectory", ...)``."""
    from PySide6.QtWidgets import QFileDialog

    def unanswered(*_a, **_k):
        raise AssertionError("a modal file dialog opened that the test does not answer")

    for name in ("getExistingDirectory", "getOpenFileName", "getOpenFileNames", "getSaveFileName"):
        monkeypatch.setattr(QFileDialog, name, unanswered)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """The tiny random model saved as a checkpoint folder (fast; ranking quality does not matter)."""
    from helpers import tiny_model

    from photosearch.model.checkpoint import save_checkpoint

    root = tmp_path_factory.mktemp("tiny-ckpt")
    return save_checkpoint(tiny_model(root), root / "tiny")


@pytest.fixture(scope="session")
def tiny_loaded(tiny_checkpoint):
    from photosearch.model.checkpoint import load_checkpoint

    import torch

    return load_checkpoint(tiny_checkpoint, torch.device("cpu"))


@pytest.fixture
def small_photos(tmp_path) -> Path:
    """Eight generated photos, one broken JPEG and one non-image: a folder with something to skip."""
    from PIL import Image, ImageDraw

    d = tmp_path / "small"
    d.mkdir()
    colours = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"]
    for i, c in enumerate(colours):
        im = Image.new("RGB", (96 + 8 * i, 80), c)
        ImageDraw.Draw(im).ellipse([10, 10, 60, 60], fill="grey")
        im.save(d / f"{i:02d}-{c}.jpg", quality=90)
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (d / "notes.txt").write_text("not a photo")
    return d


@pytest.fixture
def make_window(qtbot):
    """Build a MainWindow with an injected model; every window is closed (threads joined) at teardown."""
    from photosearch.gui.app.window import MainWindow
    from photosearch.gui.base.settings import Settings
    from photosearch.paths import app_paths

    made = []

    def make(model=None, **kw):
        paths = app_paths().ensure()
        settings = Settings(paths)
        if "min_score" in kw:
            settings.min_score = kw.pop("min_score")
        elif model is not None and model.config.name == "tiny":
            settings.min_score = 0.0  # random weights: no meaningful cut-off, show every photo
        win = MainWindow(paths, settings, model=model, model_name=kw.pop("model_name", "test-model"),
                         autoload=kw.pop("autoload", False), **kw)
        qtbot.addWidget(win)
        win.show()
        made.append(win)
        return win

    yield make
    for w in made:
        w.close()


@pytest.fixture
def many_photos(tmp_path):
    from PIL import Image

    d = tmp_path / "many"
    d.mkdir()
    for i in range(160):
        Image.new("RGB", (64, 48), (i % 255, (7 * i) % 255, 90)).save(d / f"m{i:03d}.png")
    return d
