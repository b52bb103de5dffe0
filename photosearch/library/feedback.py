"""More like this one, less like that one: what a + or a − mark does to a search.

The rule, in the units of library/relevance.py (a photo's standing ``z``: how far the query scores above a
typical description of that photo, in the photo's own spreads):

    z'(p) = z(p) + beta * mean over + marks m of max(0, z_m(p) - t)
                 - gamma * mean over − marks l of max(0, z_l(p) - t)

where ``z_m(p)`` is photo p's standing with the marked photo m as an example image and ``t`` the model's
threshold for example images (relevance's "image" rule): only photos that would be *good matches for the
marked photo as an example* move, and the more they resemble it, the more. Everything else keeps its score.
A photo marked − also leaves the results (:func:`drop_marked`). With no typed query, the + photos are the
query (the mean of their standings).

So a mark never depends on the rest of the library, marks add up in any order, and taking a mark away gives
back exactly the search without it (same order, same scores, same good matches). ``beta`` and ``gamma`` were
chosen on the evaluation set's tuning half (benchmarks/bench_relevance.py); docs/relevance.md.

Marked photos outside the library are decoded and embedded in batches of ``BATCH`` (one at a time, 1,000
files took over 10 minutes), at most ``MAX_OUTSIDE`` per search (:func:`marked_vectors`).
"""

from __future__ import annotations

import numpy as np

from photosearch.library.relevance import SAME_PHOTO

BETA = 1.0  # pull of the + photos, in the query's standing per unit of the look-alike's standing
GAMMA = 0.25  # push of the − photos (the marked photo itself leaves the results)
BATCH = 16  # outside files embedded together
MAX_OUTSIDE = 200  # outside files one search embeds (~20 s on a laptop CPU); index them to use more


def marked_vectors(paths: list, stored, embed) -> list[np.ndarray]:
    """One vector per marked photo, in order: ``stored(path)`` gives a library photo's vector (or None);
    the other files go to ``embed(paths) -> (n, dim) array`` in batches. More than ``MAX_OUTSIDE`` such
    files raise ``QueryError`` before any is decoded."""
    from photosearch.library.search import QueryError

    out: list = [stored(p) for p in paths]
    outside = [i for i, v in enumerate(out) if v is None]
    if len(outside) > MAX_OUTSIDE:
        raise QueryError(f"{len(outside)} of the example photos are not in the library; at most {MAX_OUTSIDE} "
                         f"are read per search: add their folder and index it (photosearch index FOLDER)")
    for k in range(0, len(outside), BATCH):
        chunk = outside[k:k + BATCH]
        for i, v in zip(chunk, embed([paths[i] for i in chunk])):
            out[i] = np.asarray(v, np.float32)
    return out


def adjust(z: np.ndarray | None, more=(), less=(), t: float = 0.0, beta: float = BETA,
           gamma: float = GAMMA) -> np.ndarray:
    """Standings of every photo after the marks. ``z``: the typed query's standings (None while browsing: then
    the + photos are the query). ``more``/``less``: each marked photo's standings as an example image over the
    same photos; ``t``: the example-image threshold."""
    more, less = [np.asarray(x, np.float32) for x in more], [np.asarray(x, np.float32) for x in less]
    if z is None:
        if not more:
            raise ValueError("feedback needs a query or at least one more-like photo")
        return np.mean(more, axis=0).astype(np.float32)
    out = np.array(z, dtype=np.float32, copy=True)
    if more:
        out += beta * np.mean([np.maximum(x - t, 0.0) for x in more], axis=0)
    if less:
        out -= gamma * np.mean([np.maximum(x - t, 0.0) for x in less], axis=0)
    return out


def drop_marked(scores: np.ndarray, less=()) -> np.ndarray:
    """The less-like photos themselves (and identical copies: the same vector) leave the results: the
    person has said they are not what they look for. Their look-alikes only sink (:func:`adjust`).
    ``less``: each marked photo's cosine similarities to every photo."""
    if not len(less):
        return scores
    out = np.array(scores, dtype=np.float32, copy=True)
    for sims in less:
        out[np.asarray(sims) >= SAME_PHOTO] = -np.inf
    return out
