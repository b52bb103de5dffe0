"""More like this one, less like that one: Rocchio-style refinement, in score space.

The typed query stays the anchor; photos marked more-like pull up the photos that resemble them, photos
marked less-like push down the photos that resemble them:

    score'(p) = score(p) + s_q * (beta * mean_m relu(z_m(p)) - gamma * mean_l relu(z_l(p)))

where ``z_x(p)`` is how far photo p's similarity to the marked photo x stands out over the library (robust z,
as in library/relevance.py) and ``s_q`` the spread of the query's own scores, so the feedback is measured in
the query's units whatever the model's scale (photo-photo similarities spread 3-5x wider than text-photo
ones with the starter). Only photos *resembling* a marked one move: the vector form of Rocchio
(``q + beta * mean(more) - gamma * mean(less)``) also lifts whatever is *unlike* the less-like photo, and on
the evaluation set that lifted featureless images (blank frames, noise) over real matches.
``beta`` and ``gamma`` were chosen on the evaluation set's tuning half (benchmarks/bench_relevance.py).

Marked photos outside the library are decoded and embedded in batches of ``BATCH`` (one at a time, 1,000
files took over 10 minutes), at most ``MAX_OUTSIDE`` per search (:func:`marked_vectors`).
"""

from __future__ import annotations

import numpy as np

from photosearch.library.relevance import robust_stats

BETA = 0.5  # pull of the more-like photos, in the query's spreads per unit of z
GAMMA = 0.5  # push of the less-like photos
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


def _standout(sims: np.ndarray) -> np.ndarray:
    m, s = robust_stats(sims)
    return np.maximum((sims - m) / max(s, 1e-3), 0.0)


def adjust(scores: np.ndarray | None, more=(), less=(), beta: float = BETA, gamma: float = GAMMA) -> np.ndarray:
    """Refined scores of every library photo. ``scores``: the typed query's scores (None while browsing:
    then the more-like photos are the query). ``more``/``less``: each marked photo's similarities to every
    library photo (library matrix @ its vector)."""
    more, less = [np.asarray(x, np.float32) for x in more], [np.asarray(x, np.float32) for x in less]
    if scores is None:
        if not more:
            raise ValueError("feedback needs a query or at least one more-like photo")
        scores = np.mean(more, axis=0)
        more = []
    scores = np.asarray(scores, np.float32)
    spread = max(robust_stats(scores)[1], 1e-3)
    out = scores.copy()
    if more:
        out += beta * spread * np.mean([_standout(x) for x in more], axis=0)
    if less:
        out -= gamma * spread * np.mean([_standout(x) for x in less], axis=0)
    return out


def drop_marked(scores: np.ndarray, less=()) -> np.ndarray:
    """The less-like photos themselves (and identical copies: the same vector) leave the results: the
    person has said they are not what they look for. Their look-alikes only sink (:func:`adjust`)."""
    if not len(less):
        return scores
    out = np.array(scores, dtype=np.float32, copy=True)
    for sims in less:
        out[np.asarray(sims) >= 0.9995] = -np.inf
    return out
