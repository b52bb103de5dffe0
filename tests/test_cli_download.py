"""`photosearch models --download / --use / --json` against a hub on 127.0.0.1, as a user runs them, and the
fallback when the active model does not load."""

import json
import subprocess
import sys
import time

import torch

from helpers import cli_env
from hubserver import HubServer
from tiny_families import build


def run(env, *args):
    return subprocess.run([sys.executable, "-m", "photosearch", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_download_then_use_a_catalog_model(tmp_path):
    src = build("siglip", tmp_path / "siglip")
    env = cli_env(tmp_path / "home")
    env.update(HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="0", HF_ENDPOINT="http://127.0.0.1:9")
    rows = {r["name"]: r for r in json.loads(run(env, "models", "--json").stdout)}
    assert {"clip-vit-b32", "clip-vit-b16", "clip-vit-l14", "siglip-b16-224", "siglip2-b16-224",
            "siglip-b16-256-multilingual", "starter", "tutorial"} <= set(rows)
    sig = rows["siglip-b16-224"]
    assert not sig["downloaded"] and sig["size_bytes"] > 500e6 and sig["source"] == "google/siglip-base-patch16-224"
    assert rows["starter"]["downloaded"]
    # not on disk: cannot be made active
    p = run(env, "models", "--use", "siglip-b16-224")
    assert p.returncode == 1 and p.stderr.strip() == ("photosearch: error: siglip-b16-224 is not downloaded yet: run "
                                                      "`photosearch models --download siglip-b16-224`, then choose it")
    # offline: one clear line within seconds
    t = time.monotonic()
    p = run(env, "models", "--download", "siglip-b16-224")
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "cannot reach the model hub" in p.stderr and "Traceback" not in p.stderr
    assert time.monotonic() - t < 30  # includes starting Python
    with HubServer({"google/siglip-base-patch16-224": src}) as hub:
        env["HF_ENDPOINT"] = hub.url
        p = run(env, "models", "--download", "siglip-b16-224", "--use", "siglip-b16-224", "--json")
    assert p.returncode == 0, p.stderr
    rows = {r["name"]: r for r in json.loads(p.stdout)}
    assert rows["siglip-b16-224"]["downloaded"] and rows["siglip-b16-224"]["active"]
    assert 0 < rows["siglip-b16-224"]["size_bytes"] < 10e6  # the tiny model's size on disk, not the catalog's
    env.update(HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9")
    p = run(env, "embed-text", "a red flower", "--json")  # the active model, offline
    assert p.returncode == 0, p.stderr
    assert len(json.loads(p.stdout)[0]["embedding"]) == 32


def test_active_model_that_fails_to_load_falls_back_to_the_last_one_that_worked(tmp_path, home):
    from helpers import tiny_model
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    store = ModelStore(app_paths(home))
    store.save(tiny_model(tmp_path, seed=0), "good")
    store.save(tiny_model(tmp_path, seed=1), "flaky")
    store.set_active("good")
    first = store.load_active(device="cpu")
    assert first.name == "good" and first.fallback_reason is None
    store.set_active("flaky")
    (store.folder("flaky") / "model.safetensors").write_bytes(b"not weights")
    loaded = store.load_active(device="cpu")
    assert loaded.name == "good" and "flaky could not be loaded" in loaded.fallback_reason
    assert loaded.fallback_reason.endswith("using good")
    assert torch.allclose(loaded.model.embed_texts(["a cat"]), first.model.embed_texts(["a cat"]))
    assert store.active() == "flaky"  # the user's choice is kept; fixing the files brings it back
    # the command line says so on stderr and still answers
    p = run(cli_env(home), "embed-text", "a cat", "--json")
    assert p.returncode == 0 and "note: flaky could not be loaded" in p.stderr
    assert len(json.loads(p.stdout)[0]["embedding"]) == 16


def _siglip1_style(tmp_path):
    """A tiny SigLIP laid out like google/siglip-base-patch16-224: a SentencePiece spiece.model and no
    tokenizer.json, which transformers reads only with the sentencepiece package."""
    src = build("siglip", tmp_path / "siglip1")
    (src / "tokenizer.json").unlink()
    (src / "spiece.model").write_bytes(b"\x0a\x0bnot a real sentencepiece model")
    cfg = json.loads((src / "tokenizer_config.json").read_text())
    (src / "tokenizer_config.json").write_text(json.dumps({**cfg, "tokenizer_class": "SiglipTokenizer"}))
    return src


def test_a_siglip_tokenizer_without_sentencepiece_fails_with_one_line_before_downloading(tmp_path):
    import importlib.util

    import pytest

    if importlib.util.find_spec("sentencepiece") is not None:
        pytest.skip("sentencepiece is installed here")
    from photosearch.errors import ModelError
    from photosearch.model.config import ModelConfig
    from photosearch.model.hf_clip import HFClip

    src = _siglip1_style(tmp_path)
    env = cli_env(tmp_path / "home")
    env.update(HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="0")
    with HubServer({"google/siglip-base-patch16-224": src}) as hub:
        env["HF_ENDPOINT"] = hub.url
        p = run(env, "models", "--download", "siglip-b16-224")
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "needs the sentencepiece package" in p.stderr and "pip install sentencepiece" in p.stderr
    assert not [r for r in hub.requests if "/resolve/" in r]  # said before any file was fetched
    # a folder already on disk: loading says the same in one line
    try:
        HFClip(ModelConfig(name="s1", hf_clip_name=str(src)))
    except ModelError as e:
        assert "needs the sentencepiece package" in str(e) and "\n" not in str(e)
    else:
        raise AssertionError("loaded without sentencepiece")
