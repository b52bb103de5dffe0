"""Real face photos that install offline, and honest variations of them for identity-labelled sets.

No package here ships several photos of one person, so "the same person in another photo" is the same portrait
seen differently: cropped, scaled, brighter or darker, re-compressed, slightly turned, mirrored. The identities
are real people: Eileen Collins (scikit-image's ``astronaut``) and Grace Hopper (matplotlib's sample data).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance


def astronaut() -> Image.Image:
    import skimage.data

    return Image.fromarray(skimage.data.astronaut())


def hopper() -> Image.Image:
    import matplotlib

    return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")


IDENTITIES = {"collins": astronaut, "hopper": hopper}


def variant(img: Image.Image, seed: int) -> Image.Image:
    """Another "photo" of the same face: a random crop keeping the face, scale, brightness/contrast,
    a small rotation, sometimes mirrored, and JPEG re-compression at a random quality."""
    rng = np.random.default_rng(seed)
    w, h = img.size
    left, top = rng.uniform(0, 0.12) * w, rng.uniform(0, 0.08) * h
    r, b = w - rng.uniform(0, 0.12) * w, h - rng.uniform(0, 0.1) * h
    out = img.crop((int(left), int(top), int(r), int(b)))
    s = rng.uniform(0.7, 1.4)
    out = out.resize((max(64, int(out.width * s)), max(64, int(out.height * s))), Image.BICUBIC)
    out = ImageEnhance.Brightness(out).enhance(rng.uniform(0.6, 1.35))
    out = ImageEnhance.Contrast(out).enhance(rng.uniform(0.75, 1.25))
    out = out.rotate(rng.uniform(-12, 12), resample=Image.BICUBIC, expand=False, fillcolor=(128, 128, 128))
    if rng.random() < 0.3:
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=int(rng.integers(35, 95)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def group_photo(faces: list[Image.Image], height: int = 360, bg=(90, 110, 90)) -> Image.Image:
    """Several portraits side by side in one photo (people standing together)."""
    tiles = [f.resize((int(f.width * height / f.height), height)) for f in faces]
    out = Image.new("RGB", (sum(t.width for t in tiles) + 20 * (len(tiles) + 1), height + 40), bg)
    x = 20
    for t in tiles:
        out.paste(t, (x, 20))
        x += t.width + 20
    return out


def crowd(n: int, face: Image.Image, tile: int = 56, cols: int = 20) -> Image.Image:
    """``n`` small copies of a face in a grid (a crowd / a wall of passport photos)."""
    rows = -(-n // cols)
    out = Image.new("RGB", (cols * tile, rows * tile), (200, 200, 200))
    small = face.resize((tile, tile))
    for i in range(n):
        out.paste(small, ((i % cols) * tile, (i // cols) * tile))
    return out


def face_crop(img: Image.Image, box, margin: float = 0.6) -> Image.Image:
    """The region around a detected face box, with ``margin`` of its size on each side."""
    x, y, w, h = box
    return img.crop((int(max(0, x - margin * w)), int(max(0, y - margin * h)),
                     int(min(img.width, x + w * (1 + margin))), int(min(img.height, y + h * (1 + margin)))))


def box_iou(a, b) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)
