"""Decoding a camera RAW for the index against the same shot as a JPEG: the embedded preview path (about as fast
as a JPEG) and the half-size demosaic a RAW without a usable preview takes.

No package here ships a real camera RAW, so the RAW files are DNGs written here (tests/rawhelpers.py: 12-bit
RGGB sensor data of a real photo, with an 8-bit half-size preview, or without one). A camera's preview is a JPEG,
which costs about what the JPEG row costs; this DNG's preview is an uncompressed bitmap, so the preview row is
the LibRaw and orientation overhead plus an uncompressed read. Each file is decoded as the indexer asks
(``imageio.load_image`` at the model's decode size), the kinds alternating round by round; medians.

    python benchmarks/bench_raw.py [--dest /tmp/bench-raw] [--size 3000x2000] [--rounds 7] [--min-side 256]

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from rawhelpers import write_dng


def _files(dest: Path, size: tuple[int, int]) -> dict[str, Path]:
    from skimage import data

    dest.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(data.astronaut()).resize(size, Image.Resampling.BICUBIC)
    rng = np.random.default_rng(0)
    rgb = np.clip(np.asarray(img, np.int16) + rng.integers(-6, 7, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    files = {"JPEG (quality 90)": dest / "shot.jpg", "DNG, embedded preview": dest / "preview.dng",
             "DNG, no preview (half-size demosaic)": dest / "sensor.dng"}
    Image.fromarray(rgb).save(files["JPEG (quality 90)"], quality=90)
    write_dng(files["DNG, embedded preview"], rgb)
    write_dng(files["DNG, no preview (half-size demosaic)"], rgb, preview=False)
    return files


def main() -> int:
    from photosearch.imageio import load_image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, default=Path("/tmp/bench-raw"))
    ap.add_argument("--size", default="3000x2000")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--min-side", type=int, default=256, help="the decode size the indexer asks (starter: 256)")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    files = _files(a.dest, (w, h))
    times: dict[str, list[float]] = {k: [] for k in files}
    shapes = {}
    for _ in range(a.rounds):
        for kind, path in files.items():
            t0 = time.perf_counter()
            img, meta = load_image(path, min_side=a.min_side)
            times[kind].append(time.perf_counter() - t0)
            shapes[kind] = (img.size, (meta.width, meta.height))
    jpeg = float(np.median(times["JPEG (quality 90)"]))
    rows = {k: {"median_ms": round(1000 * float(np.median(v)), 1), "vs_jpeg": round(float(np.median(v)) / jpeg, 2),
                "decoded": list(shapes[k][0]), "reported": list(shapes[k][1])} for k, v in times.items()}
    print(f"{'file (' + a.size + ')':<40} {'median ms':>10} {'x JPEG':>7}  decoded -> reported size")
    for k, r in rows.items():
        print(f"{k:<40} {r['median_ms']:>10} {r['vs_jpeg']:>7}  {r['decoded']} -> {r['reported']}")
    print(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "size": a.size,
                      "rounds": a.rounds, "min_side": a.min_side, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
