"""The Qt-free application core (photosearch/session.py): one home for loading a model with its fallback and
backend, the stand-in while a new model indexes, and the decisions the window shows. Real store, real
library, tiny random-weight models."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from helpers import tiny_model

from photosearch.errors import ModelError
from photosearch.library import Library
from photosearch.model.store import ModelStore
from photosearch.paths import app_paths
from photosearch.session import (Session, caught_up, index_on_open, load_model, on_model_failed, on_model_ready,
                                 stand_in)


def _photos(folder, n=3):
    folder.mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (80, 60), (60 * i, 200 - 50 * i, 90)).save(folder / f"p{i}.jpg")
    return folder


def test_load_model_names_the_fallback_and_keeps_the_users_choice(tmp_path, home):
    paths = app_paths().ensure()
    store = ModelStore(paths)
    store.save(tiny_model(tmp_path, seed=0), "good")
    store.save(tiny_model(tmp_path, seed=1), "flaky")
    store.set_active("good")
    assert load_model(paths, device="cpu").name == "good"
    store.set_active("flaky")
    (store.folder("flaky") / "model.safetensors").write_bytes(b"not weights")
    notes = []
    loaded = load_model(paths, device="cpu", backend="torch", on_note=notes.append)
    assert loaded.name == "good" and notes == [loaded.note] and "flaky could not be loaded" in loaded.note
    assert store.active() == "flaky"
    named = load_model(paths, "good", device="cpu")
    assert named.note is None
    assert torch.allclose(named.model.embed_texts(["a cat"]), loaded.model.embed_texts(["a cat"]))


def test_a_config_that_cannot_build_is_one_model_error(tmp_path, home):
    import json

    paths = app_paths().ensure()
    store = ModelStore(paths)
    store.save(tiny_model(tmp_path), "odd")
    cfg_file = store.folder("odd") / "config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg["embed_dim"] = "sixteen"  # builds nothing: torch raises TypeError
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="odd could not be built from its configuration"):
        load_model(paths, "odd", device="cpu")


def test_stand_in_serves_until_the_new_model_catches_up(tmp_path, home):
    paths = app_paths().ensure()
    store = ModelStore(paths)
    old, new = tiny_model(tmp_path, seed=0), tiny_model(tmp_path, seed=1)
    store.save(old, "old")
    store.save(new, "new")
    folder = _photos(tmp_path / "photos")
    with Library.open(paths.library_db) as lib:
        lib.run_index(old, [folder])
        assert stand_in(paths, lib, new, device="cpu", in_use=old) is old  # in memory: not loaded again
        loaded = stand_in(paths, lib, new, device="cpu")
        assert loaded is not old and loaded.config.model_id == old.config.model_id
        assert not caught_up(lib, new.config.model_id, old.config.model_id)
        lib.run_index(new)
        assert caught_up(lib, new.config.model_id, old.config.model_id)
        assert stand_in(paths, lib, new, device="cpu") is None
    assert caught_up(None, "any", None)  # nothing stands in: nothing to count


def test_session_keeps_the_stand_in_until_promoted(tmp_path):
    s = Session(app_paths(tmp_path / "home"))
    old, new = tiny_model(tmp_path, seed=0, name="old"), tiny_model(tmp_path, seed=1, name="new")
    s.use(new, "new", serving=old)
    assert s.searching is old and s.model is new
    ready = s.model_ready(index_pending=False, has_folders=True)
    assert ready.transition is not None and "with new" in ready.transition and "vectors of old" in ready.transition
    assert ready.start_indexing and ready.rerun_search
    assert not s.promote(old)  # only the model in use can take over
    assert s.promote(new) and s.searching is new and s.serving is None
    assert not s.promote(new)  # once
    assert s.model_ready(index_pending=False, has_folders=False).transition is None
    s.use(new, "new", serving=new)  # a model never stands in for itself
    assert s.serving is None


def test_window_decisions_when_a_model_is_ready_or_fails():
    assert not on_model_ready("m", None, index_pending=False, has_folders=False).start_indexing
    assert on_model_ready("m", None, index_pending=True, has_folders=False).start_indexing
    assert on_model_ready("m", None, index_pending=False, has_folders=True).start_indexing
    first = on_model_failed("big", "offline", None, has_folders=True)
    assert first.message == "Could not load the model big: offline" and not first.start_indexing
    switch = on_model_failed("big", "offline", "starter", has_folders=True)
    assert switch.message == "Could not load the model big: offline. Still using starter." and switch.start_indexing
    assert not on_model_failed("big", "offline", "starter", has_folders=False).start_indexing


def test_the_first_status_starts_indexing_only_when_a_model_waits_for_folders():
    assert index_on_open(has_folders=True, model_ready=True, indexing=False)
    assert not index_on_open(has_folders=False, model_ready=True, indexing=False)
    assert not index_on_open(has_folders=True, model_ready=False, indexing=False)  # model-ready decides then
    assert not index_on_open(has_folders=True, model_ready=True, indexing=True)  # already running or waiting
