"""The real-photo evaluation set (issue #11): assemble its photos from installed packages, and featureless distractors.

The set's definition is ``benchmarks/evalset.json``: photos (id, source locator, half) and queries (text,
category, every relevant photo id; category ``absent`` = fits no photo). Photos are not committed; they come
from packages that install offline:

- ``skimage:<name>``      scikit-image's ``skimage.data.<name>()``
- ``sklearn:<file>``      scikit-learn's ``load_sample_images`` files
- ``matplotlib:<file>``   matplotlib's ``sample_data``
- ``mate:<path>``         Debian ``mate-backgrounds`` (/usr/share/backgrounds/mate)
- ``plasma:<name>``       Debian ``plasma-workspace-wallpapers`` (/usr/share/wallpapers/<name>)
- ``gcompris:<rcc>:<stem>`` Debian ``gcompris-qt-data`` (Qt resource archives in /usr/share/gcompris-qt/rcc;
  read with PySide6's QtCore, which is why this lives in benchmarks/, not in the Qt-free core)

A missing source is skipped with a reason; queries are kept only where a relevant photo is present (absent
queries always). Each half is its own retrieval problem: its photos, and the queries with a relevant photo in it.

    python benchmarks/evalset.py DEST [--distractors N]   # writes the photos, prints what is available
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEFINITION = Path(__file__).with_name("evalset.json")
MATE = Path("/usr/share/backgrounds/mate")
PLASMA = Path("/usr/share/wallpapers")
GCOMPRIS = Path("/usr/share/gcompris-qt/rcc")
SOURCES = {"skimage": "pip scikit-image", "sklearn": "pip scikit-learn", "matplotlib": "pip matplotlib",
           "mate": "Debian mate-backgrounds", "plasma": "Debian plasma-workspace-wallpapers",
           "gcompris": "Debian gcompris-qt-data"}


@dataclass
class EvalSet:
    photos: dict[str, Path]                      # id -> file
    half: dict[str, str]                         # id -> "tune" | "test"
    queries: list[dict]                          # {"text", "category", "relevant": [ids present]}
    skipped: dict[str, str] = field(default_factory=dict)  # source kind -> reason

    def split(self, half: str) -> "EvalSet":
        """The photos of one half and the queries with a relevant photo there (plus every absent query)."""
        ids = {i for i, h in self.half.items() if h == half and i in self.photos}
        qs = []
        for q in self.queries:
            rel = [i for i in q["relevant"] if i in ids]
            if rel or q["category"] == "absent":
                qs.append({**q, "relevant": rel})
        return EvalSet({i: p for i, p in self.photos.items() if i in ids}, {i: half for i in ids}, qs, self.skipped)

    def summary(self) -> str:
        n_abs = sum(q["category"] == "absent" for q in self.queries)
        s = f"{len(self.photos)} photos, {len(self.queries) - n_abs} queries (+{n_abs} absent-concept)"
        return s + "".join(f"; skipped {k}: {v}" for k, v in sorted(self.skipped.items()))


def definition() -> dict:
    return json.loads(DEFINITION.read_text())


def _plasma_file(name: str) -> Path | None:
    """The smallest landscape image of a Plasma wallpaper package (>= 1024 px wide)."""
    best = None
    for p in (PLASMA / name / "contents" / "images").glob("*"):
        m = re.match(r"(\d+)x(\d+)", p.stem)
        if m and int(m[1]) >= int(m[2]) and int(m[1]) >= 1024 and (best is None or int(m[1]) < best[0]):
            best = (int(m[1]), p)
    return best[1] if best else None


class _Gcompris:
    """Reads images out of GCompris' Qt resource archives (registered once per archive)."""

    def __init__(self):
        from PySide6.QtCore import QResource  # QtCore only: no display needed

        self._res = QResource
        self._index: dict[str, dict[str, str]] = {}

    def read(self, rcc: str, stem: str) -> tuple[bytes, str] | None:
        from PySide6.QtCore import QDirIterator, QFile, QIODevice

        if rcc not in self._index:
            path = GCOMPRIS / f"{rcc}.rcc"
            root = f"/evalset_{rcc}"
            if not path.is_file() or not self._res.registerResource(str(path), root):
                self._index[rcc] = {}
            else:
                idx = {}
                it = QDirIterator(":" + root, QDirIterator.Subdirectories)
                while it.hasNext():
                    p = it.next()
                    if "/resource/" in p and p.lower().endswith((".jpg", ".jpeg", ".png", ".webp")):
                        idx[re.sub(r"\.[a-z]+$", "", p.split("/resource/", 1)[1], flags=re.I)] = p
                self._index[rcc] = idx
        p = self._index[rcc].get(stem)
        if p is None:
            return None
        f = QFile(p)
        if not f.open(QIODevice.ReadOnly):
            return None
        data = bytes(f.readAll())
        f.close()
        return data, Path(p).suffix.lower()


