"""Relevance (library/relevance.py) and feedback (library/feedback.py), measured on the evaluation set.

Each photo is judged on its own against a fixed prompt bank, so whether it is a good match must not depend on
what else is in the library. To show it, each half of the evaluation set is measured as three libraries:

- ``mixed``: the half's real photos;
- ``one-topic``: plus 200 near-duplicates (random crops, mirror, small turns, colour and brightness changes)
  of the half's photos of one topic ("a flower"), relevant wherever their source photo is;
- ``featureless``: plus 200 featureless images (blank frames, solid colours, gradients, noise, blank scans,
  blurred blobs: benchmarks/evalset.py's ``distractors``).

Figures per library: present-concept queries with a relevant real photo marked good (goal >= 90%),
absent-concept queries with nothing marked (goal >= 75%), precision of the good set, good photos per query,
MRR of the order, the same for example-image queries (a photo of a multi-answer query as the example, the
others relevant), and how many real photos are judged differently from the mixed library (must be 0).
Feedback: MRR before/after marking the top wrong hit −, and whether + on the best right photo lifts the others.

    python benchmarks/bench_relevance.py [--model starter] [--cache /tmp/relevance-starter.npz]
    python benchmarks/bench_relevance.py --calibrate MODEL [--packaged]   # tune on the tuning half, write it
    python benchmarks/bench_relevance.py --speed 100000                   # time judging a 100k-photo search

``--calibrate`` writes ``calibration.json`` beside the model's config; ``--packaged`` also writes the
built-in starter's shipped copy (photosearch/library/calibrations/starter.json). Prints a table and a JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from photosearch.library import feedback, relevance  # noqa: E402
from photosearch.library.relevance import Calibration  # noqa: E402


# -- the evaluation set ------------------------------------------------------------------------------------
@dataclass
class EvalSet:
    photos: list[Path]
    photo_split: list[str]  # "tune" / "test" per photo
    queries: list[dict]  # {"text", "relevant": [photo index], "category", "split"}; absent: relevant == []
    name: str


def load_eval_set(out: Path) -> EvalSet:
    """The project's evaluation set (benchmarks/evalset.py, issue 11) when its photos are installed, else a
    small dev set of tests/helpers.py's photos."""
    try:
        import evalset as ev  # benchmarks/evalset.py
    except ImportError:
        return dev_set(out)
    full = ev.assemble(out)
    if not full.photos:
        return dev_set(out)
    ids = sorted(full.photos)
    pos = {i: k for k, i in enumerate(ids)}
    queries = []
    for half in ("tune", "test"):
        for q in full.split(half).queries:
            queries.append({"text": q["text"], "relevant": [pos[i] for i in q["relevant"]],
                            "category": q["category"], "split": half})
    return EvalSet([full.photos[i] for i in ids], [full.half[i] for i in ids], queries,
                   f"evaluation set ({full.summary()})")


def distractor_images(out: Path, n: int) -> list:
    """Featureless images (benchmarks/evalset.py's, else this file's own)."""
    from PIL import Image

    try:
        import evalset as ev
    except ImportError:
        return distractors(n)
    return [Image.open(p).convert("RGB") for p in ev.distractors(out / "distractors", n)]


_DEV_GROUPS = {  # generic multi-answer queries over tests/helpers.py's photos (file stem -> in this set)
    "a flower": ["flower", "mate-Garden", "mate-YellowFlower", "mate-TwoWings", "mate-LadyBird"],
    "an insect": ["mate-LadyBird"],
    "outer space": ["hubble_deep_field", "moon", "astronaut", "rocket"],
    "water": ["mate-Aqua", "mate-RainDrops"],
    "grass": ["mate-GreenMeadow", "mate-LadyBird", "mate-Dune"],
    "an animal": ["chelsea", "mate-LadyBird"],
    "stones": ["gravel", "coins", "brick"],
    "a person": ["astronaut", "camera", "grace_hopper"],
    "a building": ["china"],
    "science": ["retina", "immunohistochemistry", "hubble_deep_field"],
}
_DEV_ABSENT = ["a horse", "a car on a highway", "a birthday cake", "a snowy mountain", "a dog", "a bicycle",
               "a guitar", "a pizza", "a sailing boat", "a wedding", "a city street at night", "a baby",
               "fireworks", "a computer keyboard", "a bowl of soup", "a beach with palm trees", "a train",
               "a bridge over a river", "a crowd of people", "a laptop"]


