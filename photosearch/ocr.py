"""Reading the words in a photo, offline: a small wrapper around RapidOCR (PP-OCR ONNX models on ONNX Runtime).

- The models are the ones inside the ``rapidocr`` wheel, named by path: RapidOCR never looks for (or
  downloads) anything else. :func:`bundled_models` fails with one clear line when a file is missing.
- Lazy: nothing is loaded until the first photo; RapidOCR loads the detector first and the orientation
  classifier and recogniser only when the detector found text boxes, so photos without text cost one
  detector pass (see benchmarks/bench_text.py).
- Rotated text: crops taller than wide are turned 90° before recognition and the orientation classifier
  turns upside-down lines, so text at 0/90/180/270° is read.
- Bounded memory: the detector scales the short side up to ``limit_side_len``, so a 1×60000 strip would
  become 736×942080 px (24 GB). A photo is decoded within a pixel budget (:func:`ocr_scale`, decided from
  the header), a short side under ``MIN_TEXT_SIDE`` holds no text, and a strip longer than
  ``FOLD_ASPECT``:1 is cut into overlapping segments stacked into one near-square picture
  (:func:`fold_layout`), read in one pass, its boxes mapped back: the detector never sees more than about
  ``max_side``² pixels, and the words along a long banner are still read.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from photosearch.errors import PhotoSearchError
from photosearch.ocrlines import TextLine, complete_lines, plausible


class OcrError(PhotoSearchError):
    """The text recogniser is not installed or its models are missing."""


MIN_TEXT_SIDE = 8  # px after decoding: a thinner image cannot hold a line of text
FOLD_ASPECT = 4  # longer strips are folded (see the module doc)


@dataclass(frozen=True)
class OcrSettings:
    # Measured on photographed signs/receipts (benchmarks/bench_text.py); RapidOCR's defaults (thresh 0.3,
    # box 0.5, unclip 1.6) missed low-contrast words and merged neighbouring lines.
    limit_side_len: int = 736  # the detector upsamples images whose short side is below this
    thresh: float = 0.2  # pixel probability that counts as text
    box_thresh: float = 0.45  # mean probability a box needs to be kept
    unclip_ratio: float = 1.4  # how far a box grows around the text it found
    # Photos are decoded down to this long side (JPEG draft). Measured on 12 MP photos with the text at 30% of
    # the width: 1024 px read 100% of the words at 0.67 s/photo, 1600 px 97.8% at 1.28 s, 2400 px 95.7% at
    # 2.9 s (the detector's receptive field suits mid-sized text); 1280 keeps a margin for smaller print.
    max_side: int = 1280
    min_confidence: float = 0.5  # recognised lines below this are dropped
    short_min_confidence: float = 0.8  # ... and lines of 1-2 characters below this (textures read as "7", "l")
    threads: int = 0  # ONNX Runtime threads per model; 0 = its default (all cores)

    def engine_id(self) -> str:
        """Stored beside each photo's text: a change of models or settings is a re-read, not a mix."""
        import rapidocr

        return (f"rapidocr-{getattr(rapidocr, '__version__', '?')}/PP-OCRv6-small/{self.limit_side_len}/"
                f"{self.thresh}/{self.box_thresh}/{self.unclip_ratio}/{self.max_side}/{self.min_confidence}/"
                f"{self.short_min_confidence}/lines-2")


_MODEL_FILES = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx",
                "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}


