"""Reading and preparing tensor files. Imports nothing from ``photosearch.model``: every other model module
may use it without an import circle.

safetensors cannot run code. Pickled ``.pt/.pth/.bin`` files are accepted only when they are plain tensor
state dicts that load with ``torch.load(weights_only=True)``; anything else is refused, never unpickled.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch import nn

from photosearch.errors import ModelError, UnsafeCheckpointError

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


def read_weights_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors from .safetensors, or from a plain-tensor pickle loaded with ``weights_only=True``."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError) as e:
            raise ModelError(f"{path} is damaged: {e}") from e
    return safe_torch_load(path)


def load_in_order(module: nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    """Load a state dict whose key names differ but whose tensors follow the module's own order and shapes
    (e.g. the lukemelas EfficientNet-Lite0 .pth onto timm's ``efficientnet_lite0``)."""
    own = module.state_dict()
    if len(own) != len(state_dict):
        raise ModelError(f"weights have {len(state_dict)} tensors, the model {len(own)}: not the same architecture")
    mapped = {}
    for (k_own, v_own), (k_src, v_src) in zip(own.items(), state_dict.items()):
        if v_own.shape != v_src.shape:
            raise ModelError(f"weights do not fit: {k_src} {tuple(v_src.shape)} vs {k_own} {tuple(v_own.shape)}")
        mapped[k_own] = v_src
    module.load_state_dict(mapped)


def dedupe_shared(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict safetensors can save: it refuses tensors sharing memory (tied embeddings), so the later
    ones of each shared group are cloned."""
    seen: set[int] = set()
    out = {}
    for k, v in state.items():
        ptr = v.data_ptr()
        out[k] = v.clone() if ptr in seen and v.numel() else v
        seen.add(ptr)
    return out