def dev_set(out: Path) -> EvalSet:
    from helpers import real_photos

    pairs = real_photos(out)
    photos = [p for p, _ in pairs]
    stem = {p.stem: i for i, p in enumerate(photos)}
    split = ["tune" if i % 2 == 0 else "test" for i in range(len(photos))]
    queries = [{"text": c, "relevant": [i], "category": "caption", "split": split[i]} for i, (_, c) in
               enumerate(pairs)]
    for text, stems in _DEV_GROUPS.items():
        idx = [stem[s] for s in stems if s in stem]
        for half in ("tune", "test"):
            r = [i for i in idx if split[i] == half]
            if r:
                queries.append({"text": text, "relevant": r, "category": "generic", "split": half})
    for j, text in enumerate(_DEV_ABSENT):
        queries.append({"text": text, "relevant": [], "category": "absent", "split": ("tune", "test")[j % 2]})
    return EvalSet(photos, split, queries, f"dev set ({len(photos)} photos of tests/helpers.py)")


def distractors(n: int, seed: int = 0) -> list:
    """Featureless images every real library has: solid colours, gradients, sensor noise, near-white scans."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = i % 4
        h, w = 240, 320
        if k == 0:
            a = np.broadcast_to(rng.integers(0, 256, 3, dtype=np.uint8), (h, w, 3))
        elif k == 1:
            t = np.linspace(0, 1, w)[None, :, None]
            c0, c1 = rng.integers(0, 256, (2, 3))
            a = np.broadcast_to(c0 + (c1 - c0) * t, (h, w, 3))
        elif k == 2:
            a = rng.normal(rng.integers(40, 200), rng.uniform(5, 40), (h, w, 3))
        else:
            a = 245 + rng.normal(0, 3, (h, w, 3))
        out.append(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)))
    return out


# -- embeddings (cached between runs) -------------------------------------------------------------------------
def augment(im, rng):
    """A near-duplicate: a random 55-95% crop, maybe mirrored, turned up to 12 degrees, colour and
    brightness changed by up to 40% / 25%."""
    from PIL import Image, ImageEnhance, ImageOps

    w, h = im.size
    f = rng.uniform(0.55, 0.95)
    cw, ch = int(w * f), int(h * f)
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    im = im.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        im = ImageOps.mirror(im)
    im = im.rotate(rng.uniform(-12, 12), resample=Image.BICUBIC)
    im = ImageEnhance.Color(im).enhance(rng.uniform(0.6, 1.4))
    return ImageEnhance.Brightness(im).enhance(rng.uniform(0.75, 1.25))


def embed_all(model, es: EvalSet, out: Path, n_extra: int, topic: str, cache: Path | None) -> dict:
    """Vectors of the photos, ``n_extra`` featureless images, ``n_extra`` near-duplicates per half of that
    half's photos for the query ``topic``, the queries and the prompt bank. ``cache``: an .npz reused when it
    was made for the same model and set (never commit it)."""
    from photosearch.imageio import load_image

    key = f"{model.config.model_id}|{es.name}|{n_extra}|{topic}|{len(relevance.bank_prompts())}"
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["key"]) == key:
                return {k: z[k] for k in z.files}
    texts = sorted({q["text"] for q in es.queries})
    side = int(model.config.preprocess.input_size / max(model.config.preprocess.crop_pct, 1e-3)) + 1
    imgs = [load_image(p, side)[0] for p in es.photos]
    got = {"key": np.array(key), "texts": np.array(texts), "V": model.embed_pil(imgs).numpy(),
           "T": model.embed_texts(texts).numpy(), "bank": model.embed_texts(relevance.bank_prompts()).numpy()}
    got["D"] = (model.embed_pil(distractor_images(out, n_extra)).numpy() if n_extra
                else np.zeros((0, got["V"].shape[1]), np.float32))
    rng = np.random.default_rng(0)
    for half in ("tune", "test"):
        src = [i for q in es.queries if q["text"] == topic and q["split"] == half for i in q["relevant"]]
        picks = [src[k % len(src)] for k in range(n_extra)] if src else []
        got[f"A_{half}"] = (model.embed_pil([augment(imgs[i], rng) for i in picks]).numpy() if picks
                            else np.zeros((0, got["V"].shape[1]), np.float32))
        got[f"A_{half}_src"] = np.array(picks, np.int64)
    if cache is not None:
        np.savez(cache, **got)
    return got


# -- libraries of different make-up ------------------------------------------------------------------------
MAKEUPS = ("mixed", "one-topic", "featureless")


@dataclass
class Lib:
    texts: list[str]
    relevant: list[set]  # per query, indices into V
    T: np.ndarray  # (Q, D) query vectors
    V: np.ndarray  # (N, D) photo vectors: the half's real photos first
    n_real: int

    @property
    def S(self) -> np.ndarray:
        return self.T @ self.V.T


def make_lib(es: EvalSet, emb: dict, half: str, makeup: str) -> Lib:
    """One half's photos, plus 200 near-duplicates of its photos of one topic ("one-topic") or 200 featureless
    images ("featureless"). A near-duplicate is relevant wherever its source photo is."""
    keep = [i for i, s in enumerate(es.photo_split) if s == half]
    pos = {i: j for j, i in enumerate(keep)}
    qs = [q for q in es.queries if q["split"] == half]
    rel = [{pos[i] for i in q["relevant"] if i in pos} for q in qs]
    V = emb["V"][keep]
    if makeup == "featureless":
        V = np.concatenate([V, emb["D"]])
    elif makeup == "one-topic":
        src = emb[f"A_{half}_src"]
        V = np.concatenate([V, emb[f"A_{half}"]])
        for q, r in zip(qs, rel):
            r.update(len(keep) + k for k, i in enumerate(src) if i in q["relevant"])
    ti = {t: k for k, t in enumerate(emb["texts"].tolist())}
    return Lib([q["text"] for q in qs], rel, emb["T"][[ti[q["text"]] for q in qs]], V, len(keep))


def figures(good: np.ndarray, relevant: list[set], n_real: int) -> dict:
    """Present-concept queries with a relevant *real* photo marked good; absent-concept queries with nothing
    marked; precision of the good set (micro, present queries)."""
    present = [i for i, r in enumerate(relevant) if any(j < n_real for j in r)]
    absent = [i for i, r in enumerate(relevant) if not r]
    hit = [bool(any(good[i, j] for j in relevant[i] if j < n_real)) for i in present]
    tp = sum(sum(good[i, j] for j in relevant[i]) for i in present)
    marked = int(good[present].sum()) if present else 0
    return {"present_queries": len(present), "absent_queries": len(absent),
            "present_hit_%": round(100.0 * np.mean(hit), 1) if hit else None,
            "absent_none_%": round(100.0 * np.mean([not good[i].any() for i in absent]), 1) if absent else None,
            "precision_%": round(100.0 * tp / marked, 1) if marked else None,
            "good_per_present_query": round(marked / max(len(present), 1), 2)}


def mrr(Z: np.ndarray, relevant: list[set]) -> float:
    rr = [1.0 / min((Z[i] > Z[i, j]).sum() + 1 for j in r) for i, r in enumerate(relevant) if r]
    return round(float(np.mean(rr)), 3)


# -- the rule on a whole library at once ----------------------------------------------------------------------
def standings(S: np.ndarray, V: np.ndarray, bank: relevance.Bank, shift: float = 1.0) -> np.ndarray:
    """(Q, N) z of every query on every photo (relevance.standing, row by row)."""
    st = bank.photo_stats(V)
    return (S - shift * st[:, 0]) / np.maximum(st[:, 1], 1e-4)


def image_queries(lib: Lib):
    """Each real photo of a multi-answer query as the example (the others relevant); each real photo that is
    the only answer of all its queries as an example with nothing else relevant. (examples, relevant)."""
    groups = [r for r in lib.relevant if len(r) >= 2]
    single = set(range(lib.n_real)) - (set().union(*groups) if groups else set())
    ex, rel = [], []
    for r in groups:
        for p in sorted(j for j in r if j < lib.n_real):
            ex.append(p), rel.append(set(r) - {p})
    for p in sorted(single):
        ex.append(p), rel.append(set())
    return ex, rel


def image_standings(lib: Lib, bank: relevance.Bank, ex: list[int], shift: float = 1.0) -> np.ndarray:
    Z = standings(lib.V[ex] @ lib.V.T, lib.V, bank, shift)
    Z[np.arange(len(ex)), ex] = -np.inf  # the example itself is not an answer
    return Z


def tune_t(Zs: list[np.ndarray], rels: list[list[set]], n_reals: list[int], targets=(90.0, 75.0)) -> tuple[float, dict]:
    """The threshold on z that best meets the targets in the worst of the libraries given (each target counts
    up to where it is met; past that, the worst precision*recall balance)."""
    best = None
    for t in np.round(np.arange(-2.0, 20.0, 0.1), 2):
        worst = None
        for Z, rel, n in zip(Zs, rels, n_reals):
            f = figures(Z >= t, rel, n)
            R = np.zeros(Z.shape, bool)
            for i, r in enumerate(rel):
                R[i, list(r)] = True
            good = Z >= t
            tp, marked, nrel = (good & R).sum(), good[[bool(r) for r in rel]].sum(), R.sum()
            p, rc = (tp / marked if marked else 0.0), (tp / nrel if nrel else 0.0)
            f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
            hit, none = (100.0 if f[k] is None else f[k] for k in ("present_hit_%", "absent_none_%"))
            key = min(hit / targets[0], 1.0) + min(none / targets[1], 1.0) + 0.5 * f1
            worst = key if worst is None else min(worst, key)
        if best is None or worst > best[0]:
            best = (worst, float(t))
    return best[1], {"key": round(best[0], 3)}


def fit_slope(Z: np.ndarray, rel: list[set], t: float) -> float:
    """Logistic slope a of P(relevant | z) = sigmoid(a (z - t)) on one library's real photos (Newton steps)."""
    R = np.zeros(Z.shape, bool)
    for i, r in enumerate(rel):
        R[i, list(r)] = True
    x, y = Z[np.isfinite(Z)] - t, R[np.isfinite(Z)].astype(np.float64)
    a = 1.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a * x, -40, 40)))
        g, hss = ((p - y) * x).sum(), (p * (1 - p) * x * x).sum() + 1e-9
        a = float(np.clip(a - g / hss, 0.05, 20.0))
    return round(a, 3)


