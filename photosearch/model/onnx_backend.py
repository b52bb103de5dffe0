"""ONNX Runtime for a model's towers on the CPU, with torch kept as the reference.

A tower (``image_features`` or ``text_features`` of any :class:`~photosearch.model.base.EmbeddingModel`) is
exported once with ``torch.onnx.export`` (TorchScript exporter, ``dynamo=False``: no onnxscript needed) into
``<cache>/<model_id>/<tower>/model.onnx``, written atomically; ``model_id`` carries the weights' fingerprint,
so fine-tuned weights never reuse a stale graph. :func:`attach_backend` then routes the model's
``embed_pixels`` / ``embed_texts`` through an ONNX Runtime session.

``auto`` (the default of ``--backend``) uses ONNX Runtime for the image tower on a CPU when a short
side-by-side measurement on this machine says it is faster and its embeddings agree with torch's (cosine
>= 0.999); the decision is remembered beside the exported graph. The text tower runs a few words per
query, where exporting does not pay back: it uses ONNX Runtime only when asked for (``--backend onnx``).
``benchmarks/bench_backends.py`` measures both against torch eager and channels-last.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from photosearch.device import BACKEND_CHOICES
from photosearch.errors import ModelError

log = logging.getLogger(__name__)

BACKENDS = BACKEND_CHOICES
OPSET = 17
MIN_COSINE = 0.999  # parity with torch required before ONNX Runtime replaces it
AUTO_MARGIN = 1.1  # ONNX must be this much faster to be chosen automatically (measurement noise)
GRAPH_FILE = "model.onnx"
CHOICE_FILE = "choice.json"


class _ImageGraph(nn.Module):
    """What is exported for the image tower: pixels (B, 3, H, W) -> unnormalised features (B, D)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.image_features(pixels)


class _TextGraph(nn.Module):
    """What is exported for the text tower: token ids and mask (B, T) -> unnormalised features (B, D)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.text_features(input_ids, attention_mask)


def sample_inputs(model, tower: str, batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Inputs of the right shapes and types for tracing or timing a tower."""
    if tower == "image":
        s = model.config.preprocess.input_size
        return (torch.randn(batch, 3, s, s),)
    tok = model.tokenize(["a photo of a dog on the beach"] * batch)
    return tok["input_ids"], tok["attention_mask"]


def export_tower(model, tower: str, dest: Path) -> Path:
    """Export ``model``'s ``tower`` ("image" or "text") to the ONNX file ``dest`` (CPU, float32, dynamic batch;
    dynamic sequence length for text). The model's device and train/eval mode are left as they were."""
    import warnings

    was_training, device = model.training, model.device
    graph = (_ImageGraph if tower == "image" else _TextGraph)(model).eval()  # eval: BatchNorm uses its statistics
    model.to("cpu")
    args = sample_inputs(model, tower)
    if tower == "image":
        names, outs, axes = ["pixels"], ["features"], {"pixels": {0: "batch"}, "features": {0: "batch"}}
    else:
        names, outs = ["input_ids", "attention_mask"], ["features"]
        axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                "features": {0: "batch"}}
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
            torch.onnx.export(graph, args, str(dest), dynamo=False, opset_version=OPSET, input_names=names,
                              output_names=outs, dynamic_axes=axes, do_constant_folding=True)
    except Exception as e:  # any exporter failure means: this model runs on torch
        raise ModelError(f"cannot export the {tower} tower of {model.model_id} to ONNX: "
                         f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
    finally:
        model.to(device)
        model.train(was_training)
    return dest


class OnnxTower:
    """An exported tower in an ONNX Runtime CPU session, called with torch tensors like the torch tower."""

    def __init__(self, path: Path, threads: int | None = None, input_names: tuple[str, ...] = ()):
        from photosearch.ortenv import onnxruntime

        ort = onnxruntime()  # telemetry off before the session

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads or torch.get_num_threads()
        so.log_severity_level = 3
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.input_names = input_names or tuple(i.name for i in self.session.get_inputs())

    def __call__(self, *tensors: torch.Tensor) -> torch.Tensor:
        feeds = {n: t.detach().cpu().contiguous().numpy() for n, t in zip(self.input_names, tensors)}
        return torch.from_numpy(self.session.run(None, feeds)[0])


def tower_folder(cache_root: Path, model, tower: str) -> Path:
    """Where a tower's graph lives: keyed by the model id, which carries the weights' fingerprint."""
    safe = re.sub(r"[^A-Za-z0-9._@-]", "_", model.model_id)[:120] or "model"
    return Path(cache_root) / safe / tower


def ensure_exported(model, tower: str, cache_root: Path) -> Path:
    """The tower's ONNX file, exported on first use (atomically: a crash leaves no half-written graph)."""
    from photosearch.fsutil import atomic_folder

    folder = tower_folder(cache_root, model, tower)
    path = folder / GRAPH_FILE
    if path.is_file():
        return path
    with atomic_folder(folder) as tmp:
        export_tower(model, tower, tmp / GRAPH_FILE)
    return path


def open_tower(model, tower: str, cache_root: Path, note: Callable[[str], None] | None = None) -> OnnxTower:
    """An ONNX Runtime session of the tower's graph, exported on first use. A cached graph that does not
    open (damaged, cut short) is exported again, once, with one line to ``note``."""
    folder = tower_folder(cache_root, model, tower)
    cached = (folder / GRAPH_FILE).is_file()
    try:
        return OnnxTower(ensure_exported(model, tower, cache_root))
    except (ImportError, ModelError):  # no onnxruntime, or the export itself failed: nothing to heal
        raise
    except Exception as e:  # onnxruntime's own errors for a graph it cannot read (re-raised when fresh)
        if not cached:
            raise
        msg = (f"the cached ONNX graph of the {tower} encoder of {model.model_id} could not be read "
               f"({str(e).splitlines()[0][:120] if str(e) else type(e).__name__}); exporting it again")
        log.warning("%s", msg)
        if note:
            note(msg)
    import shutil

    shutil.rmtree(folder, ignore_errors=True)  # the graph and the measured choice that went with it
    return OnnxTower(ensure_exported(model, tower, cache_root))


def torch_runner(model, tower: str) -> Callable[..., torch.Tensor]:
    """Today's torch path as the same kind of callable (``embed_pixels``: channels-last), normalised."""

    def run(*tensors):
        if tower == "image":
            return model.embed_pixels(tensors[0])
        with torch.inference_mode():
            return F.normalize(model.text_features(*tensors).float(), dim=-1)
    return run


def compare(model, tower: str, onnx: OnnxTower, batch: int = 8, rounds: int = 3) -> dict:
    """Side by side on this machine: median seconds per batch of each backend (alternating, after a warm-up,
    so machine noise hits both) and the lowest cosine between their embeddings."""
    ref = torch_runner(model, tower)
    inputs = sample_inputs(model, tower, batch)
    times: dict[str, list[float]] = {"torch": [], "onnx": []}
    for i in range(rounds + 1):
        for name, fn in (("torch", ref), ("onnx", onnx)):
            t = time.perf_counter()
            out = fn(*inputs)
            if i:
                times[name].append(time.perf_counter() - t)
            if name == "torch":
                a = out
            else:
                cos = float(F.cosine_similarity(a.float(), out.float(), dim=-1).min())
    return {"torch_s": statistics.median(times["torch"]), "onnx_s": statistics.median(times["onnx"]),
            "min_cosine": cos, "batch": batch, "threads": torch.get_num_threads()}


def _choose(model, tower: str, onnx: OnnxTower, folder: Path) -> bool:
    """auto: whether ONNX Runtime runs this tower here; measured once per model and thread count."""
    choice_file = folder / CHOICE_FILE
    threads = torch.get_num_threads()
    try:
        known = json.loads(choice_file.read_text())
        if known.get("threads") == threads:
            return bool(known["use_onnx"])
    except (OSError, ValueError, KeyError):
        pass
    m = compare(model, tower, onnx)
    m["use_onnx"] = m["min_cosine"] >= MIN_COSINE and m["onnx_s"] * AUTO_MARGIN < m["torch_s"]
    try:
        tmp = choice_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(m))
        tmp.replace(choice_file)
    except OSError:
        pass
    log.info("backend for the %s tower of %s: %s (%s)", tower, model.model_id,
             "onnx" if m["use_onnx"] else "torch", m)
    return m["use_onnx"]


