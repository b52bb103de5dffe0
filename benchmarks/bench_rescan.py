"""Re-scan and hashing costs (issue #24.8: files are hashed whole when their size or mtime changed).

    python benchmarks/bench_rescan.py                    # 20,000-file re-scans, hashing of 1-30 MB files

1. An unchanged re-scan of N small files (rows and vectors inserted as an earlier index left them): no file
   is read, so full hashing must cost nothing here.
2. The same library after ``touch`` of every 10th file (same bytes, new mtime): each touched file is hashed
   whole to verify that its content did not change; nothing is re-embedded.
3. ``content_hash`` (whole file) against the old sampled fingerprint on files of several sizes, read from
   the page cache (a fresh file from a card or a network share reads at the device's speed instead), and
   next to the draft decode a new 12 MP JPEG needs anyway.
Uses a tiny random-weight model (tests/helpers.py): the model never runs in these paths. Prints a table and,
last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_library import fill_library, make_small_files


def best_of(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--sizes-mb", default="1,5,12,30")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    from helpers import tiny_model

    from photosearch.library import Library
    from photosearch.library.scan import content_hash, legacy_hash

    res: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-rescan-") as tmp:
        tmp = Path(tmp)
        model = tiny_model(tmp)
        files = make_small_files(tmp / "many", args.files)
        db = tmp / "lib.db"
        fill_library(db, model.config.model_id, int(model.config.embed_dim), args.files, files,
                     folder=str(tmp / "many"))
        with Library.open(db) as lib:
            lib.run_index(model)  # warm: the page cache and SQLite's
            dt = best_of(lambda: lib.run_index(model), args.rounds)
            res["unchanged_rescan_s"] = round(dt, 3)
            rows.append((f"unchanged re-scan, {args.files:,} files", f"{dt:.3f} s"))
            touched = [p for p, _, _ in files[::10]]
            for p in touched:  # the synthetic rows' hashes made real, so the verification finds them equal
                lib.conn.execute("UPDATE photos SET hash = ? WHERE path = ?", (content_hash(p), p))
            now = time.time()

            def touch_and_rescan():
                for p in touched:
                    os.utime(p, (now, now + 1))
                rep = lib.run_index(model)
                assert rep.indexed == 0 and rep.unchanged == args.files, rep
            t0 = time.perf_counter()
            touch_and_rescan()
            dt2 = time.perf_counter() - t0
            res["touched_rescan_s"] = round(dt2, 3)
            rows.append((f"re-scan, {len(touched):,} of them touched (verified by full hash)", f"{dt2:.3f} s"))
        for mb in [int(s) for s in args.sizes_mb.split(",") if s]:
            p = tmp / f"f{mb}.bin"
            p.write_bytes(os.urandom(mb * 1024 * 1024))
            content_hash(p)  # into the page cache
            full = best_of(lambda: content_hash(p), args.rounds)
            sampled = best_of(lambda: legacy_hash(p) if mb > 4 else content_hash(p), args.rounds)
            res[f"hash_{mb}mb_ms"] = {"full": round(full * 1000, 2), "sampled": round(sampled * 1000, 2)}
            rows.append((f"hash a {mb} MB file: whole / old sampled", f"{full * 1000:.1f} ms / {sampled * 1000:.2f} ms"
                         f" ({mb / full:.0f} MB/s whole)"))
        # What a new or changed camera photo costs to read: the draft decode the model needs, and its hash.
        import numpy as np
        from PIL import Image

        from photosearch.imageio import load_image

        rng = np.random.default_rng(0)
        jpg = tmp / "camera.jpg"
        base = np.linspace(0, 255, 4000 * 3000 * 3).reshape(3000, 4000, 3)
        Image.fromarray((base + rng.normal(0, 12, base.shape)).clip(0, 255).astype(np.uint8)).save(jpg, quality=92)
        mb = jpg.stat().st_size / 1e6
        decode = best_of(lambda: load_image(jpg, min_side=256), args.rounds)
        full = best_of(lambda: content_hash(jpg), args.rounds)
        res["camera_jpeg"] = {"mb": round(mb, 1), "decode_ms": round(decode * 1000, 1),
                              "hash_ms": round(full * 1000, 1)}
        rows.append((f"12 MP JPEG ({mb:.1f} MB): draft decode / whole hash", f"{decode * 1000:.0f} ms / "
                     f"{full * 1000:.0f} ms"))
    width = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"{a:<{width}}  {b}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
