"""Metadata read at index time: EXIF (GPS, date with offset, camera, exposure), image kind, dominant colours,
places; hostile metadata leaves one fault and the photo indexed."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from metahelpers import exif_for, pattern, solid, write_photo
from PIL import Image, PngImagePlugin

from photosearch.library import Library
from photosearch.meta import colours
from photosearch.meta.exif import parse_exif_date, read_exif
from photosearch.meta.places import geocoder


def _index(tmp_path, tiny) -> Library:
    lib = Library.open(tmp_path / "lib.db")
    rep = lib.run_index(tiny, [tmp_path / "pics"])
    assert rep.skipped == []
    return lib


def _has_vector(lib, path) -> bool:
    return lib.conn.execute("SELECT count(*) FROM embeddings e JOIN photos p ON p.id = e.photo_id WHERE p.path = ?",
                            (str(path),)).fetchone()[0] == 1


def test_everything_read_from_a_camera_jpeg(tmp_path, tiny):
    p = write_photo(tmp_path / "pics" / "lisbon.jpg", lat=38.7139, lon=-9.1394, date="2021:07:14 10:20:30",
                    offset="+01:00", make="Apple", model="iPhone 12", t829A=0.004, t829D=1.6, t8827=64, t9209=16,
                    t920A=4.2, tA405=26, tA434="iPhone 12 back dual wide camera 4.2mm f/1.6")
    with _index(tmp_path, tiny) as lib:
        m = lib.photo_meta(p)
        info = lib.photo_info(p)
    assert info["taken_at"] == "2021-07-14T10:20:30"
    assert m["taken_offset"] == "+01:00"
    assert m["lat"] == pytest.approx(38.7139, abs=1e-4) and m["lon"] == pytest.approx(-9.1394, abs=1e-4)
    assert (m["make"], m["model"]) == ("Apple", "iPhone 12")
    assert m["lens"].startswith("iPhone 12 back")
    assert (m["exposure_s"], m["aperture"], m["iso"], m["focal_mm"], m["focal_35mm"]) == (0.004, 1.6, 64, 4.2, 26)
    assert m["flash"] is False  # 16: "did not fire, compulsory off"
    assert m["kind"] == "photo"
    assert (m["city"], m["country"], m["country_code"]) == ("Lisbon", "Portugal", "PT")
    assert m["fault"] is None


def test_southern_and_western_coordinates_signed(tmp_path):
    p = write_photo(tmp_path / "x.jpg", lat=-33.8568, lon=151.2153)
    with Image.open(p) as img:
        e = read_exif(img)
    assert (round(e.lat, 3), round(e.lon, 3)) == (-33.857, 151.215)
    assert geocoder().lookup(e.lat, e.lon)[0].city == "Sydney"


@pytest.mark.parametrize("name,kw,fault", [
    ("old.jpg", {"date": "1900:01:01 00:00:00"}, "unset-clock"),
    ("future.jpg", {"date": "2100:05:05 12:00:00"}, "implausible date"),
    ("garbled.jpg", {"date": "20x1:1:1 nonsense"}, "unreadable date"),
])
def test_bad_dates_are_faults_not_dates(tmp_path, tiny, name, kw, fault):
    p = write_photo(tmp_path / "pics" / name, make="Canon", **kw)
    with _index(tmp_path, tiny) as lib:
        assert _has_vector(lib, p)
        assert lib.photo_info(p)["taken_at"] is None
        m = lib.photo_meta(p)
    assert fault in m["fault"] and m["make"] == "Canon"


def _gps_exif(lat_dms, lon_dms) -> Image.Exif:
    ex = exif_for(make="Nikon", date="2019:03:01 08:00:00")
    g = ex.get_ifd(0x8825)
    g[1], g[2], g[3], g[4] = "N", lat_dms, "E", lon_dms
    return ex


def test_gps_in_wrong_units_and_zero_zero(tmp_path, tiny):
    pics = tmp_path / "pics"
    minutes = write_photo(pics / "minutes.jpg", exif=_gps_exif((38.0, 75.0, 0.0), (9.0, 8.0, 0.0)))
    big = write_photo(pics / "big.jpg", exif=_gps_exif((38.0, 0.0, 0.0), (200.0, 0.0, 0.0)))
    zero = write_photo(pics / "zero.jpg", exif=_gps_exif((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)))
    with _index(tmp_path, tiny) as lib:
        ms = {p.name: lib.photo_meta(p) for p in (minutes, big, zero)}
        assert all(_has_vector(lib, p) for p in (minutes, big, zero))
    assert "wrong units" in ms["minutes.jpg"]["fault"] and ms["minutes.jpg"]["lat"] is None
    assert "out of range" in ms["big.jpg"]["fault"] and ms["big.jpg"]["city"] is None
    assert ms["zero.jpg"]["lat"] is None and ms["zero.jpg"]["fault"] is None  # "no location", not a fault
    assert all(m["taken_offset"] is None and m["make"] == "Nikon" for m in ms.values())


def test_hostile_metadata_blocks(tmp_path, tiny):
    pics = tmp_path / "pics"
    # Corrupt: an EXIF header pointing past its own end.
    corrupt = write_photo(pics / "corrupt.jpg", exif=b"Exif\x00\x00MM\x00\x2a\x7f\xff\xff\xf0" + b"\x01" * 40)
    # Maker notes of megabytes (PNG's eXIf chunk has no 64 KiB limit).
    ex = exif_for(make="Sony", t927C=b"\x00" * (3 << 20))
    write_photo(pics / "notes.png", fmt="PNG", exif=ex)
    # An XMP "billion laughs" (never parsed: searched for markers only) and an oversized XMP block.
    bomb = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' +
            "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi")) +
            ']><x:xmpmeta xmlns:x="adobe:ns:meta/">&i;</x:xmpmeta>')
    for name, xmp in (("bomb.png", bomb), ("hugexmp.png", "<x>" + "y" * (2 << 20) + "</x>")):
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp)
        Image.fromarray(solid((30, 120, 200))).save(pics / name, pnginfo=info)
    with _index(tmp_path, tiny) as lib:
        ms = {n: lib.photo_meta(pics / n) for n in ("corrupt.jpg", "notes.png", "bomb.png", "hugexmp.png")}
        assert all(_has_vector(lib, pics / n) for n in ms)
        assert lib.photo_info(corrupt)["taken_at"] is None
    assert "damaged EXIF" in ms["corrupt.jpg"]["fault"]
    assert "EXIF block" in ms["notes.png"]["fault"] and ms["notes.png"]["make"] is None
    assert ms["bomb.png"]["fault"] is None and ms["bomb.png"]["colours"] == ["blue"]
    assert "XMP block" in ms["hugexmp.png"]["fault"]


def test_changed_file_is_read_again(tmp_path, tiny):
    p = write_photo(tmp_path / "pics" / "a.jpg", lat=48.8566, lon=2.3522, make="Fujifilm")
    with _index(tmp_path, tiny) as lib:
        assert lib.photo_meta(p)["city"] == "Paris"
        write_photo(p, seed=2, lat=41.3874, lon=2.1686, make="Fujifilm")
        lib.run_index(tiny)
        m = lib.photo_meta(p)
    assert (m["city"], m["country"]) == ("Barcelona", "Spain")


def test_kinds(tmp_path, tiny):
    pics = tmp_path / "pics"
    write_photo(pics / "pano.jpg", size=(480, 120), make="Samsung")
    write_photo(pics / "Screenshot 2024-01-02.png", fmt="PNG")
    write_photo(pics / "screen.png", size=(1366, 768), fmt="PNG")
    write_photo(pics / "page.jpg", make="EPSON", model="Perfection V600")
    write_photo(pics / "drawing.png", fmt="PNG")
    write_photo(pics / "cam.jpg", make="Canon", model="Canon EOS 5D")
    with _index(tmp_path, tiny) as lib:
        kinds = {p.name: lib.photo_meta(p)["kind"] for p in pics.iterdir()}
    from photosearch.meta.exif import ExifMeta
    from photosearch.meta.record import image_kind

    assert image_kind(ExifMeta(), 1920, 1080, "VIDEO-MP4", "clip.mp4") == "video"
    assert image_kind(ExifMeta(), 6000, 4000, "RAW-CR2", "IMG_1.CR2") == "photo"
    assert kinds == {"pano.jpg": "panorama", "Screenshot 2024-01-02.png": "screenshot", "screen.png": "screenshot",
                     "page.jpg": "scan", "drawing.png": "image", "cam.jpg": "photo"}


@pytest.mark.parametrize("rgb,expect", [((200, 20, 25), ["red"]), ((25, 60, 210), ["blue"]),
                                        ((40, 160, 50), ["green"]), ((240, 210, 20), ["yellow"]),
                                        ((250, 250, 250), ["black and white", "white"])])
def test_solid_colours_named(rgb, expect):
    names, bits = colours.dominant(Image.fromarray(solid(rgb)))
    assert names == expect and colours.names_of(bits) == sorted(expect, key=colours.NAMES.index)


def test_black_and_white_photo_vs_colour_photo():
    from libhelpers import pattern

    colour = Image.fromarray(pattern(3))
    grey = colour.convert("L").convert("RGB")
    sepia = Image.fromarray((np.asarray(grey, np.float32) * [1.0, 0.9, 0.75]).astype(np.uint8))
    assert "black and white" not in colours.dominant(colour)[0]
    assert colours.dominant(grey)[0][0] == "black and white"
    assert colours.dominant(sepia)[0][0] == "black and white"
    half = solid((230, 30, 30), (64, 64))
    half[:, 32:] = (20, 40, 220)
    assert set(colours.dominant(Image.fromarray(half))[0]) == {"red", "blue"}


def test_exif_dates_plausibility():
    now = datetime(2026, 12, 2)
    assert parse_exif_date("2021:07:14 10:20:30", now) == ("2021-07-14T10:20:30", None)
    assert parse_exif_date("1936:05:01 00:00:00", now)[0] == "1936-05-01T00:00:00"  # a scanned old print
    assert parse_exif_date("2026:12:03 09:00:00", now)[0] is not None  # a day ahead: time zones
    assert parse_exif_date("2027:01:01 00:00:00", now)[0] is None
    assert parse_exif_date("    ", now) == (None, None)


def test_photos_indexed_before_the_metadata_are_read_on_the_next_run(tmp_path, tiny):
    p = write_photo(tmp_path / "pics" / "old.jpg", lat=-33.8568, lon=151.2153, make="Nikon")
    write_photo(tmp_path / "pics" / "gone.jpg", seed=3)
    with _index(tmp_path, tiny) as lib:
        lib.conn.execute("DELETE FROM photo_meta")  # as a library from before schema version 6
        (tmp_path / "pics" / "gone.jpg").unlink()
        events = [ev for ev in lib.index(tiny) if ev.phase == "meta"]
        assert events and events[-1].done == events[-1].total == 1
        m = lib.photo_meta(p)
        assert (m["make"], m["city"]) == ("Nikon", "Sydney")
        assert [ev for ev in lib.index(tiny) if ev.phase == "meta"] == []  # nothing left to read


def test_a_camera_raw_file_gives_its_camera_and_date(tmp_path, tiny):
    """Issue 22, item 1 (RAW): a TIFF-structured RAW (DNG here) has its EXIF read from its own directories,
    with or without an embedded preview; before, RAW files got a kind and colours but no camera."""
    from rawhelpers import write_dng

    rgb = pattern(3, (320, 240))
    (tmp_path / "pics").mkdir()
    for preview in (True, False):
        write_dng(tmp_path / "pics" / f"shot{int(preview)}.dng", rgb, preview=preview, date="2019:12:25 09:30:00")
    with _index(tmp_path, tiny) as lib:
        for preview in (True, False):
            p = tmp_path / "pics" / f"shot{int(preview)}.dng"
            m = lib.photo_meta(p)
            assert (m["make"], m["model"]) == ("PhotoSearch", "Test DNG"), preview
            assert lib.photo_info(p)["taken_at"] == "2019-12-25T09:30:00" and m["kind"] == "photo"


def test_raw_gps_and_exposure_come_from_the_tiff_directories(tmp_path):
    """The same reader on a TIFF-structured file carrying an EXIF and a GPS directory (as NEF, CR2 and ARW do)."""
    from photosearch.meta.exif import read_tiff_exif

    p = write_photo(tmp_path / "x.tif", fmt="TIFF", lat=38.7139, lon=-9.1394, date="2021:07:14 10:20:30",
                    make="Nikon", model="D750", t829A=0.01, t8827=200)
    with open(p, "rb") as f:
        e = read_tiff_exif(f)
    assert (e.make, e.model, e.taken_at, e.iso, e.exposure_s) == ("Nikon", "D750", "2021-07-14T10:20:30", 200, 0.01)
    assert (round(e.lat, 3), round(e.lon, 3)) == (38.714, -9.139) and e.fault is None
    with open(tmp_path / "junk.dng", "wb") as f:
        f.write(b"II*\x00" + b"\xff" * 64)  # a header whose first directory lies past the end
    with open(tmp_path / "junk.dng", "rb") as f:
        assert read_tiff_exif(f).make is None  # no exception, nothing invented
