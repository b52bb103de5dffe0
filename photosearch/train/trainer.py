"""Fine-tuning a dual encoder on a caption data set: a generator of progress events, no UI.

One loop serves every mode:

- full fine-tune: both towers and the heads, per-group learning rates (the tutorial's 1e-4 / 1e-5 / 1e-3),
  random-resized-crop + flip augmentation, one random caption per image per step;
- frozen encoders (``freeze_encoders``): the model's towers are locked (``lock_towers``) and their features
  cached on disk (:mod:`photosearch.train.features`), then only the heads and the temperature train, which
  makes each epoch take seconds;
- under ``torchrun``: the same code with DistributedDataParallel (:mod:`photosearch.train.dist`).

The trainer knows models only through :class:`~photosearch.model.base.EmbeddingModel`. Options live in
:mod:`photosearch.train.options`, the resumable state in :mod:`photosearch.train.state`. Batches and
per-sample augmentation are pure functions of (seed, epoch, image), so a resumed run replays an
uninterrupted one exactly.
"""

from __future__ import annotations

import math
import random
import threading
import time
from pathlib import Path
from typing import Generator, Iterator

from photosearch.errors import Cancelled, DatasetError, TrainingError
from photosearch.paths import AppPaths
from photosearch.train.dist import Dist
from photosearch.train.features import FeatureCache, clean_errors, heads_module
from photosearch.train.options import (RESUMABLE_CHANGES, TrainEvent, TrainOptions, TrainResult,  # noqa: F401
                                       check_options)
from photosearch.train.state import (BEST_DIR, RUN_FORMAT, STATE_DIR, RunProgress, base_label,  # noqa: F401
                                     check_resume, claim_name, latest_run, load_run_options, read_run, read_state,
                                     rng_state, run_folder, set_rng_state, weights_digest, write_state)


def train(opts: TrainOptions, paths: AppPaths, *, resume: bool = False,
          cancel: threading.Event | None = None) -> Generator[TrainEvent, None, TrainResult]:
    """Fine-tune ``opts.base`` on ``opts.data_dir``. Yields :class:`TrainEvent`s and returns the
    :class:`TrainResult` (the last event, kind "done", carries it too). Raises :class:`TrainingError` (bad options, NaN loss),
    :class:`DatasetError` or :class:`ModelError` with one clear line."""
    dist = Dist(opts.device)
    try:
        return (yield from _Trainer(opts, paths, resume, cancel or threading.Event(), dist).run())
    finally:
        dist.close()


def train_to_end(opts: TrainOptions, paths: AppPaths, *, resume: bool = False,
                 cancel: threading.Event | None = None, on_event=None) -> TrainResult:
    """Drive :func:`train` to completion; ``on_event`` sees every event."""
    from photosearch.events import drain

    return drain(train(opts, paths, resume=resume, cancel=cancel), on_event)


def load_base(store, o: TrainOptions, device: str):
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


