"""The train / eval command lines (the contract other tools check) and the torchrun (DDP) code path."""

import json
import os
import subprocess
import sys

import pytest

from helpers import cli_env, tiny_model
from photosearch.model.checkpoint import load_checkpoint
from photosearch.model.store import ModelStore
from photosearch.paths import app_paths
from photosearch.train.synthetic import make_shapes_dataset
from photosearch.train.trainer import weights_digest


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes_dataset(tmp_path_factory.mktemp("shapes"), n_images=40)


def run_cli(home, *args, timeout=300, env_extra=None):
    env = cli_env(home)
    env.update({"OMP_NUM_THREADS": "1", **(env_extra or {})})
    return subprocess.run([sys.executable, "-m", "photosearch", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_cli_train_then_eval_json_contract(shapes, tmp_path, home):
    paths = app_paths(home).ensure()
    ModelStore(paths).save(tiny_model(tmp_path), "tinybase")
    r = run_cli(home, "train", "--data", str(shapes), "--base", "tinybase", "--epochs", "2", "--batch-size", "8",
                "--name", "cli-tiny", "--device", "cpu", "--workers", "0", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["model"] == "cli-tiny" and out["epochs"] == 2 and out["best_epoch"] in (1, 2)
    assert out["path"] == str(paths.models / "cli-tiny")
    val = out["val"]
    assert val["images"] == 8 and val["captions"] == 40
    assert set(val["text_to_image"]) == {"R@1", "R@5", "R@10"} == set(val["image_to_text"])
    assert "zero-shot" in r.stderr and "epoch 2 val" in r.stderr  # progress on stderr, not stdout
    # the fine-tune is a model like any other: listed, selectable
    infos = {i.name: i for i in ModelStore(paths).list()}
    assert infos["cli-tiny"].installed and "Fine-tuned from tinybase" in infos["cli-tiny"].description
    ModelStore(paths).set_active("cli-tiny")

    r = run_cli(home, "eval", "--data", str(shapes), "--split", "test", "--json")  # the active model
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout.strip().splitlines()[-1])
    assert ev["images"] == 8 and ev["captions"] == 40 and ev["split"] == "test"
    for k in ("text_to_image", "image_to_text"):
        assert all(0 <= ev[k][x] <= 100 for x in ("R@1", "R@5", "R@10"))
        assert ev[k]["R@1"] <= ev[k]["R@5"] <= ev[k]["R@10"]
    assert ev["model"].startswith("cli-tiny@")


def test_cli_bad_data_is_one_line_exit_1(tmp_path, home):
    (tmp_path / "d" / "Flicker8k_Dataset").mkdir(parents=True)
    (tmp_path / "d" / "dataset_flickr8k.json").write_text(json.dumps({"images": [
        {"filename": "gone.jpg", "split": "train", "sentences": [{"raw": "a cat"}]}]}))
    r = run_cli(home, "eval", "--data", str(tmp_path / "d"), "--model", "starter", "--json")
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("photosearch: error:") and "1 missing images" in lines[0]


@pytest.mark.slow
def test_torchrun_two_processes_gloo(shapes, tmp_path, home):
    """The documented multi-GPU command, on CPU with gloo: both ranks finish with identical weights, and the
    model rank 0 saved is exactly those weights."""
    base = tmp_path / "base"
    ModelStore(app_paths(home).ensure()).save(tiny_model(tmp_path), "tinybase")
    env = cli_env(home)
    env.update({"OMP_NUM_THREADS": "1"})
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        "-m", "photosearch", "train", "--data", str(shapes), "--base", "tinybase", "--epochs", "1",
                        "--batch-size", "4", "--name", "ddp", "--device", "cpu", "--workers", "0",
                        "--no-zero-shot", "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    results = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 1  # one result for the job, from rank 0
    res = results[0]
    assert res["rank"] == 0 and res["world_size"] == 2 and res["model"] == "ddp" and res["best_epoch"] == 1
    ranks = [json.loads(line) for line in r.stderr.splitlines() if line.startswith('{"rank"')]
    assert [x["rank"] for x in ranks] == [1]
    assert ranks[0]["weights_digest"] == res["weights_digest"]
    saved = load_checkpoint(res["path"])
    assert weights_digest(saved) == res["weights_digest"]
    # 24 train images, 2 ranks x 4 per batch: 3 steps, each rank saw different images (global batch of 8)
    rec = json.loads(open(os.path.join(res["path"], "training.json")).read())
    assert rec["world_size"] == 2 and rec["history"][0]["epoch"] == 1
    del base


def test_cli_resume_takes_the_stored_options(shapes, tmp_path, home):
    """An interrupted run resumes from the command line with just --data/--name/--resume: the batch size,
    base and other options it was started with come from the run, not the defaults."""
    import threading

    from photosearch.train import TrainOptions, train

    paths = app_paths(home).ensure()
    ModelStore(paths).save(tiny_model(tmp_path), "tinybase")
    cancel = threading.Event()
    opts = TrainOptions(str(shapes), base="tinybase", name="halfway", epochs=2, batch_size=4, num_workers=0,
                        zero_shot=False, seed=7)
    for ev in train(opts, paths, cancel=cancel):
        if ev.kind == "step" and ev.step == 2:
            cancel.set()
    r = run_cli(home, "train", "--data", str(shapes), "--name", "halfway", "--resume", "--workers", "0", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["model"] == "halfway" and out["epochs"] == 2 and not out["cancelled"]
    assert "resuming halfway at epoch 1, batch 2" in r.stderr
    rec = json.loads((paths.models / "halfway" / "training.json").read_text())
    assert rec["hyperparameters"]["batch_size"] == 4 and rec["hyperparameters"]["seed"] == 7
    # resuming something that does not exist is one clear line
    r = run_cli(home, "train", "--data", str(shapes), "--name", "nothing", "--resume")
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [
        "photosearch: error: no interrupted run named 'nothing' to resume"]
