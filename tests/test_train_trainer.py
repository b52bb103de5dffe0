"""Training for real on a small synthetic Flickr8k-layout set: recall gain, exact resume, NaN stop, options."""

import json
import math
import threading

import pytest
import torch

from photosearch.errors import TrainingError
from photosearch.model.checkpoint import load_checkpoint
from photosearch.model.store import ModelStore
from photosearch.paths import app_paths
from photosearch.train import TrainOptions, evaluate, train, train_to_end
from photosearch.train.synthetic import make_shapes_dataset
from photosearch.train.trainer import read_run, weights_digest


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes_dataset(tmp_path_factory.mktemp("shapes"), n_images=120)


@pytest.fixture(scope="module")
def small_shapes(tmp_path_factory):
    return make_shapes_dataset(tmp_path_factory.mktemp("small"), n_images=60)


@pytest.fixture
def paths(home):
    return app_paths(home).ensure()


@pytest.fixture
def tiny_base(tmp_path, paths):
    from helpers import tiny_model

    return str(ModelStore(paths).save(tiny_model(tmp_path), "tinybase"))


def run_events(opts, paths, **kw):
    return list(train(opts, paths, **kw))


@pytest.mark.slow
def test_frozen_starter_recall_rises_far_above_chance(shapes, starter_model, shared_home, paths):
    base = str(app_paths(shared_home).models / "starter")
    opts = TrainOptions(str(shapes), base=base, name="shapes", epochs=4, batch_size=16, freeze_encoders=True,
                        num_workers=0, warmup_steps=2)
    events = run_events(opts, paths)
    kinds = [e.kind for e in events]
    assert kinds[-1] == "done" and kinds.count("epoch") == 4 and "step" in kinds
    assert any(e.kind == "message" and e.message.startswith("caching") for e in events)
    res = events[-1].result
    assert res.model == "shapes" and not res.cancelled and 1 <= res.best_epoch <= 4
    assert [h["epoch"] for h in res.history] == [0, 1, 2, 3, 4]
    losses = [h["train_loss"] for h in res.history[1:]]
    assert losses[-1] < losses[0]
    # Held-out test split (never seen in training or model selection), evaluated through the public API.
    store = ModelStore(paths)
    assert "shapes" in store.installed()
    tuned = store.load("shapes", device="cpu")
    after = evaluate(tuned, shapes, split="test")
    before = evaluate(starter_model, shapes, split="test")
    n = after["images"]
    chance_r1 = 100 / n
    assert after["captions"] == 5 * n
    assert after["text_to_image"]["R@1"] > 4 * chance_r1, (before, after)
    assert after["text_to_image"]["R@5"] > 3 * 5 * chance_r1, (before, after)
    assert after["text_to_image"]["R@5"] > before["text_to_image"]["R@5"] + 15, (before, after)
    assert after["image_to_text"]["R@5"] > before["image_to_text"]["R@5"], (before, after)
    # The training record travels with the model.
    rec = json.loads((store.folder("shapes") / "training.json").read_text())
    assert rec["best_epoch"] == res.best_epoch and rec["val"] == res.val
    assert rec["hyperparameters"]["freeze_encoders"] is True and rec["hyperparameters"]["head_lr"] == 1e-3
    assert len(rec["data"]["fingerprint"]) == 64 and len(rec["history"]) == 5
    assert rec["zero_shot"] == res.history[0]["val"]
    assert tuned.config.base == base and "shapes" in tuned.model_id
    # A second frozen run on the same base and data reuses the cached features.
    events2 = run_events(TrainOptions(str(shapes), base=base, name="shapes-2", epochs=1, batch_size=16,
                                      freeze_encoders=True, num_workers=0), paths)
    assert not any(e.kind == "message" and e.message.startswith("caching") for e in events2)
    assert events2[-1].result.history[0]["val"] == res.history[0]["val"]


