"""Image-tower throughput (images/s) on the CPU: torch eager vs channels-last vs ONNX Runtime (fp32 and int8
dynamic quantisation), for the starter model and a CLIP ViT-B/32-shaped model (random weights: speed only).

Every variant of a model runs in the same rounds, one batch each in turn, after a warm-up round, so the load
of a shared machine hits all of them alike; the table reports medians. For int8 it also reports what
quantisation costs: the lowest cosine to the fp32 embeddings and, for the starter on the real test photos,
text->image R@1 / top-5 agreement against torch fp32.

End to end, for the starter: the indexing rate of camera-sized JPEGs (default 4000x3000, 12 MP) through the
library pipeline (scan, decode, preprocess, embed, commit), with torch and with ONNX Runtime
(``attach_backend``), using bench_library.py's own measurement (``bench_pipeline``, best of interleaved
rounds, a fresh library each time).

    python benchmarks/bench_backends.py [--batch-size 16] [--rounds 7] [--threads N] [--skip-starter]
                                        [--e2e-photos 32] [--e2e-size 4000x3000] [--e2e-rounds 2] [--e2e-only]

Prints a table and a final JSON line.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def vit_b32(folder: Path):
    """An HFClip with OpenAI ViT-B/32's vision shape (random weights) and a tiny text tower."""
    from transformers import CLIPConfig, CLIPTokenizerFast

    from photosearch.model.config import ModelConfig
    from photosearch.model.hf_clip import HFClip

    cfg = CLIPConfig(text_config=dict(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                                      num_attention_heads=2, max_position_embeddings=77),
                     vision_config=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                        num_attention_heads=12, image_size=224, patch_size=32),
                     projection_dim=512)
    cfg.save_pretrained(str(folder))
    (folder / "vocab.json").write_text(json.dumps({"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizerFast(vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"),
                      unk_token="<|endoftext|>").save_pretrained(str(folder))
    import torch

    torch.manual_seed(0)
    model = HFClip(ModelConfig(name="vit-b32-shaped", hf_clip_name=str(folder)), load_pretrained=False,
                   hf_dir=folder).eval()
    model.config.preprocess.input_size = 224
    return model


def variants(model, work: Path):
    """name -> callable(pixels) -> features, for each runtime."""
    import torch

    from photosearch.model.onnx_backend import OnnxTower, export_tower

    cl = copy.deepcopy(model).to(memory_format=torch.channels_last)

    def eager(x):
        with torch.inference_mode():
            return model.image_features(x)

    def channels_last(x):
        with torch.inference_mode():
            return cl.image_features(x.contiguous(memory_format=torch.channels_last))

    fp32 = export_tower(model, "image", work / f"{model.config.name}.onnx")
    out = {"torch eager": eager, "torch channels-last": channels_last, "onnxruntime fp32": OnnxTower(fp32)}
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        int8 = work / f"{model.config.name}-int8.onnx"
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        out["onnxruntime int8 (dynamic)"] = OnnxTower(int8)
    except Exception as e:  # noqa: BLE001 - report and go on without int8
        print(f"int8 quantisation failed for {model.config.name}: {e}", file=sys.stderr)
    return out


def measure(fns: dict, x, rounds: int) -> dict[str, float]:
    """images/s per variant: interleaved rounds after one warm-up round, median seconds per batch."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(rounds + 1):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn(x)
            if r:
                times[name].append(time.perf_counter() - t)
    return {k: len(x) / statistics.median(v) for k, v in times.items()}


def cosine_to_reference(fns: dict, x) -> dict[str, float]:
    import torch.nn.functional as F

    ref = F.normalize(fns["torch eager"](x).float(), dim=-1)
    return {k: float((ref * F.normalize(fn(x).float(), dim=-1)).sum(-1).min()) for k, fn in fns.items()}


def ranking_effect(model, fns: dict) -> dict | None:
    """On the real test photos: text->image R@1 and top-5 agreement with torch eager, per variant."""
    try:
        sys.path.insert(0, str(ROOT / "tests"))
        from helpers import real_photos
    except ImportError:
        return None
    import torch
    import torch.nn.functional as F
    from PIL import Image

    pairs = real_photos(Path(tempfile.mkdtemp(prefix="bench-photos-")))
    tf = model.eval_transform()
    px = torch.stack([tf(Image.open(p).convert("RGB")) for p, _ in pairs])
    txt = model.embed_texts([c for _, c in pairs])
    out, ref_top = {}, None
    for name, fn in fns.items():
        img = F.normalize(fn(px).float(), dim=-1)
        top = (txt @ img.T).argsort(dim=1, descending=True)[:, :5]
        ref_top = top if ref_top is None else ref_top
        r1 = float((top[:, 0] == torch.arange(len(pairs))).float().mean() * 100)
        out[name] = {"R@1": round(r1, 1), "top5_same_as_torch": float((top == ref_top).all(1).float().mean())}
    return {"photos": len(pairs), **out}


def end_to_end(model, photos: int, size: tuple[int, int], batch: int, rounds: int, work: Path) -> dict:
    """Library indexing rate (images/s) of ``photos`` generated JPEGs of ``size``, torch vs ONNX Runtime."""
    from bench_library import bench_pipeline, make_camera_jpegs

    from photosearch.model.onnx_backend import attach_backend

    t = time.perf_counter()
    files = make_camera_jpegs(work / "camera", photos, size)
    mb = sum(p.stat().st_size for p in files) / len(files) / 1e6
    print(f"generated {len(files)} {size[0]}x{size[1]} JPEGs ({mb:.1f} MB each) in {time.perf_counter() - t:.0f} s",
          file=sys.stderr)
    best = {"torch": 0.0, "onnx": 0.0}
    try:
        for r in range(rounds):
            for backend in best:
                used = attach_backend(model, backend, work / "onnx-cache")
                assert used["image"] == backend, used
                p = bench_pipeline(model, work / "camera", work / f"e2e-{backend}-{r}.db", batch, None)
                assert p["indexed"] == len(files), p
                best[backend] = max(best[backend], p["images_per_second"])
    finally:
        model.set_tower_runners()
    return {"photos": len(files), "megapixels": round(size[0] * size[1] / 1e6, 1), "mb_per_file": round(mb, 1),
            "rounds": rounds, "batch_size": batch, "torch_images_per_s": round(best["torch"], 2),
            "onnx_images_per_s": round(best["onnx"], 2), "speedup": round(best["onnx"] / best["torch"], 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0, help="torch and ONNX Runtime threads (0: torch's default)")
    ap.add_argument("--skip-starter", action="store_true")
    ap.add_argument("--e2e-photos", type=int, default=32, help="camera JPEGs for the end-to-end rate (0: skip)")
    ap.add_argument("--e2e-size", default="4000x3000")
    ap.add_argument("--e2e-rounds", type=int, default=2)
    ap.add_argument("--e2e-only", action="store_true", help="only the end-to-end indexing rate")
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    models = []
    if not args.skip_starter:
        from photosearch.model.store import ModelStore
        from photosearch.paths import app_paths

        models.append(ModelStore(app_paths().ensure()).load("starter", device="cpu").eval())
    if not args.e2e_only:
        models.append(vit_b32(work / "vit"))
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "threads": torch.get_num_threads(),
              "batch_size": args.batch_size, "rounds": args.rounds, "models": {}}
    if models and models[0].config.name == "starter" and args.e2e_photos:
        w, h = map(int, args.e2e_size.split("x"))
        e2e = end_to_end(models[0], args.e2e_photos, (w, h), args.batch_size, args.e2e_rounds, work)
        result["end_to_end_starter"] = e2e
        print(f"\nstarter, end to end: {e2e['photos']} {e2e['megapixels']} MP JPEGs ({e2e['mb_per_file']} MB) through "
              f"the library pipeline, batch {e2e['batch_size']}, best of {e2e['rounds']} interleaved rounds")
        print(f"torch {e2e['torch_images_per_s']:.1f} img/s, ONNX Runtime {e2e['onnx_images_per_s']:.1f} img/s "
              f"({e2e['speedup']:.2f}x)")
    for model in ([] if args.e2e_only else models):
        name = model.config.name
        fns = variants(model, work)
        s = model.config.preprocess.input_size
        x = torch.randn(args.batch_size, 3, s, s)
        rates = measure(fns, x, args.rounds)
        cos = cosine_to_reference(fns, x)
        best_torch = max(rates["torch eager"], rates["torch channels-last"])
        entry = {k: {"images_per_s": round(v, 2), "speedup_vs_best_torch": round(v / best_torch, 2),
                     "min_cosine_vs_eager": round(cos[k], 5)} for k, v in rates.items()}
        if name == "starter":
            entry["ranking"] = ranking_effect(model, fns)
        result["models"][name] = entry
        print(f"\n{name} (batch {args.batch_size}, {result['threads']} threads, median of {args.rounds} "
              f"interleaved rounds)")
        print(f"{'runtime':<30}{'images/s':>10}{'vs best torch':>15}{'min cos':>10}")
        for k, v in rates.items():
            print(f"{k:<30}{v:>10.1f}{v / best_torch:>14.2f}x{cos[k]:>10.5f}")
        if entry.get("ranking"):
            rk = entry["ranking"]
            print(f"ranking on {rk['photos']} real photos: " + "; ".join(
                f"{k}: R@1 {v['R@1']}%, top-5 same {v['top5_same_as_torch']:.0%}" for k, v in rk.items()
                if isinstance(v, dict)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
