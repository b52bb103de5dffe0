"""Decoding photos correctly and fast, and saying why one could not be decoded.

- JPEGs are decoded at reduced size with ``Image.draft`` when the model needs only ~224 px (4-9x faster
  on camera-sized files); the reported width/height are still the original's.
- EXIF orientation is applied; CMYK, 16-bit, palette, alpha and grey images become plain RGB (alpha is
  composited on white, as a viewer shows it).
- GIF: first frame; TIFF: first page; HEIC/HEIF through pillow-heif (a dependency), AVIF through Pillow;
  camera RAW through LibRaw (photosearch/rawio.py). A missing codec is a fault record that says which package to
  install (and the file is retried once it is there), never a silently ignored file.
- Truncated files fail (Pillow's LOAD_TRUNCATED_IMAGES stays off: a grey-padded half image is not indexed);
  decompression bombs beyond ``MAX_PIXELS`` fail before any pixel is decoded.
"""

from __future__ import annotations

import math
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from photosearch.meta.exif import ExifMeta, read_exif, read_tiff_exif
from photosearch.rawio import RAW_EXTENSIONS, RawUnavailable, decode_raw, raw_format
from photosearch.video import VIDEO_EXTENSIONS

MAX_PIXELS = 200_000_000  # ~200 MP: larger panoramas are refused, not allowed to exhaust memory
REDUCE_ABOVE = 24_000_000  # larger images are shrunk right after decoding (JPEGs already are, by draft)
MAX_FILE_BYTES = 2 * 1024**3  # a 2 GB "photo" is not one
MAX_VIDEO_BYTES = 256 * 1024**3  # videos are streamed, never read whole: only absurd sizes are refused
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow's own bomb check (a warning over 89.5 MP, an error over twice that) would refuse photos within the
# documented limit: it guards at twice ours, and ours (below, before any pixel is decoded) is the real one.
Image.MAX_IMAGE_PIXELS = 2 * MAX_PIXELS


HEIF_EXTENSIONS = frozenset({".heic", ".heif", ".hif"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".tif",
                              ".tiff", ".avif"}) | HEIF_EXTENSIONS | RAW_EXTENSIONS

_heif_ready: bool | None = None


def heif_available() -> bool:
    global _heif_ready
    if _heif_ready is None:
        try:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_ready = True
        except ImportError:
            _heif_ready = False
    return _heif_ready


def is_image_name(name: str) -> bool:
    """A file the scan lists: a photo or a video. HEIC, AVIF and RAW are listed even when their codec is missing:
    decoding them then records why (see :func:`_codec_missing`), so a user learns what to install instead of
    seeing them ignored."""
    ext = os.path.splitext(name)[1].lower()
    return ext in IMAGE_EXTENSIONS or ext in VIDEO_EXTENSIONS


def _codec_missing(ext: str) -> str | None:
    """Why files with extension ``ext`` cannot be decoded by this installation (None: they can)."""
    if ext in HEIF_EXTENSIONS and not heif_available():
        return "HEIC/HEIF photos need the pillow-heif package (pip install pillow-heif)"
    if ext == ".avif":
        from PIL import features

        if not features.check("avif"):
            return "AVIF photos need Pillow 11.2 or newer built with AVIF (pip install -U pillow)"
    return None


