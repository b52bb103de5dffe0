"""Image-embedding throughput (images/s) of each offline model on this machine, on ready tensors.

Measures the model alone (no decoding): batches of random pixels at the model's input size, after warm-up;
reports the median over timed batches, eager fp32 and channels-last, all models and layouts alternating batch by
batch. Prints a table and a final JSON line.

    python benchmarks/bench_embed.py [--batch-size 16] [--batches 8] [--threads N] [--device cpu] [--model NAME ...]

``--model`` (repeatable): these store names or checkpoint folders instead of every offline-ready model, e.g.
an earlier starter build beside today's, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(models: list, batch_size: int, batches: int) -> list[tuple[float, float]]:
    """Per model, (eager, channels-last) images/s. Every model and layout runs one batch per round, in turn,
    so machine noise hits them all alike."""
    import copy

    import torch

    variants = []
    for model in models:
        s = model.config.preprocess.input_size
        x = torch.randn(batch_size, 3, s, s, device=model.device)
        variants += [(model, x), (copy.deepcopy(model).to(memory_format=torch.channels_last),
                                  x.contiguous(memory_format=torch.channels_last))]
    times: list[list[float]] = [[] for _ in variants]
    with torch.inference_mode():
        for i in range(batches + 2):
            for v, (m, inp) in enumerate(variants):
                t = time.perf_counter()
                m.encode_image(inp)
                if m.device.type == "cuda":
                    torch.cuda.synchronize()
                if i >= 2:  # two warm-up rounds
                    times[v].append(time.perf_counter() - t)
    rates = [batch_size / statistics.median(t) for t in times]
    return [(rates[2 * k], rates[2 * k + 1]) for k in range(len(models))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", action="append", help="store name or checkpoint folder (repeatable)")
    args = ap.parse_args()
    import torch

    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    if args.threads:
        torch.set_num_threads(args.threads)
    store = ModelStore(app_paths())
    rows = []
    names = args.model or [info.name for info in store.list() if info.offline_ready]
    models = [store.load(name, device=args.device) for name in names]
    for name, model, (eager, cl) in zip(names, models, measure(models, args.batch_size, args.batches)):
        params = sum(p.numel() for p in model.param_groups()["image_encoder"]) / 1e6
        rows.append({"model": name, "image_params_M": round(params, 1), "input": model.config.preprocess.input_size,
                     "eager_img_s": round(eager, 1), "channels_last_img_s": round(cl, 1)})
    print(f"image-embedding throughput on {args.device}, batch {args.batch_size}, {torch.get_num_threads()} threads")
    print(f"{'model':<16}{'params(M)':>10}{'input':>7}{'eager img/s':>13}{'ch-last img/s':>15}")
    for r in rows:
        print(f"{r['model']:<16}{r['image_params_M']:>10}{r['input']:>7}{r['eager_img_s']:>13}{r['channels_last_img_s']:>15}")
    print(json.dumps({"benchmark": "embed_throughput", "device": args.device, "batch_size": args.batch_size,
                      "threads": torch.get_num_threads(), "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