def feedback_figures(lib: Lib, bank: relevance.Bank, cal: Calibration, beta: float, gamma: float) -> dict:
    """MRR before/after marking the top non-relevant hit −; for multi-answer queries, whether the other relevant
    photos rise after marking the best-ranked relevant one +."""
    text, image = cal.rule("text"), cal.rule("image")
    t_img = image.t
    Z0 = standings(lib.S, lib.V, bank, text.shift)
    Zi = standings(lib.V @ lib.V.T, lib.V, bank, image.shift)  # Zi[m]: standings with photo m as the example
    rr0, rr1, before, after, rose = [], [], [], [], []
    for qi, r in enumerate(lib.relevant):
        if not r:
            continue
        z = Z0[qi]
        rr0.append(1.0 / min((z > z[j]).sum() + 1 for j in r))
        worst = next(int(j) for j in np.argsort(-z, kind="stable") if j not in r)
        z1 = feedback.adjust(z, [], [Zi[worst]], t_img, beta, gamma)
        z1[worst] = -np.inf  # the marked photo leaves, as in a search
        rr1.append(1.0 / min((z1 > z1[j]).sum() + 1 for j in r))
        if len(r) >= 2:
            best = max(r, key=lambda j: z[j])
            others = sorted(r - {best})
            z2 = feedback.adjust(z, [Zi[best]], [], t_img, beta, gamma)
            b = np.mean([(z > z[j]).sum() + 1 for j in others])
            a = np.mean([(z2 > z2[j]).sum() + 1 for j in others])
            before.append(b), after.append(a), rose.append(a < b)
    return {"mrr_before": round(float(np.mean(rr0)), 3), "mrr_after_less": round(float(np.mean(rr1)), 3),
            "multi_answer_queries": len(rose),
            "others_mean_rank_before": round(float(np.mean(before)), 2) if rose else None,
            "others_mean_rank_after_more": round(float(np.mean(after)), 2) if rose else None,
            "others_rose_%": round(100.0 * np.mean(rose), 1) if rose else None}


