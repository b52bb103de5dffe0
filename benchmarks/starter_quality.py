"""How well does the offline `starter` model find real photos from a sentence? (and which settings)

Real sample photos (scikit-image, scikit-learn, matplotlib, Debian mate-backgrounds) with captions written for
them (tests/helpers.py). For each caption, rank all photos; report text->image Recall@1/@5 (%), for a sweep of
the class_prompt head's softmax temperature, prompt-template sets, and whether the prompts' common
direction is projected out of both sides. Prints a table and a final JSON line.

    python benchmarks/starter_quality.py [--out DIR]
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TEMPLATE_SETS = {
    "photo": ("a photo of a {}.",),
    "4 templates": ("a photo of a {}.", "a close-up photo of a {}.", "a picture of the {}.", "{}"),
}


def recall(sim: torch.Tensor, ks=(1, 5)) -> dict:
    """sim: (queries, items), query i belongs to item i."""
    ranks = (sim > sim.diag()[:, None]).sum(1)  # items scoring above the right one
    return {f"R@{k}": round(100.0 * (ranks < k).float().mean().item(), 1) for k in ks}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="folder for the sample photos (default: a temp dir)")
    args = ap.parse_args()
    from helpers import real_photos

    from photosearch.imageio import load_image
    from photosearch.model.starter import (STARTER_TEMPERATURE, build_starter, class_prompt_embeddings,
                                          imagenet_classes)

    torch.set_num_threads(2)
    out = Path(args.out or tempfile.mkdtemp())
    pairs = real_photos(out)
    t0 = time.perf_counter()
    model = build_starter()
    build_s = time.perf_counter() - t0
    head = model.image_projection
    tf = model.eval_transform()
    with torch.inference_mode():
        pix = torch.stack([tf(load_image(p, 224)[0]) for p, _ in pairs])
        logits = head.classifier(model.image_encoder(pix))  # (N, 1000)
        # raw MiniLM sentence embeddings (the text tower before its head)
        tok = model.tokenize([c for _, c in pairs])
        text = torch.nn.functional.normalize(model.text_encoder(**tok), dim=-1)  # (N, 384)
    classes = imagenet_classes()
    rows = []
    for tname, templates in TEMPLATE_SETS.items():
        prompts = class_prompt_embeddings(model, classes, templates)  # (1000, 384)
        common = torch.nn.functional.normalize(prompts.mean(0), dim=0)
        proj = torch.eye(prompts.shape[1]) - torch.outer(common, common)
        for project in (False, True):
            p, t = (prompts @ proj, text @ proj) if project else (prompts, text)
            t = torch.nn.functional.normalize(t, dim=-1)
            for temp in (1.0, 2.0, 4.0, 8.0):
                img = torch.nn.functional.normalize((logits / temp).softmax(-1) @ p, dim=-1)
                sim = t @ img.T
                r_ti, r_it = recall(sim), recall(sim.T)
                rows.append({"templates": tname, "common_direction_removed": project, "temperature": temp,
                             "t2i_R@1": r_ti["R@1"], "t2i_R@5": r_ti["R@5"],
                             "i2t_R@1": r_it["R@1"], "i2t_R@5": r_it["R@5"]})
    # The shipped configuration, end to end through the model's own encode_* path.
    with torch.inference_mode():
        img = model.embed_pixels(pix)
        sim = text_shipped = model.embed_texts([c for _, c in pairs]) @ img.T
    shipped = {"t2i": recall(sim), "i2t": recall(sim.T)}
    print(f"starter model on {len(pairs)} real photos (chance R@1 = {100 / len(pairs):.1f}%), built in {build_s:.1f} s")
    print(f"{'templates':<13}{'proj':>6}{'T':>5}{'t2i R@1':>9}{'t2i R@5':>9}{'i2t R@1':>9}{'i2t R@5':>9}")
    for r in rows:
        print(f"{r['templates']:<13}{'yes' if r['common_direction_removed'] else 'no':>6}{r['temperature']:>5}"
              f"{r['t2i_R@1']:>9}{r['t2i_R@5']:>9}{r['i2t_R@1']:>9}{r['i2t_R@5']:>9}")
    print(f"shipped (T={STARTER_TEMPERATURE}, 4 templates, projection): text->image {shipped['t2i']}, "
          f"image->text {shipped['i2t']}")
    del text_shipped
    print(json.dumps({"benchmark": "starter_quality", "photos": len(pairs), "shipped": shipped, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
