"""Recall@K and MRR of a retrieval run on the evaluation set, and their table lines.

Shared by starter_quality.py (the shipped model) and starter_sweep.py (the design sweep), so neither imports
the other.
"""

from __future__ import annotations

from collections import defaultdict

import torch

KS = (1, 5, 10)


def _ranks(sim: torch.Tensor, relevant: list[list[int]]) -> list[int]:
    """Per row: how many columns score above the best relevant column (0 = a relevant one is first)."""
    out = []
    for i, rel in enumerate(relevant):
        best = sim[i, rel].max()
        out.append(int((sim[i] > best).sum()))
    return out


def _summ(ranks: list[int]) -> dict:
    if not ranks:
        return {"n": 0}
    r = torch.tensor(ranks, dtype=torch.float)
    d = {f"R@{k}": round(100.0 * (r < k).float().mean().item(), 1) for k in KS}
    d["MRR"] = round((1.0 / (r + 1)).mean().item(), 3)
    d["n"] = len(ranks)
    return d


def evaluate(img: torch.Tensor, ids: list[str], txt: torch.Tensor, queries: list[dict],
             extra: torch.Tensor | None = None) -> dict:
    """img: (N, D) normalised embeddings of the half's photos ``ids``; txt: (Q, D) of ``queries``;
    extra: (M, D) distractor images added to the gallery (text->image only)."""
    col = {i: k for k, i in enumerate(ids)}
    evq = [k for k, q in enumerate(queries) if q["relevant"]]
    gallery = img if extra is None else torch.cat([img, extra])
    sim = txt[evq] @ gallery.T
    rel = [[col[i] for i in queries[k]["relevant"]] for k in evq]
    t2i = _ranks(sim, rel)
    by_cat = defaultdict(list)
    for k, r in zip(evq, t2i):
        by_cat[queries[k]["category"]].append(r)
    # image -> text: every query of the half (absent ones too) is a candidate
    rel_q = defaultdict(list)
    for k, q in enumerate(queries):
        for i in q["relevant"]:
            rel_q[col[i]].append(k)
    rows = sorted(rel_q)
    i2t = _ranks(img[rows] @ txt.T, [rel_q[r] for r in rows]) if rows else []
    return {"t2i": _summ(t2i), "i2t": _summ(i2t), "t2i_by_category": {c: _summ(v) for c, v in sorted(by_cat.items())}}


def report(name: str, res: dict) -> None:
    t, i = res["t2i"], res["i2t"]
    print(f"{name:<34}{t['R@1']:>7}{t['R@5']:>7}{t['R@10']:>7}{t['MRR']:>7}{i['R@1']:>8}{i['R@5']:>7}"
          f"{i['R@10']:>7}{i['MRR']:>7}  (q={t['n']}, photos={i['n']})")


HEADER = f"{'':<34}{'t2i@1':>7}{'@5':>7}{'@10':>7}{'MRR':>7}{'i2t@1':>8}{'@5':>7}{'@10':>7}{'MRR':>7}"
