"""Partial text: a short token set apart from a word on a sign is read with it ("PLATFORM 9", not
"PLATFORM"), and a typed query whose words a photo's text only partly holds still lifts that photo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from texthelpers import card, on_photo, photograph, spaced_sign

from photosearch.library import Library
from photosearch.library.query import Query


# Photo, angle: the detector found no box around the "9" on each of these before (it read "PLATFORM").
@pytest.mark.parametrize("name,angle", [("astronaut", 3), ("camera", -5), ("coins", 3)])
def test_a_lone_number_beside_a_word_is_read(ocr_engine, photos_by_stem, name, angle):
    img = on_photo(Image.open(photos_by_stem[name]), spaced_sign("PLATFORM", "9"), angle=angle)
    texts = [ln.text for ln in ocr_engine.read(img)]
    assert "PLATFORM 9" in texts, texts


def test_no_token_is_invented_beside_a_word_alone(ocr_engine, photos_by_stem):
    img = on_photo(Image.open(photos_by_stem["astronaut"]), spaced_sign("PLATFORM", " "), angle=3)
    assert [ln.text for ln in ocr_engine.read(img)] == ["PLATFORM"]


def test_search_ranks_partial_text_matches_above_none(tmp_path, tiny, ocr_engine, photos_by_stem):
    pics = tmp_path / "pics"
    pics.mkdir()
    # What the reader gives for a sign whose number it cannot see: the word alone.
    on_photo(Image.open(photos_by_stem["rocket"]), card(["PLATFORM"], size=64, fg=(240, 240, 240), bg=(20, 40, 110)),
             angle=3).save(pics / "platform.jpg", quality=90)
    photograph(card(["Platform 9", "Departures"], size=60, fg=(240, 240, 240), bg=(20, 40, 110)), seed=2,
               out_size=(640, 480)).save(pics / "full.jpg", quality=90)
    photograph(card(["Gate 9"], size=60), seed=3, out_size=(640, 480)).save(pics / "gate.jpg", quality=90)
    Image.open(photos_by_stem["coffee"]).save(pics / "coffee.jpg", quality=90)
    with Library.open(tmp_path / "lib.db") as lib:
        list(lib.index(tiny, [str(pics)], text=True, ocr=ocr_engine))
        hits = lib.search(tiny, Query.of("platform 9", top_k=4))
        names = [Path(h.path).name for h in hits]
        assert names[:2] == ["full.jpg", "platform.jpg"]  # both words, then one of them (the long one)
        assert hits[0].text_match and hits[1].text_match and "[PLATFORM]" in hits[1].snippet
        assert not any(h.text_match for h in hits[2:])  # "Gate 9" holds only the lone "9"
        assert [Path(h.path).name for h in lib.search(tiny, Query.of('text:"platform 9"'))] == ["full.jpg"]