def test_resume_after_cancel_matches_uninterrupted_run(small_shapes, tiny_base, paths):
    kw = dict(base=tiny_base, epochs=2, batch_size=8, grad_accum=2, num_workers=0, warmup_steps=1,
              image_lr=1e-3, text_lr=1e-3, zero_shot=False)
    full = train_to_end(TrainOptions(str(small_shapes), name="full", **kw), paths)

    cancel = threading.Event()
    events = []
    for ev in train(TrainOptions(str(small_shapes), name="split", **kw), paths, cancel=cancel):
        events.append(ev)
        if ev.kind == "step" and ev.step == 3:  # mid-epoch 1, mid gradient accumulation
            cancel.set()
    res = events[-1].result
    assert events[-1].kind == "done" and res.cancelled and res.model == "" and res.epochs == 0
    run = read_run(paths, "split")
    assert run["epoch"] == 1 and run["batch"] == 2  # back to the last optimizer step
    assert "split" not in ModelStore(paths).installed()

    resumed = run_events(TrainOptions(str(small_shapes), name="split", **kw), paths, resume=True)
    steps = [e.step for e in resumed if e.kind == "step"]
    assert steps[0] == 3  # continues, not restarts
    res2 = resumed[-1].result
    assert res2.weights_digest == full.weights_digest
    assert [h["train_loss"] for h in res2.history] == [h["train_loss"] for h in full.history]
    assert res2.val == full.val and res2.best_epoch == full.best_epoch
    a = load_checkpoint(full.path)
    b = load_checkpoint(res2.path)
    assert weights_digest(a) == weights_digest(b) == full.weights_digest

    # A finished run can be continued for more epochs.
    more = run_events(TrainOptions(str(small_shapes), name="split", **{**kw, "epochs": 3}), paths, resume=True)
    assert [h["epoch"] for h in more[-1].result.history] == [1, 2, 3]


def test_nan_loss_stops_with_clear_message_and_keeps_last_good_checkpoint(small_shapes, tiny_base, paths):
    kw = dict(base=tiny_base, batch_size=8, num_workers=0, warmup_steps=0, zero_shot=False)
    first = train_to_end(TrainOptions(str(small_shapes), name="boom", epochs=1, **kw), paths)
    good = json.loads((ModelStore(paths).folder("boom") / "config.json").read_text())["fingerprint"]
    state_before = read_run(paths, "boom")
    huge = dict(head_lr=1e30, image_lr=1e30, text_lr=1e30)
    with pytest.raises(TrainingError) as e:
        run_events(TrainOptions(str(small_shapes), name="boom", epochs=3, **huge, **kw), paths, resume=True)
    msg = str(e.value)
    assert "loss became" in msg and ("nan" in msg or "inf" in msg)
    assert "end of epoch 1" in msg and "--resume" in msg and "\n" not in msg
    after = read_run(paths, "boom")
    assert after["epoch"] == 2 and after["batch"] == 0 and after["history"] == state_before["history"]
    model = ModelStore(paths).load("boom", device="cpu")
    assert model.config.fingerprint == good
    assert all(torch.isfinite(v).all() for v in model.state_dict().values() if v.is_floating_point())
    # ... and resuming with sane learning rates carries on from that checkpoint.
    ok = train_to_end(TrainOptions(str(small_shapes), name="boom", epochs=2, **kw), paths, resume=True)
    assert [h["epoch"] for h in ok.history] == [1, 2] and ok.history[0] == first.history[0]
    assert all(math.isfinite(h["train_loss"]) for h in ok.history)


def test_bad_options_names_and_resume_mismatch(small_shapes, tiny_base, paths):
    base = dict(base=tiny_base, num_workers=0, zero_shot=False, batch_size=8)
    with pytest.raises(TrainingError, match="epochs must be at least 1"):
        run_events(TrainOptions(str(small_shapes), epochs=0, **base), paths)
    with pytest.raises(TrainingError, match="head_lr must be a finite"):
        run_events(TrainOptions(str(small_shapes), head_lr=float("nan"), **base), paths)
    with pytest.raises(TrainingError, match="built-in"):
        run_events(TrainOptions(str(small_shapes), name="starter", **base), paths)
    with pytest.raises(TrainingError, match="no interrupted run"):
        run_events(TrainOptions(str(small_shapes), name="never", **base), paths, resume=True)
    from photosearch.errors import DatasetError

    with pytest.raises(DatasetError, match="fewer than one batch"):
        run_events(TrainOptions(str(small_shapes), **{**base, "batch_size": 500}), paths)
    res = train_to_end(TrainOptions(str(small_shapes), epochs=1, **base), paths)
    assert res.model == "tinybase-ft"  # default name from the base
    with pytest.raises(TrainingError, match="already exists"):
        run_events(TrainOptions(str(small_shapes), name="tinybase-ft", epochs=1, **base), paths)
    with pytest.raises(TrainingError, match="cannot resume.*batch_size"):
        run_events(TrainOptions(str(small_shapes), name="tinybase-ft", epochs=2, **{**base, "batch_size": 4}),
                   paths, resume=True)
    # the next default name does not collide
    res2 = train_to_end(TrainOptions(str(small_shapes), epochs=1, **base), paths)
    assert res2.model == "tinybase-ft-2"


def tiny_clip(tmp_path):
    """A tiny random transformers CLIP (family hf_clip) whose tokenizer knows the shapes' words."""
    from helpers import tiny_clip_folder
    from photosearch.model.checkpoint import build_model
    from photosearch.model.config import FAMILY_HF_CLIP, ModelConfig

    words = ["red", "green", "blue", "yellow", "circle", "square", "triangle", "top", "bottom"]
    src = tiny_clip_folder(tmp_path / "tiny-clip", words)
    return build_model(ModelConfig(name="tinyclip", family=FAMILY_HF_CLIP, hf_clip_name=str(src))).eval()


