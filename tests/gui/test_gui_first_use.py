"""First launch (issue #20 item 7): while the starter is built, the window says what is happening, how far it is
and how long is left, instead of a bare "Getting ready…"."""

from __future__ import annotations

import pytest

from photosearch.gui.search.states import Situation, empty_state
from photosearch.model.starter import BuildProgress

pytestmark = pytest.mark.gui


def test_the_loading_state_says_what_is_being_built_how_far_and_how_long():
    step = BuildProgress("prompts", 0.4, 30.2)
    text = empty_state(Situation(folders=1, model_loading=True, model_progress=str(step)))
    assert text.key == "loading"
    assert text.body.startswith("Preparing the starter model (first use only): teaching it the words for 1,000 "
                                "kinds of things (40%, about 30 s left).\n\n")
    assert "You can type now" in text.body
    plain = empty_state(Situation(folders=1, model_loading=True))
    assert plain.body.startswith("Loading the search model in the background.")


def test_the_window_shows_the_loaders_latest_message_until_a_model_is_ready(qtbot, make_window, tiny_checkpoint):
    win = make_window(None, model_name=str(tiny_checkpoint))
    win.settings.backend = "torch"
    with qtbot.waitSignal(win.models.ready, timeout=60_000):
        win.load_model()
        # what the loading task reports while the starter is built (no event is processed before the check)
        step = BuildProgress("prompts", 0.55, 12.0)
        win.models.progress.emit(step)
        assert win.situation().model_progress == str(step)
    assert win.models.last_progress is None and win.situation().model_progress == ""


def test_auto_backend_exports_after_the_model_is_ready_not_before(qtbot, make_window, tiny_checkpoint):
    """The first launch does not wait for the ONNX export: the model is ready on torch, the graph is made in the
    background on a copy, and the model in use then runs on whatever ``auto`` chose."""
    import json

    from photosearch.model.onnx_backend import CHOICE_FILE, GRAPH_FILE, OnnxTower, tower_folder

    win = make_window(None, model_name=str(tiny_checkpoint))
    win.settings.backend = "auto"
    with qtbot.waitSignal(win.models.ready, timeout=60_000):
        win.load_model()
    folder = tower_folder(win.paths.onnx_cache, win.model, "image")
    ready_without_graph = not (folder / GRAPH_FILE).exists()
    assert ready_without_graph and win.model._runner("image") is None
    qtbot.waitUntil(lambda: not win.readers.busy(), timeout=120_000)
    assert (folder / GRAPH_FILE).is_file()
    chose_onnx = json.loads((folder / CHOICE_FILE).read_text())["use_onnx"]
    assert isinstance(win.model._runner("image"), OnnxTower) == chose_onnx
