"""``photosearch search`` without torch: the model's text tower through ONNX Runtime (model/text_onnx.py).

A text search on an indexed library needs only the query's vector; loading the full model for it (torch,
timm, transformers and 110 MB of weights) took 5.3 s a call. :func:`text_model` returns the torch-free stand-in
when it gives exactly what the full model would: the model ``--model`` (or the active one) names is on disk as
built, its fast path was made from its current weights, the library has its vectors and no other model's
vectors stand in for it. Otherwise None, and the command loads the full model as before. A search that turns
out to need an image encoded (``--like`` a file outside the library) raises
:class:`~photosearch.model.text_onnx.NeedsFullModel` and is run again with the full model.

``PHOTOSEARCH_FAST_TEXT=0`` turns the fast path off (for comparisons).
"""

from __future__ import annotations

import os

ENV_SWITCH = "PHOTOSEARCH_FAST_TEXT"


def text_model(ctx, lib):
    """The torch-free text model for this search, or None (then the full model is loaded)."""
    a = ctx.args
    if os.environ.get(ENV_SWITCH, "1") == "0" or getattr(a, "device", "auto") not in ("auto", "cpu"):
        return None
    from photosearch.errors import ModelError
    from photosearch.library import transition
    from photosearch.model import text_onnx

    store = ctx.model_store()
    ref = store.ref(getattr(a, "model", None) or store.active())
    try:
        folder = ref.folder if ref.folder is not None else store.folder(ref.name)
    except ModelError:
        return None
    if ref.name == "starter" and store._stale_starter(folder):  # ModelStore.ensure rebuilds it first
        return None
    model = text_onnx.open_text_model(folder)
    if model is None:
        return None
    counts = lib.models()
    if not counts.get(model.model_id):
        return None  # the full path says what to do about a library without this model's vectors
    if not getattr(a, "model", None) and transition.serving_model_id(counts, model.model_id, counts) is not None:
        return None  # another model's vectors may stand in: the full path decides which, with its note
    return model


def export_later(model) -> None:
    """After a search that loaded the full model: write its fast text path, once, so the next search is fast.
    Quiet (stderr carries only errors for one-shot commands); a model that cannot be exported keeps torch."""
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return
    from photosearch.model import text_onnx

    text_onnx.ensure_text_export(model)
