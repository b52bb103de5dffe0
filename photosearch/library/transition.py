"""Changing models without a gap in search.

A library holds the vectors of every model that indexed it, keyed by model id. When the model changes (the
user picks another one, or an upgrade brings a new ``starter`` build with new weights), the new model's
vectors are made in the background, and until they are complete search keeps using the vectors that are
there: the *serving* model is the loadable model with the most vectors, when it has more than the new one.
Once an index run with the new model has finished, the vectors of *retired* builds (superseded starter
builds, kept by the model store only for this) are dropped and the builds deleted. Vectors of models the user
can still choose are kept: switching back is then instant.

Used by the command line (``search`` uses the serving model, ``index`` finishes the change) and by the
window (:mod:`photosearch.gui.models.modelhost`). No Qt here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def serving_model_id(counts: Mapping[str, int], target_id: str, loadable: Iterable[str]) -> str | None:
    """The model id search should use while ``target_id`` is being indexed, or None when the target itself
    serves: of the ``loadable`` models, the one with the most vectors, if it has more than the target."""
    have, loadable = counts.get(target_id, 0), set(loadable)
    best = max(((n, mid) for mid, n in counts.items() if mid != target_id and mid in loadable), default=None)
    return best[1] if best is not None and best[0] > have else None


def load_serving(lib, store, target, device: str = "auto", in_use=None):
    """The model to search ``lib`` with while ``target`` catches up (None: search with ``target``).

    ``in_use``: a model already in memory (the window's current one); it is returned rather than loaded
    again when it is the one that serves. Other serving models are loaded from the store by model id
    (installed models and retired builds)."""
    counts = lib.models()
    folders = store.model_folders()
    loadable = set(folders) | ({in_use.config.model_id} if in_use is not None else set())
    sid = serving_model_id(counts, target.config.model_id, loadable)
    if sid is None:
        return None
    if in_use is not None and in_use.config.model_id == sid:
        return in_use
    from photosearch.model.ref import ModelRef

    return store.load(ModelRef.at(folders[sid]), device=device)


def serving_note(serving, target) -> str:
    """One line for the user while a serving model stands in for ``target``."""
    return (f"searching with the vectors of {serving.config.model_id} until every photo is indexed with "
            f"{target.config.model_id}")


def finish(lib, store, target_id: str) -> dict[str, int]:
    """After an index run with ``target_id``: drop from ``lib`` the vectors of each retired build that every
    one of its photos now has a ``target_id`` vector for, and delete that build from the store. A build whose
    photos are not all covered yet (a cancelled run, a drive that is not plugged in) stays, and so do its
    vectors. Returns model id -> vectors dropped."""
    dropped = {}
    for mid in store.retired():
        if mid == target_id or lib.not_covered_by(mid, target_id):
            continue
        n = lib.drop_model(mid)
        if n:
            dropped[mid] = n
        store.forget_retired(mid)
    return dropped