# -- main ------------------------------------------------------------------------------------------------------
def evaluate(es: EvalSet, emb: dict, bank: relevance.Bank, cal: Calibration) -> dict:
    """Per half and library make-up: text queries (present/absent, precision, MRR), example-image queries,
    and how often a real photo's judgement differs from the mixed library's (0 by construction)."""
    out = {}
    for half in ("tune", "test"):
        out[half] = {}
        base = None
        for makeup in MAKEUPS:
            lib = make_lib(es, emb, half, makeup)
            Z = standings(lib.S, lib.V, bank, cal.rule("text").shift)
            good = Z >= cal.rule("text").t
            ex, rel = image_queries(lib)
            Zi = image_standings(lib, bank, ex, cal.rule("image").shift)
            f = {"photos": len(lib.V), "text": {**figures(good, lib.relevant, lib.n_real), "mrr": mrr(Z, lib.relevant)},
                 "image": figures(Zi >= cal.rule("image").t, rel, lib.n_real)}
            real = good[:, :lib.n_real]
            base = real if base is None else base
            f["judged_differently_%"] = round(100.0 * float((real != base).mean()), 2)
            out[half][makeup] = f
        lib = make_lib(es, emb, half, "featureless")
        out[half]["feedback"] = feedback_figures(lib, bank, cal, feedback.BETA, feedback.GAMMA)
    return out


