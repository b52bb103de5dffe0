"""A text encoder without torch: a model's text tower as an ONNX graph plus its tokenizer, for a command line
that answers in about a second (importing torch alone takes 1.4 s here, loading the model stack 4 s more).

With torch at hand (after indexing, or after a search that loaded the full model), :func:`export_text` writes
``<model folder>/fast/``: ``text.onnx`` (``text_features``: tokens -> unnormalised vectors, the projection
head included), ``tokenizer.json`` (the model's own fast tokenizer, set to truncate and pad as the model's
``tokenize`` does) and ``fast.json``. It is written only when it reproduces the torch model on probe
sentences: token ids identical, vectors within :data:`MAX_COSINE_GAP`. ``fast.json`` names the weights it was
made from (the fingerprint in ``config.json`` plus the weights file's size and modification time), so a
changed or replaced model never serves stale vectors: :func:`open_text_model` then returns None and the
caller loads the model with torch, as always. Saving a model replaces its whole folder, so a fine-tune
starts without a fast path until it is exported again.

Imports here: numpy, onnxruntime, tokenizers (no torch, no transformers); :func:`export_text` imports torch
itself.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from photosearch.errors import ModelError
from photosearch.model.config import ModelConfig

log = logging.getLogger(__name__)

FAST_DIR = "fast"  # inside a model folder
GRAPH_FILE = "text.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "fast.json"
WEIGHTS_FILE = "model.safetensors"  # checkpoint.WEIGHTS_FILE (that module imports torch)
FAST_VERSION = 1  # bump when what export_text writes changes: older folders are ignored (and re-exported)
MAX_COSINE_GAP = 1e-5  # 1 - cosine(onnx, torch) allowed on the probe sentences
# Probe sentences: short and long (truncation), case and accents, other scripts, a batch of mixed lengths
# (padding), words the vocabulary lacks.
PROBES = ("a flower", "A RED Bicycle leaning on a wall, café in the background",
          "二匹の猫がソファで寝ている", "zxqv blorf 🐕", "",
          " ".join(["a very long caption that goes on"] * 30))


class NeedsFullModel(ModelError):
    """Asked of the text-only model what only the full model can do (encode an image)."""


def _weights_stamp(folder: Path) -> dict:
    """What identifies the weights file cheaply (hashing 100+ MB on every search would cost more than it saves)."""
    st = (folder / WEIGHTS_FILE).stat()
    return {"weights_bytes": st.st_size, "weights_mtime_ns": st.st_mtime_ns}


class TextOnnxEncoder:
    """Tokenizer + ONNX Runtime session: texts -> (N, D) normalised float32 vectors, as the model's
    ``embed_texts`` computes them with torch."""

    def __init__(self, folder: Path, threads: int = 1):
        """``threads``: a query of a few words does not parallelise; one thread is fastest on a busy machine."""
        from tokenizers import Tokenizer

        from photosearch.ortenv import onnxruntime

        ort = onnxruntime()  # telemetry off before the session
        folder = Path(folder)
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        # The exporter folded constants already; ORT's own graph passes cost 0.2-0.3 s per start here and
        # saved no measurable time on a query of a few words.
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.session = ort.InferenceSession(str(folder / GRAPH_FILE), so, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        enc = self.tokenizer.encode_batch(list(texts))
        return {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}

    def embed_texts(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch_size):
            tok = self.tokenize(texts[i:i + batch_size])
            feats = self.session.run(None, {n: tok[n] for n in self.input_names})[0].astype(np.float32)
            norms = np.linalg.norm(feats, axis=-1, keepdims=True)
            out.append(feats / np.maximum(norms, 1e-12))  # F.normalize's eps
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


class TextOnlyModel:
    """Stands in for a model where search needs only its config and its text vectors (the command line's
    text search). Anything that needs the image tower raises :class:`NeedsFullModel`."""

    def __init__(self, config: ModelConfig, folder: Path, encoder: TextOnnxEncoder):
        self.config = config
        self.checkpoint_folder = folder  # per-model files (the relevance calibration) are found by it
        self.encoder = encoder

    @property
    def model_id(self) -> str:
        return self.config.model_id

    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    def embed_texts(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embed_dim), dtype=np.float32)
        return self.encoder.embed_texts(texts, batch_size)

    def embed_pil(self, images, batch_size: int = 32):
        raise NeedsFullModel("an image has to be encoded: the full model is needed")


def _manifest(folder: Path) -> tuple[dict, ModelConfig] | None:
    """The fast path's manifest and the model's config when the manifest was written for the model's current
    weights (a fast path, or the record that none can be made), else None."""
    try:
        manifest = json.loads((folder / FAST_DIR / MANIFEST_FILE).read_text())
        config = ModelConfig.from_dict(json.loads((folder / "config.json").read_text()))
        current = (manifest.get("version") == FAST_VERSION and bool(config.fingerprint)
                   and manifest.get("fingerprint") == config.fingerprint
                   and {k: manifest.get(k) for k in ("weights_bytes", "weights_mtime_ns")} == _weights_stamp(folder))
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    return (manifest, config) if current else None


def _fresh_config(folder: Path) -> ModelConfig | None:
    """The model's config when ``folder`` holds a fast path made from its current weights, else None."""
    found = _manifest(folder)
    return found[1] if found is not None and not found[0].get("error") else None


def has_fresh_export(folder: Path) -> bool:
    """Whether ``folder`` holds a fast path made from its current weights (without opening the graph)."""
    return _fresh_config(Path(folder)) is not None


