"""The command line contract (subprocess), including kill -9 in the middle of indexing and resuming."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from helpers import cli_env
from libhelpers import pattern, write_hostile, write_jpeg
from PIL import Image


def _run(home, *args, timeout=180):
    return subprocess.run([sys.executable, "-m", "photosearch", *map(str, args)], env=cli_env(home),
                          capture_output=True, text=True, timeout=timeout)


def _count(db: Path, sql: str) -> int:
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return c.execute(sql).fetchone()[0]
        finally:
            c.close()
    except sqlite3.Error:
        return 0


def test_kill_9_mid_index_then_resume(tmp_path, home, tiny):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    pics = tmp_path / "pics"
    pics.mkdir()
    # PNGs decode slowly enough (no draft) that the run is still going when the first batch is committed.
    sources = []
    for i in range(8):
        src = tmp_path / f"src{i}.png"
        Image.fromarray(np.asarray(Image.fromarray(pattern(i, (96, 72))).resize((800, 600)))).save(src,
                                                                                                   compress_level=1)
        sources.append(src)
    n = 120
    for i in range(n):
        shutil.copy(sources[i % len(sources)], pics / f"img{i:04d}.png")
    db = tmp_path / "lib.db"
    args = ["--library", db, "index", pics, "--model", model_dir, "--no-text", "--batch-size", "4", "--workers", "1",
            "--json"]
    proc = subprocess.Popen([sys.executable, "-m", "photosearch", *map(str, args)], env=cli_env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while _count(db, "SELECT count(*) FROM embeddings") == 0:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no batch committed in time"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    committed = _count(db, "SELECT count(*) FROM embeddings")
    assert 0 < committed < n, "the run finished before it could be killed; the test proves nothing"
    assert _count(db, "SELECT count(*) FROM photos") == committed  # no photo without its vector

    r = _run(home, *args[:-3], "--workers", "2", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert set(rep) >= {"indexed", "unchanged", "moved", "removed", "skipped", "seconds", "images_per_second"}
    assert rep["unchanged"] >= committed  # committed work was not redone
    assert rep["indexed"] + rep["unchanged"] == n and rep["skipped"] == []
    assert _count(db, "SELECT count(*) FROM photos") == n
    assert _count(db, "SELECT count(DISTINCT path) FROM photos") == n
    assert _count(db, "SELECT count(*) FROM embeddings") == n


def test_cli_index_search_status_folders(tmp_path, home, tiny):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(5):
        write_jpeg(pics / f"p{i}.jpg", i, exif_date=f"202{i}:01:01 00:00:00")
    write_hostile(pics / "bad")
    db = tmp_path / "lib.db"
    lib = ["--library", db]

    r = _run(home, *lib, "index", pics, "--model", model_dir)  # human output: progress on stderr
    assert r.returncode == 0, r.stderr
    assert "indexed 5" in r.stdout and "skipped" in r.stderr
    assert "img/s" in r.stderr and "ETA" in r.stderr  # the progress bar

    r = _run(home, *lib, "status")
    assert r.returncode == 0 and "photos: 5" in r.stdout and "truncated.jpg" in r.stdout

    r = _run(home, *lib, "search", "a photo", "--model", model_dir, "--top", "3", "--json")
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert len(hits) == 3 and all(Path(h["path"]).is_absolute() and isinstance(h["score"], float) for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)

    r = _run(home, *lib, "search", "--like", pics / "p2.jpg", "--after", "2022-01-01", "--model", model_dir,
             "--json")
    hits = json.loads(r.stdout)
    assert hits[0]["path"] == str(pics / "p2.jpg") and len(hits) == 3

    r = _run(home, *lib, "search", "--model", model_dir)  # no query: the library, newest first
    assert r.returncode == 0 and r.stdout.splitlines()[0].endswith("p4.jpg") and "2024-01-01" in r.stdout

    r = _run(home, *lib, "status", "--json")
    st = json.loads(r.stdout)
    assert st["photos"] == 5 and st["folders"] == [str(pics)]
    assert len(st["skipped"]) == 5 and all(s["reason"] for s in st["skipped"])
    assert list(st["models"].values()) == [5]

    r = _run(home, *lib, "folders", "remove", pics, "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == []
    r = _run(home, *lib, "folders", "add", tmp_path / "nowhere")
    assert r.returncode == 1 and "not a folder" in r.stderr and r.stderr.count("\n") == 1

    (tmp_path / "foreign.db").write_text("hello")
    r = _run(home, "--library", tmp_path / "foreign.db", "status")
    assert r.returncode == 1 and "not a SQLite database" in r.stderr
