"""What a training run is asked to do (:class:`TrainOptions`) and what it reports (:class:`TrainEvent`,
:class:`TrainResult`); the one rule for options on resume (:func:`merge_options`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from photosearch.errors import TrainingError

# Options a resumed run may change; the others decide which samples and updates happen, so they must match.
RESUMABLE_CHANGES = ("epochs", "device", "num_workers", "amp", "head_lr", "image_lr", "text_lr",
                     "weight_decay", "zero_shot", "eval_batch_size")


@dataclass
class TrainOptions:
    """Everything a run is started with; stored in its state so a resume replays it."""

    data_dir: str
    captions: str | None = None  # captions file; default: found in data_dir (Karpathy JSON or token file)
    base: str = "starter"  # store name or checkpoint folder to start from
    name: str | None = None  # name in the model store; default "<base>-ft" (first free)
    epochs: int = 4
    batch_size: int = 32  # per process (per GPU under torchrun)
    head_lr: float = 1e-3
    image_lr: float = 1e-4
    text_lr: float = 1e-5
    weight_decay: float = 1e-3  # on the heads' weights, as the tutorial (not on encoders or the temperature)
    freeze_encoders: bool = False
    warmup_steps: int = 100  # optimizer steps of linear warm-up, at most a fifth of the run, then cosine
    grad_accum: int = 1
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # mixed precision on GPUs (bf16 where supported, else fp16 with loss scaling)
    num_workers: int = 2  # data loading processes (full fine-tune)
    max_images: int | None = None  # cap per split (quick runs / tests)
    zero_shot: bool = True  # evaluate the base model first, so the gain shows
    # base "tutorial" from local files instead of the hub: a transformers folder (distilbert-base-uncased or
    # any encoder) and/or timm resnet50 weights (.safetensors or a weights-only .pth)
    text_tower: str | None = None
    image_weights: str | None = None
    eval_batch_size: int = 64

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainOptions":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def defaults(cls) -> dict:
        """Each option's default value (``data_dir`` has none), for forms that show them."""
        return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def merge_options(stored: TrainOptions | None, given: dict) -> TrainOptions:
    """The options of a run: what the user ``given`` (None = not given) over the ``stored`` options of the
    run being resumed (or the defaults). The CLI and the dialog both use this rule; a given value that a
    resume may not change (see :data:`RESUMABLE_CHANGES`) and that differs from the stored one is kept, so
    the trainer refuses to resume with one line naming it instead of silently ignoring it."""
    d = stored.to_dict() if stored is not None else {}
    d.update({k: v for k, v in given.items() if v is not None})
    if "data_dir" not in d:
        raise TrainingError("no data folder given")
    return TrainOptions.from_dict(d)


def check_options(o: TrainOptions) -> None:
    """Raise :class:`TrainingError` naming every bad value at once."""
    bad = []
    if o.epochs < 1:
        bad.append("epochs must be at least 1")
    if o.batch_size < 2:
        bad.append("batch size must be at least 2 (contrastive loss needs negatives)")
    if o.grad_accum < 1:
        bad.append("gradient accumulation must be at least 1")
    for k in ("head_lr", "image_lr", "text_lr", "weight_decay"):
        v = getattr(o, k)
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            bad.append(f"{k} must be a finite number >= 0")
    if o.warmup_steps < 0:
        bad.append("warm-up steps must be >= 0")
    if o.max_images is not None and o.max_images < 2:
        bad.append("max images must be at least 2")
    if bad:
        raise TrainingError("bad training options: " + "; ".join(bad))


def resume_mismatch(stored: TrainOptions, given: TrainOptions) -> list[str]:
    """Options that differ between a stored run and a resume request although a resume may not change them."""
    return [k for k in stored.to_dict() if k not in RESUMABLE_CHANGES and k != "name"
            and getattr(stored, k) != getattr(given, k)]


@dataclass
class TrainResult:
    """The outcome of a run, on the last event."""

    model: str  # name in the model store ("" when cancelled before a first epoch finished)
    path: str  # its folder (the run folder when nothing was published)
    epochs: int  # epochs completed
    best_epoch: int  # 0 when no epoch finished
    val: dict  # eval object of the best epoch
    history: list[dict]  # per epoch (epoch 0 = zero-shot): train_loss, val, seconds, lr
    cancelled: bool = False
    weights_digest: str = ""  # sha256 over the published weights' tensors (same on every DDP rank)
    rank: int = 0
    world_size: int = 1

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class TrainEvent:
    """One progress report of :func:`photosearch.train.train`."""

    kind: str  # "message" | "step" | "eval" | "epoch" | "done"
    epoch: int  # 1-based epoch in progress (0 before training)
    total_epochs: int
    step: int  # batches done in the whole run
    total_steps: int
    loss: float | None = None
    lr: float | None = None  # the heads' learning rate now
    images_per_second: float | None = None
    eta: float | None = None  # seconds
    metrics: dict | None = None  # eval object on "eval"
    message: str | None = None
    result: TrainResult | None = None
    # What a "message" is about, for front ends that word it their own way: "data" (reading captions),
    # "note" (a remark on the data), "model" (loading the base), "resume", "cache" (the one-time feature pass),
    # "zero_shot" (evaluating the base before training), "eval" (a validation pass in progress)
    phase: str | None = None
    done: int | None = None  # images (or images and captions) done in this phase
    total: int | None = None
