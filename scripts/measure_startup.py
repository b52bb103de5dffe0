"""Time from launching ``python -m photosearch.gui`` to the window's first paint (and to model ready).

    python scripts/measure_startup.py [--runs 5] [--xvfb] [--ready]

Each run is a fresh process with PHOTOSEARCH_STARTUP_PROBE set: the app prints the wall-clock time of its
first paint event and quits. The clock starts before the process is spawned, so interpreter start-up and
every import count. Prints a table and a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(env: dict, mode: str) -> dict:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-m", "photosearch.gui"], env={**env, "PHOTOSEARCH_STARTUP_PROBE": mode},
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("{")), None)
    if line is None:
        raise SystemExit(f"no probe output (rc {out.returncode}): {out.stderr[-500:]}")
    d = json.loads(line)
    d["spawn_to_paint_s"] = round(d["first_paint_epoch"] - t0, 3)
    if "model_ready_s" in d:
        d["spawn_to_ready_s"] = round(d["model_ready_s"] - d["first_paint_s"] + d["spawn_to_paint_s"], 3)
    return d


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--xvfb", action="store_true", help="render on an Xvfb display instead of offscreen")
    ap.add_argument("--ready", action="store_true", help="also time until the starter model is loaded")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ps-startup-"))
    env = dict(os.environ, PHOTOSEARCH_HOME=str(home), HF_HUB_OFFLINE="1",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    xvfb = None
    if args.xvfb:
        n = 117
        xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1440x920x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                break
            time.sleep(0.05)
        env.update(DISPLAY=f":{n}", QT_QPA_PLATFORM="xcb")
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    try:
        one_run(env, "paint")  # warm the OS file cache: we report warm starts
        runs = [one_run(env, "paint") for _ in range(args.runs)]
        ready = None
        if args.ready:
            cached = REPO / ".photosearch-home" / "screenshots" / "data" / "models" / "starter"
            if cached.is_dir():
                shutil.copytree(cached, home / "data" / "models" / "starter", dirs_exist_ok=True)
            ready = one_run(env, "ready")
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
        shutil.rmtree(home, ignore_errors=True)
    paint = [r["spawn_to_paint_s"] for r in runs]
    print(f"{'run':>4} {'spawn->paint s':>15} {'heavy modules at paint':>24}")
    for i, r in enumerate(runs):
        print(f"{i:>4} {r['spawn_to_paint_s']:>15.3f} {','.join(r['heavy_modules_at_paint']) or 'none':>24}")
    result = {"platform": "xcb (Xvfb)" if args.xvfb else "offscreen", "runs": len(paint),
              "first_paint_median_s": statistics.median(paint), "first_paint_max_s": max(paint),
              "heavy_modules_at_paint": sorted({m for r in runs for m in r["heavy_modules_at_paint"]})}
    if ready is not None:
        print(f"model ready (starter, cpu): {ready.get('spawn_to_ready_s')} s after spawn")
        result["model_ready_s"] = ready.get("spawn_to_ready_s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
