"""Photos with metadata for the places/dates/colours tests: EXIF written with Pillow, hostile blocks too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from libhelpers import pattern
from PIL import Image


def dms(value: float) -> tuple[float, float, float]:
    v = abs(value)
    d = int(v)
    m = int((v - d) * 60)
    return float(d), float(m), round((v - d - m / 60) * 3600, 4)


def exif_for(lat: float | None = None, lon: float | None = None, date: str | None = None, offset: str | None = None,
             make: str | None = None, model: str | None = None, **exif_ifd) -> Image.Exif:
    ex = Image.Exif()
    if make:
        ex[0x010F] = make
    if model:
        ex[0x0110] = model
    if lat is not None:
        g = ex.get_ifd(0x8825)
        g[1], g[2] = ("N" if lat >= 0 else "S"), dms(lat)
        g[3], g[4] = ("E" if lon >= 0 else "W"), dms(lon)
    e = ex.get_ifd(0x8769)
    if date:
        e[0x9003] = date
    if offset:
        e[0x9011] = offset
    for tag, v in exif_ifd.items():
        e[int(tag.lstrip("t"), 16)] = v
    return ex


def write_photo(path: Path, seed: int = 1, size=(96, 72), pixels: np.ndarray | None = None, fmt: str = "JPEG",
                exif: Image.Exif | bytes | None = None, **kw) -> Path:
    """A photo at ``path``; ``exif``: an Exif (or raw bytes), else built from ``kw`` (see :func:`exif_for`)."""
    img = Image.fromarray(pixels if pixels is not None else pattern(seed, size))
    if exif is None and kw:
        exif = exif_for(**kw)
    raw = exif.tobytes() if isinstance(exif, Image.Exif) else exif
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, fmt, **({"exif": raw} if raw else {}))
    return path


def solid(rgb, size=(64, 48)) -> np.ndarray:
    return np.tile(np.array(rgb, np.uint8), (size[1], size[0], 1))
