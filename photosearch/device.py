"""Choosing the compute device and the precision to run on it."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from photosearch.errors import PhotoSearchError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
# CPU runtime for the encoders (photosearch/model/onnx_backend.py): the CLI's --backend and the GUI's setting.
BACKEND_CHOICES = ("auto", "torch", "onnx")
ENV_BACKEND = "PHOTOSEARCH_BACKEND"


def default_backend() -> str:
    """``$PHOTOSEARCH_BACKEND``, else ``auto``: the default of the CLI's ``--backend`` and of the GUI's setting."""
    return os.environ.get(ENV_BACKEND, "").strip().lower() or "auto"


def available_devices() -> list[str]:
    """Device names usable here, best first (for settings menus)."""
    import torch

    out = []
    if torch.cuda.is_available():
        out.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        out.append("mps")
    out.append("cpu")
    return out


def resolve_device(spec: str | None = "auto") -> "torch.device":
    """``auto`` picks cuda > mps > cpu; an explicit device that is not there is a clear error."""
    import torch

    spec = (spec or "auto").lower()
    if spec == "auto":
        return torch.device(available_devices()[0])
    kind = spec.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise PhotoSearchError(f"unknown device {spec!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if kind != "cpu" and kind not in available_devices():
        raise PhotoSearchError(f"device {spec!r} is not available on this machine (have: {', '.join(available_devices())})")
    return torch.device(spec)


def autocast(device: "torch.device", enabled: bool = True):
    """Mixed precision where it pays: fp16/bf16 autocast on GPUs, plain fp32 on CPU.

    CPU bf16 autocast is left off on purpose: without AVX512-BF16/AMX it is ~20x slower than fp32.
    """
    import torch

    if not enabled or device.type == "cpu":
        return contextlib.nullcontext()
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    if device.type == "mps":
        return torch.autocast("mps", dtype=torch.float16)
    return contextlib.nullcontext()
