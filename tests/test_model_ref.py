"""Explicit model references (photosearch/model/ref.py) and the store's ``ensure`` (build, retire) apart from
``load``."""

from __future__ import annotations

import pytest
import torch

from helpers import tiny_model

from photosearch.errors import ModelError
from photosearch.model.checkpoint import save_checkpoint
from photosearch.model.ref import ModelRef
from photosearch.model.store import ModelStore
from photosearch.paths import app_paths


def test_what_a_person_types_is_read_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "somewhere").mkdir()
    assert ModelRef.parse("starter") == ModelRef.named("starter")
    assert ModelRef.parse("./starter") == ModelRef.at("./starter")  # a path, even with a catalog name
    assert ModelRef.parse("~/m").folder is not None and ModelRef.parse("a/b").folder is not None
    assert ModelRef.parse("mine", {"mine"}) == ModelRef.named("mine")  # the store's name wins over a folder
    assert ModelRef.parse("somewhere", {"mine"}) == ModelRef.at("somewhere")  # an existing folder
    assert str(ModelRef.named("x")) == "x"
    with pytest.raises(ValueError):
        ModelRef(name="x", folder=tmp_path)
    with pytest.raises(ValueError):
        ModelRef()


def test_a_folder_named_like_a_catalog_model_loads_when_said_to_be_a_folder(tmp_path, home, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = tiny_model(tmp_path, seed=3)
    save_checkpoint(model, tmp_path / "clip-vit-b32")
    store = ModelStore(app_paths().ensure())
    loaded = store.load(ModelRef.at("clip-vit-b32"), device="cpu")  # the folder, not the catalog's CLIP
    assert torch.allclose(loaded.embed_texts(["a dog"]), model.embed_texts(["a dog"]))


def test_ensure_makes_a_store_model_ready_without_loading_it(tmp_path, home):
    store = ModelStore(app_paths().ensure())
    store.save(tiny_model(tmp_path), "mine")
    assert store.ensure("mine") == store.folder("mine")
    with pytest.raises(ModelError, match="unknown model"):
        store.ensure("nothing-like-it")
    with pytest.raises(ModelError, match="invalid model name"):
        store.ensure("../escape")
