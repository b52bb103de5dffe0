"""The fine-tune dialog's time estimate (train/estimate.py) against a real short run on this CPU.

    python benchmarks/bench_finetune_estimate.py                  # starter, 60 photos of 256 px, 2 epochs
    python benchmarks/bench_finetune_estimate.py --images 120 --epochs 3

A synthetic set in Flickr8k's layout (train/synthetic.py; JPEGs of ``--size`` px, so decoding costs what a
photo does) is fine-tuned with the starter through the real trainer, once with the encoders frozen (heads only)
and once in full, in a temporary home (the starter is built there first, not timed). The wall time of each run,
from calling ``train`` to its "done" event, is split by the trainer's own events into set-up (captions, base
model, first step or feature pass), the epochs, and the finish (saving and publishing the model), and compared
with ``estimate_cpu`` for the same counts. The machine may be shared: the load average is printed with it.
Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed_run(data: Path, paths, frozen: bool, epochs: int) -> dict:
    from photosearch.train import TrainOptions, train

    opts = TrainOptions(str(data), name=f"bench-est-{'heads' if frozen else 'full'}", epochs=epochs,
                        batch_size=16, freeze_encoders=frozen, device="cpu", num_workers=0)
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    n_train = n_val = 0
    for ev in train(opts, paths):
        now = time.perf_counter() - t0
        if ev.kind == "step" and "first_step" not in marks:
            marks["first_step"] = now
        if ev.kind == "epoch":
            marks[f"epoch_{ev.epoch}"] = now
        if ev.phase in ("cache", "zero_shot") and f"{ev.phase}_start" not in marks:
            marks[f"{ev.phase}_start"] = now
        if ev.kind == "done":
            marks["done"] = now
    from photosearch.train import load_captions

    d = load_captions(str(data))
    n_train, n_val = len(d.split("train")), len(d.split("val") or d.split("test"))
    return {"marks": {k: round(v, 2) for k, v in marks.items()}, "n_train": n_train, "n_val": n_val}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths
    from photosearch.train.estimate import estimate_cpu
    from photosearch.train.synthetic import make_shapes_dataset

    root = Path(tempfile.mkdtemp(prefix="bench-ft-est-"))
    paths = app_paths(root / "home").ensure()
    ModelStore(paths).load("starter", device="cpu")  # built once, not timed
    data = make_shapes_dataset(root / "data", n_images=args.images, size=args.size)
    rows = {}
    try:
        for frozen in (True, False):
            r = timed_run(data, paths, frozen, args.epochs)
            est = estimate_cpu(r["n_train"], r["n_val"], args.epochs, frozen)
            rows["heads" if frozen else "full"] = {**r, "estimate_s": round(est.seconds, 2),
                                                   "actual_s": r["marks"]["done"]}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"fine-tune on {args.images} photos of {args.size} px, {args.epochs} epochs, starter, CPU "
          f"({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}); seconds")
    print(f"{'':<8}{'estimate':>10}{'actual':>10}  marks")
    for k, r in rows.items():
        print(f"{k:<8}{r['estimate_s']:>10.1f}{r['actual_s']:>10.1f}  {r['marks']}")
    print(json.dumps({"bench": "finetune_estimate", "images": args.images, "size": args.size, "epochs": args.epochs,
                      "loadavg": list(os.getloadavg()), "cpus": os.cpu_count(), **rows}))


if __name__ == "__main__":
    main()