SHIFTS = (0.0, 0.25, 0.5, 0.75, 1.0)
MRR_SLACK = 0.01  # a shift may cost the order at most this much MRR against the raw cosine (tuning half)


def calibrate(es: EvalSet, emb: dict, bank: relevance.Bank, model) -> Calibration:
    """Per query kind, the shift and threshold tuned on the tuning half, in the worst of its three library
    make-ups (the shift only where the order keeps its MRR against the raw cosine); slopes fitted there."""
    from photosearch.model.store import STARTER_BUILD

    libs = [make_lib(es, emb, "tune", m) for m in MAKEUPS]
    exs = [image_queries(lib) for lib in libs]
    rules = {}
    for kind in ("text", "image"):
        best, fallback = None, None
        for shift in SHIFTS:
            if kind == "text":
                Zs, rels = [standings(lib.S, lib.V, bank, shift) for lib in libs], [lib.relevant for lib in libs]
                order, cos = mrr(Zs[0], rels[0]), mrr(libs[0].S, rels[0])
            else:
                Zs = [image_standings(lib, bank, ex, shift) for lib, (ex, _) in zip(libs, exs)]
                rels = [rel for _, rel in exs]
                S0 = libs[0].V[exs[0][0]] @ libs[0].V.T
                S0[np.arange(len(exs[0][0])), exs[0][0]] = -np.inf
                order, cos = mrr(Zs[0], rels[0]), mrr(S0, rels[0])
            t, info = tune_t(Zs, rels, [lib.n_real for lib in libs])
            rule = relevance.Rule(t, fit_slope(Zs[0], rels[0], t), shift)
            if fallback is None or order > fallback[0]:
                fallback = (order, rule)  # no shift keeps the order: the one that keeps most of it
            if order >= cos - MRR_SLACK and (best is None or info["key"] > best[0]):
                best = (info["key"], rule)
            print(f"calibrating {kind}: shift {shift}: t {t}, tuning key {info['key']}, MRR {order} (cosine {cos})")
        rules[kind] = (best or fallback)[1]
    return Calibration(rules={**rules, "mixed": replace(rules["text"])}, model=model.config.model_id,
                       build=STARTER_BUILD if model.config.name == "starter" else 0,
                       source=f"benchmarks/bench_relevance.py on {es.name}, tuning half, worst of {', '.join(MAKEUPS)}")


def table(model_id: str, res: dict) -> str:
    lines = [f"{'half':<6}{'library':<13}{'photos':>7}{'present hit %':>14}{'absent none %':>14}{'precision %':>12}"
             f"{'good/q':>7}{'MRR':>7}{'img hit %':>10}{'img none %':>11}{'differs %':>10}"]
    for half in ("tune", "test"):
        for makeup in MAKEUPS:
            f = res[half][makeup]
            t, i = f["text"], f["image"]
            lines.append(f"{half:<6}{makeup:<13}{f['photos']:>7}{t['present_hit_%']!s:>14}{t['absent_none_%']!s:>14}"
                         f"{t['precision_%']!s:>12}{t['good_per_present_query']!s:>7}{t['mrr']!s:>7}"
                         f"{i['present_hit_%']!s:>10}{i['absent_none_%']!s:>11}{f['judged_differently_%']!s:>10}")
    for half in ("tune", "test"):
        fb = res[half]["feedback"]
        lines.append(f"feedback ({half}, featureless library): MRR {fb['mrr_before']} -> {fb['mrr_after_less']} after − "
                     f"on the top wrong hit; + on a right photo lifts the others in {fb['others_rose_%']}% of "
                     f"{fb['multi_answer_queries']} multi-answer queries (mean rank {fb['others_mean_rank_before']} -> "
                     f"{fb['others_mean_rank_after_more']})")
    return "\n".join(lines)


