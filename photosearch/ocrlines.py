"""What the recogniser read, checked and completed before it is stored (used by photosearch/ocr.py).

- **Short tokens beside words** (:func:`complete_lines`): the detector often drops a lone glyph set apart
  from a word ("PLATFORM  9" read as "PLATFORM"). Each confident line is read once more over a stretch of
  the same line on both sides (``REACH`` line heights); tokens of at most ``SHORT_TOKEN`` characters that
  appear there are kept, words already found elsewhere are not duplicated.
- **Implausible readings** (:func:`plausible`): textures and flowers read as text. Dropped: a line whose
  box covers ``MAX_FRAME_SHARE`` of the frame (or ``MAX_GLYPH_SHARE`` for a lone glyph), a lone glyph
  (1-2 characters) in a script no longer line on the photo shares ("茶" on a ladybird), a line of no
  letter or digit or of one repeated character ("***", "0000"), a short line (up to ``SHORT_LINE``
  characters) read with less than ``SHORT_LINE_CONFIDENCE`` ("ABA" on a pagoda roof), and a line whose
  box holds less contrast than printed text (``MIN_CONTRAST``). Measured on real text-free photos and the
  page/sign sets: benchmarks/bench_text.py --false-readings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

REACH = 3.5  # how far along its line a confident word is re-read, in line heights
SHORT_TOKEN = 3  # tokens this short are what the detector misses next to a word
CONFIDENT = 0.85  # lines at least this sure (and of 3+ characters) anchor a re-read
MAX_FRAME_SHARE = 0.3  # a line of text never covers this much of the photo
MAX_GLYPH_SHARE = 0.08  # ... nor a lone glyph this much
MIN_CONTRAST = 0.2  # spread of grey levels (5th to 95th percentile, 0..1) inside a line's box
SHORT_LINE = 4  # lines this short ...
SHORT_LINE_CONFIDENCE = 0.7  # ... need this confidence (textures read as "ABA" at 0.61, "DOC" at 0.56)


@dataclass
class TextLine:
    text: str
    confidence: float  # recogniser's mean character probability, 0..1
    box: list[list[int]]  # four corners [[x, y], ...] in the photo's upright pixel coordinates

    def to_dict(self) -> dict:
        return asdict(self)


def _sub(a, b):
    return (a[0] - b[0], a[1] - b[1])


def _norm(v) -> float:
    return (v[0] ** 2 + v[1] ** 2) ** 0.5


def stretched(box, left: float, right: float) -> list[tuple[float, float]]:
    """``box`` (tl, tr, br, bl) lengthened along its own direction by ``left``/``right`` pixels."""
    tl, tr, br, bl = box
    d = _sub(tr, tl)
    n = _norm(d) or 1.0
    u = (d[0] / n, d[1] / n)
    return [(tl[0] - u[0] * left, tl[1] - u[1] * left), (tr[0] + u[0] * right, tr[1] + u[1] * right),
            (br[0] + u[0] * right, br[1] + u[1] * right), (bl[0] - u[0] * left, bl[1] - u[1] * left)]


def crop_quad(image, quad):
    """The upright strip under ``quad`` (tl, tr, br, bl), inside the image (coordinates clamped)."""
    from PIL import Image

    w, h = image.size
    q = [(min(max(x, 0.0), w - 1.0), min(max(y, 0.0), h - 1.0)) for x, y in quad]
    tl, tr, br, bl = q
    out_w = max(1, round(max(_norm(_sub(tr, tl)), _norm(_sub(br, bl)))))
    out_h = max(1, round(max(_norm(_sub(bl, tl)), _norm(_sub(br, tr)))))
    data = (*tl, *bl, *br, *tr)  # PIL's QUAD order: upper-left, lower-left, lower-right, upper-right
    return image.transform((out_w, out_h), Image.Transform.QUAD, data, Image.Resampling.BICUBIC)


def _centre(box) -> tuple[float, float]:
    return sum(x for x, _ in box) / len(box), sum(y for _, y in box) / len(box)


def _inside(p, quad) -> bool:
    """Point in a convex quad (corners in order)."""
    sign = 0
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
        if cross:
            s = 1 if cross > 0 else -1
            if sign and s != sign:
                return False
            sign = s
    return True


def _extras(old: str, new: str, confs: list[float], min_confidence: float) -> tuple[list[str], list[str]] | None:
    """(tokens before, tokens after) when ``new`` is ``old`` with short tokens around it, else None.
    Characters around ``old`` read with less than ``min_confidence`` (a sign's edge read as "1") drop."""
    at = new.find(old)
    if at < 0:
        return None

    def sure(lo: int, hi: int) -> str:
        return "".join(c if confs[i] >= min_confidence else " " for i, c in enumerate(new[lo:hi], lo))

    before, after = sure(0, at).split(), sure(at + len(old), len(new)).split()
    if not before and not after:
        return None
    if any(len(t) > SHORT_TOKEN or not any(c.isalnum() for c in t) for t in before + after):
        return None
    return before, after


def complete_lines(image, lines: list[TextLine], recognise: Callable, min_confidence: float) -> list[TextLine]:
    """Lines with the short tokens beside confident words added (see the module doc). ``recognise(crop)``
    -> (text, per-character confidences) reads one upright strip."""
    for ln in lines:
        if ln.confidence < CONFIDENT or sum(c.isalnum() for c in ln.text) < 3 or len(ln.box) != 4:
            continue
        tl, tr, _, bl = ln.box
        height = _norm(_sub(bl, tl))
        if height < 4 or _norm(_sub(tr, tl)) < height:
            continue  # a vertical or degenerate box: nothing to stretch along
        reach = REACH * height
        quad = stretched(ln.box, reach, reach)
        if any(_inside(_centre(o.box), quad) for o in lines if o is not ln):
            continue  # a neighbour was read already
        text, confs = recognise(crop_quad(image, quad))
        found = _extras(ln.text, text, confs, min_confidence) if len(confs) == len(text) else None
        if found is None:
            continue
        before, after = found
        # The box covers what was re-read on the side where tokens were found (their gap is unknown).
        ln.box = [[round(x), round(y)] for x, y in stretched(ln.box, reach if before else 0, reach if after else 0)]
        ln.text = " ".join([*before, ln.text, *after])
    return lines


def _script(c: str) -> str | None:
    """A letter's script from its Unicode name ("LATIN", "CJK", "CYRILLIC", ...); None for the rest."""
    import unicodedata

    if not c.isalpha():
        return None
    name = unicodedata.name(c, "")
    return name.split(" ", 1)[0] if name else None


def _scripts(text: str) -> set[str]:
    return {s for s in map(_script, text) if s}


def _area(box) -> float:
    """Area of a polygon (shoelace)."""
    n = len(box)
    return abs(sum(box[i][0] * box[(i + 1) % n][1] - box[(i + 1) % n][0] * box[i][1] for i in range(n))) / 2


def contrast(grey, box) -> float:
    """Spread of grey levels inside the box's bounds: 5th to 95th percentile, 0..1."""
    import numpy as np

    xs, ys = [x for x, _ in box], [y for _, y in box]
    h, w = grey.shape
    x0, x1 = max(0, int(min(xs))), min(w, int(max(xs)) + 1)
    y0, y1 = max(0, int(min(ys))), min(h, int(max(ys)) + 1)
    patch = grey[y0:y1, x0:x1]
    if patch.size < 4:
        return 0.0
    lo, hi = np.percentile(patch, (5, 95))
    return float(hi - lo) / 255.0


def plausible(image, lines: list[TextLine]) -> list[TextLine]:
    """The lines that can be text (see the module doc)."""
    import numpy as np

    if not lines:
        return lines
    frame = float(image.size[0] * image.size[1]) or 1.0
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    keep = []
    for ln in lines:
        chars = ln.text.replace(" ", "")
        share = _area(ln.box) / frame
        glyph = len(chars) <= 2 and any(c.isalpha() for c in chars)
        if share > MAX_FRAME_SHARE or (glyph and share > MAX_GLYPH_SHARE):
            continue
        if glyph and not any(_scripts(ln.text) & _scripts(o.text) for o in lines
                             if o is not ln and len(o.text.replace(" ", "")) >= 3):
            continue
        alnum = [c for c in chars if c.isalnum()]
        if not alnum or (len(alnum) >= 3 and len(set(alnum)) == 1):
            continue
        if len(chars) <= SHORT_LINE and ln.confidence < SHORT_LINE_CONFIDENCE:
            continue
        if contrast(grey, ln.box) < MIN_CONTRAST:
            continue
        keep.append(ln)
    return keep
