"""The command line's torch-free text search (issue #20 item 12): the text tower through ONNX Runtime gives
torch's vectors and torch's result order on real photos, a CLI text search does not import torch, a search
that needs an image encoded falls back to the full model, and a fast path never serves other weights."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import cli_env
from photosearch.library import Library, Query
from photosearch.model import text_onnx
from photosearch.paths import app_paths

QUERIES = ("a flower", "a cat", "the moon", "coins", "a woman in uniform", "space", "a red flower + garden - leaf",
           "ein Hund am Strand")


@pytest.fixture(scope="module")
def fast_home(tmp_path_factory, starter_model, photo_dir):
    """A home whose store holds the starter (its files linked from the session's build, its fast text path
    written here) and whose library has the real photos indexed with it."""
    home = tmp_path_factory.mktemp("fast-home")
    paths = app_paths(home)
    folder = paths.models / "starter"
    folder.mkdir(parents=True)
    for p in starter_model.checkpoint_folder.iterdir():
        if p.name != text_onnx.FAST_DIR:
            (folder / p.name).symlink_to(p)
    text_onnx.export_text(starter_model, folder)
    with Library.open(paths.library_db) as lib:
        lib.run_index(starter_model, [str(photo_dir)])
    return home


def _run(home, *args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=cli_env(home), timeout=600)


def test_onnx_text_vectors_and_search_order_equal_torchs(fast_home, starter_model, captioned_photos):
    paths = app_paths(fast_home)
    fast = text_onnx.open_text_model(paths.models / "starter")
    assert fast is not None and fast.model_id == starter_model.model_id
    texts = [c for _, c in captioned_photos] + list(QUERIES)
    ref, got = starter_model.embed_texts(texts).numpy(), fast.embed_texts(texts)
    assert got.shape == ref.shape
    assert float(1 - (ref * got).sum(-1).min()) <= text_onnx.MAX_COSINE_GAP
    for q in QUERIES:  # separate libraries: each keeps its own cache of query vectors
        with Library.open(paths.library_db, read_only=True) as a, Library.open(paths.library_db, read_only=True) as b:
            want, have = a.search(starter_model, Query.of(q, top_k=30)), b.search(fast, Query.of(q, top_k=30))
        assert len(want) >= 10
        assert [h.path for h in have] == [h.path for h in want], q
        assert [h.relevant for h in have] == [h.relevant for h in want], q
        assert np.allclose([h.score for h in have], [h.score for h in want], atol=1e-5), q


def test_cli_text_search_answers_without_importing_torch(fast_home, starter_model):
    r = _run(fast_home, "-X", "importtime", "-m", "photosearch", "search", "a flower", "--top", "5", "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert {"numpy", "onnxruntime", "photosearch.model.text_onnx"} <= imported  # the probe sees imports
    assert not imported & {"torch", "transformers", "timm"}
    with Library.open(app_paths(fast_home).library_db, read_only=True) as lib:
        want = lib.search(starter_model, Query.of("a flower", top_k=5))
    assert [h["path"] for h in json.loads(r.stdout)] == [h.path for h in want]


def test_a_search_that_needs_an_image_encoded_uses_the_full_model(fast_home, starter_model, photo_dir, tmp_path):
    outside = tmp_path / "outside.jpg"  # not in the library: its vector must be computed
    outside.write_bytes((photo_dir / "coffee.jpg").read_bytes())
    fast = text_onnx.open_text_model(app_paths(fast_home).models / "starter")
    with Library.open(app_paths(fast_home).library_db, read_only=True) as lib:
        with pytest.raises(text_onnx.NeedsFullModel):
            lib.search(fast, Query.of(None, like=str(outside)))
        want = lib.search(starter_model, Query.of(None, like=str(outside), top_k=3))
    r = _run(fast_home, "-m", "photosearch", "search", "--like", str(outside), "--top", "3", "--json")
    assert r.returncode == 0 and r.stderr == "", r.stderr[-2000:]
    hits = json.loads(r.stdout)
    assert [h["path"] for h in hits] == [h.path for h in want] and hits[0]["path"].endswith("coffee.jpg")


def test_a_fast_path_serves_only_the_weights_it_was_made_from(tmp_path, tiny):
    from photosearch.model.checkpoint import WEIGHTS_FILE, load_checkpoint, save_checkpoint

    assert text_onnx.WEIGHTS_FILE == WEIGHTS_FILE
    folder = save_checkpoint(tiny, tmp_path / "m")
    model = load_checkpoint(folder)
    assert text_onnx.open_text_model(folder) is None  # none yet: the caller loads the full model
    assert text_onnx.ensure_text_export(model)
    graph = folder / text_onnx.FAST_DIR / text_onnx.GRAPH_FILE
    made = graph.stat().st_mtime_ns
    assert text_onnx.ensure_text_export(model) and graph.stat().st_mtime_ns == made  # written once
    fast = text_onnx.open_text_model(folder)
    texts = ["a dog", "a cat on a mat", ""]
    assert float(1 - (fast.embed_texts(texts) * model.embed_texts(texts).numpy()).sum(-1).min()) <= 1e-5

    weights = folder / WEIGHTS_FILE  # the weights file replaced (same name, same config): not served
    weights.write_bytes(weights.read_bytes())
    assert text_onnx.open_text_model(folder) is None
    assert text_onnx.ensure_text_export(model) and text_onnx.open_text_model(folder) is not None
    graph.write_bytes(b"not a graph")  # damaged: None, not an error
    assert text_onnx.open_text_model(folder) is None
    save_checkpoint(model, folder)  # saved again (a fine-tune): the folder starts without a fast path
    assert not (folder / text_onnx.FAST_DIR).exists() and text_onnx.open_text_model(folder) is None
