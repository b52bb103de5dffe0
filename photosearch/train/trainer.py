"""Fine-tuning a dual encoder on a caption data set: a generator of progress events, no UI.

One loop serves every mode:

- full fine-tune: both towers and the heads, per-group learning rates (the tutorial's 1e-4 / 1e-5 / 1e-3),
  random-resized-crop + flip augmentation, one random caption per image per step;
- frozen encoders (``freeze_encoders``): the towers' pooled features of every image (eval transform) and of
  every caption are computed once and cached on disk, then only the heads and the temperature train, which
  makes each epoch take seconds;
- under ``torchrun``: the same code with DistributedDataParallel (gloo on CPU, NCCL on GPUs).

Run state for resume lives in ``AppPaths.runs / name``: ``state/`` (weights as safetensors, optimizer /
scheduler / RNG states as a plain-tensor ``torch.save`` loaded with ``weights_only=True``, ``run.json``),
swapped in atomically, and ``best/``, the checkpoint with the best validation recall so far. Batches and
per-sample augmentation are pure functions of (seed, epoch, image), so a resumed run replays an
uninterrupted one exactly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from photosearch.errors import Cancelled, DatasetError, TrainingError
from photosearch.paths import AppPaths

STATE_DIR = "state"
BEST_DIR = "best"
RUN_FILE = "run.json"
TRAIN_STATE_FILE = "train_state.pt"
RUN_FORMAT = 1
# Options a resumed run may change; the others decide which samples and updates happen, so they must match.
RESUMABLE_CHANGES = ("epochs", "device", "num_workers", "amp", "head_lr", "image_lr", "text_lr",
                     "weight_decay", "zero_shot", "eval_batch_size")


@dataclass
class TrainOptions:
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


@dataclass
class TrainResult:
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


# -- small helpers ----------------------------------------------------------------------------------------

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


def _base_label(base: str) -> str:
    p = Path(base)
    return p.name if (os.sep in base or p.exists()) else base


def _default_name(base: str, store, paths: AppPaths) -> str:
    import re

    stem = re.sub(r"[^A-Za-z0-9._-]", "-", _base_label(base))[:40] or "model"
    name, k = f"{stem}-ft", 2
    while name in store.installed() or run_folder(paths, name).exists():
        name, k = f"{stem}-ft-{k}", k + 1
    return name


def _schedule(total: int, warmup: int):
    """Linear warm-up then cosine to zero, as a LambdaLR multiplier of optimizer steps."""

    def f(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / (warmup + 1)
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return f


def _clean_errors(batches):
    from photosearch.train.data import clean_loader_error

    it = iter(batches)
    while True:
        try:
            b = next(it)
        except StopIteration:
            return
        except DatasetError as e:
            raise clean_loader_error(e) from None
        yield b


class _HeadsOnly:
    """Image/text heads + temperature applied to cached tower features (frozen-encoder training)."""

    @staticmethod
    def parts(model):
        from photosearch.model.dual import DualEncoder

        if isinstance(model, DualEncoder):
            return (model.image_encoder, lambda ids, mask: model.text_encoder(ids, mask),
                    model.image_projection, model.text_projection)
        from photosearch.model.hf_clip import HFClip

        if isinstance(model, HFClip):
            c = model.clip
            return (lambda px: c.vision_model(pixel_values=px).pooler_output,
                    lambda ids, mask: c.text_model(input_ids=ids, attention_mask=mask).pooler_output,
                    c.visual_projection, c.text_projection)
        raise TrainingError(f"cannot freeze the encoders of a {type(model).__name__}")


def _heads_module(model):
    import torch.nn.functional as F
    from torch import nn

    _, _, ihead, thead = _HeadsOnly.parts(model)

    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model  # only parameters that require grad take part (DDP included)

        def forward(self, img_feats, txt_feats):
            return (F.normalize(ihead(img_feats).float(), dim=-1), F.normalize(thead(txt_feats).float(), dim=-1),
                    self.model.scale())

    return Heads()


def _encoder_param_ids(model) -> set[int]:
    g = model.param_groups()
    return {id(p) for p in g["image_encoder"]} | {id(p) for p in g["text_encoder"]}


def _set_mode(model, frozen: bool) -> None:
    model.train()
    if frozen:  # frozen towers: BatchNorm statistics and dropout stay as in the base model
        _, _, ihead, thead = _HeadsOnly.parts(model)
        model.eval()
        ihead.train()
        thead.train()


def _write_state(folder: Path, model, extra: dict, run: dict) -> None:
    """Atomic: a temporary sibling folder replaces ``folder`` only when complete."""
    import torch
    from safetensors.torch import save_file

    from photosearch.fsutil import atomic_folder
    from photosearch.model.checkpoint import _dedupe_shared

    with atomic_folder(folder) as tmp:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(_dedupe_shared(state), str(tmp / "model.safetensors"))
        torch.save(extra, str(tmp / TRAIN_STATE_FILE))
        (tmp / RUN_FILE).write_text(json.dumps(run, indent=2))


def _rng_state(device) -> dict:
    import torch

    st = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        st["cuda"] = torch.cuda.get_rng_state(device)
    return st


def _set_rng_state(st: dict, device) -> None:
    import torch

    v, internal, gauss = st["python"]
    random.setstate((v, tuple(internal), gauss))
    torch.set_rng_state(st["torch"])
    if device.type == "cuda" and "cuda" in st:
        torch.cuda.set_rng_state(st["cuda"], device)


class _Dist:
    """What the loop needs to know about torchrun: rank, world size, and collectives that are no-ops alone."""

    def __init__(self, device_spec: str):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank, self.local_rank, self.created = 0, 0, False
        if self.world <= 1:
            self.world = 1
            return
        import torch
        import torch.distributed as dist

        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = torch.cuda.is_available() and (device_spec or "auto").split(":")[0] in ("auto", "cuda")
        if not dist.is_initialized():
            dist.init_process_group("nccl" if use_cuda else "gloo")
            self.created = True
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.device_spec = f"cuda:{self.local_rank}" if use_cuda else "cpu"

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()

    def broadcast(self, obj):
        if self.world == 1:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list:
        if self.world == 1:
            return [obj]
        import torch.distributed as dist

        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def all_finite(self, value: float, device) -> bool:
        """Every rank must agree to stop, or the others would wait forever in the next all-reduce."""
        ok = math.isfinite(value)
        if self.world == 1:
            return ok
        import torch
        import torch.distributed as dist

        t = torch.tensor([0.0 if ok else 1.0], device=device)
        dist.all_reduce(t)
        return t.item() == 0.0

    def sync_buffers(self, model) -> None:
        """DDP broadcasts BatchNorm statistics at the start of each forward only: after the last step each
        rank holds its own. Take rank 0's, so every rank ends with the weights that are saved."""
        if self.world == 1:
            return
        import torch.distributed as dist

        for b in model.buffers():
            dist.broadcast(b.data, src=0)

    def close(self) -> None:
        if self.created:
            import torch.distributed as dist

            dist.destroy_process_group()


