"""A small synthetic caption data set in the Flickr8k layout: coloured shapes with varied wordings.

Used by the tests, the benchmarks and as a smoke test of a setup (``photosearch train --data`` on it takes
seconds). Positions are top/bottom, not left/right, because training flips images horizontally.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

COLOURS = {"red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220), "yellow": (235, 210, 20)}
SHAPES = ("circle", "square", "triangle")
POSITIONS = ("top", "bottom")
# Wordings differ per caption, as five human captions of one Flickr8k photo do.
TEMPLATES = (
    "a {c} {s} at the {p}",
    "there is a {c} {s} near the {p} of the picture",
    "a {s} coloured {c}, {p} of the image",
    "{c} {s} in the {p} half",
    "an image showing one {c} {s} towards the {p}",
    "the {p} holds a small {c} {s}",
)
SYNONYMS = {"circle": ("circle", "round disc", "ball"), "square": ("square", "box", "square block"),
            "triangle": ("triangle", "triangle", "three-sided shape")}


def draw(shape: str, colour: str, position: str, size: int, rng: random.Random):
    from PIL import Image, ImageDraw

    bg = tuple(rng.randint(200, 250) for _ in range(3))
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    r = rng.uniform(0.14, 0.22) * size
    cx = rng.uniform(0.3, 0.7) * size
    cy = rng.uniform(0.2, 0.3) * size if position == "top" else rng.uniform(0.7, 0.8) * size
    fill = tuple(max(0, min(255, v + rng.randint(-20, 20))) for v in COLOURS[colour])
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    return img


def make_shapes_dataset(dest: str | Path, n_images: int = 160, size: int = 64, seed: int = 0,
                        val_fraction: float = 0.2, test_fraction: float = 0.2,
                        image_dir: str = "Flicker8k_Dataset") -> Path:
    """Write ``dest/Flicker8k_Dataset/*.jpg`` and ``dest/dataset_flickr8k.json``; return ``dest``."""
    dest = Path(dest)
    (dest / image_dir).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_val, n_test = int(n_images * val_fraction), int(n_images * test_fraction)
    entries, sentid = [], 0
    for i in range(n_images):
        shape, colour, pos = SHAPES[i % 3], list(COLOURS)[(i // 3) % 4], POSITIONS[(i // 12) % 2]
        fn = f"{1000 + i}_{shape}_{colour}.jpg"
        draw(shape, colour, pos, size, rng).save(dest / image_dir / fn, quality=90)
        templates = rng.sample(TEMPLATES, 5)
        caps = [t.format(c=colour, s=rng.choice(SYNONYMS[shape]), p=pos) for t in templates]
        split = "val" if i % 5 == 1 and n_val else "test" if i % 5 == 3 and n_test else "train"
        if split == "val":
            n_val -= 1
        elif split == "test":
            n_test -= 1
        entries.append({"filename": fn, "split": split, "sentids": list(range(sentid, sentid + 5)),
                        "sentences": [{"raw": c, "sentid": sentid + k} for k, c in enumerate(caps)]})
        sentid += 5
    (dest / "dataset_flickr8k.json").write_text(json.dumps({"images": entries, "dataset": "shapes"}))
    return dest
