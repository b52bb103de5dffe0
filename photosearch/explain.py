"""Why this photo: the concepts a photo was seen as, and where in it a query matches.

- Concepts (models whose image head goes through a classifier, like the starter's ``class_prompt`` head):
  the classes the photo was seen as, with their softmax weights, in plain words; ``contribution`` says how
  much each pulled the photo towards the query (the photo's vector is the weight-averaged class prompts, so
  its score is the sum of weight x prompt-to-query similarity, over the vector's norm).
- Heat map (any model): the photo is cut into a grid; overlapping crops (windows of 2x2 and 3x3 cells,
  sliding one cell) are embedded, each scored against the query, and a cell gets the mean score of the
  crops covering it. Coarse, but model-agnostic and honest: it is the model's own score on each region.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GRID = 6  # cells per side of the heat map
WINDOWS = (2, 3)  # crop sizes in cells
# Concepts under this share of the photo's classifier weight are left out: on the starter the top two or three
# classes hold most of the weight and the rest are noise a reader takes for a claim ("plastic bag (0%)").
MIN_CONCEPT = 0.03


@dataclass
class Explanation:
    score: float  # the score search shows the photo for the query (0-1, library/relevance.py)
    concepts: list[dict] = field(default_factory=list)  # [{"label", "weight", "contribution"}], heaviest first
    heatmap: list[list[float]] = field(default_factory=list)  # GRID x GRID, rows top to bottom

    def to_dict(self) -> dict:
        return {"score": self.score, "concepts": self.concepts, "heatmap": self.heatmap}


def concept_labels(model) -> list[str] | None:
    """Plain-word labels of the classifier behind a class_prompt head, or None when the model has none."""
    head = getattr(model, "image_projection", None)
    if head is None or not hasattr(head, "classifier"):
        return None
    labels = getattr(head, "labels", None) or getattr(model.config, "class_labels", None)
    if labels:
        return list(labels)
    n = head.classifier.out_features
    if n == 1000:
        from photosearch.model.starter import imagenet_classes

        return imagenet_classes()
    return [f"class {i}" for i in range(n)]


def concepts(model, image, query_vec: np.ndarray | None = None, top: int = 8,
             min_weight: float = MIN_CONCEPT) -> list[dict]:
    """The classes ``image`` (a PIL image) was seen as with at least ``min_weight`` of the weight, heaviest
    first; [] for models without a classifier."""
    import torch

    labels = concept_labels(model)
    if labels is None:
        return []
    head = model.image_projection
    tf = model.eval_transform()
    with torch.inference_mode():
        x = tf(image.convert("RGB"))[None].to(model.device)
        feats = model.image_encoder(x)
        probs = (head.logits(feats.float()) / head.log_temperature.exp()).softmax(-1)[0].float().cpu()
        out = []
        contrib = None
        if query_vec is not None:
            prompts = head.prompts.weight.float().cpu().t()  # (C, D): each class's prompt embedding
            vec = probs @ prompts
            contrib = probs * (prompts @ torch.as_tensor(query_vec, dtype=torch.float32)) / vec.norm().clamp_min(1e-6)
        w, idx = probs.topk(min(top, len(labels)))
        for wi, i in zip(w.tolist(), idx.tolist()):
            if wi < min_weight:
                break
            d = {"label": labels[i], "weight": round(float(wi), 4)}
            if contrib is not None:
                d["contribution"] = round(float(contrib[i]), 4)
            out.append(d)
    return out


def crop_boxes(width: int, height: int, grid: int = GRID, windows=WINDOWS) -> list[tuple[int, int, int, int, int]]:
    """(left, top, right, bottom, size) of every window of ``size`` x ``size`` cells, sliding one cell."""
    xs = np.linspace(0, width, grid + 1).round().astype(int)
    ys = np.linspace(0, height, grid + 1).round().astype(int)
    out = []
    for k in windows:
        for r in range(grid - k + 1):
            for c in range(grid - k + 1):
                out.append((int(xs[c]), int(ys[r]), int(xs[c + k]), int(ys[r + k]), k))
    return out


def heatmap(model, image, query_vec: np.ndarray, grid: int = GRID, windows=WINDOWS) -> np.ndarray:
    """(grid, grid) mean score of the query on the crops covering each cell."""
    image = image.convert("RGB")
    w, h = image.size
    boxes = crop_boxes(w, h, grid, windows)
    vecs = model.embed_pil([image.crop(b[:4]) for b in boxes]).numpy()
    s = vecs @ np.asarray(query_vec, dtype=np.float32)
    acc = np.zeros((grid, grid), np.float64)
    cnt = np.zeros((grid, grid), np.float64)
    xs = np.linspace(0, w, grid + 1).round().astype(int)
    ys = np.linspace(0, h, grid + 1).round().astype(int)
    for (left, top, right, bottom, _), v in zip(boxes, s):
        c0, c1 = int(np.searchsorted(xs, left)), int(np.searchsorted(xs, right))
        r0, r1 = int(np.searchsorted(ys, top)), int(np.searchsorted(ys, bottom))
        acc[r0:r1, c0:c1] += v
        cnt[r0:r1, c0:c1] += 1
    return acc / np.maximum(cnt, 1)


def explain(model, query_vec: np.ndarray, image, with_heatmap: bool = False, grid: int = GRID,
            score: float | None = None) -> Explanation:
    """Score, concepts and (when asked: it embeds ~40 crops) heat map of one photo (a PIL image) for one query
    vector (unit, model space). ``score``: the one search shows (``Library.score_of``); None: the score search
    would show the photo from a fresh embedding (:func:`fresh_score`)."""
    if score is None:
        score = fresh_score(model, query_vec, image)
    hm = heatmap(model, image, query_vec, grid).round(4).tolist() if with_heatmap else []
    return Explanation(score, concepts(model, image, query_vec), hm)


def fresh_score(model, query_vec: np.ndarray, image) -> float:
    """The score search would show a photo outside the library for a typed query: its visual evidence,
    judged as library/relevance.py judges every photo (no words read in it, no marks)."""
    from photosearch.library import relevance
    from photosearch.library.browse import hit_score

    vec = np.asarray(model.embed_pil([image.convert("RGB")]).numpy(), np.float32)
    cos = vec @ np.asarray(query_vec, np.float32)
    rule = relevance.load_calibration(model).rule("text")
    return hit_score(relevance.scores(cos, relevance.bank_of(model).photo_stats(vec), rule)[0])


def query_vector(model, query: str) -> np.ndarray:
    """A typed query (with ``+``/``-`` arithmetic) as the unit vector search ranks by."""
    from photosearch.library.search import combine, parse_query

    terms = parse_query(query)
    tv = np.asarray(model.embed_texts([t for _, t in terms]), np.float32) if terms else None  # torch or numpy
    return combine(tv, [w for w, _ in terms], None)
