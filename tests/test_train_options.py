"""The model interface training relies on (towers, heads, lock_towers) for every family, and the one rule that
merges stored and given options on resume."""

from __future__ import annotations

import pytest
import torch

from photosearch.errors import TrainingError
from photosearch.train import TrainOptions, merge_options
from photosearch.train.options import RESUMABLE_CHANGES, resume_mismatch


def _families(tmp_path):
    from helpers import tiny_clip_folder, tiny_model

    from photosearch.model.config import ModelConfig
    from photosearch.model.hf_clip import HFClip

    hf = HFClip(ModelConfig(name="tinyclip", family="hf_clip",
                            hf_clip_name=str(tiny_clip_folder(tmp_path / "clip"))), load_pretrained=True)
    return [tiny_model(tmp_path), hf]


def test_heads_on_tower_features_equal_the_model_features_for_every_family(tmp_path):
    for model in _families(tmp_path):
        model.eval()
        size = model.config.preprocess.input_size
        px = torch.randn(3, 3, size, size)
        tok = model.tokenize(["a dog", "a cat"])
        with torch.no_grad():
            direct_img = model.image_features(px)
            via_img = model.project_image(model.image_tower_features(px))
            direct_txt = model.text_features(tok["input_ids"], tok["attention_mask"])
            via_txt = model.project_text(model.text_tower_features(tok["input_ids"], tok["attention_mask"]))
        assert torch.allclose(direct_img, via_img, atol=1e-5), type(model).__name__
        assert torch.allclose(direct_txt, via_txt, atol=1e-5), type(model).__name__


def test_lock_towers_freezes_towers_and_keeps_them_in_eval_mode(tmp_path):
    for model in _families(tmp_path):
        groups = model.param_groups()
        n_heads = len(groups["heads"])
        model.lock_towers()
        model.train()
        image, text = model.towers()
        assert not image.training and not text.training
        assert all(m.training for h in model.heads() for m in h.modules())
        assert not any(p.requires_grad for p in groups["image_encoder"] + groups["text_encoder"])
        assert all(p.requires_grad for p in model.param_groups()["heads"]) and n_heads >= 2
        model.eval()
        assert not any(m.training for m in model.modules())


def test_merge_options_given_values_win_and_none_means_not_given():
    stored = TrainOptions("/data/a", base="tinybase", batch_size=8, epochs=2, seed=3, name="run")
    merged = merge_options(stored, {"data_dir": "/data/a", "name": "run", "epochs": 5, "batch_size": None,
                                    "seed": None, "head_lr": 5e-4})
    assert (merged.batch_size, merged.seed, merged.base) == (8, 3, "tinybase")  # kept from the run
    assert (merged.epochs, merged.head_lr) == (5, 5e-4)  # a resume may change these
    assert resume_mismatch(stored, merged) == []


def test_merge_options_keeps_a_forbidden_change_so_the_trainer_names_it():
    stored = TrainOptions("/data/a", batch_size=8)
    merged = merge_options(stored, {"batch_size": 16})
    assert "batch_size" not in RESUMABLE_CHANGES
    assert resume_mismatch(stored, merged) == ["batch_size"]


def test_merge_options_without_a_run_uses_the_defaults_and_needs_a_data_folder():
    fresh = merge_options(None, {"data_dir": "/d", "epochs": None})
    assert fresh.epochs == TrainOptions.defaults()["epochs"] == 4
    with pytest.raises(TrainingError, match="no data folder"):
        merge_options(None, {"epochs": 2})
