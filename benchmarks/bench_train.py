"""Training throughput (images/s): frozen encoders vs full fine-tune, through the real trainer.

Runs :func:`photosearch.train.train` on a synthetic Flickr8k-layout set (coloured shapes, JPEGs of
``--image-size`` px so decoding costs something) and reads the trainer's own step events. Reports the median
over timed steps (the first ``--warmup`` steps are dropped), and for frozen encoders also the one-time
feature-cache pass. Prints a table and a final JSON line.

    python benchmarks/bench_train.py [--model starter] [--device cpu] [--batch-size 16] [--steps 8]
    python benchmarks/bench_train.py --gpu          # cuda, AMP, channels-last, batch 128, 4 workers
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run_mode(data: Path, paths, base: str, frozen: bool, args) -> dict:
    from photosearch.train import TrainOptions, train

    opts = TrainOptions(str(data), base=base, name=f"bench-{'frozen' if frozen else 'full'}-{os.getpid()}",
                        epochs=100, batch_size=args.batch_size, freeze_encoders=frozen, device=args.device,
                        amp=args.amp, num_workers=args.workers, zero_shot=False, warmup_steps=0)
    step_times: list[float] = []
    cache_rate = None
    t_last = None
    t0 = time.perf_counter()
    gen = train(opts, paths)
    try:
        for ev in gen:
            if ev.kind == "message" and ev.message and ev.message.startswith("caching train"):
                cache_rate = ev.images_per_second
            if ev.kind != "step":
                t_last = time.perf_counter()
                continue
            now = time.perf_counter()
            if args.device.startswith("cuda"):
                import torch

                torch.cuda.synchronize()
                now = time.perf_counter()
            step_times.append(now - t_last)
            t_last = now
            if len(step_times) >= args.steps + args.warmup:
                break
    finally:
        gen.close()
    timed = step_times[args.warmup:]
    med = statistics.median(timed)
    return {"mode": "frozen" if frozen else "full", "steps": len(timed), "batch_size": args.batch_size,
            "step_s": round(med, 4), "img_s": round(args.batch_size / med, 1),
            "cache_img_s": round(cache_rate, 1) if cache_rate else None,
            "wall_s": round(time.perf_counter() - t0, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="starter", help="base model (store name or folder)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--steps", type=int, default=8, help="timed steps per mode")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--workers", type=int, default=0, help="data loading processes")
    ap.add_argument("--image-size", type=int, default=320)
    ap.add_argument("--no-amp", dest="amp", action="store_false")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--modes", default="frozen,full")
    ap.add_argument("--gpu", action="store_true", help="preset: cuda, AMP, channels-last, batch 128, 4 workers")
    ap.add_argument("--home", help="PHOTOSEARCH_HOME for the model store (default: $PHOTOSEARCH_HOME or a temp dir)")
    args = ap.parse_args()
    if args.gpu:
        args.device, args.amp = "cuda", True
        args.batch_size = 128 if args.batch_size == 16 else args.batch_size
        args.workers = args.workers or 4
        args.steps = max(args.steps, 20)
    import torch

    from photosearch.paths import app_paths
    from photosearch.train.synthetic import make_shapes_dataset

    if args.threads:
        torch.set_num_threads(args.threads)
    home = args.home or os.environ.get("PHOTOSEARCH_HOME") or tempfile.mkdtemp(prefix="ps-bench-home-")
    paths = app_paths(home).ensure()
    work = Path(tempfile.mkdtemp(prefix="ps-bench-train-"))
    n_train = args.batch_size * (args.steps + args.warmup + 1)
    data = make_shapes_dataset(work / "data", n_images=int(n_train / 0.9) + 2, size=args.image_size,
                               val_fraction=0.05, test_fraction=0.05)
    rows = [run_mode(data, paths, args.model, m == "frozen", args) for m in args.modes.split(",")]
    dev = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    print(f"training throughput, model {args.model}, {dev}, batch {args.batch_size}, "
          f"amp {args.amp and args.device != 'cpu'}, workers {args.workers}, {args.image_size}px JPEGs")
    print(f"{'mode':<8}{'img/s':>9}{'step s':>9}{'cache img/s':>13}{'steps':>7}")
    for r in rows:
        print(f"{r['mode']:<8}{r['img_s']:>9}{r['step_s']:>9}{str(r['cache_img_s'] or '-'):>13}{r['steps']:>7}")
    print(json.dumps({"benchmark": "train_throughput", "model": args.model, "device": dev,
                      "batch_size": args.batch_size, "amp": bool(args.amp and args.device != "cpu"),
                      "workers": args.workers, "image_size": args.image_size,
                      "date": time.strftime("%Y-%m-%d"), "rows": rows}))
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
