"""What a photo's EXIF (and XMP) says: when, where, with what and how; read from the image object the
indexer already opened (library/imageio.py's ``load_image``), never raising.

Bad metadata is common and never stops a photo from being indexed: a corrupt or oversized block, a date
outside ``PLAUSIBLE_YEARS`` or GPS in the wrong units leaves that value out and sets ``fault`` (one line
saying what was wrong; the first problem found), and everything else is still read.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

MAX_EXIF_BYTES = 1 << 20  # a JPEG's APP1 holds 64 KiB; a megabyte block (giant maker notes) is not read
MAX_XMP_BYTES = 1 << 20  # XMP is only searched for a few literal markers, never parsed as XML (no bombs)
EARLIEST = datetime(1826, 1, 1)  # the first photograph; scans of old prints may carry old dates
FUTURE_SLACK = timedelta(days=2)  # time zones and clocks a little ahead
DEFAULT_DATES = frozenset({"1900-01-01", "1970-01-01", "0000-00-00"})  # unset-clock defaults, not dates

# EXIF tags (IFD0, the Exif IFD and the GPS IFD)
_MAKE, _MODEL, _SOFTWARE, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0131, 0x0112, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_ORIGINAL, _OFFSET_ORIGINAL, _OFFSET = 0x9003, 0x9011, 0x9010
_EXPOSURE, _FNUMBER, _ISO, _FLASH, _FOCAL, _FOCAL35 = 0x829A, 0x829D, 0x8827, 0x9209, 0x920A, 0xA405
_LENS_MAKE, _LENS_MODEL, _USER_COMMENT = 0xA433, 0xA434, 0x9286


@dataclass
class ExifMeta:
    taken_at: str | None = None  # ISO 8601, local time as the camera wrote it (no offset)
    taken_offset: str | None = None  # "+02:00": the camera's UTC offset, when it wrote one
    lat: float | None = None  # degrees, south negative
    lon: float | None = None  # degrees, west negative
    altitude: float | None = None  # metres above sea level
    direction: float | None = None  # degrees the camera faced, 0 = north
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    focal_mm: float | None = None
    focal_35mm: float | None = None
    aperture: float | None = None  # f-number
    exposure_s: float | None = None
    iso: int | None = None
    flash: bool | None = None  # fired
    orientation: int | None = None  # EXIF 1..8
    software: str | None = None
    xmp_panorama: bool = False  # XMP GPano projection (phone and stitcher panoramas)
    screenshot_hint: bool = False  # XMP/UserComment says "Screenshot" (macOS, Android)
    fault: str | None = None  # the first problem found in the metadata; None when it read cleanly

    def to_dict(self) -> dict:
        return asdict(self)

    def _fault(self, msg: str) -> None:
        if self.fault is None:
            self.fault = msg


def _num(v) -> float | None:
    """A rational, tuple (num, den), int or float -> a finite float, else None."""
    try:
        if isinstance(v, tuple) and len(v) == 2:
            v = v[0] / v[1]
        f = float(v)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def _text(v, limit: int = 200) -> str | None:
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if not isinstance(v, str):
        return None
    s = v.replace("\x00", " ").strip()[:limit]
    return s or None


def parse_exif_date(raw, now: datetime | None = None) -> tuple[str | None, str | None]:
    """"2021:07:14 10:20:30" -> ("2021-07-14T10:20:30", None), or (None, why) for a damaged or implausible
    date (before the first photograph, after tomorrow, or an unset-clock default such as 1900-01-01)."""
    s = _text(raw, 40)
    if not s:
        return None, None
    try:
        dt = datetime.strptime(s[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        try:
            dt = datetime.strptime(s[:10], "%Y:%m:%d")
        except ValueError:
            return None, f"unreadable date taken {s!r}"
    if dt.date().isoformat() in DEFAULT_DATES:
        return None, f"date taken {dt.date()} is a camera's unset-clock default"
    if dt < EARLIEST or dt > (now or datetime.now()) + FUTURE_SLACK:
        return None, f"implausible date taken {dt.date()}"
    return dt.isoformat(), None


_OFFSET_RE = re.compile(r"^[+-](?:0\d|1[0-4]):[0-5]\d$")


def _gps_coord(value, ref, limit: float) -> tuple[float | None, str | None]:
    """(degrees, minutes, seconds) + "N"/"S"/"E"/"W" -> signed degrees; (None, why) in the wrong units."""
    if value is None:
        return None, None
    parts = value if isinstance(value, (tuple, list)) else (value,)
    nums = [_num(p) for p in parts[:3]]
    if not nums or any(n is None for n in nums):
        return None, "unreadable GPS coordinates"
    d, m, s = (nums + [0.0, 0.0])[:3]
    if d < 0 or m < 0 or s < 0 or m >= 60 or s > 60:
        return None, "GPS coordinates in the wrong units"
    deg = d + m / 60 + s / 3600
    if deg > limit:
        return None, "GPS coordinates out of range"
    r = _text(ref, 4)
    return (-deg if r and r[0].upper() in "SW" else deg), None


def _read_gps(gps, out: ExifMeta) -> None:
    lat, why = _gps_coord(gps.get(2), gps.get(1), 90.0)
    lon, why2 = _gps_coord(gps.get(4), gps.get(3), 180.0)
    if why or why2:
        out._fault(why or why2)
    elif lat is not None and lon is not None and not (abs(lat) < 1e-6 and abs(lon) < 1e-6):
        out.lat, out.lon = round(lat, 7), round(lon, 7)  # (0, 0) is an unset receiver, not a place
    alt = _num(gps.get(6))
    if alt is not None and -500 <= alt <= 12_000:  # the Dead Sea to above Everest; more is a plane or noise
        ref = gps.get(5)
        below = ref in (1, b"\x01") or (isinstance(ref, bytes) and ref[:1] == b"\x01")
        out.altitude = round(-alt if below else alt, 1)
    dirn = _num(gps.get(17))
    if dirn is not None and 0 <= dirn <= 360:
        out.direction = round(dirn % 360, 1)


def _read_exif_ifd(ex, out: ExifMeta, now: datetime | None) -> None:
    out.taken_at, why = parse_exif_date(ex.get(_ORIGINAL), now)
    if why:
        out._fault(why)
    off = _text(ex.get(_OFFSET_ORIGINAL) or ex.get(_OFFSET), 8)
    if off and _OFFSET_RE.match(off):
        out.taken_offset = off
    exp, fn, foc, foc35 = (_num(ex.get(t)) for t in (_EXPOSURE, _FNUMBER, _FOCAL, _FOCAL35))
    out.exposure_s = round(exp, 6) if exp is not None and 0 < exp < 3600 else None
    out.aperture = round(fn, 1) if fn is not None and 0.5 <= fn <= 128 else None
    out.focal_mm = round(foc, 1) if foc is not None and 0 < foc < 5000 else None
    out.focal_35mm = round(foc35, 1) if foc35 is not None and 0 < foc35 < 5000 else None
    iso = ex.get(_ISO)
    iso = iso[0] if isinstance(iso, tuple) and iso else iso
    out.iso = int(iso) if isinstance(iso, int) and 0 < iso < 10_000_000 else None
    flash = ex.get(_FLASH)
    out.flash = bool(flash & 1) if isinstance(flash, int) else None
    lens = " ".join(x for x in (_text(ex.get(_LENS_MAKE), 60), _text(ex.get(_LENS_MODEL), 100)) if x)
    out.lens = lens or None
    comment = ex.get(_USER_COMMENT)
    if isinstance(comment, bytes) and b"screenshot" in comment[:200].lower():
        out.screenshot_hint = True


def _read_xmp(img, out: ExifMeta) -> None:
    xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    if not xmp:
        return
    if len(xmp) > MAX_XMP_BYTES:
        out._fault(f"XMP block of {len(xmp) // 1024} KiB not read")
        return
    low = xmp.lower() if isinstance(xmp, bytes) else xmp.encode("utf-8", "replace").lower()
    if b"gpano:projectiontype" in low and b"equirectangular" in low or b"gpano:usepanoramaviewer" in low:
        out.xmp_panorama = True
    if b"screenshot" in low:
        out.screenshot_hint = True


def read_exif(img, now: datetime | None = None) -> ExifMeta:
    """Everything :class:`ExifMeta` holds, from an open Pillow image (before it is transposed or converted:
    those drop the metadata). Never raises."""
    out = ExifMeta()
    try:
        raw = img.info.get("exif")
        if raw is not None and len(raw) > MAX_EXIF_BYTES:
            out._fault(f"EXIF block of {len(raw) // 1024} KiB not read")
        else:
            exif = img.getexif()
            if raw is not None and len(raw) > 14 and not len(exif):
                # Pillow warns (and reads nothing) when the block's offsets point nowhere.
                out._fault("damaged EXIF: no readable tags")
            _read_tags(exif, out, now)
    except Exception as e:  # noqa: BLE001 - hostile metadata must never stop indexing
        out._fault(f"damaged EXIF: {str(e)[:120] or type(e).__name__}")
    try:
        _read_xmp(img, out)
    except Exception as e:  # noqa: BLE001
        out._fault(f"damaged XMP: {str(e)[:120] or type(e).__name__}")
    return out


def read_tiff_exif(fp, now: datetime | None = None) -> ExifMeta:
    """:class:`ExifMeta` from a TIFF-structured file's own directories (a DNG, NEF, CR2, ARW, ... RAW file:
    ``fp`` open at its start), read without decoding any pixels. Never raises."""
    import warnings

    from PIL import Image

    out = ExifMeta()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns of directories that point nowhere; they read as empty
            exif = Image.Exif()
            exif.load_from_fp(fp)
            _read_tags(exif, out, now)
    except Exception as e:  # noqa: BLE001 - hostile metadata must never stop indexing
        out._fault(f"damaged EXIF: {str(e)[:120] or type(e).__name__}")
    return out


def _read_tags(exif, out: ExifMeta, now: datetime | None) -> None:
    out.make, out.model = _text(exif.get(_MAKE), 60), _text(exif.get(_MODEL), 100)
    out.software = _text(exif.get(_SOFTWARE), 100)
    o = exif.get(_ORIENTATION)
    out.orientation = o if isinstance(o, int) and 1 <= o <= 8 else None
    _read_exif_ifd(exif.get_ifd(_EXIF_IFD), out, now)
    if out.taken_at is None and out.fault is None:
        out.taken_at, why = parse_exif_date(exif.get(_DATETIME), now)
        if why:
            out._fault(why)
    _read_gps(exif.get_ifd(_GPS_IFD), out)