class ImageSkip(Exception):
    """This file cannot be indexed; ``reason`` says why in words a user understands. ``file_fault``: the
    file itself is bad (damaged, not an image, too large), as opposed to a passing cause (permissions)."""

    def __init__(self, reason: str, file_fault: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.file_fault = file_fault


class ImageMissing(ImageSkip):
    """There is no file at that path (never was, or it was removed)."""

    def __init__(self, reason: str = "no such file"):
        super().__init__(reason, file_fault=False)


def load_video(path: str | os.PathLike):
    """(poster frame, ImageMeta, VideoInfo) of a video: the poster is its first moment. Raises ImageSkip."""
    from photosearch.video import VideoSkip, read_video

    check_image_file(path, MAX_VIDEO_BYTES)
    try:
        info = read_video(path)
    except VideoSkip as e:
        if e.reason == "no such file":
            raise ImageMissing() from None
        raise ImageSkip(e.reason, file_fault=not e.reason.startswith("unreadable")) from None
    except MemoryError:
        raise ImageSkip("too large to decode in memory", file_fault=False) from None
    fmt = "VIDEO-" + Path(path).suffix.lstrip(".").upper()
    meta = ImageMeta(info.width, info.height, fmt, info.taken_at, duration_s=round(info.duration_s, 3) or None)
    return info.moments[0].image, meta, info


def still_taken(path: str | os.PathLike) -> str | None:
    """A photo's date taken from its EXIF, without decoding pixels (None: unknown or unreadable)."""
    if Path(path).suffix.lower() in HEIF_EXTENSIONS and not heif_available():
        return None
    try:
        with Image.open(path) as img:
            return read_exif(img).taken_at
    except Exception:  # noqa: BLE001 - any failure just means "unknown" to the caller (library/pairs.py)
        return None


def check_image_file(path: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES) -> os.stat_result:
    """What the scan checks of every file, for any path a user gives: a regular file (never a FIFO or a
    device, whose open would block or never end) no larger than ``MAX_FILE_BYTES``. Raises ImageSkip."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ImageMissing() from None
    except PermissionError:
        raise ImageSkip("unreadable: permission denied", file_fault=False) from None
    except OSError as e:
        raise ImageSkip(f"unreadable: {e.strerror or e}", file_fault=False) from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageSkip("a folder, not an image file")
    if not stat.S_ISREG(st.st_mode):
        raise ImageSkip("not a regular file (a pipe or a device?)")
    if st.st_size > max_bytes:
        raise ImageSkip(f"too large: {st.st_size / 1024**3:.1f} GB is over the {max_bytes // 1024**3} GB limit")
    return st


@dataclass
class ImageMeta:
    width: int  # original pixel size, after EXIF rotation
    height: int
    format: str  # JPEG, PNG, ...
    taken_at: str | None  # ISO 8601 from EXIF DateTimeOriginal (else DateTime), if any and plausible
    exif: "ExifMeta | None" = None  # all the metadata read (photosearch/meta/exif.py), faults included
    duration_s: float | None = None  # a video's length (None: a photo, or a video whose header gives none)


def to_rgb(img: Image.Image) -> Image.Image:
    """Any mode to 8-bit RGB, compositing transparency on white."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: scale by the actual range instead of clipping at 255.
        import numpy as np

        a = np.asarray(img, dtype=np.float64)
        hi = a.max() if a.size else 1.0
        a = (a / (65535.0 if hi > 255 else max(hi, 1.0)) * 255.0).clip(0, 255).astype("uint8")
        return Image.fromarray(a, "L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, img).convert("RGB")
    return img.convert("RGB")


_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}  # EXIF orientation -> what undoes it (as ImageOps.exif_transpose)


def decode_min_side(input_size: int, crop_pct: float) -> int:
    """The short side a photo must keep when decoded for a model that resizes to ``input_size / crop_pct`` and
    centre-crops ``input_size``: decoding smaller would upscale."""
    return int(math.ceil(input_size / max(crop_pct, 1e-3)))


def shrink_to(img: Image.Image, min_side: int) -> Image.Image:
    """``img`` reduced by the largest power of two that keeps ``min_side`` on its short side: what a JPEG
    draft would have decoded for ``min_side``, made from an image decoded larger (for the faces: decode once)."""
    k = 1
    while min(img.size) // (2 * k) >= min_side:
        k *= 2
    return img.reduce(k) if k > 1 else img


def load_image(path: str | os.PathLike, min_side: int | None = 224,
               max_pixels: int = MAX_PIXELS) -> tuple[Image.Image, ImageMeta]:
    """Decode for the model: RGB, upright, at least ``min_side`` px on the short side where the format can
    decode smaller (JPEG draft), full size otherwise (``min_side=None`` always full size).

    Raises :class:`ImageSkip` with a reason for anything that is not a decodable image.
    """
    path = Path(path)
    ext = path.suffix.lower()
    missing = _codec_missing(ext)
    check_image_file(path)
    if missing:
        raise ImageSkip(missing, file_fault=False)  # not the file's fault: retried once the codec is there
    if ext in RAW_EXTENSIONS:
        return _load_raw(path, min_side, max_pixels)
    if ext in VIDEO_EXTENSIONS:
        img, meta, _ = load_video(path)
        return img, meta
    return _load_pillow(path, min_side, max_pixels)


def _load_pillow(path: Path, min_side: int | None, max_pixels: int) -> tuple[Image.Image, ImageMeta]:
    """Every format Pillow (and its HEIF/AVIF plugins) reads; see :func:`load_image`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w * h > max_pixels:
                    raise ImageSkip(f"too large: {w}x{h} pixels is over the {max_pixels // 1_000_000} MP limit")
                fmt = img.format or path.suffix.lstrip(".").upper()
                exif = read_exif(img)  # before draft/transpose/convert, which drop the metadata
                orientation = exif.orientation or 1
                if min_side and img.format == "JPEG" and img.mode in ("RGB", "L", "CMYK", "YCbCr"):
                    # draft picks the largest 1/2^k scale that still covers the requested size.
                    scale = max(min_side / w, min_side / h) if orientation in (1, 2, 3, 4) else \
                        max(min_side / h, min_side / w)
                    img.draft("RGB", (max(1, int(w * scale + 0.5)), max(1, int(h * scale + 0.5))))
                img.seek(0) if getattr(img, "n_frames", 1) > 1 else None
                img.load()
                if min_side and img.size[0] * img.size[1] > REDUCE_ABOVE and min(img.size) >= 2 * min_side:
                    # Large non-JPEGs (PNG/TIFF panoramas) decode full size; shrink at once by a whole
                    # factor that keeps min_side, so the copies below stay small.
                    if img.mode not in ("RGB", "L", "RGBA", "LA", "CMYK", "YCbCr"):
                        img = to_rgb(img)
                    img = img.reduce(min(img.size) // min_side)
                    if orientation in _TRANSPOSE:
                        img = img.transpose(_TRANSPOSE[orientation])
                else:
                    img = ImageOps.exif_transpose(img)
                if orientation in (5, 6, 7, 8):
                    w, h = h, w
                rgb = to_rgb(img)
                rgb.load()
    except ImageSkip:
        raise
    except FileNotFoundError:
        raise ImageMissing() from None
    except PermissionError:
        raise ImageSkip("unreadable: permission denied", file_fault=False) from None
    except IsADirectoryError:
        raise ImageSkip("not a file") from None
    except UnidentifiedImageError:
        raise ImageSkip("not an image, or a format this build cannot read") from None
    except Image.DecompressionBombError as e:
        raise ImageSkip(f"too large: {e}") from None
    except Image.DecompressionBombWarning as e:
        raise ImageSkip(f"too large: {e}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        msg = str(e) or type(e).__name__
        if "truncated" in msg.lower() or isinstance(e, EOFError):
            raise ImageSkip(f"truncated or damaged: {msg}") from None
        raise ImageSkip(f"damaged: {msg}") from None
    except MemoryError:
        raise ImageSkip("too large to decode in memory", file_fault=False) from None
    return rgb, ImageMeta(width=w, height=h, format=fmt, taken_at=exif.taken_at, exif=exif)


def _load_raw(path: Path, min_side: int | None, max_pixels: int) -> tuple[Image.Image, ImageMeta]:
    """A camera RAW file: its embedded preview when large enough, else a half-size demosaic (rawio.py)."""
    try:
        img, w, h, taken = decode_raw(path, min_side, max_pixels)
    except RawUnavailable:
        raise ImageSkip("camera RAW files need the rawpy package (pip install rawpy)", file_fault=False) from None
    except ValueError as e:
        raise ImageSkip(f"too large: {e}") from None
    except MemoryError:
        raise ImageSkip("too large to decode in memory", file_fault=False) from None
    except PermissionError:
        raise ImageSkip("unreadable: permission denied", file_fault=False) from None
    except Exception as e:  # noqa: BLE001 - LibRaw's errors (LibRawFileUnsupportedError, ...) and OSErrors
        msg = str(e).strip("b'\"") or type(e).__name__
        if type(e).__name__ in ("LibRawFileUnsupportedError", "NotSupportedError"):
            raise ImageSkip(f"a RAW format this build cannot read ({msg})") from None
        raise ImageSkip(f"damaged RAW file: {msg}") from None
    fmt = raw_format(path.name)
    exif = _raw_exif(path)
    if exif is not None and taken is None:
        taken = exif.taken_at
    return to_rgb(img), ImageMeta(width=w, height=h, format=fmt, taken_at=taken, exif=exif)


_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")


def _raw_exif(path: Path) -> "ExifMeta | None":
    """The EXIF of a TIFF-structured RAW file (DNG, NEF, CR2, ARW, PEF, SRW, ...): camera, lens, exposure, GPS,
    date, read from its directories. None for the other RAW containers (CR3, RAF, ORF, RW2: LibRaw still gives
    their date) or an unreadable file."""
    try:
        with open(path, "rb") as f:
            if f.read(4) not in _TIFF_MAGIC:
                return None
            f.seek(0)
            return read_tiff_exif(f)
    except OSError:
        return None
