"""CLI of the relevance work: search --json flags, --only-relevant, --more/--less, browsing, explain."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers import cli_env
from libhelpers import write_jpeg


def _run(home, *args, timeout=180):
    return subprocess.run([sys.executable, "-m", "photosearch", *map(str, args)], env=cli_env(home),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def indexed(tmp_path, home, tiny):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(8):
        write_jpeg(pics / f"p{i}.jpg", 40 + i, exif_date=f"201{i}:06:01 00:00:00")
    shutil.copy(pics / "p2.jpg", pics / "p2-copy.jpg")
    from photosearch.library import Library

    with Library.open(tmp_path / "lib.db") as library:  # in-process: the commands under test are search's
        assert library.run_index(tiny, [str(pics)]).indexed == 9
    return home, ["--library", tmp_path / "lib.db"], model_dir, pics


def test_search_json_marks_relevance_and_filters(indexed):
    home, lib, model_dir, pics = indexed
    r = _run(home, *lib, "search", "--like", pics / "p3.jpg", "--model", model_dir, "--json")
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert all({"path", "score", "relevant"} <= set(h) and isinstance(h["relevant"], bool) for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert len(hits) == 8  # p2 and its copy are one result
    assert [len(h["copies"]) for h in hits if h["path"].endswith("p2.jpg") or "copy" in h["path"]] == [1]
    r = _run(home, *lib, "search", "--like", pics / "p3.jpg", "--model", model_dir, "--json", "--only-relevant")
    only = json.loads(r.stdout)
    assert only == [h for h in hits if h["relevant"]]
    r = _run(home, *lib, "search", "a photo", "--model", model_dir, "--json", "--min-score", "0.999")
    assert r.returncode == 0 and all(h["relevant"] for h in json.loads(r.stdout))


def test_feedback_and_browse_and_filter_notes(indexed):
    home, lib, model_dir, pics = indexed
    r = _run(home, *lib, "search", "a photo", "--model", model_dir, "--json")
    first = json.loads(r.stdout)[0]["path"]
    r = _run(home, *lib, "search", "a photo", "--model", model_dir, "--json", "--less", first,
             "--more", pics / "p5.jpg")
    assert r.returncode == 0, r.stderr
    paths = [h["path"] for h in json.loads(r.stdout)]
    assert first not in paths and paths
    r = _run(home, *lib, "search", "a photo", "--model", model_dir, "--less", pics / "missing.jpg")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    r = _run(home, *lib, "search", "--model", model_dir, "--json")  # no query: the library, newest first
    dates = [h["date"] for h in json.loads(r.stdout)]
    assert dates == sorted(dates, reverse=True) and dates[0].startswith("2017")
    r = _run(home, *lib, "search", "a photo", "--model", model_dir, "--after", "2030-01-01")
    assert r.returncode == 0 and "no photos taken on or after 2030-01-01" in r.stderr


def test_explain_reports_the_score_search_shows(indexed, tmp_path):
    """Issue 20.9: explain said 0.690 where search said 0.695 for the same photo and query."""
    home, lib, model_dir, pics = indexed
    r = _run(home, *lib, "search", "a photo", "--model", model_dir, "--json", "--all-copies")
    shown = {h["path"]: h["score"] for h in json.loads(r.stdout)}
    r = _run(home, *lib, "explain", "a photo", pics / "p6.jpg", "--model", model_dir, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["score"] == shown[str(pics / "p6.jpg")] and d["in_library"] and d["heatmap"] == []
    outside = tmp_path / "outside.jpg"
    shutil.copy(pics / "p1.jpg", outside)  # not in the library: scored as search would score it
    r = _run(home, *lib, "explain", "a photo", outside, "--model", model_dir)
    score = float(r.stdout.split()[1])
    assert abs(score - shown[str(pics / "p1.jpg")]) < 0.01 and "not in the library" in r.stdout  # float16 vectors


@pytest.mark.slow
def test_explain_json(tmp_path, home, shared_home, starter_model):  # starter_model: built once, in process
    import skimage.data
    from PIL import Image

    img = tmp_path / "rocket.png"
    Image.fromarray(skimage.data.rocket()).save(img)
    env_home = shared_home  # the session's starter model store: built once
    r = subprocess.run([sys.executable, "-m", "photosearch", "explain", "a rocket", img, "--json", "--heatmap"],
                       env=cli_env(env_home), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert set(d) == {"score", "concepts", "heatmap", "in_library"} and 0 <= d["score"] <= 1
    assert d["concepts"] and all({"label", "weight"} <= set(c) for c in d["concepts"])
    hm = np.array(d["heatmap"])
    assert hm.ndim == 2 and hm.shape[0] == hm.shape[1]
    r = subprocess.run([sys.executable, "-m", "photosearch", "explain", "a rocket", tmp_path / "nope.png"],
                       env=cli_env(env_home), capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and r.stderr.count("\n") == 1
