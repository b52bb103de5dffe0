"""Hardening of the command line (issue #10): paths the user gives are checked like scanned files, errors
are one line without raw exception names, a failed creation leaves no empty library behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import cli_env
from libhelpers import write_jpeg


def _run(home, *args, timeout=120, preexec=None):
    return subprocess.run([sys.executable, "-m", "photosearch", *map(str, args)], env=cli_env(home),
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec)


def _one_line(r, *words):
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("photosearch: error: "), r.stderr
    assert "Error" not in lines[0] and "Traceback" not in r.stderr, lines[0]  # no raw exception names
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def indexed(tmp_path, home, tiny):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(3):
        write_jpeg(pics / f"p{i}.jpg", i, exif_date="2020:01:01 00:00:00")
    db = tmp_path / "lib.db"
    from photosearch.library import Library

    with Library.open(db) as library:  # in-process: the commands under test are the later ones
        assert library.run_index(tiny, [str(pics)]).indexed == 3
    return db, model_dir, pics


def test_fifo_and_missing_files_given_on_the_command_line(tmp_path, home, indexed):
    """#10.7, #10.10: `search --like FIFO` and `embed-image FIFO` hung forever; a `--like` file that never
    existed was "vanished during indexing"."""
    db, model_dir, _ = indexed
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    r = _run(home, "--library", db, "search", "--like", fifo, "--model", model_dir, timeout=90)
    _one_line(r, "not a regular file")
    r = _run(home, "embed-image", fifo, "--model", model_dir, timeout=90)
    _one_line(r, "not a regular file")
    r = _run(home, "--library", db, "search", "--like", tmp_path / "never.jpg", "--model", model_dir)
    line = _one_line(r, "no such file")
    assert "vanished" not in line


def test_end_of_time_date_and_bad_model_config_are_one_line(tmp_path, home, indexed):
    """#10.10: `--before 9999-12-31` was an OverflowError; bad model configs raw RuntimeError/TypeError."""
    db, model_dir, _ = indexed
    r = _run(home, "--library", db, "search", "x", "--before", "9999-12-31", "--model", model_dir, "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 3
    cfg = json.loads((model_dir / "config.json").read_text())
    bad = tmp_path / "bad-ckpt"
    bad.mkdir()
    for p in model_dir.iterdir():
        (bad / p.name).symlink_to(p)
    (bad / "config.json").unlink()
    cfg["embed_dim"] = "sixteen"
    (bad / "config.json").write_text(json.dumps(cfg))
    r = _run(home, "--library", db, "search", "x", "--model", bad)
    _one_line(r)


def test_failed_creation_leaves_no_empty_library(tmp_path, home):
    """#10.10: a full disk was reported as a "damaged" library and left a 0-byte lib.db. A file size limit
    of 0 bytes makes every write fail as on a full disk."""
    import resource
    import signal

    def no_room():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    pics = tmp_path / "pics"
    pics.mkdir()
    db = tmp_path / "new" / "lib.db"
    r = _run(home, "--library", db, "folders", "add", pics, preexec=no_room)
    assert r.returncode == 1, r.stderr
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("photosearch: error:")]
    assert len(line) == 1 and "damaged" not in line[0] and ("disk" in line[0] or "write" in line[0]), r.stderr
    assert not db.exists() and list(db.parent.iterdir()) == []
