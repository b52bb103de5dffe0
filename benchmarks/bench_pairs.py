"""RAW+JPEG pairs (photosearch/library/pairs.py): what indexing a shot once saves, and what finding pairs costs a
re-scan.

``--shots`` shots of a camera set to RAW+JPEG are written (a DNG with its camera preview, and the JPEG, both of a
real photo at ``--size``), then indexed with the starter model twice: as pairs (the JPEG decoded and embedded for
both files) and, for comparison, with the JPEGs renamed so nothing pairs (every file decoded and embedded). Then
the unchanged paired folder is re-scanned (pairs known: nothing is read) and scanned once more as new (every pair
checked: the RAW's and the JPEG's dates read).

    python benchmarks/bench_pairs.py [--dest /tmp/bench-pairs] [--shots 40] [--size 3000x2000]

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from rawhelpers import write_dng


def _shots(dest: Path, n: int, size: tuple[int, int]) -> tuple[Path, Path]:
    from skimage import data

    paired, apart = dest / "paired", dest / "apart"
    for d in (paired, apart):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    srcs = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    rng = np.random.default_rng(0)
    for i in range(n):
        img = Image.fromarray(srcs[i % len(srcs)]).resize(size, Image.Resampling.BICUBIC)
        rgb = np.clip(np.asarray(img, np.int16) + rng.integers(-6, 7, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
        date = f"2024:06:01 10:{i // 60:02d}:{i % 60:02d}"
        write_dng(paired / f"IMG_{i:04d}.DNG", rgb, date=date)
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = date
        Image.fromarray(rgb).save(paired / f"IMG_{i:04d}.JPG", quality=90, exif=exif)
        shutil.copy(paired / f"IMG_{i:04d}.DNG", apart / f"IMG_{i:04d}.DNG")
        shutil.copy(paired / f"IMG_{i:04d}.JPG", apart / f"OTHER_{i:04d}.JPG")
    return paired, apart


def _index(model, db: Path, folder: Path) -> tuple[float, int]:
    from photosearch.library import Library

    db.unlink(missing_ok=True)
    with Library.open(db) as lib:
        t0 = time.perf_counter()
        rep = lib.run_index(model, [folder])
        return time.perf_counter() - t0, rep.indexed


def _plan_s(db: Path, model_id: str, folder: Path, forget: bool) -> float:
    from photosearch.library import Library
    from photosearch.library.plan import plan

    with Library.open(db) as lib:
        if forget:  # as if every pair were new: each is checked (dates read) again
            lib.conn.execute("DELETE FROM companions")
            lib.conn.commit()
        t0 = time.perf_counter()
        plan(lib.conn, model_id, [str(folder)], [str(folder)])
        return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, default=Path("/tmp/bench-pairs"))
    ap.add_argument("--shots", type=int, default=40)
    ap.add_argument("--size", default="3000x2000")
    a = ap.parse_args()
    size = tuple(int(v) for v in a.size.split("x"))
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    paired, apart = _shots(a.dest, a.shots, size)
    model = ModelStore(app_paths()).load("starter", device="cpu")
    model.embed_texts(["warm-up"])
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "shots": a.shots, "size": a.size}
    s, n = _index(model, a.dest / "apart.db", apart)
    res.update(unpaired_index_s=round(s, 2), unpaired_embedded=n)
    s, n = _index(model, a.dest / "paired.db", paired)
    res.update(paired_index_s=round(s, 2), paired_embedded=n)
    mid = model.config.model_id
    res["rescan_pairs_known_ms"] = round(1000 * _plan_s(a.dest / "paired.db", mid, paired, False), 1)
    res["rescan_pairs_checked_ms"] = round(1000 * _plan_s(a.dest / "paired.db", mid, paired, True), 1)
    print(f"{'measure':<28} value")
    for k, v in res.items():
        print(f"{k:<28} {v}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