def _write(src: str, dest_stem: Path, gc: list) -> Path | None:
    kind, rest = src.split(":", 1)
    if kind == "skimage":
        import skimage.data
        from PIL import Image

        p = dest_stem.with_suffix(".png")
        if not p.exists():
            arr = skimage.data.stereo_motorcycle()[0] if rest == "motorcycle_left" else getattr(skimage.data, rest)()
            Image.fromarray(arr).save(p)
        return p
    if kind == "sklearn":
        import sklearn.datasets

        srcp = Path(sklearn.datasets.__file__).parent / "images" / rest
    elif kind == "matplotlib":
        import matplotlib

        srcp = Path(matplotlib.get_data_path()) / "sample_data" / rest
    elif kind == "mate":
        srcp = MATE / rest
    elif kind == "plasma":
        srcp = _plasma_file(rest)
    elif kind == "gcompris":
        if not gc:
            gc.append(_Gcompris())
        rcc, stem = rest.split(":", 1)
        got = gc[0].read(rcc, stem)
        if got is None:
            return None
        p = dest_stem.with_suffix(got[1])
        if not p.exists():
            p.write_bytes(got[0])
        return p
    else:
        return None
    if srcp is None or not srcp.is_file():
        return None
    p = dest_stem.with_suffix(srcp.suffix.lower())
    if not p.exists():
        shutil.copy(srcp, p)
    return p


def _source_missing(kind: str) -> str | None:
    try:
        if kind == "skimage":
            import skimage.data  # noqa: F401
        elif kind == "sklearn":
            import sklearn.datasets  # noqa: F401
        elif kind == "matplotlib":
            import matplotlib  # noqa: F401
        elif kind == "gcompris":
            import PySide6.QtCore  # noqa: F401
    except ImportError as e:
        return f"{SOURCES[kind]} is not installed ({e.name})"
    folder = {"mate": MATE, "plasma": PLASMA, "gcompris": GCOMPRIS}.get(kind)
    if folder is not None and not folder.is_dir():
        return f"{SOURCES[kind]} is not installed ({folder} missing)"
    return None


def assemble(dest: Path, kinds: set[str] | None = None) -> EvalSet:
    """Write the set's photos that the installed packages provide into ``dest`` (each once; reruns reuse
    them) and return the set restricted to them. ``kinds`` limits the sources (e.g. {"skimage"} for a fast test)."""
    d = definition()
    dest.mkdir(parents=True, exist_ok=True)
    skipped, photos, gc = {}, {}, []
    for ph in d["photos"]:
        kind = ph["source"].split(":", 1)[0]
        if kinds is not None and kind not in kinds:
            continue
        if kind in skipped:
            continue
        why = _source_missing(kind)
        if why:
            skipped[kind] = why
            continue
        try:
            p = _write(ph["source"], dest / ph["id"], gc)
        except (AttributeError, OSError, ValueError) as e:  # a package version without this sample
            p = None
            skipped.setdefault(kind + " (some)", f"{SOURCES[kind]}: {ph['source']}: {e}")
        if p is None:
            skipped.setdefault(kind + " (some)", f"{SOURCES[kind]}: {ph['source']} missing")
        else:
            photos[ph["id"]] = p
    queries = []
    for q in d["queries"]:
        rel = [i for i in q["relevant"] if i in photos]
        if rel or q["category"] == "absent":
            queries.append({**q, "relevant": rel})
    return EvalSet(photos, {ph["id"]: ph["half"] for ph in d["photos"] if ph["id"] in photos}, queries, skipped)


def distractors(dest: Path, n: int = 300, seed: int = 0, size: tuple[int, int] = (640, 480)) -> list[Path]:
    """``n`` featureless images a real library holds: solid colours, gradients, sensor noise, near-white
    scans, blank (black/white/grey) frames, blurred blobs. Deterministic for a seed."""
    from PIL import Image, ImageFilter

    dest.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w, h = size
    out = []
    for i in range(n):
        kind = i % 6
        if kind == 0:  # solid colour
            arr = np.broadcast_to(rng.integers(0, 256, 3, dtype=np.uint8), (h, w, 3)).copy()
        elif kind == 1:  # linear gradient between two colours, random direction
            a, b = rng.integers(0, 256, (2, 3)).astype(np.float32)
            ang = rng.uniform(0, 2 * np.pi)
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            t = (xx * np.cos(ang) + yy * np.sin(ang))
            t = (t - t.min()) / (np.ptp(t) + 1e-6)
            arr = (a + (b - a) * t[..., None]).astype(np.uint8)
        elif kind == 2:  # sensor noise around a dark or mid level
            base = rng.integers(0, 128)
            arr = np.clip(base + rng.normal(0, rng.uniform(5, 40), (h, w, 3)), 0, 255).astype(np.uint8)
        elif kind == 3:  # near-white scan: paper tone, faint noise, a soft shadow at one edge
            tone = rng.integers(225, 250)
            arr = np.clip(tone + rng.normal(0, 3, (h, w, 1)), 0, 255).repeat(3, 2)
            arr[:, : rng.integers(5, 40)] *= rng.uniform(0.8, 0.95)
            arr = arr.astype(np.uint8)
        elif kind == 4:  # blank frame: black, white or grey, slightly off
            v = int(rng.choice([2, 128, 253])) + int(rng.integers(-2, 3))
            arr = np.full((h, w, 3), v, np.uint8)
        else:  # out-of-focus colour blobs
            small = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
            im = Image.fromarray(small).resize((w, h), Image.BICUBIC).filter(ImageFilter.GaussianBlur(20))
            arr = np.asarray(im)
        p = dest / f"distractor-{i:04d}.png"
        if not p.exists():
            Image.fromarray(arr).save(p)
        out.append(p)
    return out


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dest", type=Path)
    ap.add_argument("--distractors", type=int, default=0)
    args = ap.parse_args()
    s = assemble(args.dest)
    print(s.summary())
    for h in ("tune", "test"):
        print(f"  {h}: {s.split(h).summary()}")
    if args.distractors:
        print(f"{len(distractors(args.dest / 'distractors', args.distractors))} distractors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
