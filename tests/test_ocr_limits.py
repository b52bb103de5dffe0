"""The text pass within bounded memory: a thin strip PNG (1×60000 px, a few hundred bytes) once made the OCR
detector allocate 24 GB; long banners are folded, read in one pass and still give their words."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from helpers import cli_env
from PIL import Image, ImageDraw
from texthelpers import font, sign

from photosearch.library import Library
from photosearch.ocr import OcrEngine

CAP_BYTES = 8 * 1024**3  # address space: a runaway allocation fails instead of taking the machine
PEAK_RSS_BYTES = 2 * 1024**3  # what a 2 GB container would allow; the 1×60000 strip alone needed 3+ GB
BANNER_WORDS = ["WEST", "HARBOUR", "MARKET", "EAST"]


def banner(w: int = 4000, h: int = 110) -> Image.Image:
    """A shop-front banner 36 times longer than high, words spread along it."""
    img = Image.new("RGB", (w, h), (245, 240, 225))
    d = ImageDraw.Draw(img)
    for x, word in zip((40, 1300, 2700, w - 330), BANNER_WORDS):
        d.text((x, 18), word, font=font(size=64), fill=(20, 20, 30))
    return img


_CAPPED = ("import os, resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap})); "
           "sys.argv = ['photosearch', *sys.argv[1:]]; from photosearch.cli import main; sys.exit(main())")


def test_index_reads_text_within_a_memory_cap_despite_a_strip_bomb(tmp_path, home, tiny):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    pics = tmp_path / "pics"
    pics.mkdir()
    Image.new("L", (1, 60000), 255).save(pics / "strip.png", optimize=True)
    assert (pics / "strip.png").stat().st_size < 400
    banner().save(pics / "banner.png")
    sign(seed=4, out_size=(640, 480)).save(pics / "sign.jpg", quality=85)
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:  # the visual index first: the capped run below is the text pass alone
        lib.run_index(tiny, [str(pics)])
    r = subprocess.run([sys.executable, "-c", _CAPPED.format(cap=CAP_BYTES), "--library", str(db), "index",
                        str(pics), "--model", str(model_dir), "--json"], env=cli_env(home), capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["text"]["read"] == 3
    conn = sqlite3.connect(db)
    rows = {os.path.basename(p): (t, e) for p, t, e in conn.execute(
        "SELECT p.path, t.text, t.error FROM photo_text t JOIN photos p ON p.id = t.photo_id")}
    conn.close()
    assert rows["strip.png"] == ("", None)  # read as holding no text, not failed
    assert rows["banner.png"][1] is None and set(rows["banner.png"][0].split()) == set(BANNER_WORDS)
    assert {"Trattoria", "Rossi", "sunflower42"} <= set(rows["sign.jpg"][0].split())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the kernel's peak count in /proc")
def test_reading_thin_strips_keeps_peak_memory_bounded(tmp_path, home):
    """Strips read by a fresh process: its peak resident memory (the kernel's VmHWM, counted from its own
    start) stays within what a small container allows."""
    pics = tmp_path / "pics"
    pics.mkdir()
    Image.new("L", (1, 60000), 255).save(pics / "strip.png", optimize=True)
    Image.new("RGB", (40, 4000), (200, 200, 200)).save(pics / "thin.png")
    code = (_CAPPED.split("sys.argv")[0].format(cap=CAP_BYTES) +
            "from photosearch.ocr import OcrEngine; e = OcrEngine(); "
            f"print([len(e.read_file(p)) for p in {[str(pics / 'strip.png'), str(pics / 'thin.png')]!r}]); "
            "print(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')))")
    r = subprocess.run([sys.executable, "-c", code], env=cli_env(home), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    counts, peak_kb = r.stdout.split("\n")[:2]
    assert counts == "[0, 0]"
    assert int(peak_kb) * 1024 < PEAK_RSS_BYTES


def test_a_tall_banner_is_read_too():
    e = OcrEngine()
    try:
        lines = e.read(banner().rotate(90, expand=True))
    finally:
        e.close()
    assert {ln.text for ln in lines} == set(BANNER_WORDS)
    ys = {ln.text: min(y for _, y in ln.box) for ln in lines}
    assert ys["EAST"] < ys["MARKET"] < ys["HARBOUR"] < ys["WEST"]  # boxes back in the banner's pixels