# -- the loop ---------------------------------------------------------------------------------------------

def train(opts: TrainOptions, paths: AppPaths, *, resume: bool = False,
          cancel: threading.Event | None = None) -> Iterator[TrainEvent]:
    """Fine-tune ``opts.base`` on ``opts.data_dir``. Yields :class:`TrainEvent`; the last has kind "done" and
    the :class:`TrainResult`. Raises :class:`TrainingError` (bad options, NaN loss),
    :class:`DatasetError` or :class:`ModelError` with one clear line."""
    dist = _Dist(opts.device)
    try:
        yield from _Trainer(opts, paths, resume, cancel or threading.Event(), dist).run()
    finally:
        dist.close()


def _load_base(store, o: TrainOptions, device: str):
    """The base model: from the store (name or folder), or the tutorial's towers built from local files."""
    if not (o.text_tower or o.image_weights):
        return store.load(o.base, device=device)
    from photosearch.errors import ModelError
    from photosearch.model.checkpoint import build_model
    from photosearch.model.store import builtin_config

    if o.base != "tutorial":
        raise TrainingError("--text-tower / --image-weights build the 'tutorial' base; use --base tutorial")
    cfg = builtin_config("tutorial")
    if o.text_tower:
        if not Path(o.text_tower).expanduser().is_dir():
            raise ModelError(f"text tower folder not found: {o.text_tower}")
        cfg.text.hf_name = str(Path(o.text_tower).expanduser().resolve())
    if o.image_weights:
        cfg.image.weights_file = str(Path(o.image_weights).expanduser().resolve())
    return build_model(cfg, load_pretrained=True).to(device)


