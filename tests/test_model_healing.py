"""Models and caches that heal themselves or refuse clearly (issue #24 items 10 and 11): a missing model folder
does not cost the user's choice, damaged starter weights and a damaged ONNX graph are made again with one line
saying so, and a hub model whose weights do not cover it, or whose config asks for more memory than there is,
is refused instead of installed as "ready" or killed while building."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import torch

from helpers import cli_env, tiny_model
from hubserver import HubServer
from tiny_families import build

from photosearch.model.store import ModelStore
from photosearch.paths import app_paths


def test_a_missing_model_folder_falls_back_for_one_run_and_keeps_the_choice(tmp_path, home):
    from photosearch.session import load_model

    paths = app_paths().ensure()
    store = ModelStore(paths)
    store.save(tiny_model(tmp_path, seed=0), "good")
    store.save(tiny_model(tmp_path, seed=1), "mine")
    store.set_active("good")
    store.load_active(device="cpu")  # "good" is the last model that worked
    store.set_active("mine")
    shutil.move(store.folder("mine"), tmp_path / "away")  # e.g. its drive is not mounted for a while
    assert store.active() == "mine"
    notes = []
    loaded = load_model(paths, device="cpu", on_note=notes.append)
    assert loaded.name == "good" and len(notes) == 1
    assert "mine could not be loaded" in notes[0] and "missing" in notes[0] and notes[0].endswith("using good")
    assert store.active() == "mine"  # the fallback was for this run only
    shutil.move(tmp_path / "away", store.folder("mine"))
    back = load_model(paths, device="cpu")
    assert back.name == "mine" and back.note is None


def test_deleting_the_active_model_gives_the_choice_back_to_the_starter(tmp_path, home):
    store = ModelStore(app_paths().ensure())
    store.save(tiny_model(tmp_path), "mine")
    store.set_active("mine")
    store.delete("mine")
    assert store.active() == "starter"


def test_damaged_starter_weights_are_built_again_with_one_line(tmp_path, home, monkeypatch):
    import photosearch.model.starter as starter

    # The real starter takes a minute to build; what is tested here is the store's healing, not the builder.
    monkeypatch.setattr(starter, "build_starter", lambda progress=None: tiny_model(tmp_path, name="starter"))
    store = ModelStore(app_paths().ensure())
    first = store.load("starter", device="cpu")
    weights = store.folder("starter") / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # cut short (a full disk, a crash while copying)
    lines = []
    healed = store.load("starter", device="cpu", progress=lines.append)
    assert len(lines) == 1 and "damaged" in lines[0] and "building it again" in lines[0]
    assert torch.allclose(healed.embed_texts(["a cat"]), first.embed_texts(["a cat"]))
    assert store.load("starter", device="cpu", progress=lines.append) is not None and len(lines) == 1  # healed


def test_a_damaged_onnx_graph_is_exported_again_with_one_line(tmp_path):
    from photosearch.model.onnx_backend import GRAPH_FILE, attach_backend, tower_folder

    model = tiny_model(tmp_path)
    model.config.fingerprint = "c" * 64
    cache = tmp_path / "onnx"
    px = torch.randn(2, 3, 64, 64)
    assert attach_backend(model, "onnx", cache)["image"] == "onnx"
    ref = model.embed_pixels(px)
    for tower in ("image", "text"):
        graph = tower_folder(cache, model, tower) / GRAPH_FILE
        graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 3])
    notes = []
    assert attach_backend(model, "onnx", cache, note=notes.append) == {"image": "onnx", "text": "onnx"}
    assert len(notes) == 2 and all("exporting it again" in n for n in notes)
    assert torch.allclose(model.embed_pixels(px), ref, atol=1e-5)
    # auto (the default) heals too, instead of silently staying on torch for good
    graph = tower_folder(cache, model, "image") / GRAPH_FILE
    graph.write_bytes(b"\x00" * 64)
    notes.clear()
    attach_backend(model, "auto", cache, note=notes.append)
    assert len(notes) == 1 and graph.stat().st_size > 1000


def _cli(env, *args, preexec=None):
    return subprocess.run([sys.executable, "-m", "photosearch", *args], capture_output=True, text=True, env=env,
                          timeout=300, preexec_fn=preexec)


def _hub_env(tmp_path):
    env = cli_env(tmp_path / "home")
    env.update(HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="0")
    return env


def test_hub_weights_that_do_not_cover_the_model_are_refused(tmp_path):
    from safetensors.torch import save_file

    src = build("siglip", tmp_path / "siglip")
    save_file({}, str(src / "model.safetensors"))  # a weights file holding no tensors
    env = _hub_env(tmp_path)
    with HubServer({"someone/empty-weights": src}) as hub:
        env["HF_ENDPOINT"] = hub.url
        p = _cli(env, "models", "--download", "someone/empty-weights")
    errors = [line for line in p.stderr.splitlines() if line.startswith("photosearch: error")]
    assert p.returncode == 1 and len(errors) == 1 and "Traceback" not in p.stderr, p.stderr
    assert "weights do not cover the model" in errors[0] and "refusing random weights" in errors[0]
    rows = {r["name"]: r for r in json.loads(_cli(env, "models", "--json").stdout)}
    assert "someone--empty-weights" not in rows  # nothing installed as "ready"


def _memory_cap():
    import resource

    cap = 6 << 30  # address space: torch and transformers import well within it
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def test_a_config_asking_for_more_memory_than_there_is_is_refused_before_building(tmp_path):
    src = build("siglip", tmp_path / "siglip")
    cfg = json.loads((src / "config.json").read_text())
    cfg["vision_config"].update(hidden_size=16384, intermediate_size=65536, num_hidden_layers=200)
    (src / "config.json").write_text(json.dumps(cfg))
    env = _hub_env(tmp_path)
    with HubServer({"someone/huge": src}) as hub:
        env["HF_ENDPOINT"] = hub.url
        p = _cli(env, "models", "--download", "someone/huge", preexec=_memory_cap)
    errors = [line for line in p.stderr.splitlines() if line.startswith("photosearch: error")]
    assert p.returncode == 1 and len(errors) == 1 and "Traceback" not in p.stderr, p.stderr
    assert "more than this computer's memory" in errors[0] and "refusing to build it" in errors[0]
    assert not os.path.exists(tmp_path / "home" / "data" / "models" / "someone--huge")
