"""Decoding as the indexer uses it: right pixels for every mode, draft decode for big JPEGs, bad files."""

from __future__ import annotations

import numpy as np
from libhelpers import pattern, write_formats, write_hostile
from PIL import Image

from photosearch.imageio import ImageSkip, load_image


def test_modes_become_correct_rgb(tmp_path):
    f = write_formats(tmp_path)
    ref = pattern(1).astype(np.int16)
    cmyk = np.asarray(load_image(f["cmyk"], None)[0], dtype=np.int16)
    assert np.abs(cmyk - ref).mean() < 12  # CMYK round trip through JPEG, not inverted or garbled

    grey16 = np.asarray(load_image(f["png16"], None)[0])
    assert grey16.min() <= 2 and grey16.max() >= 250  # 16-bit range scaled, not clipped to white

    rgba = np.asarray(load_image(f["rgba"], None)[0], dtype=np.float32)
    expect = pattern(5).astype(np.float32) * (128 / 255) + 255 * (1 - 128 / 255)  # composited on white
    assert np.abs(rgba - expect).mean() < 3

    pal, meta = load_image(f["palette"], None)
    assert pal.mode == "RGB" and meta.format == "PNG"

    gif = np.asarray(load_image(f["gif"], None)[0], dtype=np.int16)
    first = np.asarray(Image.fromarray(pattern(7)).convert("P").convert("RGB"), dtype=np.int16)
    assert np.abs(gif - first).mean() < 3  # the first frame

    tif = np.asarray(load_image(f["tiff"], None)[0], dtype=np.int16)
    assert np.abs(tif - pattern(11).astype(np.int16)).mean() < 1  # the first page


def test_exif_rotation_turns_the_pixels(tmp_path):
    a = pattern(3, (120, 60))
    img = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: a viewer rotates it 90 degrees clockwise
    img.save(tmp_path / "r.png", exif=exif.tobytes())
    out, meta = load_image(tmp_path / "r.png", None)
    assert (meta.width, meta.height) == (60, 120)
    assert np.array_equal(np.asarray(out), np.rot90(a, k=-1))


def test_big_jpeg_decoded_small_but_reports_original_size(tmp_path):
    big = Image.fromarray(pattern(1, (96, 72))).resize((2400, 1800))
    big.save(tmp_path / "big.jpg", quality=85)
    img, meta = load_image(tmp_path / "big.jpg", min_side=256)
    assert (meta.width, meta.height) == (2400, 1800)
    assert 256 <= min(img.size) < 1800 // 2  # draft: a 1/4 or 1/8 scale decode, still covering 256 px


def test_hostile_files_raise_imageskip_with_reason(tmp_path):
    for name, p in write_hostile(tmp_path).items():
        try:
            load_image(p, 224)
        except ImageSkip as e:
            assert e.reason, name
        else:
            raise AssertionError(f"{name} decoded")
