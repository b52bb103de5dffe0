"""How well does the offline `starter` model find real photos from a sentence? (and which design)

The evaluation set is benchmarks/evalset.json (195 real photos from installed packages, ~260 queries written by
looking at them, fixed tuning/test halves; see benchmarks/evalset.py), plus generated featureless distractors
(solid colours, gradients, noise, near-white scans, blank frames). Each half is its own retrieval problem.

Reported both ways: text->image (each query ranks the half's photos; hit = any relevant photo) and
image->text (each photo ranks the half's queries, absent-concept ones included; hit = a query that lists it):
Recall@1/5/10 (%) and MRR, per half, per query category, with and without distractors.

By default the shipped starter is measured end to end (``photosearch`` embed path). ``--sweep`` also runs the
design sweep on the tuning half from cached ImageNet logits (views x vocabulary x temperature x
featureless-mixing); logits are cached per photo and view in ``--out`` so reruns are cheap.

    python benchmarks/starter_quality.py [--out DIR] [--distractors 300] [--sweep]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recall import HEADER, evaluate, report


def shipped_embeddings(model, paths: list[Path], texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    from photosearch.imageio import load_image

    tf = model.eval_transform()
    size = getattr(model.config.preprocess, "input_size", 224)
    with torch.inference_mode():
        chunks = []
        for s in range(0, len(paths), 32):
            pix = torch.stack([tf(load_image(p, size * 2)[0]) for p in paths[s:s + 32]])
            chunks.append(model.embed_pixels(pix))
        return torch.cat(chunks), model.embed_texts(texts)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="folder for the photos and caches (default: a temp dir)")
    ap.add_argument("--distractors", type=int, default=300)
    ap.add_argument("--sweep", action="store_true", help="also sweep the design on the tuning half")
    ap.add_argument("--model", default="starter", help="model name or folder (default: the built-in starter)")
    args = ap.parse_args()
    import evalset

    torch.set_num_threads(2)
    out = Path(args.out or tempfile.mkdtemp())
    es = evalset.assemble(out / "photos")
    print(f"evaluation set: {es.summary()}")
    if not es.photos:
        print("no photos available: nothing to measure")
        return 0
    dis = evalset.distractors(out / "distractors", args.distractors) if args.distractors else []

    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    t0 = time.perf_counter()
    model = ModelStore(app_paths()).load(args.model)
    load_s = time.perf_counter() - t0
    ids = list(es.photos)
    texts = [q["text"] for q in es.queries]
    img, txt = shipped_embeddings(model, [es.photos[i] for i in ids], texts)
    dimg = shipped_embeddings(model, dis, [])[0] if dis else None
    col = {i: k for k, i in enumerate(ids)}
    results = {}
    print(f"\nmodel {args.model} ({model.config.name}, loaded in {load_s:.1f} s); {len(dis)} distractors")
    print(HEADER)
    for half in ("tune", "test"):
        h = es.split(half)
        hid = list(h.photos)
        qidx = [next(k for k, q0 in enumerate(es.queries) if q0["text"] == q["text"]) for q in h.queries]
        himg, htxt = img[[col[i] for i in hid]], txt[qidx]
        for with_d in (False, True):
            if with_d and dimg is None:
                continue
            res = evaluate(himg, hid, htxt, h.queries, dimg if with_d else None)
            key = f"{half}{' +distractors' if with_d else ''}"
            results[key] = res
            report(key, res)
    for half in ("tune", "test"):
        print(f"\n{half} half, text->image by query category (R@1 / R@5 / n):")
        for c, v in results[half]["t2i_by_category"].items():
            print(f"  {c:<10}{v['R@1']:>7}{v['R@5']:>7}{v['n']:>5}")
    if args.sweep:
        import starter_sweep

        starter_sweep.run(es, dis, out)
    print(json.dumps({"benchmark": "starter_quality", "model": args.model, "photos": len(ids),
                      "queries": len(texts), "distractors": len(dis), "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
