"""Every file a phone or camera makes: HEIC/HEIF and AVIF by default, camera RAW through LibRaw, and a clear
fault record (never a silently ignored file) when a codec is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rawhelpers import write_dng

from helpers import cli_env
from photosearch.imageio import ImageSkip, is_image_name, load_image
from photosearch.library import Library
from photosearch.library.query import Query


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()[:, 56:456]  # 512 x 400: portrait, so a wrong rotation shows


def _corr(img: Image.Image, ref: np.ndarray) -> float:
    """Correlation of two greyscale images brought to the same size (colour balance does not matter)."""
    a = np.asarray(img.convert("L").resize((64, 80)), dtype=np.float64).ravel()
    b = np.asarray(Image.fromarray(ref).convert("L").resize((64, 80)), dtype=np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("preview", [True, False], ids=["camera-preview", "demosaic"])
def test_dng_decodes_upright_with_full_size_and_date(tmp_path, astronaut, preview):
    p = write_dng(tmp_path / "shot.dng", astronaut, preview=preview, date="2019:07:14 10:11:12")
    img, meta = load_image(p, min_side=128)
    assert (meta.width, meta.height) == (400, 512) and meta.format == "RAW-DNG"
    assert meta.taken_at == "2019-07-14T10:11:12"
    assert img.mode == "RGB" and min(img.size) >= 128
    assert _corr(img, astronaut) > 0.9  # the photo itself, not noise or a colour-shifted mess


def test_dng_preview_too_small_falls_back_to_the_sensor_data(tmp_path, astronaut):
    p = write_dng(tmp_path / "shot.dng", astronaut, preview=True)
    img, _ = load_image(p, min_side=300)  # the 200x256 preview cannot serve 300 px: demosaic at full size
    assert min(img.size) >= 300 and _corr(img, astronaut) > 0.9


@pytest.mark.parametrize("orientation,turn", [(6, -1), (8, 1), (3, 2)])
def test_dng_orientation_is_applied(tmp_path, astronaut, orientation, turn):
    for preview in (True, False):
        p = write_dng(tmp_path / f"o{orientation}{preview}.dng", astronaut, preview=preview, orientation=orientation)
        img, meta = load_image(p, min_side=64)
        upright = np.rot90(astronaut, k=turn)
        assert (meta.width, meta.height) == (upright.shape[1], upright.shape[0])
        assert _corr(img, upright) > 0.9, (orientation, preview)


def test_damaged_and_fake_raw_files_are_skipped_with_a_reason(tmp_path, astronaut):
    good = write_dng(tmp_path / "good.dng", astronaut, preview=False)
    cut = tmp_path / "cut.dng"
    cut.write_bytes(good.read_bytes()[:2000])  # the header survives, the sensor data does not
    fake = tmp_path / "fake.nef"
    fake.write_bytes(b"this is a text file named like a Nikon RAW\n" * 50)
    for p in (cut, fake):
        with pytest.raises(ImageSkip) as e:
            load_image(p, 224)
        assert "RAW" in e.value.reason and e.value.file_fault, e.value.reason


def _heic(path: Path, rgb: np.ndarray, orientation: int = 1, date: str | None = None) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[0x0112] = orientation
    if date:
        exif.get_ifd(0x8769)[36867] = date
    Image.fromarray(rgb).save(path, exif=exif.tobytes(), quality=90)
    return path


def test_heic_is_on_by_default_with_orientation_and_date(tmp_path, astronaut):
    p = _heic(tmp_path / "phone.heic", np.ascontiguousarray(np.rot90(astronaut, k=1)), orientation=6,
              date="2022:12:24 18:30:00")
    img, meta = load_image(p, min_side=64)
    assert meta.format == "HEIF" and meta.taken_at == "2022-12-24T18:30:00"
    assert (meta.width, meta.height) == (400, 512)  # stored sideways, shown upright
    assert _corr(img, astronaut) > 0.9


def test_avif_decodes(tmp_path, astronaut):
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow build has no AVIF codec")
    p = tmp_path / "pic.avif"
    Image.fromarray(astronaut).save(p, quality=80)
    img, meta = load_image(p, min_side=64)
    assert meta.format == "AVIF" and _corr(img, astronaut) > 0.9


def test_raw_heic_and_jpeg_are_one_library(tmp_path, tiny, astronaut):
    pics = tmp_path / "pics"
    pics.mkdir()
    write_dng(pics / "IMG_0001.DNG", astronaut)
    _heic(pics / "IMG_0002.HEIC", astronaut)
    Image.fromarray(astronaut).save(pics / "IMG_0003.jpg")
    assert all(is_image_name(p.name) for p in pics.iterdir())
    with Library.open(tmp_path / "lib.db") as lib:
        rep = lib.run_index(tiny, [pics])
        assert rep.skipped == [] and rep.indexed == 3
        raw = lib.search(tiny, Query.of("photo", types=["raw"], top_k=10))
        assert [Path(h.path).name for h in raw] == ["IMG_0001.DNG"]
        heic = lib.search(tiny, Query.of("photo", types=["heic"], top_k=10))
        assert [Path(h.path).name for h in heic] == ["IMG_0002.HEIC"]


_NO_CODECS = """
import sys
sys.modules["pillow_heif"] = None   # as on a machine where the package is not installed
sys.modules["rawpy"] = None
from photosearch.library import Library
from tests.helpers import tiny_model
from pathlib import Path
tmp = Path(sys.argv[1])
model = tiny_model(tmp)
with Library.open(tmp / "lib.db") as lib:
    rep = lib.run_index(model, [tmp / "pics"])
    for s in sorted(rep.skipped, key=lambda s: s["path"]):
        print(Path(s["path"]).name, "|", s["reason"])
    print("indexed", rep.indexed)
"""


def test_missing_codecs_are_fault_records_that_name_the_package(tmp_path, astronaut):
    pics = tmp_path / "pics"
    pics.mkdir()
    write_dng(pics / "a.dng", astronaut)
    _heic(pics / "b.heic", astronaut)
    Image.fromarray(astronaut).save(pics / "c.jpg")
    out = subprocess.run([sys.executable, "-c", _NO_CODECS, str(tmp_path)], capture_output=True, text=True,
                         env=cli_env(tmp_path / "home"), cwd=Path(__file__).parent.parent, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == "indexed 1"
    assert "pip install rawpy" in lines[0] and lines[0].startswith("a.dng")
    assert "pip install pillow-heif" in lines[1] and lines[1].startswith("b.heic")