def _check_options(o: TrainOptions) -> None:
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


class _Trainer:
    def __init__(self, opts: TrainOptions, paths: AppPaths, resume: bool, cancel: threading.Event, dist: _Dist):
        self.o, self.paths, self.resume, self.cancel, self.dist = opts, paths, resume, cancel, dist
        self.t0 = time.monotonic()

    def ev(self, kind: str, **kw) -> TrainEvent:
        return TrainEvent(kind, kw.pop("epoch", self.epoch), self.o.epochs, kw.pop("step", self.global_step),
                          self.total_steps, **kw)

    # -- setup ----------------------------------------------------------------------------------------------
    def run(self) -> Iterator[TrainEvent]:
        import torch

        from photosearch.device import resolve_device
        from photosearch.model.store import BUILTINS, ModelStore

        o = self.o
        _check_options(o)
        self.epoch, self.global_step, self.total_steps = 0, 0, 0
        store = ModelStore(self.paths)
        self.store = store
        if self.resume:
            name = o.name or latest_run(self.paths)
            if not name or read_run(self.paths, name) is None:
                raise TrainingError(f"no interrupted run named {name!r} to resume" if name else
                                    "no interrupted run to resume; start one without --resume")
        else:
            name = o.name or _default_name(o.base, store, self.paths)
            if name in BUILTINS:
                raise TrainingError(f"{name!r} is a built-in model's name; choose another --name")
            store.folder(name)  # validates the name
            if name in store.installed():
                raise TrainingError(f"a model named {name!r} already exists; choose another --name "
                                    f"(or delete it first)")
            if read_run(self.paths, name) is not None:
                raise TrainingError(f"an interrupted run named {name!r} exists: add --resume to continue it, "
                                    f"or choose another --name")
        self.name = name
        self.run_dir = run_folder(self.paths, name)
        dev_spec = self.dist.device_spec if self.dist.world > 1 else o.device
        self.device = resolve_device(dev_spec)
        if self.device.type == "cuda" and self.device.index is not None:
            torch.cuda.set_device(self.device)

        yield self.ev("message", message=f"reading captions in {o.data_dir}")
        from photosearch.train.data import load_captions

        self.data = load_captions(o.data_dir, o.captions)
        for note in self.data.notes:
            yield self.ev("message", message=note)
        self.train_items = self.data.split("train", o.max_images)
        self.val_split = "val" if self.data.split("val") else "test"
        self.val_items = self.data.split(self.val_split, o.max_images)
        global_batch = o.batch_size * self.dist.world
        if len(self.train_items) < global_batch:
            raise DatasetError(f"the train split has {len(self.train_items)} images, fewer than one batch of "
                               f"{global_batch}; lower --batch-size")
        if not self.val_items:
            raise DatasetError("the data set has no val or test split to measure recall on")

        run = read_run(self.paths, name) if self.resume else None
        if run is not None:
            self._check_resume(run)

        yield self.ev("message", message=f"loading base model {o.base}")
        self.model = _load_base(store, o, str(self.device))
        self.base_fingerprint = self.model.config.fingerprint
        self.frozen = o.freeze_encoders
        self.use_amp = bool(o.amp and self.device.type == "cuda")
        if self.device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        self._build_optimizer()

        self.batches_per_epoch = len(self.train_items) // global_batch
        self.opt_steps_per_epoch = math.ceil(self.batches_per_epoch / o.grad_accum)
        self.total_steps = self.batches_per_epoch * o.epochs
        total_opt = self.opt_steps_per_epoch * o.epochs
        self.warmup = min(o.warmup_steps, total_opt // 5)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _schedule(total_opt, self.warmup))
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp and not torch.cuda.is_bf16_supported()) \
            if self.device.type == "cuda" else None

        self.history: list[dict] = []
        self.best_epoch, self.best_score, self.best_val, self.best_digest = 0, -1.0, {}, ""
        self.start_epoch, self.start_batch = 1, 0
        self.loss_sum, self.loss_count = 0.0, 0
        random.seed(o.seed + self.dist.rank)
        torch.manual_seed(o.seed + self.dist.rank)
        if run is not None:
            self._restore(run)
            yield self.ev("message", epoch=self.start_epoch,
                          message=f"resuming {name} at epoch {self.start_epoch}, batch {self.start_batch}")

        try:
            if self.frozen:
                yield from self._cache_features()
            if not self.history and o.zero_shot:
                yield self.ev("message", message=f"zero-shot evaluation of {o.base} on {len(self.val_items)} "
                                                 f"{self.val_split} images")
                metrics = yield from self._evaluate()
                self.history.append({"epoch": 0, "train_loss": None, "val": metrics, "seconds": 0.0, "lr": None})
                yield self.ev("eval", metrics=metrics, message="zero-shot")
        except Cancelled:
            # Nothing trained yet in this session: a resumed run's saved state is still the one to resume.
            yield from self._finish(cancelled=True)
            return
        yield from self._loop()

    def _check_resume(self, run: dict) -> None:
        stored = TrainOptions.from_dict(run["options"])
        diff = [k for k in stored.to_dict() if k not in RESUMABLE_CHANGES and k != "name"
                and getattr(stored, k) != getattr(self.o, k)]
        if diff:
            raise TrainingError(f"cannot resume {self.name}: it was started with other "
                                f"{', '.join(diff)} ({', '.join(f'{k}={getattr(stored, k)!r}' for k in diff)})")
        if run.get("data_fingerprint") != self.data.fingerprint:
            raise TrainingError(f"cannot resume {self.name}: the captions in {self.o.data_dir} changed since it "
                                f"started")
        if run.get("world_size", 1) != self.dist.world:
            raise TrainingError(f"cannot resume {self.name} exactly: it ran on {run.get('world_size', 1)} "
                                f"processes, now {self.dist.world}")

    def _build_optimizer(self) -> None:
        import torch

        o, model = self.o, self.model
        groups = model.param_groups()
        scale_id = id(model.logit_scale)
        heads_w = [p for p in groups["heads"] if id(p) != scale_id]
        # Decay on weight matrices of the heads only (the tutorial's); never on the temperature or biases.
        decay = [p for p in heads_w if p.ndim >= 2]
        no_decay = [p for p in heads_w if p.ndim < 2] + [model.logit_scale]
        spec = [("heads", decay, o.head_lr, o.weight_decay), ("heads_no_decay", no_decay, o.head_lr, 0.0)]
        if self.frozen:
            for p in groups["image_encoder"] + groups["text_encoder"]:
                p.requires_grad_(False)
        else:
            spec += [("image_encoder", groups["image_encoder"], o.image_lr, 0.0),
                     ("text_encoder", groups["text_encoder"], o.text_lr, 0.0)]
        self.group_names = [n for n, ps, _, _ in spec if ps]
        self.optimizer = torch.optim.AdamW(
            [{"params": ps, "lr": lr, "weight_decay": wd} for _, ps, lr, wd in spec if ps])
        trainable = _heads_module(model) if self.frozen else model
        self.net = trainable
        if self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            # Unused parameters exist (e.g. BERT's pooler: the text tower pools the hidden states itself).
            self.net = DDP(trainable, device_ids=ids, find_unused_parameters=not self.frozen,
                           broadcast_buffers=not self.frozen)

    def _restore(self, run: dict) -> None:
        import torch
        from safetensors.torch import load_file

        o = self.o
        sdir = self.run_dir / STATE_DIR
        try:
            state = load_file(str(sdir / "model.safetensors"))
            extra = torch.load(str(sdir / TRAIN_STATE_FILE), map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any damage to the run state means the same to the user
            raise TrainingError(f"the saved state of run {self.name} is damaged ({type(e).__name__}); "
                                f"delete {self.run_dir} and start again") from None
        self.model.load_state_dict(state, strict=True)
        self.optimizer.load_state_dict(extra["optimizer"])
        # Learning rates may be changed on resume (e.g. lower after a NaN): the schedule scales the new ones.
        new_lr = {"heads": o.head_lr, "heads_no_decay": o.head_lr, "image_encoder": o.image_lr,
                  "text_encoder": o.text_lr}
        for gname, g in zip(self.group_names, self.optimizer.param_groups):
            g["initial_lr"] = new_lr[gname]
            if gname == "heads":
                g["weight_decay"] = o.weight_decay
        sched = dict(extra["scheduler"])
        sched["base_lrs"] = [g["initial_lr"] for g in self.optimizer.param_groups]
        self.scheduler.load_state_dict(sched)
        for g, f in zip(self.optimizer.param_groups, self.scheduler.lr_lambdas):
            g["lr"] = g["initial_lr"] * f(self.scheduler.last_epoch)
        if self.scaler is not None and extra.get("scaler"):
            self.scaler.load_state_dict(extra["scaler"])
        rngs = extra["rng"]
        _set_rng_state(rngs[self.dist.rank] if self.dist.rank < len(rngs) else rngs[0], self.device)
        self.history = run["history"]
        self.best_epoch, self.best_score = run["best_epoch"], run["best_score"]
        self.best_val, self.best_digest = run["best_val"], run.get("best_digest", "")
        self.start_epoch, self.start_batch = run["epoch"], run["batch"]
        self.loss_sum, self.loss_count = run["loss_sum"], run["loss_count"]
        self.started = run.get("started")

    # -- frozen-encoder feature cache -----------------------------------------------------------------------
    def _cache_key(self, split: str, items) -> str:
        h = hashlib.sha256(json.dumps([self.base_fingerprint, self.data.fingerprint, split, len(items),
                                       self.model.config.preprocess.input_size]).encode())
        return h.hexdigest()[:24]

    def _cache_features(self) -> Iterator[TrainEvent]:
        self.feats = {}
        for split, items in (("train", self.train_items), (self.val_split, self.val_items)):
            key = self._cache_key(split, items)
            path = self.paths.cache / "train-features" / f"{key}.safetensors"
            if self.dist.main and not (path.is_file() and self._load_feats(split, path)):
                yield self.ev("message", message=f"caching encoder features of {len(items)} {split} images "
                                                 f"(once; later epochs reuse them)")
                yield from self._compute_feats(split, items, path)
            self.dist.barrier()
            if not self.dist.main and not self._load_feats(split, path):
                raise TrainingError(f"feature cache {path} could not be read on rank {self.dist.rank}")

    def _load_feats(self, split: str, path: Path) -> bool:
        from safetensors.torch import load_file

        try:
            t = load_file(str(path))
            self.feats[split] = {k: v.to(self.device) for k, v in t.items()}
            return True
        except Exception:  # noqa: BLE001 - a bad cache is recomputed
            return False

    def _compute_feats(self, split: str, items, path: Path) -> Iterator[TrainEvent]:
        import torch
        from safetensors.torch import save_file

        from photosearch.device import autocast
        from photosearch.train.data import EvalImages, collate_images
        from photosearch.train.evaluate import captions_of

        model = self.model
        tower_img, tower_txt, _, _ = _HeadsOnly.parts(model)
        model.eval()
        loader = torch.utils.data.DataLoader(
            EvalImages(items, model.eval_transform(), model.config.preprocess.input_size),
            batch_size=self.o.eval_batch_size, num_workers=self.o.num_workers, collate_fn=collate_images,
            generator=torch.Generator())
        texts, owner = captions_of(items)
        img_parts, txt_parts, done, t0 = [], [], 0, time.monotonic()
        with torch.inference_mode():
            for pixels, _ in _clean_errors(loader):
                self._check_cancel()
                pixels = pixels.to(self.device)
                if self.device.type == "cuda":
                    pixels = pixels.contiguous(memory_format=torch.channels_last)
                with autocast(self.device, self.use_amp):
                    img_parts.append(tower_img(pixels).float().cpu())
                done += len(pixels)
                rate = done / max(1e-9, time.monotonic() - t0)
                yield self.ev("message", images_per_second=rate, eta=(len(items) - done) / rate,
                              message=f"caching {split} features: {done}/{len(items)} images")
            for s in range(0, len(texts), 256):
                self._check_cancel()
                tok = {k: v.to(self.device) for k, v in model.tokenize(texts[s:s + 256]).items()}
                with autocast(self.device, self.use_amp):
                    txt_parts.append(tower_txt(tok["input_ids"], tok["attention_mask"]).float().cpu())
        t = {"images": torch.cat(img_parts).contiguous(), "captions": torch.cat(txt_parts).contiguous(),
             "owner": owner}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        save_file(t, str(tmp))
        os.replace(tmp, path)
        self.feats[split] = {k: v.to(self.device) for k, v in t.items()}

    # -- evaluation -------------------------------------------------------------------------------------------
    def _evaluate(self) -> Iterator[TrainEvent]:
        """Rank 0 measures; the others wait and receive the result."""
        import torch

        from photosearch.train.evaluate import eval_object, iter_embed

        metrics = None
        model = self.model
        if self.dist.main:
            if self.frozen:
                _, _, ihead, thead = _HeadsOnly.parts(model)
                f = self.feats[self.val_split]
                model.eval()
                with torch.inference_mode():
                    img = torch.nn.functional.normalize(ihead(f["images"]).float(), dim=-1)
                    txt = torch.nn.functional.normalize(thead(f["captions"]).float(), dim=-1)
                metrics = eval_object(img, txt, f["owner"], self.val_split, model.model_id)
            else:
                gen = iter_embed(model, self.val_items, batch_size=self.o.eval_batch_size,
                                 num_workers=self.o.num_workers)
                while True:
                    try:
                        done, total = next(gen)
                    except StopIteration as stop:
                        img, txt, owner = stop.value
                        break
                    self._check_cancel()
                    yield self.ev("message", message=f"evaluating: {done}/{total} images and captions")
                metrics = eval_object(img, txt, owner, self.val_split, model.model_id)
            metrics.pop("model", None)
        metrics = self.dist.broadcast(metrics)
        _set_mode(model, self.frozen)
        return metrics

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("training cancelled")

    # -- training -------------------------------------------------------------------------------------------
    def _batches(self, epoch: int):
        """This rank's batches of the epoch, from ``start`` on."""
        from photosearch.train.data import epoch_batches

        bs, r = self.o.batch_size, self.dist.rank
        glob = epoch_batches(len(self.train_items), bs * self.dist.world, self.o.seed, epoch)
        return [b[r * bs:(r + 1) * bs] for b in glob]

    def _loader(self, epoch: int, batches):
        import torch

        from photosearch.train.data import TrainPairs, collate_pairs

        ds = TrainPairs(self.train_items, self.model.train_transform(), self.model.config.preprocess.input_size,
                        self.o.seed)
        ds.epoch = epoch
        # Its own generator: creating a loader would otherwise draw from the global RNG (dropout's stream),
        # and a resumed run creates one at a different point.
        return torch.utils.data.DataLoader(ds, batch_sampler=batches, num_workers=self.o.num_workers,
                                           collate_fn=collate_pairs, pin_memory=self.device.type == "cuda",
                                           generator=torch.Generator().manual_seed(self.o.seed + epoch))

    def _frozen_batches(self, epoch: int, batches):
        import torch

        from photosearch.train.data import sample_seed

        f = self.feats["train"]
        counts = torch.bincount(f["owner"].cpu(), minlength=len(self.train_items))
        offsets = torch.cumsum(counts, 0) - counts
        for b in batches:
            idx = torch.tensor(b)
            pick = torch.tensor([random.Random(sample_seed(self.o.seed, epoch, i)).randrange(int(counts[i]))
                                 for i in b])
            yield f["images"][idx.to(self.device)], f["captions"][(offsets[idx] + pick).to(self.device)], idx

    def _loop(self) -> Iterator[TrainEvent]:
        import torch

        from photosearch.device import autocast
        from photosearch.model.loss import ClipLoss
        from photosearch.train.evaluate import mean_recall

        o, model, dist = self.o, self.model, self.dist
        loss_fn = ClipLoss()
        _set_mode(model, self.frozen)
        self.global_step = (self.start_epoch - 1) * self.batches_per_epoch + self.start_batch
        step_times: list[float] = []
        eval_seconds = 0.0
        cancelled = False
        self.started = getattr(self, "started", None) or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        epoch = self.start_epoch
        for epoch in range(self.start_epoch, o.epochs + 1):
            self.epoch = epoch
            t_epoch = time.monotonic()
            batches = self._batches(epoch)
            first = self.start_batch if epoch == self.start_epoch else 0
            source = self._frozen_batches(epoch, batches[first:]) if self.frozen else \
                self._loader(epoch, batches[first:])
            # State at the last optimizer step, so a cancel mid-accumulation resumes without losing gradients.
            boundary = (first, self.loss_sum, self.loss_count, _rng_state(self.device), self._buffers())
            self.optimizer.zero_grad(set_to_none=True)
            t_last = time.monotonic()
            bi = first
            source = _clean_errors(source)
            for batch in source:
                if self.cancel.is_set():
                    cancelled = True
                    break
                a, b, idx = batch
                with autocast(self.device, self.use_amp):
                    if self.frozen:
                        img, txt, scale = self.net(a, b)
                    else:
                        pixels = a.to(self.device, non_blocking=True)
                        if self.device.type == "cuda":
                            pixels = pixels.contiguous(memory_format=torch.channels_last)
                        tok = {k: v.to(self.device) for k, v in model.tokenize(b).items()}
                        img, txt, scale = self.net(pixels, tok["input_ids"], tok["attention_mask"])
                    loss = loss_fn(img, txt, scale, image_ids=idx.to(self.device))
                lv = float(loss.detach())
                if not dist.all_finite(lv, self.device):
                    done_epochs = self.history[-1]["epoch"] if self.history else 0
                    where = (f"the last good checkpoint (end of epoch {done_epochs}) is kept in {self.run_dir}"
                             if done_epochs and (self.run_dir / STATE_DIR).is_dir()
                             else "no epoch had finished, so there is no checkpoint")
                    raise TrainingError(
                        f"training stopped: the loss became {lv} at epoch {epoch}, batch {bi + 1}; {where}. "
                        f"Lower the learning rates (or turn mixed precision off) and resume with --resume")
                if self.scaler is not None:
                    self.scaler.scale(loss / o.grad_accum).backward()
                else:
                    (loss / o.grad_accum).backward()
                self.loss_sum += lv
                self.loss_count += 1
                bi += 1
                self.global_step += 1
                if bi % o.grad_accum == 0 or bi == len(batches):
                    if self.scaler is not None:
                        self.scaler.step(self.optimizer)
                        self.scaler.update()
                    else:
                        self.optimizer.step()
                    self.scheduler.step()
                    self.optimizer.zero_grad(set_to_none=True)
                    model.clamp_logit_scale()
                    boundary = (bi, self.loss_sum, self.loss_count, _rng_state(self.device), self._buffers())
                now = time.monotonic()
                step_times.append(now - t_last)
                t_last = now
                recent = step_times[-20:]
                per_step = sum(recent) / len(recent)
                remaining = self.total_steps - self.global_step
                evals_left = o.epochs - epoch + 1
                yield self.ev("step", loss=lv, lr=self.optimizer.param_groups[0]["lr"],
                              images_per_second=o.batch_size * dist.world / max(per_step, 1e-9),
                              eta=remaining * per_step + evals_left * eval_seconds)
            if cancelled:
                bi, self.loss_sum, self.loss_count, rng, buffers = boundary
                if buffers is not None:  # forwards since the last step moved BatchNorm statistics: undo
                    with torch.no_grad():
                        for k, v in model.named_buffers():
                            v.copy_(buffers[k])
                self._save_state(epoch, bi, rng)
                break
            # -- end of epoch: evaluate, keep the best, save the state to resume from ---------------------
            dist.sync_buffers(model)
            t_eval = time.monotonic()
            try:
                metrics = yield from self._evaluate()
            except Cancelled:
                self._save_state(epoch, bi, _rng_state(self.device))
                cancelled = True
                break
            eval_seconds = time.monotonic() - t_eval
            train_loss = self.loss_sum / max(1, self.loss_count)
            self.history.append({"epoch": epoch, "train_loss": round(train_loss, 5), "val": metrics,
                                 "seconds": round(time.monotonic() - t_epoch, 2),
                                 "lr": self.optimizer.param_groups[0]["lr"]})
            yield self.ev("eval", metrics=metrics, loss=train_loss)
            score = mean_recall(metrics)
            if score > self.best_score:
                self.best_epoch, self.best_score, self.best_val = epoch, score, metrics
                self.best_digest = weights_digest(model)
                if dist.main:
                    from photosearch.model.checkpoint import save_checkpoint

                    save_checkpoint(model, self.run_dir / BEST_DIR)
            self.loss_sum, self.loss_count = 0.0, 0
            self._save_state(epoch + 1, 0, _rng_state(self.device))
            self.start_batch = 0
            yield self.ev("epoch", loss=train_loss, metrics=metrics,
                          message=f"epoch {epoch}/{o.epochs}: loss {train_loss:.4f}, "
                                  f"text->image R@1 {metrics['text_to_image']['R@1']:.1f}%")
        yield from self._finish(cancelled)

    def _buffers(self) -> dict | None:
        """BatchNorm statistics at an optimizer step, needed to resume exactly mid-accumulation only."""
        if self.o.grad_accum == 1:
            return None
        return {k: v.detach().clone() for k, v in self.model.named_buffers()}

    def _save_state(self, epoch: int, batch: int, rng: dict) -> None:
        """Everything needed to continue at (epoch, batch). Every rank contributes its RNG; rank 0 writes."""
        rngs = self.dist.gather(rng)
        if not self.dist.main:
            return
        extra = {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                 "scaler": self.scaler.state_dict() if self.scaler is not None else {}, "rng": rngs}
        run = {"format": RUN_FORMAT, "name": self.name, "options": self.o.to_dict(), "epoch": epoch,
               "batch": batch, "loss_sum": self.loss_sum, "loss_count": self.loss_count,
               "history": self.history, "best_epoch": self.best_epoch, "best_score": self.best_score,
               "best_val": self.best_val, "best_digest": self.best_digest,
               "data_fingerprint": self.data.fingerprint, "base_fingerprint": self.base_fingerprint,
               "world_size": self.dist.world, "started": self.started,
               "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _write_state(self.run_dir / STATE_DIR, self.model, extra, run)

    def _record(self) -> dict:
        import torch

        from photosearch import __version__

        d = self.data
        return {"base": self.o.base, "base_fingerprint": self.base_fingerprint,
                "data": {"dir": str(Path(self.o.data_dir).expanduser().resolve()),
                         "captions_file": str(d.captions_file), "fingerprint": d.fingerprint,
                         "images": {"train": len(self.train_items), self.val_split: len(self.val_items)}},
                "hyperparameters": {k: v for k, v in self.o.to_dict().items()
                                    if k not in ("data_dir", "captions", "name", "device", "num_workers")},
                "history": self.history, "best_epoch": self.best_epoch, "val": self.best_val,
                "zero_shot": self.history[0]["val"] if self.history and self.history[0]["epoch"] == 0 else None,
                "device": str(self.device), "world_size": self.dist.world, "started": self.started,
                "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "torch": torch.__version__, "photosearch": __version__}

    def _finish(self, cancelled: bool) -> Iterator[TrainEvent]:
        from photosearch.model.checkpoint import load_checkpoint

        done_epochs = max([h["epoch"] for h in self.history] or [0])
        model_name, path = "", str(self.run_dir)
        if self.best_epoch and self.dist.main:
            best = load_checkpoint(self.run_dir / BEST_DIR, "cpu")
            best.config.base = self.o.base
            t2i = self.best_val["text_to_image"]["R@1"]
            best.config.description = (f"Fine-tuned from {_base_label(self.o.base)} on "
                                       f"{Path(self.o.data_dir).name} (best epoch {self.best_epoch}/"
                                       f"{self.o.epochs}, text->image R@1 {t2i:.1f}%)")
            path = str(self.store.save(best, self.name, self._record()))
            model_name = self.name
        if self.best_epoch:
            model_name = self.name
            path = self.dist.broadcast(path)
        result = TrainResult(model=model_name, path=path, epochs=done_epochs, best_epoch=self.best_epoch,
                             val=self.best_val, history=self.history, cancelled=cancelled,
                             weights_digest=self.best_digest, rank=self.dist.rank, world_size=self.dist.world)
        msg = (f"cancelled; resume with --resume --name {self.name}" if cancelled else
               f"saved {model_name} (best epoch {self.best_epoch})")
        yield self.ev("done", result=result, message=msg)


def train_to_end(opts: TrainOptions, paths: AppPaths, *, resume: bool = False,
                 cancel: threading.Event | None = None, on_event=None) -> TrainResult:
    """Drive :func:`train` to completion; ``on_event`` sees every event."""
    result = None
    for ev in train(opts, paths, resume=resume, cancel=cancel):
        if on_event:
            on_event(ev)
        if ev.kind == "done":
            result = ev.result
    assert result is not None
    return result

