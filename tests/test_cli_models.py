"""The command-line contract of models / embed-text / embed-image, run as a user would (subprocess)."""

import json
import subprocess
import sys

import pytest

from helpers import cli_env


def run(home, *args, check_rc=None):
    p = subprocess.run([sys.executable, "-m", "photosearch", *args], capture_output=True, text=True,
                       env=cli_env(home), timeout=300)
    if check_rc is not None:
        assert p.returncode == check_rc, (p.returncode, p.stdout, p.stderr)
    return p


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    from helpers import tiny_model
    from photosearch.model.checkpoint import save_checkpoint

    d = tmp_path_factory.mktemp("tiny")
    return save_checkpoint(tiny_model(d), d / "tiny-model")


def test_models_json_lists_starter_as_active_and_offline(home):
    p = run(home, "models", "--json", check_rc=0)
    rows = json.loads(p.stdout)
    starter = next(r for r in rows if r["name"] == "starter")
    assert starter["active"] and starter["offline_ready"] and starter["embed_dim"] == 384
    assert {"name", "family", "embed_dim", "offline_ready", "active"} <= set(starter)


def test_embed_text_json_is_normalised_and_in_input_order(home, tiny_folder):
    texts = ["a dog on the grass", "a boy jumping with a skateboard", "a dog on the grass"]
    p = run(home, "embed-text", *texts, "--model", str(tiny_folder), "--json", check_rc=0)
    rows = json.loads(p.stdout)  # stdout is JSON only
    assert [r["input"] for r in rows] == texts
    norms = [sum(x * x for x in r["embedding"]) ** 0.5 for r in rows]
    assert all(abs(n - 1) < 1e-4 for n in norms)
    assert rows[0]["embedding"] == rows[2]["embedding"] != rows[1]["embedding"]


def test_embed_image_json_and_bad_file_is_one_line_error(home, tiny_folder, photo_dir, tmp_path):
    good = photo_dir / "coffee.jpg"
    p = run(home, "embed-image", str(good), "--model", str(tiny_folder), "--json", check_rc=0)
    rows = json.loads(p.stdout)
    assert rows[0]["input"] == str(good.resolve()) and len(rows[0]["embedding"]) == 16
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(good.read_bytes()[:2000])
    p = run(home, "embed-image", str(bad), "--model", str(tiny_folder), "--json", check_rc=1)
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.jpg" in lines[0] and "truncated" in lines[0]
    assert "Traceback" not in p.stderr


def test_usage_error_exits_2_and_unknown_model_exits_1(home):
    p = run(home, "embed-text")  # missing TEXT
    assert p.returncode == 2
    p = run(home, "embed-text", "hello", "--model", "no-such-model", check_rc=1)
    assert p.stderr.count("\n") == 1 and "unknown model" in p.stderr and "Traceback" not in p.stderr


def test_pickle_offered_as_model_is_refused_on_the_command_line(home, tmp_path):
    import torch

    class Evil:
        def __reduce__(self):
            return (print, ("code ran",))

    bad = tmp_path / "model.pt"
    torch.save({"w": Evil()}, bad)
    p = run(home, "embed-text", "x", "--model", str(bad), check_rc=1)
    assert "refusing" in p.stderr and "code ran" not in p.stdout + p.stderr


def test_models_use_sets_the_active_model(home, tiny_folder):
    from photosearch.model.checkpoint import load_checkpoint
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    ModelStore(app_paths(home)).save(load_checkpoint(tiny_folder), "mine")
    rows = json.loads(run(home, "models", "--use", "mine", "--json", check_rc=0).stdout)
    assert [r["name"] for r in rows if r["active"]] == ["mine"]
    # and embed-text without --model now uses it (16-d tiny vectors, not the starter's 384)
    rows = json.loads(run(home, "embed-text", "hi", "--json", check_rc=0).stdout)
    assert len(rows[0]["embedding"]) == 16
