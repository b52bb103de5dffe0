"""Words in photos: real OCR (RapidOCR's packaged models) on rendered, photographed-looking signs and receipts;
the text pass (resume, changed content, deletion), FTS5 search (prefix, diacritics, phrases) and the CLI."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import cli_env
from libhelpers import write_jpeg
from texthelpers import card, photograph, sign

from photosearch.library import Library
from photosearch.library import textindex as ti
from photosearch.ocr import OcrEngine, bundled_models
from photosearch.library.query import Query


def _words(lines) -> set[str]:
    return {w.strip(":.,").lower() for ln in lines for w in ln.text.split()}


def _receipt(seed=5):
    return photograph(card(["RECEIPT", "Café crème 3.20", "Espresso 2.50", "TOTAL 5.70"], size=40,
                           fontname="DejaVuSansMono.ttf"), seed=seed, out_size=(560, 700))


@pytest.mark.parametrize("rotate", [0, 90, 180])
def test_reads_a_photographed_sign_upright_sideways_and_upside_down(ocr_engine, rotate):
    lines = ocr_engine.read(sign(seed=rotate, rotate=rotate, out_size=(640, 480)))
    assert {"trattoria", "rossi", "wifi", "sunflower42"} <= _words(lines)
    assert all(0.5 <= ln.confidence <= 1 and len(ln.box) == 4 for ln in lines)


def test_read_file_boxes_are_in_original_pixels(tmp_path, ocr_engine):
    from photosearch.ocr import OcrSettings

    p = tmp_path / "big.jpg"
    sign(seed=1, out_size=(2000, 1500)).save(p, quality=90)
    small = OcrEngine(OcrSettings(max_side=1000))  # decodes at half size
    lines = small.read_file(p)
    assert {"trattoria", "rossi"} <= _words(lines)
    xs = [x for ln in lines for x, _ in ln.box]
    assert max(xs) > 1000  # scaled back: the sign spans most of the 2000 px width


def test_models_come_from_the_wheel_with_no_network(tmp_path, monkeypatch):
    models = bundled_models()
    root = next(iter(models.values())).parent
    before = sorted(p.name for p in root.iterdir())

    def refuse(*a, **k):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    e = OcrEngine()
    assert {"receipt", "espresso"} <= _words(e.read(_receipt()))
    assert sorted(p.name for p in root.iterdir()) == before  # nothing downloaded beside them


def test_parse_text_query():
    q = ti.parse_text_query('text:"wifi password"')
    assert q.only and q.visual is None and q.fts == '"wifi password"'
    q = ti.parse_text_query("text:wifi")
    assert q.only and q.fts == '"wifi"*'  # words of 4+ letters match as prefixes too
    q = ti.parse_text_query("beach text:sunset")
    assert q.only and q.visual == "beach" and q.fts == '"sunset"*'
    q = ti.parse_text_query("the receipt from Rossi's")
    assert not q.only and q.visual == "the receipt from Rossi's" and q.fts == '"receipt"* AND "Rossi"* AND "s"'
    q = ti.parse_text_query('sign "platform 9" tratt*')
    assert q.fts == '"platform 9" AND "sign"* AND "tratt"*' and q.visual == "sign platform 9 tratt"
    q = ti.parse_text_query("2*cat - indoor")
    assert q.fts == '"cat"' and q.visual == "2*cat - indoor"  # negative terms are not looked for in text
    assert ti.parse_text_query("a photo of the").fts is None


def test_highlight_spans_fold_case_and_accents():
    text = "Café CRÈME 3.20\nespresso"
    spans = ti.highlight_spans(text, [ti.fold("creme"), "cafe"])
    assert [text[a:b] for a, b in spans] == ["Café", "CRÈME"]
    assert ti.highlight_spans("scream", ["cream"]) == []  # word starts only


def _library(tmp_path, tiny, ocr_engine, batch_size=8):
    pics = tmp_path / "pics"
    pics.mkdir()
    _receipt().save(pics / "receipt.jpg", quality=85)
    photograph(card(["Platform 9", "Departures"], size=60, fg=(240, 240, 240), bg=(20, 40, 110)), seed=2,
               out_size=(640, 480)).save(pics / "station.jpg", quality=85)
    sign(seed=3, out_size=(640, 480)).save(pics / "sign.jpg", quality=85)
    for i in range(3):
        write_jpeg(pics / f"plain{i}.jpg", i, size=(320, 240))
    lib = Library.open(tmp_path / "lib.db")
    return lib, pics


def test_text_pass_then_search_lifts_and_marks_text_matches(tmp_path, tiny, ocr_engine):
    lib, pics = _library(tmp_path, tiny, ocr_engine)
    with lib:
        events = list(lib.index(tiny, [str(pics)], text=True, ocr=ocr_engine))
        assert events[-1].phase == "text-done"
        rep = events[-1].text_report
        assert (rep.read, rep.with_text, rep.failed) == (6, 3, 0)
        assert ti.counts(lib.conn) == {"read": 6, "with_text": 3}
        lines = ti.stored_lines(lib.conn, str(pics / "receipt.jpg"))
        assert "Espresso 2.50" in [ln["text"] for ln in lines]

        # FTS: diacritics folded both ways, prefix queries, phrases.
        def found(fts):
            ids = ti.text_matches(lib.conn, fts)
            return {Path(lib.conn.execute("SELECT path FROM photos WHERE id = ?", (i,)).fetchone()[0]).name
                    for i in ids}

        assert found('"creme"') == {"receipt.jpg"} and found('"CRÈME"') == {"receipt.jpg"}
        assert found('"cafe"') == {"receipt.jpg"}
        assert found('"tratt"*') == {"sign.jpg"} and found('"es"*') == {"receipt.jpg"}
        assert found('"platform 9"') == {"station.jpg"} and found('"9 platform"') == set()

        # A typed query: visual ranking, the photo whose text holds the words lifted first and marked.
        hits = lib.search(tiny, Query.of("espresso", top_k=6))
        assert len(hits) == 6 and Path(hits[0].path).name == "receipt.jpg" and hits[0].text_match
        assert "[Espresso]" in hits[0].snippet and not any(h.text_match for h in hits[1:])
        assert Path(lib.search(tiny, Query.of("Trattoria Rossi", top_k=3))[0].path).name == "sign.jpg"
        # text:"..." searches the text only; filters still apply.
        only = lib.search(tiny, Query.of('text:"platform 9"'))
        assert [Path(h.path).name for h in only] == ["station.jpg"] and only[0].text_match
        assert lib.search(tiny, Query.of("text:tratt*", folder=str(tmp_path / "elsewhere"))) == []
        assert lib.search(tiny, Query.of("text:nowhere")) == []
        assert not any(h.text_match for h in lib.search(tiny, Query.of("a photo", top_k=6)))
        # The "has text" filter; the preview's details carry the lines.
        assert {Path(h.path).name for h in lib.search(tiny, Query.of("a photo", has_text=True))} == {"receipt.jpg",
                                                                                            "station.jpg", "sign.jpg"}
        info = lib.photo_info(pics / "station.jpg")
        assert [ln["text"] for ln in info["text_lines"]][:1] == ["Platform 9"]

        # Nothing left to read; a changed photo is read again; a removed one leaves the text index.
        assert ti.pending(lib.conn, ocr_engine.engine_id) == []
        _receipt(seed=9).save(pics / "plain0.jpg", quality=85)
        list(lib.index(tiny, text=True, ocr=ocr_engine))
        assert found('"espresso"') == {"receipt.jpg", "plain0.jpg"}
        (pics / "receipt.jpg").unlink()
        list(lib.index(tiny, text=False))
        assert found('"espresso"') == {"plain0.jpg"}
        assert lib.conn.execute("SELECT count(*) FROM photo_text").fetchone()[0] == 5


def test_cancelled_text_pass_keeps_its_batches_and_resumes(tmp_path, tiny, ocr_engine):
    lib, pics = _library(tmp_path, tiny, ocr_engine)
    with lib:
        lib.run_index(tiny, [str(pics)])
        cancel = threading.Event()
        seen = []
        for ev in lib.read_text(ocr_engine, batch_size=2, cancel=cancel):
            seen.append(ev)
            if ev.done >= 2:
                cancel.set()
        rep = seen[-1].text_report
        assert rep.cancelled and rep.read == 2 and rep.remaining == 4
        assert lib.conn.execute("SELECT count(*) FROM photo_text").fetchone()[0] == 2
        rep2 = list(lib.read_text(ocr_engine))[-1].text_report
        assert rep2.read == 4 and not rep2.cancelled  # only the rest was read
        assert lib.conn.execute("SELECT count(*) FROM photo_text").fetchone()[0] == 6


def test_kill_9_mid_text_pass_then_resume(tmp_path, home, tiny):
    """A real kill -9 while the text pass commits: every committed row is whole, the rerun reads the rest."""
    import signal
    import time

    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(16):
        write_jpeg(pics / f"p{i:02d}.jpg", i, size=(320, 240))
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:  # the visual index first, so the killed run is in its text pass
        lib.run_index(tiny, [str(pics)])
    base = ["--library", db, "index", pics, "--model", model_dir, "--json"]
    proc = subprocess.Popen([sys.executable, "-m", "photosearch", *map(str, base)], env=cli_env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def count():
        try:
            c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                return c.execute("SELECT count(*) FROM photo_text").fetchone()[0]
            finally:
                c.close()
        except sqlite3.Error:
            return 0

    try:
        deadline = time.monotonic() + 120
        while count() == 0:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no text batch committed in time"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done = count()
    assert 0 < done < 16, "the pass finished before it could be killed; the test proves nothing"
    r = subprocess.run([sys.executable, "-m", "photosearch", *map(str, base)], env=cli_env(home),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["text"]["read"] == 16 - done and count() == 16


def test_cli_text_and_search_json(tmp_path, home, tiny):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    pics = tmp_path / "pics"
    pics.mkdir()
    sign(seed=4, out_size=(640, 480)).save(pics / "sign.jpg", quality=85)
    write_jpeg(pics / "plain.jpg", 1, size=(320, 240))
    (pics / "bad.jpg").write_bytes(b"not a jpeg")
    db = tmp_path / "lib.db"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "photosearch", "--library", str(db), *map(str, args)],
                              env=cli_env(home), capture_output=True, text=True, timeout=300)

    r = run("text", pics / "sign.jpg", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["path"] == str(pics / "sign.jpg")
    assert "Trattoria Rossi" in [ln["text"] for ln in out["lines"]]
    assert all(set(ln) == {"text", "confidence", "box"} for ln in out["lines"])
    r = run("text", pics / "sign.jpg", pics / "plain.jpg", pics / "bad.jpg")  # several: each line names its file
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "bad.jpg" in r.stderr
    lines = r.stdout.splitlines()
    assert f"{pics / 'sign.jpg'}: Trattoria Rossi" in lines and f"{pics / 'plain.jpg'}: no text found" in lines
    assert all(ln.startswith((f"{pics / 'sign.jpg'}: ", f"{pics / 'plain.jpg'}: ")) for ln in lines)

    r = run("index", pics, "--model", model_dir, "--json")  # the text pass is on by default
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["text"]["with_text"] == 1
    r = run("search", "wifi", "--model", model_dir, "--json")
    hits = json.loads(r.stdout)
    assert hits[0]["path"].endswith("sign.jpg") and hits[0]["text_match"] is True
    assert "[WIFI]" in hits[0]["snippet"] and hits[1]["text_match"] is False and hits[1]["snippet"] is None
    r = run("search", 'text:"trattoria rossi"', "--model", model_dir, "--json")
    assert [Path(h["path"]).name for h in json.loads(r.stdout)] == ["sign.jpg"]

    r = run("text", "--disable", "--json")
    assert json.loads(r.stdout)["text_pass"] is False
    write_jpeg(pics / "new.jpg", 2, size=(320, 240))
    r = run("index", "--model", model_dir, "--json")
    assert "text" not in json.loads(r.stdout)  # the library's setting is off


def test_a_library_from_before_text_gains_the_text_tables(tmp_path):
    from libhelpers import old_library

    conn = old_library(tmp_path / "old.db", 2)  # as the last version before text (format 2) wrote it
    conn.commit()
    conn.close()
    with Library.open(tmp_path / "old.db") as lib:  # upgraded in place
        assert ti.counts(lib.conn) == {"read": 0, "with_text": 0} and ti.enabled(lib.conn)
        assert ti.text_matches(lib.conn, '"anything"') == {}
