"""Odd queries get a clear answer: full-width words, bytes that are not UTF-8, absurd weights, an empty
text:"" clause, --less alone, many example photos from outside the library, a read-only library's setting."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import cli_env
from libhelpers import write_jpeg
from texthelpers import sign

from photosearch.library import Library, feedback
from photosearch.library import textindex as ti
from photosearch.library.query import Query
from photosearch.library.search import QueryError, parse_query


def test_text_clauses_full_width_and_empty(tmp_path, tiny, ocr_engine):
    pics = tmp_path / "pics"
    pics.mkdir()
    sign(seed=4, out_size=(640, 480)).save(pics / "sign.jpg", quality=85)
    for i in range(2):
        write_jpeg(pics / f"plain{i}.jpg", i, size=(320, 240))
    with Library.open(tmp_path / "lib.db") as lib:
        list(lib.index(tiny, [str(pics)], text=True, ocr=ocr_engine))
        # Full-width words (NFKC), as a phone keyboard in CJK mode types them.
        assert [Path(h.path).name for h in lib.search(tiny, Query.of("text:ＷＩＦＩ"))] == ["sign.jpg"]
        # An empty clause is an error, not the whole library.
        for q in ('text:""', 'beach text:"  "'):
            with pytest.raises(QueryError, match="no words to look for"):
                lib.search(tiny, Query.of(q))
    assert ti.normalize("Ｔｒａｔｔｏｒｉａ：") == "Trattoria:"  # stored text is normalised the same way


def test_a_huge_weight_is_a_clear_error():
    with pytest.raises(QueryError, match="too large"):
        parse_query("9" * 400 + "*cat")
    assert parse_query("2.5*cat - dog") == [(2.5, "cat"), (-1.0, "dog")]


def test_more_like_photos_outside_the_library_are_embedded_in_batches_and_bounded(tmp_path, tiny, monkeypatch):
    pics, outside = tmp_path / "pics", tmp_path / "outside"
    pics.mkdir()
    outside.mkdir()
    for i in range(4):
        write_jpeg(pics / f"p{i}.jpg", i, size=(160, 120))
    files = [outside / f"o{i:02d}.jpg" for i in range(20)]
    for i, f in enumerate(files):
        write_jpeg(f, 100 + i, size=(160, 120))
    calls = []
    real = tiny.embed_pil
    monkeypatch.setattr(tiny, "embed_pil", lambda imgs, *a, **k: calls.append(len(imgs)) or real(imgs, *a, **k))
    with Library.open(tmp_path / "lib.db") as lib:
        lib.run_index(tiny, [str(pics)])
        calls.clear()
        hits = lib.search(tiny, Query.of("a photo", more=[str(f) for f in files] + [str(pics / "p0.jpg")]))
        assert len(hits) == 4
        assert calls == [feedback.BATCH, 20 - feedback.BATCH]  # two batches; the library photo is read
        monkeypatch.setattr(feedback, "MAX_OUTSIDE", 5)
        calls.clear()
        with pytest.raises(QueryError, match="6 of the example photos are not in the library; at most 5"):
            lib.search(tiny, Query.of("a photo", less=[str(f) for f in files[:6]]))
        assert calls == []  # refused before decoding any


def test_text_setting_on_a_read_only_library_is_one_clear_error(tmp_path):
    with Library.open(tmp_path / "lib.db"):
        pass
    conn = sqlite3.connect(f"file:{tmp_path / 'lib.db'}?mode=ro", uri=True)
    try:
        with pytest.raises(Exception) as e:
            ti.set_enabled(conn, False)
    finally:
        conn.close()
    assert type(e.value).__name__ == "LibraryError"
    assert str(e.value) == "cannot turn the text pass off: the library cannot be written (it is read-only)"


def _cli(home, db, *args):
    return subprocess.run([sys.executable, "-m", "photosearch", "--library", str(db), *args], env=cli_env(home),
                          capture_output=True, timeout=300)


def test_cli_odd_queries(tmp_path, home, tiny):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = str(save_checkpoint(tiny, tmp_path / "tiny-ckpt"))
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(3):
        write_jpeg(pics / f"p{i}.jpg", i, size=(160, 120))
    db = tmp_path / "lib.db"
    assert _cli(home, db, "index", str(pics), "--model", model_dir, "--no-text").returncode == 0
    # A byte that is not UTF-8 (the shell passes it through): searched as text, not a tokenizer crash.
    r = _cli(home, db, "search", b"caf\xff", "--model", model_dir, "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 3
    for args, words in ((["search", "9" * 400 + "*cat"], "too large"),
                        (["search", 'text:""'], "no words to look for"),
                        (["search", "--less", str(pics / "p0.jpg")], "--less sinks photos")):
        r = _cli(home, db, *args, "--model", model_dir)
        err = r.stderr.decode()
        assert r.returncode != 0 and words in err and err.count("\n") == 1 and "Traceback" not in err, err
