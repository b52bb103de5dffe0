"""Camera RAW files (CR2/CR3, NEF, ARW, RAF, ORF, RW2, DNG, ...) through LibRaw (``rawpy``).

The model needs ~256 px, so the camera's own embedded preview is used when it is large enough (a JPEG every
camera writes beside the sensor data: decoding it is about as fast as a JPEG); otherwise the sensor data is
demosaiced at half size. Either way the result is upright (LibRaw's ``flip``) and the reported size is the
camera's full output size. Called by :func:`photosearch.imageio.load_image`, which owns the error wording.
"""

from __future__ import annotations

import io
import os

from PIL import Image

RAW_EXTENSIONS = frozenset({".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf",
                            ".rw2", ".dng", ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".mrw", ".kdc"})

# LibRaw's flip -> the PIL transpose that makes the image upright (0: none).
_FLIP = {3: Image.Transpose.ROTATE_180, 5: Image.Transpose.ROTATE_90, 6: Image.Transpose.ROTATE_270}


class RawUnavailable(Exception):
    """rawpy (LibRaw) is not installed."""


def is_raw_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in RAW_EXTENSIONS


def raw_format(name: str) -> str:
    """The format a RAW file is stored as (``photos.format``, the ``--type`` names), from its name or extension:
    "IMG_1.nef" or ".nef" -> "RAW-NEF"."""
    ext = os.path.splitext(name)[1] or name  # splitext(".nef") is (".nef", ""): a bare extension
    return "RAW-" + ext.lstrip(".").upper()


def _rawpy():
    try:
        import rawpy
    except ImportError:
        raise RawUnavailable() from None
    return rawpy


def _preview(raw, min_side: int | None) -> Image.Image | None:
    """The embedded preview when it covers ``min_side`` (None: any size will not do, the caller wants full
    resolution), else None."""
    rawpy = _rawpy()
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        img = Image.open(io.BytesIO(thumb.data))
        if min_side:
            img.draft("RGB", (min_side, min_side))
        img.load()
    else:  # an uncompressed RGB bitmap (DNG previews)
        img = Image.fromarray(thumb.data)
    if min_side is None or min(img.size) < min_side:
        return None
    return img.convert("RGB")


def decode_raw(path: str | os.PathLike, min_side: int | None,
               max_pixels: int) -> tuple[Image.Image, int, int, str | None]:
    """(upright RGB image, full width, full height, date taken as ISO or None) of a RAW file. Raises
    RawUnavailable without rawpy, ValueError when the sensor is over ``max_pixels``, and rawpy's LibRawError for
    damaged/unsupported files."""
    rawpy = _rawpy()
    with rawpy.imread(os.fspath(path)) as raw:
        taken = _taken(raw)
        s = raw.sizes
        if s.raw_width * s.raw_height > max_pixels:
            raise ValueError(f"{s.raw_width}x{s.raw_height} pixels is over the {max_pixels // 1_000_000} MP limit")
        w, h = (s.height, s.width) if s.flip in (5, 6) else (s.width, s.height)
        img = _preview(raw, min_side)
        if img is not None:
            if s.flip in _FLIP:
                img = img.transpose(_FLIP[s.flip])  # LibRaw hands the preview over as the sensor reads
            return img, w, h, taken
        # half_size skips demosaicing (each 2x2 Bayer cell becomes one pixel): 4x fewer pixels, ~5x faster.
        half = bool(min_side) and min(s.width, s.height) >= 2 * min_side
        rgb = raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8, no_auto_bright=False)
    return Image.fromarray(rgb), w, h, taken


def raw_taken(path: str | os.PathLike) -> str | None:
    """The date taken of a RAW file without decoding it (None: unknown, unreadable or no rawpy)."""
    try:
        with _rawpy().imread(os.fspath(path)) as raw:
            return _taken(raw)
    except Exception:  # noqa: BLE001 - any failure just means "unknown" to the caller (library/pairs.py)
        return None


def _taken(raw) -> str | None:
    """The camera's date taken as LibRaw parsed it from any RAW format (CR3 included), local time as written."""
    ts = getattr(getattr(raw, "other", None), "timestamp", None)  # rawpy >= 0.22
    if ts is None or ts.year < 1980:  # 0 (1970) means the camera wrote none
        return None
    return ts.replace(tzinfo=None, microsecond=0).isoformat()
