"""Dominant colours in words, from a small thumbnail of the decoded photo.

Each pixel of a 48-px thumbnail is named (hue bins for saturated pixels; black, white, grey for the rest);
a colour is one of the photo's colours when it covers at least ``MIN_SHARE`` of the picture
(``MIN_SHARE_PLAIN`` for black, white and grey). A photo whose
pixels are (nearly) all without colour is "black and white" (sepia and other toned prints included).
Stored as names and as a bit mask (``bits``) so a filter is one integer test per photo.
"""

from __future__ import annotations

import numpy as np

# Bit order is stored in the library: append, never reorder.
NAMES = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "grey",
         "black and white")
BW = "black and white"
MIN_SHARE = 0.05  # of the picture's pixels, for a hue: a saturated colour stands out even when small
MIN_SHARE_PLAIN = 0.12  # for black, white and grey, which every photo has some of
THUMB = 48
ALIASES = {"gray": "grey", "b&w": BW, "bw": BW, "monochrome": BW, "black-and-white": BW, "black & white": BW,
           "violet": "purple", "turquoise": "blue", "cyan": "blue", "teal": "blue", "navy": "blue",
           "golden": "yellow", "gold": "yellow", "crimson": "red", "magenta": "pink", "colour": None}
# Hue (degrees) -> name for saturated pixels: [start, end) bins.
_HUES = ((15, "red"), (40, "orange"), (68, "yellow"), (165, "green"), (255, "blue"), (290, "purple"),
         (335, "pink"), (361, "red"))


def canonical(word: str) -> str | None:
    """A colour word as typed ("Gray", "b&w") -> its name in :data:`NAMES`, else None."""
    w = " ".join(word.lower().split())
    w = ALIASES.get(w, w)
    return w if w in NAMES else None


def bit(name: str) -> int:
    return 1 << NAMES.index(name)


def names_of(bits: int) -> list[str]:
    return [n for i, n in enumerate(NAMES) if bits >> i & 1]


def _hsv(rgb: np.ndarray):
    """(N, 3) uint8 -> hue (degrees), saturation, chroma, value, each (N,) in 0..1 (hue 0..360)."""
    a = rgb.astype(np.float32) / 255.0
    mx, mn = a.max(1), a.min(1)
    chroma = mx - mn
    sat = np.where(mx > 0, chroma / np.maximum(mx, 1e-6), 0)
    r, g, b = a[:, 0], a[:, 1], a[:, 2]
    safe = np.maximum(chroma, 1e-6)
    hue = np.where(mx == r, ((g - b) / safe) % 6, np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4)) * 60
    return hue, sat, chroma, mx


def _pixel_names(hue, sat, chroma, mx) -> np.ndarray:
    """Per pixel, an index into NAMES."""
    out = np.full(len(hue), NAMES.index("grey"), np.int16)
    bins = np.array([h for h, _ in _HUES])
    hue_name = np.array([NAMES.index(n) for _, n in _HUES])[np.searchsorted(bins, hue, side="right").clip(0, 7)]
    coloured = (sat >= 0.25) & (chroma >= 0.12) & (mx >= 0.2)
    out[coloured] = hue_name[coloured]
    warm = coloured & ((hue < 50) | (hue >= 345))
    out[warm & (mx < 0.55) & (sat < 0.85)] = NAMES.index("brown")  # dark orange/red: brown
    pinkish = coloured & ((hue < 15) | (hue >= 335)) & (sat < 0.5) & (mx > 0.75)
    out[pinkish] = NAMES.index("pink")
    plain = ~coloured
    out[plain & (mx < 0.2)] = NAMES.index("black")
    out[plain & (mx > 0.75) & (chroma < 0.12)] = NAMES.index("white")
    return out


def _monochrome(hue, sat, chroma) -> bool:
    """Grey, or toned in one hue (sepia, cyanotype): little colour, or all of it one weak hue."""
    if float(np.mean(chroma)) < 0.055 and float(np.percentile(chroma, 97)) < 0.18:
        return True
    tinted = chroma > 0.04
    if tinted.mean() < 0.5:
        return False
    ang = np.radians(hue[tinted])
    spread = float(np.hypot(np.cos(ang).mean(), np.sin(ang).mean()))  # 1: every pixel the same hue
    return spread > 0.97 and float(np.mean(sat[tinted])) < 0.4


def dominant(img) -> tuple[list[str], int]:
    """(names most first, bit mask) of a Pillow RGB image."""
    small = img.convert("RGB") if img.mode != "RGB" else img.copy()
    small.thumbnail((THUMB, THUMB))
    px = np.asarray(small, dtype=np.uint8).reshape(-1, 3)
    if not len(px):
        return [], 0
    hsv = _hsv(px)
    share = np.bincount(_pixel_names(*hsv), minlength=len(NAMES)) / len(px)
    plain = {NAMES.index(n) for n in ("black", "white", "grey")}
    names = [NAMES[i] for i in np.argsort(-share, kind="stable")
             if share[i] >= (MIN_SHARE_PLAIN if i in plain else MIN_SHARE)]
    if _monochrome(hsv[0], hsv[1], hsv[2]):
        names = [BW] + [n for n in names if n in ("black", "white", "grey")]
    bits = 0
    for n in names:
        bits |= bit(n)
    return names, bits