def attach_backend(model, backend: str, cache_root: Path, progress: Callable[[str], None] | None = None,
                   note: Callable[[str], None] | None = None) -> dict[str, str]:
    """Route ``model.embed_pixels`` (and with ``onnx`` also ``embed_texts``) through ONNX Runtime where
    ``backend`` asks for it; returns the backend each tower now uses, e.g. {"image": "onnx", "text": "torch"}.
    ``torch`` (or a model on a GPU) detaches any ONNX session. ``onnx`` raises :class:`ModelError` when
    the tower cannot be exported; ``auto`` then quietly keeps torch. ``progress`` hears of a first export,
    ``note`` of a damaged cached graph exported again."""
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    used = {"image": "torch", "text": "torch"}
    model.set_tower_runners(image=None, text=None)
    if backend == "torch" or model.device.type != "cpu":
        return used
    runners: dict[str, OnnxTower | None] = {"image": None, "text": None}
    for tower in ("image",) if backend == "auto" else ("image", "text"):
        folder = tower_folder(cache_root, model, tower)
        try:
            if not (folder / GRAPH_FILE).is_file():
                log.info("exporting the %s tower of %s to ONNX", tower, model.model_id)
                if progress:
                    progress(f"preparing the fast CPU path for the {tower} encoder (once for this model)")
            sess = open_tower(model, tower, cache_root, note)
            if backend == "onnx" or _choose(model, tower, sess, folder):
                runners[tower] = sess
                used[tower] = "onnx"
        except Exception as e:  # no onnxruntime, an exporter gap, a bad graph: torch stays
            if backend == "onnx":
                if isinstance(e, ModelError):
                    raise
                raise ModelError(f"ONNX Runtime cannot run the {tower} encoder of {model.model_id}: "
                                 f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
            log.warning("ONNX backend unavailable for %s; using torch", model.model_id, exc_info=True)
    model.set_tower_runners(**runners)
    return used


def attach_or_keep_torch(model, backend: str, cache_root: Path, progress: Callable[[str], None] | None = None,
                         note: Callable[[str], None] | None = None) -> dict[str, str]:
    """:func:`attach_backend` for an app that must keep working (the GUI): any failure, even with ``onnx``
    (an unknown backend, an exporter gap, no onnxruntime), is logged and the model stays on torch."""
    try:
        return attach_backend(model, backend, cache_root, progress, note)
    except Exception as e:  # noqa: BLE001 - the torch path is the reference and always works
        log.warning("backend %r unavailable for %s, using torch: %s", backend, model.model_id, e)
        model.set_tower_runners(image=None, text=None)
        return {"image": "torch", "text": "torch"}
