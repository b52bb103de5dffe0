"""Checkpoints: a folder with ``config.json`` (a :class:`ModelConfig`) and ``model.safetensors``.

safetensors cannot run code. Pickled ``.pt/.pth/.bin`` files are accepted only when they are plain tensor
state dicts that load with ``torch.load(weights_only=True)``; anything else is refused, never unpickled.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import torch

from photosearch.errors import ModelError, UnsafeCheckpointError
from photosearch.fsutil import atomic_folder, file_sha256
from photosearch.model.config import FAMILY_DUAL, FAMILY_HF_CLIP, ModelConfig

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


def safe_torch_load(path: Path) -> dict[str, torch.Tensor]:
    """Load a pickle only if it is plain tensors (``weights_only=True``); otherwise refuse clearly."""
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError, ValueError, EOFError) as e:
        raise UnsafeCheckpointError(
            f"refusing to load {path.name}: it is a pickle holding more than plain tensors, and unpickling it "
            f"could run arbitrary code. Convert it to safetensors in a trusted environment. ({type(e).__name__})"
        ) from e
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise UnsafeCheckpointError(f"refusing {path.name}: not a plain tensor state dict")
    return obj


def save_checkpoint(model, folder: str | os.PathLike, record: dict[str, Any] | None = None) -> Path:
    """Write atomically: a temporary sibling folder is renamed over ``folder`` only when complete.

    Sets ``model.config.fingerprint`` to the weights' sha256 (the id library vectors are stored under).
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    with atomic_folder(folder) as tmp:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(_dedupe_shared(state), str(tmp / WEIGHTS_FILE), metadata={"format": "pt"})
        model.config.fingerprint = file_sha256(tmp / WEIGHTS_FILE)
        model.save_aux(tmp)
        (tmp / CONFIG_FILE).write_text(json.dumps(model.config.to_dict(), indent=2))
        if record is not None:
            (tmp / "training.json").write_text(json.dumps(record, indent=2))
    return folder


def _dedupe_shared(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # safetensors refuses tensors sharing memory (tied embeddings); clone the later ones.
    seen: set[int] = set()
    out = {}
    for k, v in state.items():
        ptr = v.data_ptr()
        out[k] = v.clone() if ptr in seen and v.numel() else v
        seen.add(ptr)
    return out


def read_config(folder: Path) -> ModelConfig:
    cfg_path = folder / CONFIG_FILE
    if not cfg_path.is_file():
        raise ModelError(f"{folder} is not a PhotoSearch model: no {CONFIG_FILE}")
    try:
        return ModelConfig.from_dict(json.loads(cfg_path.read_text()))
    except (json.JSONDecodeError, TypeError, ValueError) as e:
        raise ModelError(f"{cfg_path} is not a valid model config: {e}") from e


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Load a model folder. A bare pickle file is refused (or, if plain tensors, asked for its config)."""
    path = Path(path)
    if path.is_file():
        if path.suffix in PICKLE_SUFFIXES:
            safe_torch_load(path)  # raises UnsafeCheckpointError for anything but plain tensors
            raise ModelError(f"{path.name} holds only weights; put it in a folder with a {CONFIG_FILE}")
        raise ModelError(f"{path} is not a model folder")
    if not path.is_dir():
        raise ModelError(f"model not found: {path}")
    config = read_config(path)
    weights = path / WEIGHTS_FILE
    if weights.is_file():
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(str(weights))
        except (SafetensorError, OSError) as e:
            raise ModelError(f"{weights} is damaged: {e}") from e
    else:
        pickles = [p for p in path.iterdir() if p.suffix in PICKLE_SUFFIXES]
        if not pickles:
            raise ModelError(f"{path} has no {WEIGHTS_FILE}")
        state = safe_torch_load(pickles[0])
    model = build_model(config, load_pretrained=False, folder=path)
    model.checkpoint_folder = path  # where per-model files live (e.g. the relevance calibration.json)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelError(f"weights in {path} do not fit its config "
                         f"({len(missing)} missing, {len(unexpected)} unexpected tensors)")
    return model.to(device).eval()


def build_model(config: ModelConfig, load_pretrained: bool = True, folder: Path | None = None):
    """One factory for every family. ``folder``: a checkpoint folder whose aux files (tokenizer, HF config)
    are used instead of the hub."""
    if config.family == FAMILY_DUAL:
        from photosearch.model.dual import DualEncoder

        text_dir = folder / "text" if folder is not None and (folder / "text").is_dir() else None
        return DualEncoder(config, load_pretrained=load_pretrained, text_dir=text_dir)
    if config.family == FAMILY_HF_CLIP:
        from photosearch.model.hf_clip import HFClip

        hf_dir = folder / "hf" if folder is not None and (folder / "hf").is_dir() else None
        return HFClip(config, load_pretrained=load_pretrained, hf_dir=hf_dir)
    raise ModelError(f"unknown model family {config.family!r}")
