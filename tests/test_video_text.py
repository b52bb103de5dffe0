"""Words in videos: the text pass reads a video's sampled moments (library/textindex.py), so a sign seen in a
video is found by its words, at the moment it was seen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from texthelpers import sign
from videohelpers import write_slideshow

from photosearch.library import Library
from photosearch.library import textindex as ti
from photosearch.library.query import Query
from photosearch.ocr import OcrEngine


@pytest.fixture(scope="module")
def engine():
    e = OcrEngine()
    yield e
    e.close()


def _plain(rgb) -> np.ndarray:
    """A wordless scene: a smooth gradient of one colour (no texture an OCR model could take for a letter)."""
    ramp = np.linspace(0.4, 1.0, 640)[None, :, None]
    return (np.ones((480, 640, 3)) * np.asarray(rgb) * ramp).astype(np.uint8)


def test_a_sign_seen_in_a_video_is_found_by_its_words(tmp_path, tiny, engine):
    pics = tmp_path / "pics"
    pics.mkdir()
    board = np.asarray(sign(seed=3, out_size=(640, 480)))
    spans = write_slideshow(pics / "walk.mp4", [_plain((40, 120, 200)), board, _plain((200, 90, 40))],
                            seconds_each=2.0, fps=5, size=(640, 480))
    write_slideshow(pics / "sky.mp4", [_plain((60, 140, 230)), _plain((230, 200, 60))], seconds_each=2.0, fps=5,
                    size=(640, 480))
    with Library.open(tmp_path / "lib.db") as lib:
        events = list(lib.index(tiny, [str(pics)], text=True, ocr=engine))
        rep = events[-1].text_report
        assert (rep.read, rep.with_text, rep.failed) == (2, 1, 0)
        lines = ti.stored_lines(lib.conn, str(pics / "walk.mp4"))
        words = {w.strip(":.,").lower() for ln in lines for w in ln["text"].split()}
        assert {"trattoria", "rossi"} <= words
        start, end = spans[1]
        assert all(start - 0.5 <= ln["t"] < end for ln in lines), (lines, spans)  # read in the sign's moment
        hits = lib.search(tiny, Query.of("Trattoria Rossi", top_k=2))
        assert Path(hits[0].path).name == "walk.mp4" and hits[0].text_match
        assert [Path(h.path).name for h in lib.search(tiny, Query.of('text:"trattoria"'))] == ["walk.mp4"]
