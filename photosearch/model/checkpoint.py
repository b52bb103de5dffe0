"""Checkpoints: a folder with ``config.json`` (a :class:`ModelConfig`) and ``model.safetensors``.

Tensor files are read by :mod:`photosearch.model.weights` (safetensors, or plain-tensor pickles only); models
are built by :func:`photosearch.model.factory.build_model` (re-exported here).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from photosearch.errors import ModelError
from photosearch.fsutil import atomic_folder, file_sha256
from photosearch.model.config import ModelConfig
from photosearch.model.factory import build_model
from photosearch.model.weights import PICKLE_SUFFIXES, dedupe_shared, read_weights_file, safe_torch_load

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "build_model", "load_checkpoint", "read_config", "save_checkpoint"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_checkpoint(model, folder: str | os.PathLike, record: dict[str, Any] | None = None) -> Path:
    """Write atomically: a temporary sibling folder is renamed over ``folder`` only when complete.

    Sets ``model.config.fingerprint`` to the weights' sha256 (the id library vectors are stored under).
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    with atomic_folder(folder) as tmp:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(dedupe_shared(state), str(tmp / WEIGHTS_FILE), metadata={"format": "pt"})
        model.config.fingerprint = file_sha256(tmp / WEIGHTS_FILE)
        model.save_aux(tmp)
        (tmp / CONFIG_FILE).write_text(json.dumps(model.config.to_dict(), indent=2))
        if record is not None:
            (tmp / "training.json").write_text(json.dumps(record, indent=2))
    return folder


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
        state = read_weights_file(weights)
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
