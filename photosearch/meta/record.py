"""One photo's metadata record: its EXIF (meta/exif.py), what kind of image it is, its dominant colours.
Made by the indexer from the image it decoded anyway (``describe``), so reading it costs no second decode."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from photosearch.meta import colours
from photosearch.meta.exif import ExifMeta

KINDS = ("photo", "screenshot", "scan", "panorama", "image", "video")  # "image": not from a camera or a screen
PANORAMA_ASPECT = 2.3  # a camera image this much wider than tall (or taller than wide) is a panorama
_SCREENS = {(1920, 1080), (2560, 1440), (3840, 2160), (1366, 768), (1440, 900), (1280, 800), (1280, 720),
            (1536, 864), (1600, 900), (1680, 1050), (2560, 1600), (2880, 1800), (3024, 1964), (3456, 2234),
            (1170, 2532), (1179, 2556), (1284, 2778), (1290, 2796), (1125, 2436), (1242, 2688), (828, 1792),
            (750, 1334), (1080, 1920), (1080, 2400), (1080, 2340), (1440, 3200), (1440, 3120), (2048, 2732),
            (1668, 2388), (1620, 2160)}
_SCREENSHOT_TOOLS = ("screenshot", "screen shot", "spectacle", "flameshot", "snipping", "shutter", "ksnip",
                     "greenshot", "lightshot", "screencapture")
_SCAN_TOOLS = ("scan", "sane", "silverfast", "xsane", "perfection", "scanjet", "fi-", "imageformula")


@dataclass
class PhotoMeta:
    exif: ExifMeta
    kind: str = "photo"
    colours: list[str] = field(default_factory=list)  # most of the picture first
    colour_bits: int = 0  # colours.bit(name) of each


def image_kind(exif: ExifMeta, width: int, height: int, fmt: str | None, path: str) -> str:
    fmt_u = (fmt or "").upper()
    if fmt_u.startswith("VIDEO"):
        return "video"
    name = os.path.basename(path).lower()
    soft = (exif.software or "").lower()
    camera = " ".join(x for x in (exif.make, exif.model) if x).lower()
    if exif.screenshot_hint or any(t in name or t in soft for t in _SCREENSHOT_TOOLS) or "screen_shot" in name:
        return "screenshot"
    if any(t in soft or t in camera for t in _SCAN_TOOLS) or "canoscan" in camera:
        return "scan"
    long, short = max(width, height), max(1, min(width, height))
    if exif.xmp_panorama or long / short >= (PANORAMA_ASPECT if camera else 3.0):
        return "panorama"
    if camera or exif.exposure_s or exif.focal_mm:
        return "photo"
    if (fmt or "").upper() in ("PNG", "WEBP", "BMP", "GIF") and (width, height) in _SCREENS | {
            (h, w) for w, h in _SCREENS}:
        return "screenshot"
    return "photo" if fmt_u in ("JPEG", "HEIF", "MPO", "AVIF") or fmt_u.startswith("RAW") else "image"


def describe(img, width: int, height: int, fmt: str | None, exif: ExifMeta | None, path: str) -> PhotoMeta:
    """The record of a decoded photo (``img``: the RGB image the model gets). Never raises: a failure is the
    record's fault, and the photo is indexed all the same."""
    exif = exif or ExifMeta()
    meta = PhotoMeta(exif)
    try:
        meta.kind = image_kind(exif, width, height, fmt, path)
        meta.colours, meta.colour_bits = colours.dominant(img)
    except Exception as e:  # noqa: BLE001 - the metadata never stops the visual index
        exif._fault(f"could not describe the image: {str(e)[:120]}")
    return meta


def read_file(path: str) -> dict:
    """Everything read from one image file, as ``photosearch info`` shows it (raises imageio.ImageSkip for a
    file that is not a decodable image). The place is looked up when the photo has GPS."""
    from photosearch.imageio import load_image

    img, im = load_image(path, min_side=256)
    meta = describe(img, im.width, im.height, im.format, im.exif, str(path))
    e = meta.exif.to_dict()
    for internal in ("xmp_panorama", "screenshot_hint"):
        e.pop(internal)
    out = {"path": str(path), "width": im.width, "height": im.height, "format": im.format, **e,
           "kind": meta.kind, "colours": meta.colours, "place": None}
    if meta.exif.lat is not None:
        from photosearch.meta.places import geocoder

        p = geocoder().lookup(meta.exif.lat, meta.exif.lon)[0]
        out["place"] = {"city": p.city, "region": p.region, "country": p.country, "country_code": p.country_code,
                        "km": round(p.km, 2)} if p.city else None
    return out
