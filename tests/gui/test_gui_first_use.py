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


def test_the_window_shows_the_loaders_latest_message_until_a_model_is_ready(make_window, tiny_loaded):
    win = make_window()
    step = BuildProgress("prompts", 0.55, 12.0)
    win.models.progress.emit(step)  # what the loading task reports while the starter is built
    assert win.situation().model_progress == str(step)
    win.models.set(tiny_loaded, "tiny")
    assert win.models.last_progress is None and win.situation().model_progress == ""