def speed(n: int, dim: int = 384, rounds: int = 15) -> dict:
    """Medians over ``rounds`` searches of ``n`` random unit vectors: the cosine top-50 alone, and judged (the
    shown scores of every photo, then the top 50); once, the per-photo bank figures of all ``n``."""
    from photosearch.library.search import VectorIndex

    rng = np.random.default_rng(0)
    V = rng.normal(size=(n, dim)).astype(np.float32)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    bank = relevance.Bank.of_vectors(rng.normal(size=(len(relevance.bank_prompts()), dim)), "speed")
    vi = VectorIndex(dim)
    vi.append(np.arange(n), V)
    t = time.perf_counter()
    vi.derived(bank.key, bank.photo_stats)
    once = time.perf_counter() - t
    rule, plain, judged = relevance.Rule(), [], []
    for i in range(rounds):
        t = time.perf_counter()
        vi.top_k(V[i], 50)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        vi.top_k(V[i], 50, scores=relevance.scores(vi.scores(V[i]), vi.derived(bank.key, bank.photo_stats), rule))
        judged.append(time.perf_counter() - t)
    return {"photos": n, "bank_figures_once_s": round(once, 2), "top50_cosine_p50_ms": round(1e3 * np.median(plain), 1),
            "top50_judged_p50_ms": round(1e3 * np.median(judged), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="starter", help="model name or checkpoint folder (default: starter)")
    ap.add_argument("--calibrate", metavar="MODEL", help="tune on the tuning half and write MODEL's calibration")
    ap.add_argument("--packaged", action="store_true", help="with --calibrate starter: also write the shipped copy")
    ap.add_argument("--extra", type=int, default=200, help="featureless images / near-duplicates added (default 200)")
    ap.add_argument("--topic", default="a flower", help="the query whose photos the one-topic library repeats")
    ap.add_argument("--feedback-grid", action="store_true", help="print feedback figures for a grid of beta, gamma")
    ap.add_argument("--out", help="folder for the evaluation photos (default: a temp dir)")
    ap.add_argument("--cache", help="an .npz file to keep the vectors in between runs (never commit it)")
    ap.add_argument("--speed", type=int, metavar="N", help="only time judging a search over N random vectors")
    args = ap.parse_args()
    if args.speed:
        res = speed(args.speed)
        print(f"{res['photos']:,} photos: top-50 by cosine p50 {res['top50_cosine_p50_ms']} ms, judged p50 "
              f"{res['top50_judged_p50_ms']} ms; per-photo bank figures once {res['bank_figures_once_s']} s")
        print(json.dumps({"benchmark": "relevance-speed", **res}))
        return 0
    import torch

    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    torch.set_num_threads(2)
    name = args.calibrate or args.model
    model = ModelStore(app_paths()).load(name, device="cpu")
    out = Path(args.out or tempfile.mkdtemp())
    es = load_eval_set(out)
    t0 = time.perf_counter()
    emb = embed_all(model, es, out, args.extra, args.topic, Path(args.cache) if args.cache else None)
    embed_s = time.perf_counter() - t0
    bank = relevance.Bank.of_vectors(emb["bank"], "bench")
    relevance.forget_calibration(model)
    cal = calibrate(es, emb, bank, model) if args.calibrate else relevance.load_calibration(model)
    if args.feedback_grid:
        for half in ("tune", "test"):
            lib = make_lib(es, emb, half, "featureless")
            for b, g in itertools.product((0.1, 0.25, 0.5, 1.0), (0.1, 0.25, 0.5, 1.0)):
                print(half, b, g, feedback_figures(lib, bank, cal, b, g))
        return 0
    res = evaluate(es, emb, bank, cal)
    if args.calibrate:
        cal.measured = res
        folder = getattr(model, "checkpoint_folder", None)
        if folder is None:
            raise SystemExit("the model has no folder to write its calibration to")
        written = [relevance.save_calibration(folder, cal)]
        if args.packaged:
            written.append(relevance.save_calibration(REPO / "photosearch" / "library" / "calibrations", cal,
                                                      name=f"{model.config.name}.json"))
        print("wrote " + ", ".join(map(str, written)))
    print(f"{model.config.model_id} on {es.name}; +{args.extra} featureless images or near-duplicates of "
          f"{args.topic!r} photos; embedding {embed_s:.1f} s; calibration: {cal.source}")
    print(table(model.config.model_id, res))
    print("rules: " + json.dumps({k: asdict(v) for k, v in cal.rules.items()}))
    print(json.dumps({"benchmark": "relevance", "model": model.config.model_id, "eval_set": es.name,
                      "calibration": cal.source, "rules": {k: asdict(v) for k, v in cal.rules.items()}, **res}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