@pytest.mark.parametrize("family", ["dual", "hf_clip"])
def test_frozen_training_from_cache_matches_the_saved_model(family, small_shapes, tmp_path, paths):
    """Frozen-encoder epochs run on cached tower features; the recall measured from the cache must be what
    the saved model, run end to end on pixels and text, gets - for both model families."""
    from helpers import tiny_model

    model = tiny_model(tmp_path) if family == "dual" else tiny_clip(tmp_path)
    base = str(ModelStore(paths).save(model, f"base-{family}"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = train_to_end(TrainOptions(str(small_shapes), base=base, name=f"fz-{family}", epochs=2, batch_size=8,
                                    freeze_encoders=True, num_workers=0, head_lr=1e-2), paths)
    tuned = ModelStore(paths).load(f"fz-{family}", device="cpu")
    direct = evaluate(tuned, small_shapes, split="val")
    best = res.history[res.best_epoch]["val"]
    for k in ("text_to_image", "image_to_text"):
        for r in ("R@1", "R@5", "R@10"):
            assert abs(direct[k][r] - best[k][r]) <= 100 / direct["images"] + 1e-9, (direct, best)
    # only the heads and the temperature changed
    groups = tuned.param_groups()
    names = {id(p): n for n, p in tuned.named_parameters()}
    enc = {names[id(p)] for p in groups["image_encoder"] + groups["text_encoder"]}
    after = tuned.state_dict()
    assert all(torch.equal(before[n], after[n]) for n in enc)
    heads = {names[id(p)] for p in groups["heads"]}
    assert any(not torch.equal(before[n], after[n]) for n in heads)


@pytest.mark.slow
def test_tutorial_towers_from_local_files(small_shapes, tmp_path, paths):
    """--base tutorial with a local text-tower folder and local ResNet50 weights: no hub needed."""
    import timm
    from safetensors.torch import save_file

    from helpers import tiny_text_folder

    from transformers import AutoConfig, AutoModel

    torch.manual_seed(0)
    bert = tiny_text_folder(tmp_path / "bert")  # a transformers folder with weights, as a local copy would be
    AutoModel.from_config(AutoConfig.from_pretrained(str(bert))).save_pretrained(str(bert))
    weights = tmp_path / "resnet50.safetensors"
    save_file({k: v.contiguous() for k, v in timm.create_model("resnet50").state_dict().items()}, str(weights))
    res = train_to_end(TrainOptions(str(small_shapes), base="tutorial", name="tut", epochs=1, batch_size=4,
                                    freeze_encoders=True, num_workers=0, max_images=8, zero_shot=False,
                                    text_tower=str(bert),
                                    image_weights=str(weights)), paths)
    model = ModelStore(paths).load("tut", device="cpu")
    assert res.model == "tut" and model.config.image.timm_name == "resnet50" and model.embed_dim == 256
    assert model.config.text.pooling == "cls"
    w = model.image_encoder.model.conv1.weight
    src = timm.create_model("resnet50")
    from safetensors.torch import load_file

    assert torch.equal(w, load_file(str(weights))["conv1.weight"]) and not torch.equal(w, src.conv1.weight)
    with pytest.raises(TrainingError, match="use --base tutorial"):
        list(train(TrainOptions(str(small_shapes), base="starter", text_tower=str(tmp_path)), paths))


@pytest.mark.parametrize("family", ["dual", "hf_clip"])
def test_full_finetune_trains_every_group_and_saves_the_best_epoch(family, small_shapes, tmp_path, paths):
    from helpers import tiny_model

    model = tiny_model(tmp_path) if family == "dual" else tiny_clip(tmp_path)
    base = str(ModelStore(paths).save(model, f"base-{family}"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = train_to_end(TrainOptions(str(small_shapes), base=base, name=f"ft-{family}", epochs=2, batch_size=8,
                                    num_workers=0, image_lr=1e-3, text_lr=1e-3, zero_shot=False), paths)
    tuned = ModelStore(paths).load(f"ft-{family}", device="cpu")
    assert weights_digest(tuned) == res.weights_digest
    assert evaluate(tuned, small_shapes, split="val") | {"model": None} == \
        res.history[res.best_epoch - 1]["val"] | {"model": None}
    names = {id(p): n for n, p in tuned.named_parameters()}
    after = tuned.state_dict()
    for group, params in tuned.param_groups().items():
        assert any(not torch.equal(before[names[id(p)]], after[names[id(p)]]) for p in params), group