def open_text_model(folder: Path) -> TextOnlyModel | None:
    """The torch-free text model of the model folder ``folder``, or None when it has no fast path or one made
    from other weights (the caller then loads the full model). Never raises for a missing or stale fast path."""
    folder = Path(folder)
    config = _fresh_config(folder)
    if config is None:
        return None
    try:
        return TextOnlyModel(config, folder, TextOnnxEncoder(folder / FAST_DIR))
    except Exception as e:  # noqa: BLE001 - a damaged graph or tokenizer file: the torch path still works
        log.warning("fast text path of %s unusable (%s); using torch", folder, e)
        return None


# -- writing the fast path (torch side) ------------------------------------------------------------------------
def _hf_tokenizer(model):
    """The transformers fast tokenizer behind ``model.tokenize`` (DualEncoder: its text tower's; HFClip: its own)."""
    tok = getattr(getattr(model, "text_encoder", None), "tokenizer", None) or getattr(model, "tokenizer", None)
    if tok is None or getattr(tok, "backend_tokenizer", None) is None:
        raise ModelError(f"{model.model_id} has no fast tokenizer to run without transformers")
    return tok


def _tokenizer_like(model):
    """A ``tokenizers.Tokenizer`` that truncates and pads as ``model.tokenize`` does, read off the model's
    behaviour (the length it truncates to; whether it pads short texts to that length)."""
    from tokenizers import Tokenizer

    hf = _hf_tokenizer(model)
    length = int(model.tokenize([PROBES[-1]])["input_ids"].shape[1])  # a probe longer than any limit
    fixed = int(model.tokenize(["a"])["input_ids"].shape[1]) == length  # padding="max_length" (SigLIP)
    tok = Tokenizer.from_str(hf.backend_tokenizer.to_str())
    tok.enable_truncation(max_length=length)
    pad_id = hf.pad_token_id if hf.pad_token_id is not None else 0
    tok.enable_padding(pad_id=pad_id, pad_token=str(hf.pad_token or ""), length=length if fixed else None)
    return tok


def _check_tokens(model, tok) -> None:
    """The same token ids and masks as ``model.tokenize``, text by text and as one padded batch."""
    for batch in [[p] for p in PROBES] + [list(PROBES)]:
        want = model.tokenize(batch)
        got = tok.encode_batch(batch)
        ids = np.array([e.ids for e in got], dtype=np.int64)
        mask = np.array([e.attention_mask for e in got], dtype=np.int64)
        if ids.shape != tuple(want["input_ids"].shape) or not (
                (ids == want["input_ids"].numpy()).all() and (mask == want["attention_mask"].numpy()).all()):
            raise ModelError(f"the tokenizer of {model.model_id} cannot be reproduced without transformers "
                             f"(probe {batch[0][:30]!r})")


def export_text(model, folder: Path | None = None) -> Path:
    """Write the fast text path of ``model`` into ``folder`` (default: its checkpoint folder) and return it.
    Raises :class:`ModelError` when the text tower cannot be exported or its results differ from torch's;
    then nothing is written and the torch path stays the only one."""
    from photosearch.fsutil import atomic_folder
    from photosearch.model.onnx_backend import export_tower

    folder = Path(folder if folder is not None else getattr(model, "checkpoint_folder", "") or "")
    if not (folder / "config.json").is_file() or not model.config.fingerprint:
        raise ModelError(f"{model.model_id} is not a saved model folder: no fast path to write")
    tok = _tokenizer_like(model)
    _check_tokens(model, tok)
    with atomic_folder(folder / FAST_DIR) as tmp:
        tok.save(str(tmp / TOKENIZER_FILE))
        export_tower(model, "text", tmp / GRAPH_FILE)
        want = model.embed_texts(list(PROBES)).numpy()
        got = TextOnnxEncoder(tmp).embed_texts(list(PROBES))
        gap = float(1 - (want * got).sum(-1).min())
        if gap > MAX_COSINE_GAP:
            raise ModelError(f"the ONNX text tower of {model.model_id} differs from torch (1 - cosine {gap:.2g})")
        (tmp / MANIFEST_FILE).write_text(json.dumps({
            "version": FAST_VERSION, "fingerprint": model.config.fingerprint, "model_id": model.model_id,
            "max_cosine_gap": gap, **_weights_stamp(folder)}, indent=2))
    log.info("fast text path of %s written (1 - cosine %.2g)", model.model_id, gap)
    return folder / FAST_DIR


def ensure_text_export(model) -> bool:
    """Export the fast text path of a loaded model once (a no-op when its folder has a fresh one). Never
    raises: a model whose text tower cannot be exported, or a read-only folder, keeps the torch path.
    Returns whether a fresh fast path is in place."""
    folder = getattr(model, "checkpoint_folder", None)
    if folder is None:
        return False
    folder = Path(folder)
    known = _manifest(folder)
    if known is not None:  # made from these weights already, or known not to work for them
        return not known[0].get("error")
    try:
        export_text(model, folder)
        return True
    except Exception as e:  # noqa: BLE001 - the fast path is an optimisation; torch stays the reference
        log.info("no fast text path for %s: %s", getattr(model, "model_id", "?"), e)
        if isinstance(e, ModelError):  # this model cannot have one: say so once, not on every search
            _record_failure(model, folder, str(e))
        return False


def _record_failure(model, folder: Path, reason: str) -> None:
    from photosearch.fsutil import atomic_folder

    try:
        with atomic_folder(folder / FAST_DIR) as tmp:
            (tmp / MANIFEST_FILE).write_text(json.dumps({
                "version": FAST_VERSION, "fingerprint": model.config.fingerprint, "error": reason,
                **_weights_stamp(folder)}, indent=2))
    except OSError:
        pass
