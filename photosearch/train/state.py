"""A run's state on disk and in memory: where runs live, what ``run.json`` holds, how the resumable state is
written atomically, and the progress counters (:class:`RunProgress`) that a resume restores.

``AppPaths.runs / name`` holds ``state/`` (weights as safetensors, optimizer / scheduler / RNG states as a
plain-tensor ``torch.save`` loaded with ``weights_only=True``, ``run.json``), swapped in atomically, and
``best/``, the checkpoint with the best validation recall so far.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from photosearch.errors import TrainingError
from photosearch.paths import AppPaths
from photosearch.train.options import TrainOptions, resume_mismatch

STATE_DIR = "state"
BEST_DIR = "best"
RUN_FILE = "run.json"
TRAIN_STATE_FILE = "train_state.pt"
RUN_FORMAT = 1


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class RunProgress:
    """Where a run stands: what ``run.json`` stores besides the options, restored on resume."""

    start_epoch: int = 1  # the epoch to continue at
    start_batch: int = 0  # batches of ``start_epoch`` already done
    loss_sum: float = 0.0  # training loss summed over the batches of the epoch in progress
    loss_count: int = 0
    history: list[dict] = field(default_factory=list)  # per epoch (epoch 0 = zero-shot)
    best_epoch: int = 0
    best_score: float = -1.0  # mean recall of the best epoch
    best_val: dict = field(default_factory=dict)
    best_digest: str = ""  # weights_digest of the best epoch's weights
    started: str = field(default_factory=now_utc)

    @classmethod
    def from_run(cls, run: dict) -> "RunProgress":
        return cls(start_epoch=run["epoch"], start_batch=run["batch"], loss_sum=run["loss_sum"],
                   loss_count=run["loss_count"], history=run["history"], best_epoch=run["best_epoch"],
                   best_score=run["best_score"], best_val=run["best_val"], best_digest=run.get("best_digest", ""),
                   started=run.get("started") or now_utc())

    def run_record(self, epoch: int, batch: int) -> dict:
        """The ``run.json`` fields for a state saved at (epoch, batch)."""
        return {"epoch": epoch, "batch": batch, "loss_sum": self.loss_sum, "loss_count": self.loss_count,
                "history": self.history, "best_epoch": self.best_epoch, "best_score": self.best_score,
                "best_val": self.best_val, "best_digest": self.best_digest, "started": self.started}

    @property
    def done_epochs(self) -> int:
        return max([h["epoch"] for h in self.history] or [0])


def weights_digest(model) -> str:
    """sha256 over the state dict's names and bytes: equal digests mean bit-identical weights."""
    import torch

    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        t = v.detach().cpu().contiguous()
        h.update(str(t.dtype).encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def run_folder(paths: AppPaths, name: str) -> Path:
    return paths.runs / name


def read_run(paths: AppPaths, name: str) -> dict | None:
    """A run's ``run.json``, or None when there is no readable state to resume."""
    try:
        return json.loads((run_folder(paths, name) / STATE_DIR / RUN_FILE).read_text())
    except (OSError, ValueError):
        return None


def latest_run(paths: AppPaths) -> str | None:
    """The most recently written run (what ``--resume`` without ``--name`` continues)."""
    if not paths.runs.is_dir():
        return None
    runs = [p for p in paths.runs.iterdir() if (p / STATE_DIR / RUN_FILE).is_file()]
    return max(runs, key=lambda p: (p / STATE_DIR / RUN_FILE).stat().st_mtime).name if runs else None


def load_run_options(paths: AppPaths, name: str | None) -> TrainOptions | None:
    """A run's stored options (for a CLI or GUI to fill in what the user did not change on resume)."""
    name = name or latest_run(paths)
    run = read_run(paths, name) if name else None
    return TrainOptions.from_dict(run["options"]) if run else None


def base_label(base: str) -> str:
    """A base model's short name (a checkpoint folder's last part)."""
    p = Path(base)
    return p.name if (os.sep in base or p.exists()) else base


def default_name(base: str, store, paths: AppPaths) -> str:
    """``<base>-ft``, or the first free ``<base>-ft-N``."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", base_label(base))[:40] or "model"
    name, k = f"{stem}-ft", 2
    while name in store.installed() or run_folder(paths, name).exists():
        name, k = f"{stem}-ft-{k}", k + 1
    return name


def claim_name(store, paths: AppPaths, name: str | None, base: str, resume: bool) -> str:
    """A run's name: the one to resume (default: the latest run), or a new one that clashes with nothing."""
    from photosearch.model.store import BUILTINS

    if resume:
        name = name or latest_run(paths)
        if not name or read_run(paths, name) is None:
            raise TrainingError(f"no interrupted run named {name!r} to resume" if name else
                                "no interrupted run to resume; start one without --resume")
        return name
    name = name or default_name(base, store, paths)
    if name in BUILTINS:
        raise TrainingError(f"{name!r} is a built-in model's name; choose another --name")
    store.folder(name)  # validates the name
    if name in store.installed():
        raise TrainingError(f"a model named {name!r} already exists; choose another --name (or delete it first)")
    if read_run(paths, name) is not None:
        raise TrainingError(f"an interrupted run named {name!r} exists: add --resume to continue it, "
                            f"or choose another --name")
    return name


def check_resume(run: dict, opts: TrainOptions, name: str, data_fingerprint: str, world_size: int) -> None:
    """Refuse, in one line, a resume that could not replay the stored run exactly."""
    stored = TrainOptions.from_dict(run["options"])
    diff = resume_mismatch(stored, opts)
    if diff:
        raise TrainingError(f"cannot resume {name}: it was started with other "
                            f"{', '.join(diff)} ({', '.join(f'{k}={getattr(stored, k)!r}' for k in diff)})")
    if run.get("data_fingerprint") != data_fingerprint:
        raise TrainingError(f"cannot resume {name}: the captions in {opts.data_dir} changed since it started")
    if run.get("world_size", 1) != world_size:
        raise TrainingError(f"cannot resume {name} exactly: it ran on {run.get('world_size', 1)} "
                            f"processes, now {world_size}")


def write_state(folder: Path, model, extra: dict, run: dict) -> None:
    """Atomic: a temporary sibling folder replaces ``folder`` only when complete."""
    import torch
    from safetensors.torch import save_file

    from photosearch.fsutil import atomic_folder
    from photosearch.model.weights import dedupe_shared

    with atomic_folder(folder) as tmp:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(dedupe_shared(state), str(tmp / "model.safetensors"))
        torch.save(extra, str(tmp / TRAIN_STATE_FILE))
        (tmp / RUN_FILE).write_text(json.dumps(run, indent=2))


def read_state(folder: Path) -> tuple[dict, dict]:
    """(weights, extra) of a saved state; raises whatever reading raises."""
    import torch
    from safetensors.torch import load_file

    return (load_file(str(folder / "model.safetensors")),
            torch.load(str(folder / TRAIN_STATE_FILE), map_location="cpu", weights_only=True))


def rng_state(device) -> dict:
    """Python's and torch's generator states (and CUDA's on a GPU)."""
    import torch

    st = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        st["cuda"] = torch.cuda.get_rng_state(device)
    return st


def set_rng_state(st: dict, device) -> None:
    import torch

    v, internal, gauss = st["python"]
    random.setstate((v, tuple(internal), gauss))
    torch.set_rng_state(st["torch"])
    if device.type == "cuda" and "cuda" in st:
        torch.cuda.set_rng_state(st["cuda"], device)


def can_resume(paths: AppPaths, name: str | None) -> bool:
    """Whether a run called ``name`` was interrupted (cancelled, failed) with a state to continue from; a run
    that finished all its epochs is not (the CLI can still extend it with ``--resume --epochs N``)."""
    if not name or not (run_folder(paths, name) / STATE_DIR / RUN_FILE).is_file():
        return False
    run = read_run(paths, name)
    try:
        return run is not None and int(run["epoch"]) <= int(run["options"]["epochs"])
    except (KeyError, TypeError, ValueError):
        return False
