"""How fast the command line answers a text search on an indexed library (issue #20 item 12).

    python benchmarks/bench_cli.py                 # 12 real photos, 5 warm calls each
    python benchmarks/bench_cli.py --repeats 9 --query "a cat"

Two homes in a temporary folder, each with the same photos (tests/helpers.py real_photos) indexed with the
starter: "before" runs every command with ``PHOTOSEARCH_FAST_TEXT=0`` (the full model loads with torch, as
before the fast path), "after" as shipped (``index`` writes the text tower's ONNX graph beside the model once;
``search`` then runs it without torch, cli/fast_path.py). The starter is built once, in the "before" home
(that index run's time includes the build), and its folder is copied to the "after" home before indexing.

Measured, each as its own ``python -m photosearch`` process, wall time and CPU time (user + sys):
- ``index``: the first index run in each home (the "after" one includes writing the fast path);
- cold: the first ``search`` after indexing;
- warm: ``--repeats`` more searches, before and after alternating so machine noise hits both; medians.
Bytecode caches are allowed (as in an installed package). Prints a table and, last, one JSON line. The
machine may be shared: compare numbers within one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def _env(home: Path, fast: bool) -> dict:
    env = dict(os.environ, PHOTOSEARCH_HOME=str(home), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
    env["PHOTOSEARCH_FAST_TEXT"] = "1" if fast else "0"
    return env


def _timed(args: list[str], env: dict) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of one ``python -m photosearch`` run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "photosearch", *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"photosearch {' '.join(args)} failed: {p.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), p.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=12, help="real photos in the library")
    ap.add_argument("--repeats", type=int, default=5, help="warm searches per variant")
    ap.add_argument("--query", default="a flower")
    ap.add_argument("--top", type=int, default=3)
    args = ap.parse_args()
    from helpers import real_photos

    root = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        photos = root / "photos"
        for p, _ in real_photos(root / "all")[:args.photos]:
            photos.mkdir(exist_ok=True)
            shutil.copy(p, photos / p.name)
        homes = {"before": root / "before", "after": root / "after"}
        search = ["search", args.query, "--top", str(args.top)]
        res: dict[str, dict] = {k: {} for k in homes}
        res["before"]["index_s"], res["before"]["index_cpu_s"], _ = _timed(
            ["-q", "index", str(photos), "--no-text"], _env(homes["before"], False))
        shutil.copytree(homes["before"] / "data" / "models", homes["after"] / "data" / "models")
        res["after"]["index_s"], res["after"]["index_cpu_s"], _ = _timed(
            ["-q", "index", str(photos), "--no-text"], _env(homes["after"], True))
        outputs = {}
        for k in homes:  # cold: the first search after indexing
            res[k]["cold_s"], res[k]["cold_cpu_s"], outputs[k] = _timed(search, _env(homes[k], k == "after"))
        warm: dict[str, list[tuple[float, float]]] = {k: [] for k in homes}
        for _ in range(args.repeats):  # alternating
            for k in homes:
                wall, cpu, out = _timed(search, _env(homes[k], k == "after"))
                warm[k].append((wall, cpu))
                assert out == outputs[k]
        for k in homes:
            res[k]["warm_s"] = statistics.median(w for w, _ in warm[k])
            res[k]["warm_cpu_s"] = statistics.median(c for _, c in warm[k])
            res[k]["warm_all_s"] = [round(w, 3) for w, _ in warm[k]]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result = {"bench": "cli", "query": args.query, "top": args.top, "photos": args.photos,
              "repeats": args.repeats, "same_results": outputs["before"] == outputs["after"],
              "speedup_warm": res["before"]["warm_s"] / res["after"]["warm_s"],
              "loadavg_end": list(os.getloadavg()), "cpus": os.cpu_count(), "python": platform.python_version(),
              **{f"{k}_{m}": round(v, 3) if isinstance(v, float) else v for k in res for m, v in res[k].items()}}
    print(f"`photosearch {' '.join(search)}` on {args.photos} indexed photos ({os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}); wall s (CPU s)")
    print(f"{'':<28}{'before (torch)':>18}{'after (fast path)':>20}")
    for label, m in (("index (first run)", "index"), ("search, cold", "cold"),
                     (f"search, warm (median of {args.repeats})", "warm")):
        b, a = res["before"], res["after"]
        print(f"{label:<28}{b[m + '_s']:>9.2f} ({b[m + '_cpu_s']:>5.2f})"
              f"{a[m + '_s']:>11.2f} ({a[m + '_cpu_s']:>5.2f})")
    print(f"same results: {result['same_results']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