def lr_schedule(total: int, warmup: int):
    """Linear warm-up then cosine to zero, as a LambdaLR multiplier of optimizer steps."""

    def f(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / (warmup + 1)
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return f


class _Trainer:
    """One run: set-up (name, data, model, optimizer, resume), the epoch loop, publishing the best epoch."""

    def __init__(self, opts: TrainOptions, paths: AppPaths, resume: bool, cancel: threading.Event, dist: Dist):
        from photosearch.model.store import ModelStore

        self.o, self.paths, self.resume, self.cancel, self.dist = opts, paths, resume, cancel, dist
        self.store = ModelStore(paths)
        self.frozen = opts.freeze_encoders
        self.name = ""
        self.run_dir = Path()
        self.device = None  # torch.device, resolved in run()
        self.use_amp = False
        self.data = None  # CaptionSet
        self.train_items: list = []
        self.val_items: list = []
        self.val_split = "val"
        self.model = None  # EmbeddingModel
        self.net = None  # what the forward runs through: the model, its heads on cached features, or DDP
        self.features: FeatureCache | None = None
        self.optimizer = self.scheduler = self.scaler = None
        self.group_names: list[str] = []
        self.batches_per_epoch = 0
        self.total_steps = 0
        self.epoch = 0
        self.global_step = 0
        self.progress = RunProgress()

    def ev(self, kind: str, **kw) -> TrainEvent:
        return TrainEvent(kind, kw.pop("epoch", self.epoch), self.o.epochs, kw.pop("step", self.global_step),
                          self.total_steps, **kw)

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("training cancelled")

    # -- set-up ---------------------------------------------------------------------------------------------
    def run(self) -> Generator[TrainEvent, None, TrainResult]:
        """The whole run as events."""
        import torch

        from photosearch.device import resolve_device

        o = self.o
        check_options(o)
        self.name = claim_name(self.store, self.paths, o.name, o.base, self.resume)
        self.run_dir = run_folder(self.paths, self.name)
        self.device = resolve_device(self.dist.device_spec)
        if self.device.type == "cuda" and self.device.index is not None:
            torch.cuda.set_device(self.device)
        yield from self._read_data()
        run = read_run(self.paths, self.name) if self.resume else None
        if run is not None:
            check_resume(run, o, self.name, self.data.fingerprint, self.dist.world)

        yield self.ev("message", phase="model", message=f"loading base model {o.base}")
        self.model = load_base(self.store, o, str(self.device))
        self.use_amp = bool(o.amp and self.device.type == "cuda")
        if self.device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        if self.frozen:
            self.model.lock_towers()
        self._build_optimizer()
        random.seed(o.seed + self.dist.rank)
        torch.manual_seed(o.seed + self.dist.rank)
        if run is not None:
            self._restore(run)
            yield self.ev("message", epoch=self.progress.start_epoch, phase="resume",
                          message=f"resuming {self.name} at epoch {self.progress.start_epoch}, "
                                  f"batch {self.progress.start_batch}")
        try:
            if self.frozen:
                self.features = FeatureCache(
                    self.model, self.paths.cache / "train-features", self.device, self.dist,
                    data_fingerprint=self.data.fingerprint, base_fingerprint=self.model.config.fingerprint,
                    batch_size=o.eval_batch_size, num_workers=o.num_workers, use_amp=self.use_amp)
                yield from self.features.prepare([("train", self.train_items), (self.val_split, self.val_items)],
                                                 self.cancel, lambda msg, **kw: self.ev("message", message=msg,
                                                                                         phase="cache", **kw))
            if not self.progress.history and o.zero_shot:
                yield self.ev("message", phase="zero_shot", total=len(self.val_items),
                              message=f"zero-shot evaluation of {o.base} on {len(self.val_items)} "
                                      f"{self.val_split} images")
                metrics = yield from self._evaluate()
                self.progress.history.append({"epoch": 0, "train_loss": None, "val": metrics, "seconds": 0.0,
                                              "lr": None})
                yield self.ev("eval", metrics=metrics, message="zero-shot")
        except Cancelled:
            # Nothing trained yet in this session: a resumed run's saved state is still the one to resume.
            return (yield from self._finish(cancelled=True))
        return (yield from self._loop())

    def _read_data(self) -> Iterator[TrainEvent]:
        from photosearch.train.data import load_captions

        o = self.o
        yield self.ev("message", phase="data", message=f"reading captions in {o.data_dir}")
        self.data = load_captions(o.data_dir, o.captions)
        for note in self.data.notes:
            yield self.ev("message", phase="note", message=note)
        self.train_items = self.data.split("train", o.max_images)
        self.val_split = "val" if self.data.split("val") else "test"
        self.val_items = self.data.split(self.val_split, o.max_images)
        global_batch = o.batch_size * self.dist.world
        if len(self.train_items) < global_batch:
            raise DatasetError(f"the train split has {len(self.train_items)} images, fewer than one batch of "
                               f"{global_batch}; lower --batch-size")
        if not self.val_items:
            raise DatasetError("the data set has no val or test split to measure recall on")
        self.batches_per_epoch = len(self.train_items) // global_batch
        self.total_steps = self.batches_per_epoch * o.epochs

    def _build_optimizer(self) -> None:
        """AdamW with a group per role, the schedule, the loss scaler, and the module the forward runs."""
        import torch

        o, model = self.o, self.model
        groups = model.param_groups()
        scale_id = id(model.logit_scale)
        heads_w = [p for p in groups["heads"] if id(p) != scale_id]
        # Decay on weight matrices of the heads only (the tutorial's); never on the temperature or biases.
        decay = [p for p in heads_w if p.ndim >= 2]
        no_decay = [p for p in heads_w if p.ndim < 2] + [model.logit_scale]
        spec = [("heads", decay, o.head_lr, o.weight_decay), ("heads_no_decay", no_decay, o.head_lr, 0.0)]
        if not self.frozen:
            spec += [("image_encoder", groups["image_encoder"], o.image_lr, 0.0),
                     ("text_encoder", groups["text_encoder"], o.text_lr, 0.0)]
        self.group_names = [n for n, ps, _, _ in spec if ps]
        self.optimizer = torch.optim.AdamW(
            [{"params": ps, "lr": lr, "weight_decay": wd} for _, ps, lr, wd in spec if ps])
        total_opt = math.ceil(self.batches_per_epoch / o.grad_accum) * o.epochs
        warmup = min(o.warmup_steps, total_opt // 5)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_schedule(total_opt, warmup))
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp and not torch.cuda.is_bf16_supported()) \
            if self.device.type == "cuda" else None
        trainable = heads_module(model) if self.frozen else model
        self.net = trainable
        if self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            # Unused parameters exist (e.g. BERT's pooler: the text tower pools the hidden states itself).
            self.net = DDP(trainable, device_ids=ids, find_unused_parameters=not self.frozen,
                           broadcast_buffers=not self.frozen)

    def _restore(self, run: dict) -> None:
        """Weights, optimizer, schedule, scaler, RNG and counters of the saved state."""
        o = self.o
        try:
            state, extra = read_state(self.run_dir / STATE_DIR)
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
        set_rng_state(rngs[self.dist.rank] if self.dist.rank < len(rngs) else rngs[0], self.device)
        self.progress = RunProgress.from_run(run)

    # -- evaluation -------------------------------------------------------------------------------------------
    def _evaluate(self) -> Iterator[TrainEvent]:
        """Rank 0 measures; the others wait and receive the result."""
        from photosearch.train.evaluate import eval_object, iter_embed

        metrics = None
        model = self.model
        if self.dist.main:
            if self.frozen:
                img, txt, owner = self.features.embeddings(self.val_split)
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
                    yield self.ev("message", phase="eval", done=done, total=total,
                                  message=f"evaluating: {done}/{total} images and captions")
            metrics = eval_object(img, txt, owner, self.val_split, model.model_id)
            metrics.pop("model", None)
        metrics = self.dist.broadcast(metrics)
        model.train()
        return metrics

    # -- training -------------------------------------------------------------------------------------------
    def _source(self, epoch: int, first: int):
        """This rank's batches of the epoch from batch ``first`` on: (pixels, captions, image indices), or
        cached (image features, caption features, image indices) with locked towers."""
        from photosearch.train.data import epoch_batches

        bs, r = self.o.batch_size, self.dist.rank
        glob = epoch_batches(len(self.train_items), bs * self.dist.world, self.o.seed, epoch)
        batches = [b[r * bs:(r + 1) * bs] for b in glob][first:]
        if self.frozen:
            return clean_errors(self.features.batches(len(self.train_items), self.o.seed, epoch, batches))
        return clean_errors(pair_loader(self.train_items, self.model, self.o, epoch, batches, self.device))

    def _forward_loss(self, batch, loss_fn):
        import torch

        from photosearch.device import autocast

        a, b, idx = batch
        with autocast(self.device, self.use_amp):
            if self.frozen:
                img, txt, scale = self.net(a, b)
            else:
                pixels = a.to(self.device, non_blocking=True)
                if self.device.type == "cuda":
                    pixels = pixels.contiguous(memory_format=torch.channels_last)
                tok = {k: v.to(self.device) for k, v in self.model.tokenize(b).items()}
                img, txt, scale = self.net(pixels, tok["input_ids"], tok["attention_mask"])
            return loss_fn(img, txt, scale, image_ids=idx.to(self.device))

    def _optimizer_step(self) -> None:
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.model.clamp_logit_scale()

    def _nan_error(self, value: float, epoch: int, batch: int) -> TrainingError:
        done = self.progress.history[-1]["epoch"] if self.progress.history else 0
        where = (f"the last good checkpoint (end of epoch {done}) is kept in {self.run_dir}"
                 if done and (self.run_dir / STATE_DIR).is_dir() else "no epoch had finished, so there is no checkpoint")
        return TrainingError(f"training stopped: the loss became {value} at epoch {epoch}, batch {batch}; {where}. "
                             f"Lower the learning rates (or turn mixed precision off) and resume with --resume")

    def _train_epoch(self, epoch: int, timing: dict) -> Iterator[TrainEvent]:
        """The batches of one epoch; returns the batch count reached, or None after saving on cancel."""
        import torch

        from photosearch.model.loss import ClipLoss

        o, p = self.o, self.progress
        loss_fn = ClipLoss()
        first = p.start_batch if epoch == p.start_epoch else 0
        n_batches = self.batches_per_epoch
        # State at the last optimizer step, so a cancel mid-accumulation resumes without losing gradients.
        boundary = (first, p.loss_sum, p.loss_count, rng_state(self.device), self._buffers())
        self.optimizer.zero_grad(set_to_none=True)
        t_last, bi = time.monotonic(), first
        for batch in self._source(epoch, first):
            if self.cancel.is_set():
                bi, p.loss_sum, p.loss_count, rng, buffers = boundary
                if buffers is not None:  # forwards since the last step moved BatchNorm statistics: undo
                    with torch.no_grad():
                        for k, v in self.model.named_buffers():
                            v.copy_(buffers[k])
                self._save_state(epoch, bi, rng)
                return None
            loss = self._forward_loss(batch, loss_fn)
            lv = float(loss.detach())
            if not self.dist.all_finite(lv, self.device):
                raise self._nan_error(lv, epoch, bi + 1)
            (self.scaler.scale(loss / o.grad_accum) if self.scaler is not None else loss / o.grad_accum).backward()
            p.loss_sum += lv
            p.loss_count += 1
            bi += 1
            self.global_step += 1
            if bi % o.grad_accum == 0 or bi == n_batches:
                self._optimizer_step()
                boundary = (bi, p.loss_sum, p.loss_count, rng_state(self.device), self._buffers())
            now = time.monotonic()
            timing["steps"].append(now - t_last)
            t_last = now
            recent = timing["steps"][-20:]
            per_step = sum(recent) / len(recent)
            eta = (self.total_steps - self.global_step) * per_step + (o.epochs - epoch + 1) * timing["eval"]
            yield self.ev("step", loss=lv, lr=self.optimizer.param_groups[0]["lr"],
                          images_per_second=o.batch_size * self.dist.world / max(per_step, 1e-9), eta=eta)
        return bi

    def _loop(self) -> Generator[TrainEvent, None, TrainResult]:
        """Epochs from the start (or resume) point; after each: evaluate, keep the best, save the state."""
        from photosearch.train.evaluate import mean_recall

        o, p, dist = self.o, self.progress, self.dist
        self.model.train()
        self.global_step = (p.start_epoch - 1) * self.batches_per_epoch + p.start_batch
        timing = {"steps": [], "eval": 0.0}
        for epoch in range(p.start_epoch, o.epochs + 1):
            self.epoch = epoch
            t_epoch = time.monotonic()
            bi = yield from self._train_epoch(epoch, timing)
            if bi is None:
                return (yield from self._finish(cancelled=True))
            dist.sync_buffers(self.model)
            t_eval = time.monotonic()
            try:
                metrics = yield from self._evaluate()
            except Cancelled:
                self._save_state(epoch, bi, rng_state(self.device))
                return (yield from self._finish(cancelled=True))
            timing["eval"] = time.monotonic() - t_eval
            train_loss = p.loss_sum / max(1, p.loss_count)
            p.history.append({"epoch": epoch, "train_loss": round(train_loss, 5), "val": metrics,
                              "seconds": round(time.monotonic() - t_epoch, 2),
                              "lr": self.optimizer.param_groups[0]["lr"]})
            yield self.ev("eval", metrics=metrics, loss=train_loss)
            score = mean_recall(metrics)
            if score > p.best_score:
                p.best_epoch, p.best_score, p.best_val = epoch, score, metrics
                p.best_digest = weights_digest(self.model)
                if dist.main:
                    from photosearch.model.checkpoint import save_checkpoint

                    save_checkpoint(self.model, self.run_dir / BEST_DIR)
            p.loss_sum, p.loss_count = 0.0, 0
            self._save_state(epoch + 1, 0, rng_state(self.device))
            p.start_batch = 0
            yield self.ev("epoch", loss=train_loss, metrics=metrics,
                          message=f"epoch {epoch}/{o.epochs}: loss {train_loss:.4f}, "
                                  f"text->image R@1 {metrics['text_to_image']['R@1']:.1f}%")
        return (yield from self._finish(cancelled=False))

    def _buffers(self) -> dict | None:
        """BatchNorm statistics at an optimizer step, needed to resume exactly mid-accumulation only."""
        if self.o.grad_accum == 1:
            return None
        return {k: v.detach().clone() for k, v in self.model.named_buffers()}

    def _save_state(self, epoch: int, batch: int, rng: dict) -> None:
        """Everything needed to continue at (epoch, batch). Every rank contributes its RNG; rank 0 writes."""
        from photosearch.train.state import now_utc

        rngs = self.dist.gather(rng)
        if not self.dist.main:
            return
        extra = {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                 "scaler": self.scaler.state_dict() if self.scaler is not None else {}, "rng": rngs}
        run = {"format": RUN_FORMAT, "name": self.name, "options": self.o.to_dict(),
               **self.progress.run_record(epoch, batch), "data_fingerprint": self.data.fingerprint,
               "base_fingerprint": self.model.config.fingerprint, "world_size": self.dist.world,
               "saved": now_utc()}
        write_state(self.run_dir / STATE_DIR, self.model, extra, run)

    # -- the end ----------------------------------------------------------------------------------------------
    def _finish(self, cancelled: bool) -> Generator[TrainEvent, None, TrainResult]:
        """Publish the best epoch's checkpoint in the model store (rank 0) and report the result."""
        from photosearch.model.checkpoint import load_checkpoint

        p = self.progress
        model_name, path = "", str(self.run_dir)
        if p.best_epoch and self.dist.main:
            best = load_checkpoint(self.run_dir / BEST_DIR, "cpu")
            best.config.base = self.o.base
            t2i = p.best_val["text_to_image"]["R@1"]
            best.config.description = (f"Fine-tuned from {base_label(self.o.base)} on "
                                       f"{Path(self.o.data_dir).name} (best epoch {p.best_epoch}/"
                                       f"{self.o.epochs}, text->image R@1 {t2i:.1f}%)")
            record = model_record(self.o, p, self.data, len(self.train_items),
                                  {self.val_split: len(self.val_items)}, self.model.config.fingerprint,
                                  self.device, self.dist.world)
            path = str(self.store.save(best, self.name, record))
        if p.best_epoch:
            model_name = self.name
            path = self.dist.broadcast(path)
        result = TrainResult(model=model_name, path=path, epochs=p.done_epochs, best_epoch=p.best_epoch,
                             val=p.best_val, history=p.history, cancelled=cancelled,
                             weights_digest=p.best_digest, rank=self.dist.rank, world_size=self.dist.world)
        msg = (f"cancelled; resume with --resume --name {self.name}" if cancelled else
               f"saved {model_name} (best epoch {p.best_epoch})")
        yield self.ev("done", result=result, message=msg)
        return result


def pair_loader(items, model, o: TrainOptions, epoch: int, batches, device):
    """A DataLoader of augmented (pixels, caption, image index) batches in the given order."""
    import torch

    from photosearch.train.data import TrainPairs, collate_pairs

    ds = TrainPairs(items, model.train_transform(), model.config.preprocess.input_size, o.seed)
    ds.epoch = epoch
    # Its own generator: creating a loader would otherwise draw from the global RNG (dropout's stream),
    # and a resumed run creates one at a different point.
    return torch.utils.data.DataLoader(ds, batch_sampler=batches, num_workers=o.num_workers,
                                       collate_fn=collate_pairs, pin_memory=device.type == "cuda",
                                       generator=torch.Generator().manual_seed(o.seed + epoch))


def model_record(o: TrainOptions, p: RunProgress, data, n_train: int, n_val: dict, base_fingerprint: str,
                 device, world_size: int) -> dict:
    """What the model store keeps about how a fine-tuned model was made (``training.json``)."""
    import torch

    from photosearch import __version__
    from photosearch.train.state import now_utc

    return {"base": o.base, "base_fingerprint": base_fingerprint,
            "data": {"dir": str(Path(o.data_dir).expanduser().resolve()),
                     "captions_file": str(data.captions_file), "fingerprint": data.fingerprint,
                     "images": {"train": n_train, **n_val}},
            "hyperparameters": {k: v for k, v in o.to_dict().items()
                                if k not in ("data_dir", "captions", "name", "device", "num_workers")},
            "history": p.history, "best_epoch": p.best_epoch, "val": p.best_val,
            "zero_shot": p.history[0]["val"] if p.history and p.history[0]["epoch"] == 0 else None,
            "device": str(device), "world_size": world_size, "started": p.started, "finished": now_utc(),
            "torch": torch.__version__, "photosearch": __version__}
