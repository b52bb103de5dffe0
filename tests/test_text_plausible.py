"""False readings: textures, flowers and roofs read as text are rejected, real text is still read
(photosearch/ocrlines.py; measured per 100 text-free photos by benchmarks/bench_text.py --false-readings)."""

from __future__ import annotations

import pytest
from helpers import MATE
from PIL import Image
from texthelpers import sign

from photosearch.ocrlines import TextLine, plausible


# What was read on these text-free photos before: "ABA" (0.61) on the pagoda roof, "0000" on the camera.
@pytest.mark.parametrize("name", ["china", "camera"])
def test_text_free_photos_read_as_nothing(ocr_engine, photos_by_stem, name):
    assert [ln.text for ln in ocr_engine.read_file(photos_by_stem[name])] == []


@pytest.mark.skipif(not (MATE / "nature" / "LadyBird.jpg").is_file(), reason="Debian's mate-backgrounds")
def test_a_lone_glyph_of_another_script_is_dropped(ocr_engine):
    assert [ln.text for ln in ocr_engine.read_file(MATE / "nature" / "LadyBird.jpg")] == []  # was "茶"


def test_a_box_over_most_of_the_frame_or_without_contrast_is_not_text(photos_by_stem):
    img = Image.open(photos_by_stem["coffee"]).convert("RGB")
    w, h = img.size
    whole = TextLine("米", 0.9, [[0, 0], [w, 0], [w, h], [0, h]])
    flat = TextLine("Latte", 0.95, [[5, 5], [60, 5], [60, 20], [5, 20]])  # the plain background corner
    flat_img = img.copy()
    flat_img.paste((200, 190, 180), (0, 0, 80, 40))
    assert plausible(img, [whole]) == [] and plausible(flat_img, [flat]) == []
    inked = img.copy()  # dark strokes on a light card where the two lines are
    inked.paste((250, 250, 250), (10, 10, 150, 40))
    for x in range(14, 150, 8):
        inked.paste((10, 10, 10), (x, 14, x + 3, 36))
    glyph = TextLine("米", 0.9, [[10, 10], [40, 10], [40, 40], [10, 40]])
    line = TextLine("米饭 套餐", 0.9, [[50, 10], [150, 10], [150, 40], [50, 40]])
    assert plausible(inked, [glyph, line]) == [glyph, line]  # the glyph's script is the line's
    assert plausible(inked, [glyph]) == []  # alone, it is not
    assert plausible(inked, [glyph, TextLine("Rice set", 0.9, line.box)]) == [line.__class__("Rice set", 0.9,
                                                                                               line.box)]


def test_real_text_is_still_read(ocr_engine):
    words = {w.strip(":").lower() for ln in ocr_engine.read(sign(seed=7, out_size=(640, 480))) for w in ln.text.split()}
    assert {"trattoria", "rossi", "wifi", "sunflower42"} <= words
