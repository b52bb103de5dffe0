"""Camera RAW test files written here: real photos mosaicked into a Bayer (RGGB) DNG, with or without the
camera preview a DNG carries in its first IFD. No RAW files from real cameras ship in any offline package;
DNG is the one RAW format anyone can write, and LibRaw reads it through the same code path as the others."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_dng(path: Path, rgb: np.ndarray, preview: bool = True, orientation: int = 1,
              date: str | None = None) -> Path:
    """``rgb``: HxWx3 uint8. The sensor data is 12-bit; the preview (if any) is an 8-bit half-size bitmap."""
    import tifffile

    h, w = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    rgb16 = rgb[:h, :w].astype(np.uint16) * 16
    cfa = np.empty((h, w), np.uint16)
    cfa[0::2, 0::2], cfa[0::2, 1::2] = rgb16[0::2, 0::2, 0], rgb16[0::2, 1::2, 1]
    cfa[1::2, 0::2], cfa[1::2, 1::2] = rgb16[1::2, 0::2, 1], rgb16[1::2, 1::2, 2]
    ident = [1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1]  # a 3x3 identity as rationals
    main = [(271, 2, None, "PhotoSearch"), (272, 2, None, "Test DNG"), (274, 3, 1, orientation),
            (50706, 1, 4, bytes([1, 4, 0, 0])), (50708, 2, None, "PhotoSearch Test DNG"),  # DNGVersion, camera
            (50721, 10, 9, ident), (50778, 3, 1, 21), (50717, 4, 1, 4095)]  # ColorMatrix1, D65, WhiteLevel
    if date:
        main.append((306, 2, None, date))  # DateTime "YYYY:MM:DD HH:MM:SS"
    sensor = [(33421, 3, 2, (2, 2)), (33422, 1, 4, bytes([0, 1, 1, 2])), (50717, 4, 1, 4095)]  # CFA RGGB
    with tifffile.TiffWriter(path) as tw:
        if preview:
            small = np.asarray(Image.fromarray(rgb[:h, :w]).reduce(2))
            tw.write(small, photometric="rgb", subfiletype=1, subifds=1, extratags=main)
            tw.write(cfa, photometric=32803, subfiletype=0, extratags=sensor)
        else:
            tw.write(cfa, photometric=32803, subfiletype=0, extratags=main + sensor)
    return path
