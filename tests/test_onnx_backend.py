"""The ONNX Runtime backend (issue #13 section 4): parity with torch on real photos (cosine >= 0.999 and the
same ranking), export cache keyed by the weights, never stale after training, and --backend on the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from helpers import cli_env
from photosearch.model.onnx_backend import GRAPH_FILE, MIN_COSINE, attach_backend, tower_folder


def _images(captioned_photos):
    from PIL import Image

    return [Image.open(p).convert("RGB") for p, _ in captioned_photos]


@pytest.mark.slow
def test_starter_onnx_matches_torch_on_real_photos_with_the_same_ranking(starter_model, captioned_photos,
                                                                         tmp_path):
    m = starter_model
    images = _images(captioned_photos)
    captions = [c for _, c in captioned_photos]
    torch_img, torch_txt = m.embed_pil(images), m.embed_texts(captions)
    try:
        used = attach_backend(m, "onnx", tmp_path / "onnx")
        assert used == {"image": "onnx", "text": "onnx"}
        onnx_img, onnx_txt = m.embed_pil(images), m.embed_texts(captions)
    finally:
        m.set_tower_runners()  # the session-wide starter goes back to torch for the other tests
    assert float((torch_img * onnx_img).sum(-1).min()) >= MIN_COSINE
    assert float((torch_txt * onnx_txt).sum(-1).min()) >= MIN_COSINE
    # The same search results: every caption ranks the photos in the same order (top 5).
    top = lambda q, g: (q @ g.T).argsort(dim=1, descending=True)[:, :5]  # noqa: E731
    assert torch.equal(top(torch_txt, torch_img), top(onnx_txt, onnx_img))
    assert torch.equal(top(torch_txt, torch_img), top(torch_txt, onnx_img))


def test_every_family_exports_with_parity(tmp_path, captioned_photos):
    from helpers import tiny_clip_folder, tiny_model

    from photosearch.model.config import ModelConfig
    from photosearch.model.hf_clip import HFClip

    images = _images(captioned_photos[:6])
    texts = ["a dog", "a cat", "a dog a cat a dog"]
    clip = HFClip(ModelConfig(name="tinyclip", hf_clip_name=str(tiny_clip_folder(tmp_path / "clip"))))
    for model in (tiny_model(tmp_path), clip):
        ref_img, ref_txt = model.embed_pil(images), model.embed_texts(texts)
        assert attach_backend(model, "onnx", tmp_path / "onnx") == {"image": "onnx", "text": "onnx"}
        img, txt = model.embed_pil(images), model.embed_texts(texts)
        assert float((ref_img * img).sum(-1).min()) >= MIN_COSINE, type(model).__name__
        assert float((ref_txt * txt).sum(-1).min()) >= MIN_COSINE, type(model).__name__


def test_graphs_are_cached_by_fingerprint_and_never_serve_changed_weights(tmp_path):
    from helpers import tiny_model

    model = tiny_model(tmp_path)
    model.config.fingerprint = "a" * 64
    cache = tmp_path / "onnx"
    attach_backend(model, "onnx", cache)
    graph = tower_folder(cache, model, "image") / GRAPH_FILE
    first = graph.stat().st_mtime_ns
    assert attach_backend(model, "onnx", cache)["image"] == "onnx"
    assert graph.stat().st_mtime_ns == first  # exported once, reused
    assert not [p for p in graph.parent.parent.iterdir() if p.name.startswith(".")]  # no temp folders left

    px = torch.randn(2, 3, 64, 64)
    assert model._runner("image") is not None
    with torch.no_grad():  # a training step: the exported graph no longer holds these weights
        model.image_projection.projection.weight.mul_(2.0)
    assert model._runner("image") is None
    with torch.no_grad():
        ref = torch.nn.functional.normalize(model.image_features(px), dim=-1)
    assert torch.allclose(model.embed_pixels(px), ref, atol=1e-5)

    model.config.fingerprint = "b" * 64  # other weights, other graph
    assert tower_folder(cache, model, "image") != graph.parent

    # auto measures once and remembers; torch detaches.
    used = attach_backend(model, "auto", cache)
    assert used["text"] == "torch"
    choice = json.loads((tower_folder(cache, model, "image") / "choice.json").read_text())
    assert used["image"] == ("onnx" if choice["use_onnx"] else "torch") and choice["min_cosine"] >= MIN_COSINE
    assert attach_backend(model, "torch", cache) == {"image": "torch", "text": "torch"}
    assert model._runner("image") is None


def _run(home, *args):
    return subprocess.run([sys.executable, "-m", "photosearch", *args], capture_output=True, text=True,
                          env=cli_env(home, own_onnx_cache=True), timeout=300)


def test_cli_backend_flag_gives_the_same_embeddings(home, tmp_path, photo_dir):
    from helpers import tiny_model

    from photosearch.model.checkpoint import save_checkpoint

    folder = save_checkpoint(tiny_model(tmp_path), tmp_path / "tiny-model")
    photo = str(photo_dir / "coffee.jpg")
    out = {}
    for backend in ("torch", "onnx", "auto"):
        p = _run(home, "embed-image", photo, "--model", str(folder), "--backend", backend, "--json")
        assert p.returncode == 0 and p.stderr == "", p.stderr
        out[backend] = torch.tensor(json.loads(p.stdout)[0]["embedding"])
    assert float(out["torch"] @ out["onnx"]) >= MIN_COSINE and float(out["torch"] @ out["auto"]) >= MIN_COSINE
    assert list((home / "cache" / "onnx").rglob(GRAPH_FILE))
    p = _run(home, "embed-text", "a dog", "--model", str(folder), "--backend", "onnx", "--json")
    assert p.returncode == 0 and len(json.loads(p.stdout)[0]["embedding"]) == 16
    p = _run(home, "embed-text", "a dog", "--backend", "fast")
    assert p.returncode == 2 and "invalid choice" in p.stderr


def test_onnx_graphs_can_live_outside_the_home(tmp_path, home, monkeypatch, tiny):
    """``$PHOTOSEARCH_ONNX_CACHE`` moves the exported graphs (several homes can share them: names carry the
    weights' fingerprint); the home's cache then holds none."""
    from photosearch.model.onnx_backend import attach_backend
    from photosearch.paths import app_paths

    monkeypatch.setenv("PHOTOSEARCH_ONNX_CACHE", str(tmp_path / "graphs"))
    paths = app_paths()
    assert paths.onnx_cache == tmp_path / "graphs"
    assert attach_backend(tiny, "onnx", paths.onnx_cache)["image"] == "onnx"
    assert list((tmp_path / "graphs").rglob(GRAPH_FILE)) and not list(home.rglob(GRAPH_FILE))