def bundled_models() -> dict[str, Path]:
    """The ONNX files shipped inside the rapidocr wheel."""
    try:
        import rapidocr
    except ImportError:
        raise OcrError("text recognition needs the 'rapidocr' and 'onnxruntime' packages "
                       "(pip install rapidocr onnxruntime)") from None
    root = Path(rapidocr.__file__).resolve().parent / "models"
    paths = {k: root / name for k, name in _MODEL_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise OcrError(f"the text recogniser's model files are missing ({', '.join(missing)}); reinstall "
                       f"rapidocr")
    return paths


class OcrEngine:
    """``engine.read(pil_image) -> [TextLine]``. Thread use: any thread; reads run one at a time.

    ``background=True`` (the library's text pass): the models load and run on the engine's own thread at
    low CPU priority (Linux: nice 19 for that thread and the ONNX Runtime threads it starts), so the text
    pass takes the CPU only when indexing, searching or the GUI leave it idle (benchmarks/bench_text.py)."""

    def __init__(self, settings: OcrSettings | None = None, *, background: bool = False):
        self.settings = settings or OcrSettings()
        self.background = background
        self._ocr = None
        self._lock = threading.Lock()
        self._pool = None

    @property
    def engine_id(self) -> str:
        return self.settings.engine_id()

    def _engine(self):
        if self._ocr is None:
            paths = bundled_models()
            from photosearch.ortenv import onnxruntime

            onnxruntime()  # telemetry off before RapidOCR makes its sessions
            from rapidocr import RapidOCR

            s = self.settings
            params = {"Global.log_level": "critical", "Global.text_score": s.min_confidence,
                      "Global.max_side_len": max(s.max_side, 64),
                      "Det.limit_type": "min", "Det.limit_side_len": s.limit_side_len, "Det.thresh": s.thresh,
                      "Det.box_thresh": s.box_thresh, "Det.unclip_ratio": s.unclip_ratio}
            for k, p in paths.items():
                params[f"{k}.model_path"] = str(p)
            if s.threads > 0:
                params["EngineConfig.onnxruntime.intra_op_num_threads"] = s.threads
                params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
            self._ocr = RapidOCR(params=params)
            # RapidOCR logs "The text detection result is empty" for every photo without text.
            logging.getLogger("RapidOCR").setLevel(logging.CRITICAL)
        return self._ocr

    def read(self, image) -> list[TextLine]:
        """Lines of text in a PIL RGB image (already upright), best-read first in reading order. A long
        strip is folded into one near-square picture first (see the module doc)."""
        w, h = image.size
        if min(w, h) < MIN_TEXT_SIDE:
            return []
        layout = fold_layout(w, h)
        if layout is None:
            return self._read_one(image)
        return unfold_lines(self._read_one(fold(image, layout)), layout, w > h)

    def _read_one(self, image) -> list[TextLine]:
        with self._lock:
            if self.background:
                if self._pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._pool = ThreadPoolExecutor(1, thread_name_prefix="photosearch-ocr",
                                                    initializer=_lower_thread_priority)
                return self._pool.submit(self._run, image).result()
            return self._run(image)

    def _run(self, image) -> list[TextLine]:
        """Detect, classify, recognise; then the checks of photosearch/ocrlines.py."""
        import numpy as np

        ocr = self._engine()
        # RapidOCR remembers use_* from the last call: always say which steps run.
        out = ocr(image, use_det=True, use_cls=True, use_rec=True, return_word_box=False)
        if getattr(out, "txts", None) is None or getattr(out, "boxes", None) is None:
            return []
        lines = []
        for box, txt, score in zip(out.boxes, out.txts, out.scores):
            txt = " ".join(str(txt).split())
            if not txt or (sum(c.isalnum() for c in txt) <= 2 and score < self.settings.short_min_confidence):
                continue
            corners = np.asarray(box, dtype=np.float64).reshape(-1, 2).round().astype(int).tolist()
            lines.append(TextLine(txt, round(float(score), 4), corners))
        return complete_lines(image, plausible(image, lines), self._recognise, self.settings.short_min_confidence)

    def _recognise(self, crop) -> tuple[str, list[float]]:
        """One upright strip recognised alone (no detection): its text and each character's confidence."""
        out = self._ocr(crop, use_det=False, use_cls=False, use_rec=True, return_word_box=True)
        txts, words = getattr(out, "txts", None) or (), getattr(out, "word_results", None) or ()
        if not txts or not words or getattr(words[0], "confs", None) is None:
            return "", []
        return str(txts[0]), [float(c) for c in words[0].confs]

    def read_file(self, path) -> list[TextLine]:
        """Decode ``path`` (upright, at most ``max_side`` px long) and read it; boxes in the original's
        pixels. Raises ``ImageSkip``."""
        img, scale, _ = load_for_ocr(path, self.settings.max_side)
        lines = self.read(img)
        for ln in lines:
            ln.box = [[round(x * scale), round(y * scale)] for x, y in ln.box]
        return lines

    def close(self) -> None:
        """Release the ONNX sessions (about 100 MB) and the background thread."""
        with self._lock:
            self._ocr = None
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None


def _lower_thread_priority() -> None:
    """Nice 19 for the calling thread only (Linux keeps a nice value per thread; threads it starts inherit
    it). Elsewhere ``setpriority`` would lower the whole process, so it is left alone."""
    import os
    import sys

    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (OSError, AttributeError):
            pass


def fold_layout(w: int, h: int) -> tuple[int, int, list[tuple[int, int, int, int]]] | None:
    """How a strip longer than ``FOLD_ASPECT``:1 is folded: (width, height, [(start, end, x, y)]), each
    segment [start, end) along the long side placed at (x, y), rows (or columns, for a tall strip) a third
    of the short side apart. Segments overlap by three short sides, so a word cut at one segment's end is
    whole in the next. None: the image is read as it is."""
    short, long_ = min(w, h), max(w, h)
    if long_ <= FOLD_ASPECT * short:
        return None
    gap, overlap = max(4, short // 3), 3 * short
    seg = FOLD_ASPECT * short
    while True:  # the shortest segment length whose stack is no taller than it is long
        n = -(-(long_ - seg) // (seg - overlap)) + 1
        across = n * short + (n - 1) * gap
        if across <= seg or seg >= long_:
            break
        seg = min(long_, int(seg * 1.1) + 1)
    starts = [min(i * (seg - overlap), long_ - seg) for i in range(n)]
    place = [(0, i * (short + gap)) if w > h else (i * (short + gap), 0) for i in range(n)]
    size = (seg, across) if w > h else (across, seg)
    return size[0], size[1], [(a, a + seg, x, y) for a, (x, y) in zip(starts, place)]


def fold(image, layout):
    """The folded picture of a strip (gaps filled with its mean colour)."""
    from PIL import Image, ImageStat

    fw, fh, segs = layout
    horizontal = image.size[0] > image.size[1]
    out = Image.new("RGB", (fw, fh), tuple(round(c) for c in ImageStat.Stat(image).mean[:3]))
    for a, b, x, y in segs:
        crop = (a, 0, b, image.size[1]) if horizontal else (0, a, image.size[0], b)
        out.paste(image.crop(crop), (x, y))
    return out


def unfold_lines(lines: list[TextLine], layout, horizontal: bool) -> list[TextLine]:
    """Boxes read in a folded picture, mapped back to the strip; a line read twice in the overlap (or cut
    at a segment's end) is kept once, the longer reading."""
    _, _, segs = layout
    mapped = []
    for ln in lines:
        cx = sum(x for x, _ in ln.box) / len(ln.box)
        cy = sum(y for _, y in ln.box) / len(ln.box)
        a, _, x0, y0 = _segment_of(segs, cx, cy, horizontal)
        ln.box = [[x - x0 + a, y - y0] if horizontal else [x - x0, y - y0 + a] for x, y in ln.box]
        mapped.append(ln)
    return _drop_duplicates(mapped)


def _segment_of(segs, cx: float, cy: float, horizontal: bool):
    """The segment whose band (row, or column) holds the point."""
    across = cy if horizontal else cx
    return max((s for s in segs if (s[3] if horizontal else s[2]) <= across), default=segs[0],
               key=lambda s: s[3] if horizontal else s[2])


def _bounds(box) -> tuple[int, int, int, int]:
    xs, ys = [x for x, _ in box], [y for _, y in box]
    return min(xs), min(ys), max(xs), max(ys)


def _drop_duplicates(lines: list[TextLine]) -> list[TextLine]:
    kept: list[TextLine] = []
    for ln in sorted(lines, key=lambda ln: (-len(ln.text), -ln.confidence)):
        a = _bounds(ln.box)
        area = max(1, (a[2] - a[0]) * (a[3] - a[1]))
        for k in kept:
            b = _bounds(k.box)
            inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
            if inter > 0.5 * area:
                break
        else:
            kept.append(ln)
    return sorted(kept, key=lambda ln: (_bounds(ln.box)[1], _bounds(ln.box)[0]))


def ocr_scale(w: int, h: int, max_side: int) -> float:
    """How much to shrink a ``w``×``h`` photo for reading (≤ 1): the long side to ``max_side``; a long strip
    as if each ``FOLD_ASPECT``:1 piece were a photo, within ``max_side``² pixels in all (the pixel budget,
    decided from the header before a pixel is decoded)."""
    short, long_ = max(1, min(w, h)), max(1, max(w, h))
    if long_ <= FOLD_ASPECT * short:
        return min(1.0, max_side / long_)
    return min(1.0, max_side / (FOLD_ASPECT * short), max_side / (w * h) ** 0.5)


def load_for_ocr(path, max_side: int):
    """(RGB image shrunk by :func:`ocr_scale`, scale to original pixels, meta). Raises ``ImageSkip``."""
    from PIL import Image

    from photosearch.imageio import load_image

    img, meta = load_image(path, min_side=max(1, _draft_min_side(path, max_side)))
    w, h = img.size
    r = ocr_scale(w, h, max_side)
    if r < 1.0:
        img = img.resize((max(1, round(w * r)), max(1, round(h * r))), Image.Resampling.LANCZOS)
    return img, (meta.width / img.size[0] if img.size[0] else 1.0), meta


def load_frames_for_ocr(path, times: list[float], max_side: int) -> list[tuple]:
    """A video's frames at ``times`` as :func:`load_for_ocr` gives a photo: [(RGB image, scale to the frame's
    pixels, second)]. Raises ``ImageSkip`` when not one frame can be decoded."""
    from PIL import Image

    from photosearch.imageio import ImageSkip
    from photosearch.video import VideoSkip, frame_at

    out, why = [], None
    for t in times:
        try:
            img = frame_at(path, t, short_side=max_side)
        except VideoSkip as e:
            why = e.reason
            continue
        w, h = img.size
        r = ocr_scale(w, h, max_side)
        if r < 1.0:
            img = img.resize((max(1, round(w * r)), max(1, round(h * r))), Image.Resampling.LANCZOS)
        out.append((img, w / img.size[0] if img.size[0] else 1.0, t))
    if not out:
        raise ImageSkip(why or "no frame could be decoded")
    return out


def _draft_min_side(path, max_side: int) -> int:
    """The short side :func:`ocr_scale` keeps (JPEG draft decodes at 1/2, 1/4, 1/8)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
    except Exception:  # noqa: BLE001 - load_image says why properly
        return max_side
    return int(min(w, h) * ocr_scale(w, h, max_side)) + 1
