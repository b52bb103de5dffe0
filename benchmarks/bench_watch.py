"""The live library, measured: copy-to-searchable latency, a burst of copies vs a plain index, an idle watcher.

    python benchmarks/bench_watch.py [--photos 300] [--latency 12] [--idle-files 100000] [--model starter]

Prints a table and one JSON line. Photos are generated JPEGs (1600x1200, smooth random patterns) so that no
data set is needed; the model is the real starter unless --model says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from photosearch.library import Library
from photosearch.library.watch import watch


def make_photos(d: Path, n: int, seed: int = 0, size=(1600, 1200)) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for i in range(n):
        img = np.zeros((h, w, 3), np.float32)
        for c in range(3):
            fx, fy = rng.uniform(0.002, 0.03, 2)
            img[..., c] = 127 + 120 * np.sin(fx * x + fy * y + rng.uniform(0, 6.28))
        p = d / f"photo{i:05d}.jpg"
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(p, quality=88)
        out.append(p)
    return out


def copy_atomically(src: Path, dest: Path) -> None:
    shutil.copyfile(src, dest)


class Running:
    def __init__(self, lib_path, model, **kw):
        self.cancel = threading.Event()
        self.batches = []
        self.ready = threading.Event()  # set at the first event: every folder is watched
        self.thread = threading.Thread(target=self._run, args=(lib_path, model), kwargs=kw, daemon=True)
        self.thread.start()

    def _run(self, lib_path, model, **kw):
        for ev in watch(lib_path, model, cancel=self.cancel, **kw):
            self.ready.set()
            if ev.kind == "batch":
                self.batches.append(ev)

    def stop(self):
        self.cancel.set()
        self.thread.join(60)


def indexed_paths(lib_path) -> set[str]:
    with Library.open(lib_path, read_only=True) as lib:
        return {r[0] for r in lib.conn.execute("SELECT path FROM photos p JOIN embeddings e ON e.photo_id = p.id")}


def wait_until(pred, timeout=600.0, step=0.05) -> float:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError
        time.sleep(step)
    return time.monotonic() - t0


def bench_latency(tmp: Path, model, n: int, source: list[Path]) -> list[float]:
    folder = tmp / "lat"
    folder.mkdir()
    lib_path = tmp / "lat.db"
    with Library.open(lib_path) as lib:
        lib.add_folder(folder)
    w = Running(lib_path, model, catch_up=False)
    wait_until(w.ready.is_set)
    lat = []
    try:
        for i in range(n):
            dest = folder / f"copied{i}.jpg"
            t0 = time.monotonic()
            copy_atomically(source[i % len(source)], dest)
            wait_until(lambda: str(dest) in indexed_paths(lib_path), timeout=120)
            lat.append(time.monotonic() - t0)
            time.sleep(0.3)
    finally:
        w.stop()
    return lat


def bench_burst(tmp: Path, model, photos: list[Path]) -> dict:
    # Plain index of the same folder, fresh library.
    lib_a = tmp / "plain.db"
    t0 = time.monotonic()
    with Library.open(lib_a) as lib:
        rep = lib.run_index(model, [str(photos[0].parent)])
    plain = time.monotonic() - t0
    # The watcher: an empty watched folder, then every photo copied in at once.
    folder = tmp / "burst"
    folder.mkdir()
    lib_b = tmp / "burst.db"
    with Library.open(lib_b) as lib:
        lib.add_folder(folder)
    w = Running(lib_b, model, catch_up=False)
    wait_until(w.ready.is_set)
    t0 = time.monotonic()
    for p in photos:
        shutil.copyfile(p, folder / p.name)
    try:
        wait_until(lambda: len(indexed_paths(lib_b)) >= len(photos), timeout=3600, step=0.25)
        total = time.monotonic() - t0
    finally:
        w.stop()
    embedded = sum(b.report.indexed for b in w.batches)
    return {"photos": len(photos), "plain_index_s": plain, "watch_total_s": total, "ratio": total / plain,
            "batches": len(w.batches), "embedded": embedded, "indexed_twice": embedded - len(photos),
            "plain_indexed": rep.indexed}


def bench_idle(tmp: Path, model, n_files: int, seconds: float = 10.0) -> dict:
    folder = tmp / "idle"
    per_dir = 100
    for i in range(0, n_files, per_dir):
        d = folder / f"d{i // 10000:02d}" / f"e{i // per_dir:04d}"
        d.mkdir(parents=True, exist_ok=True)
        for j in range(per_dir):
            (d / f"f{j:03d}.jpg").touch()
    lib_path = tmp / "idle.db"
    with Library.open(lib_path) as lib:
        lib.add_folder(folder)
    c0, t0 = time.process_time(), time.monotonic()
    w = Running(lib_path, model, catch_up=False)
    # Start-up: until every folder is watched (the first "folders" event comes after scheduling).
    wait_until(w.ready.is_set, timeout=600)
    start_cpu = time.process_time() - c0
    start_wall = time.monotonic() - t0
    c1, t1 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    idle_cpu = (time.process_time() - c1) / (time.monotonic() - t1)
    w.stop()
    return {"files": n_files, "dirs": n_files // per_dir, "startup_wall_s": start_wall, "startup_cpu_s": start_cpu,
            "idle_cpu_percent": 100 * idle_cpu}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=300)
    ap.add_argument("--latency", type=int, default=12)
    ap.add_argument("--idle-files", type=int, default=100_000)
    ap.add_argument("--model", default="starter")
    a = ap.parse_args(argv)
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    tmp = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    os.environ.setdefault("PHOTOSEARCH_HOME", str(tmp / "home"))
    try:
        model = ModelStore(app_paths()).load(a.model, device="cpu")
        source = make_photos(tmp / "src", max(a.photos, 8))
        lat = bench_latency(tmp, model, a.latency, source)
        burst = bench_burst(tmp, model, source[:a.photos])
        idle = bench_idle(tmp, model, a.idle_files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lat_sorted = sorted(lat)
    p95 = lat_sorted[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    rows = [
        ("copy -> searchable, p50", f"{statistics.median(lat):.2f} s", "< 3 s"),
        ("copy -> searchable, p95", f"{p95:.2f} s", "< 6 s"),
        (f"{burst['photos']} photos at once: watcher total", f"{burst['watch_total_s']:.1f} s", ""),
        (f"{burst['photos']} photos: photosearch index", f"{burst['plain_index_s']:.1f} s", ""),
        ("ratio watcher / index", f"{burst['ratio']:.2f}x", "<= 1.2x"),
        ("batches / embedded twice", f"{burst['batches']} / {burst['indexed_twice']}", "few / 0"),
        (f"idle watcher over {idle['files']:,} files: CPU", f"{idle['idle_cpu_percent']:.2f} %", "~0 %"),
        ("watcher start-up (wall / CPU)", f"{idle['startup_wall_s']:.1f} s / {idle['startup_cpu_s']:.1f} s", ""),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'value':>16}  goal")
    for name, val, goal in rows:
        print(f"{name:<{w}}  {val:>16}  {goal}")
    print(json.dumps({"bench": "watch", "model": a.model, "latency_s": lat, "latency_p50_s": statistics.median(lat),
                      "latency_p95_s": p95, "burst": burst, "idle": idle}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
