"""How long ``photosearch explain`` takes from the command line, before and after issue #20 item 9.

    python benchmarks/bench_explain.py                       # before = commit 710d0fd, 3 runs each
    python benchmarks/bench_explain.py --before REV --repeats 5

One home in a temporary folder: the starter is built and a few real photos (tests/helpers.py real_photos) are
indexed. Then ``photosearch explain QUERY PHOTO`` runs as its own process with the code of ``--before`` (a
``git archive`` of that revision: the heat map always, the score a raw cosine) and of this checkout (the heat
map only with ``--heatmap``, the score search shows), alternating so machine noise hits every variant; the
table shows medians of ``--repeats`` wall-clock seconds. The machine may be shared: compare within one run.
Prints a table and, last, one JSON line.
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
sys.path.insert(0, str(REPO / "tests"))


def _env(home: Path, src: Path) -> dict:
    env = dict(os.environ, PHOTOSEARCH_HOME=str(home), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env["PYTHONPATH"] = str(src)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(args: list[str], env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    # cwd: not this checkout, whose photosearch/ would come first on sys.path for every variant
    p = subprocess.run([sys.executable, "-m", "photosearch", *args], capture_output=True, text=True, env=env,
                       cwd=tempfile.gettempdir())
    if p.returncode != 0:
        raise SystemExit(f"photosearch {' '.join(args)} failed: {p.stderr.strip()[-500:]}")
    return time.perf_counter() - t, p.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default="710d0fd", help="git revision of the code to compare with")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--query", default="a cat")
    ap.add_argument("--photo", default="chelsea.jpg", help="which of the real photos to explain")
    args = ap.parse_args()
    from helpers import real_photos

    root = Path(tempfile.mkdtemp(prefix="bench-explain-"))
    try:
        old = root / "before-src"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.before, "photosearch"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        photos = root / "photos"
        photos.mkdir()
        shots = real_photos(root / "all")
        for p, _ in shots[:6] + [s for s in shots[6:] if s[0].name == args.photo]:
            shutil.copy(p, photos / p.name)
        photo = str(photos / args.photo)
        home = root / "home"
        _run(["-q", "index", str(photos), "--no-text"], _env(home, REPO))  # builds the starter
        ask = ["explain", args.query, photo, "--json"]
        variants = {"before": (old, ask), "after": (REPO, ask), "after --heatmap": (REPO, [*ask, "--heatmap"])}
        times: dict[str, list[float]] = {k: [] for k in variants}
        out: dict[str, str] = {}
        for _ in range(args.repeats):
            for k, (src, cmd) in variants.items():
                t, out[k] = _run(cmd, _env(home, src))
                times[k].append(t)
        _, search = _run(["search", args.query, "--json", "--top", "50"], _env(home, REPO))
        shown = next(h["score"] for h in json.loads(search) if h["path"] == photo)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {"bench": "explain", "query": args.query, "before_rev": args.before, "repeats": args.repeats,
              **{f"{k.replace(' --', '_')}_s": round(v, 2) for k, v in med.items()},
              "all_s": {k: [round(x, 2) for x in v] for k, v in times.items()},
              "search_score": shown, "explain_score_before": json.loads(out["before"])["score"],
              "explain_score_after": json.loads(out["after"])["score"],
              "loadavg_end": list(os.getloadavg()), "cpus": os.cpu_count()}
    print(f"`photosearch explain \"{args.query}\" PHOTO` with the starter ({os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}); median wall s of {args.repeats}")
    for k, v in med.items():
        print(f"{k:<18}{v:>8.2f}   score: {json.loads(out[k])['score']}")
    print(f"search shows: {shown}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
