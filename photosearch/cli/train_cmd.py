"""train, eval, download-flickr8k."""

from __future__ import annotations

import json
import os
import sys
import time

from photosearch.cli import add_json
from photosearch.humanize import format_duration


def register(sub) -> None:
    p = sub.add_parser("train", help="fine-tune a model on a caption data set (Flickr8k layout)",
                       description="Fine-tune a model on image/caption pairs. Progress goes to stderr; the result "
                                   "is a named model in the model store. Ctrl-C stops after the current batch and "
                                   "keeps a resumable state (--resume). Multi-GPU: torchrun --nproc_per_node=N "
                                   "-m photosearch train ...")
    p.add_argument("--data", required=True, metavar="DIR", help="data folder (Flicker8k_Dataset/ + captions)")
    p.add_argument("--captions", metavar="FILE", help="captions file (default: found in DIR)")
    p.add_argument("--base", metavar="MODEL", help="model name or checkpoint folder to start from "
                                                   "(default: starter)")
    p.add_argument("--epochs", type=int, metavar="N")
    p.add_argument("--batch-size", type=int, metavar="N", help="per process/GPU (default 32)")
    p.add_argument("--freeze-encoders", action="store_true", default=None,
                   help="train the heads only, from cached encoder features (fast)")
    p.add_argument("--name", metavar="NAME", help="name of the new model (default: <base>-ft)")
    p.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:1, mps")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run --name (or the latest)")
    p.add_argument("--text-tower", metavar="DIR", help="with --base tutorial: a local transformers folder "
                                                        "(e.g. distilbert-base-uncased) instead of the hub")
    p.add_argument("--image-weights", metavar="FILE", help="with --base tutorial: local resnet50 weights "
                                                           "(.safetensors / weights-only .pth)")
    p.add_argument("--head-lr", type=float, metavar="LR", help="heads and temperature (default 1e-3)")
    p.add_argument("--image-lr", type=float, metavar="LR", help="image encoder (default 1e-4)")
    p.add_argument("--text-lr", type=float, metavar="LR", help="text encoder (default 1e-5)")
    p.add_argument("--weight-decay", type=float, metavar="WD", help="on the heads (default 1e-3)")
    p.add_argument("--warmup-steps", type=int, metavar="N")
    p.add_argument("--grad-accum", type=int, metavar="N", help="batches per optimizer step")
    p.add_argument("--seed", type=int)
    p.add_argument("--workers", type=int, dest="num_workers", metavar="N", help="data loading processes")
    p.add_argument("--max-images", type=int, metavar="N", help="use at most N images per split")
    p.add_argument("--no-amp", dest="amp", action="store_false", default=None, help="no mixed precision on GPU")
    p.add_argument("--no-zero-shot", dest="zero_shot", action="store_false", default=None,
                   help="skip evaluating the base model first")
    add_json(p)
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("eval", help="retrieval recall@1/5/10 of a model on a caption data set")
    p.add_argument("--data", required=True, metavar="DIR")
    p.add_argument("--captions", metavar="FILE")
    p.add_argument("--model", metavar="MODEL", help="model name or checkpoint folder (default: the active model)")
    p.add_argument("--split", choices=("test", "val", "train"), default="test")
    p.add_argument("--batch-size", type=int, default=64, metavar="N")
    p.add_argument("--max-images", type=int, metavar="N")
    p.add_argument("--device", default="auto")
    add_json(p)
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("download-flickr8k", help="download and unpack Flickr8k with the Karpathy splits")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--images-url", metavar="URL")
    p.add_argument("--captions-url", metavar="URL")
    p.add_argument("--images-sha256", metavar="HEX")
    p.add_argument("--captions-sha256", metavar="HEX")
    p.add_argument("--keep-archive", action="store_true")
    add_json(p)
    p.set_defaults(handler=cmd_download)


_OPTION_ARGS = ("captions", "base", "epochs", "batch_size", "freeze_encoders", "device", "head_lr", "image_lr",
                "text_lr", "weight_decay", "warmup_steps", "grad_accum", "seed", "num_workers", "max_images", "amp",
                "zero_shot", "text_tower", "image_weights")


def build_options(ctx):
    """Options from the command line; on --resume, what the user did not give comes from the stored run."""
    from photosearch.train import load_run_options, merge_options

    a = ctx.args
    stored = load_run_options(ctx.paths, a.name) if a.resume else None
    given = {k: getattr(a, k) for k in _OPTION_ARGS}
    return merge_options(stored, {**given, "data_dir": a.data, "name": a.name})


def _recalls(m: dict) -> str:
    t, i = m["text_to_image"], m["image_to_text"]
    return (f"text->image R@1/5/10 {t['R@1']:.1f}/{t['R@5']:.1f}/{t['R@10']:.1f}  "
            f"image->text {i['R@1']:.1f}/{i['R@5']:.1f}/{i['R@10']:.1f}")


class _TrainProgress:
    """Training events on stderr: a tqdm bar over the run's batches (rate, ETA) on a terminal; elsewhere
    (logs, CI) one plain line every ``LOG_EVERY`` seconds with the same numbers and no carriage returns."""

    LOG_EVERY = 10.0

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.last_log = 0.0

    def say(self, msg: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(msg, file=sys.stderr)
        else:
            print(msg, file=sys.stderr, flush=True)

    def step(self, ev) -> None:
        from tqdm import tqdm

        if self.quiet:
            return
        post = f"loss {ev.loss:.4f}, lr {ev.lr:.2e}"
        if not self.tty:
            now = time.monotonic()
            if now - self.last_log >= self.LOG_EVERY:
                self.last_log = now
                print(f"epoch {ev.epoch}/{ev.total_epochs}  step {ev.step}/{ev.total_steps}  {post}  "
                      f"{ev.images_per_second:.1f} img/s  ETA {format_duration(ev.eta)}", file=sys.stderr,
                      flush=True)
            return
        if self.bar is None:
            self.bar = tqdm(total=ev.total_steps, initial=ev.step - 1, unit="batch", file=sys.stderr,
                            dynamic_ncols=True, mininterval=0.5, leave=False)
        self.bar.set_description_str(f"epoch {ev.epoch}/{ev.total_epochs}", refresh=False)
        self.bar.set_postfix_str(f"{post}, {ev.images_per_second:.1f} img/s", refresh=False)
        self.bar.update(ev.step - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def cmd_train(ctx) -> int:
    import signal
    import threading

    from photosearch.train import train

    opts = build_options(ctx)
    cancel = threading.Event()
    rank = int(os.environ.get("RANK", "0"))
    out = _TrainProgress(quiet=getattr(ctx.args, "quiet", False) or rank != 0)

    def on_sigint(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        out.say("stopping after this batch (Ctrl-C again to abort without saving)...")

    old = signal.signal(signal.SIGINT, on_sigint) if threading.current_thread() is threading.main_thread() else None

    def show(ev) -> None:
        if ev.kind == "step":
            out.step(ev)
        elif ev.kind == "eval":
            label = "zero-shot" if ev.epoch == 0 else f"epoch {ev.epoch} val"
            out.say(f"{label}: {_recalls(ev.metrics)}")
        elif ev.kind in ("message", "done") and ev.message:
            if ev.kind == "message" and ev.message.startswith(("caching", "evaluating")) and ":" in ev.message:
                return  # per-batch notes of a phase already announced
            out.say(ev.message)

    from photosearch.events import drain

    try:
        result = drain(train(opts, ctx.paths, resume=ctx.args.resume, cancel=cancel), show)
    finally:
        out.close()
        if old is not None:
            signal.signal(signal.SIGINT, old)
    if result is None:
        return 1
    if rank != 0:
        # Other ranks report on stderr, so stdout carries exactly one result for the whole job.
        print(json.dumps({"rank": rank, "weights_digest": result.weights_digest, "best_epoch": result.best_epoch}),
              file=sys.stderr, flush=True)
        return 0
    d = result.to_dict()
    if ctx.json:
        print(json.dumps(d, ensure_ascii=False), flush=True)
    else:
        hist = "\n".join(f"  epoch {h['epoch']}: " + (f"loss {h['train_loss']:.4f}  " if h["train_loss"] else
                                                      "zero-shot    ") + _recalls(h["val"])
                         for h in result.history)
        print(f"model {result.model or '(none)'}  {result.path}\n{hist}\nbest epoch {result.best_epoch}"
              + (" (cancelled)" if result.cancelled else ""))
    return 130 if result.cancelled else 0


def cmd_eval(ctx) -> int:
    from photosearch.train import evaluate, load_captions

    a = ctx.args
    load_captions(a.data, a.captions)  # a bad data set fails before a model is loaded (seconds, not minutes)
    model = ctx.load_model()
    tty = sys.stderr.isatty() and not a.quiet

    def progress(done, total):
        if tty:
            print(f"\r\033[Kembedding {done}/{total}", end="", file=sys.stderr, flush=True)

    res = evaluate(model, a.data, a.captions, a.split, batch_size=a.batch_size, max_images=a.max_images,
                   progress=progress)
    if tty:
        print("\r\033[K", end="", file=sys.stderr, flush=True)

    def human(r):
        rows = [f"{r['model']} on {r['split']}: {r['images']} images, {r['captions']} captions",
                f"{'':14}{'R@1':>7}{'R@5':>7}{'R@10':>7}"]
        for k, label in (("text_to_image", "text->image"), ("image_to_text", "image->text")):
            rows.append(f"{label:<14}" + "".join(f"{r[k][x]:>7.1f}" for x in ("R@1", "R@5", "R@10")))
        return "\n".join(rows)

    ctx.emit(res, human)
    return 0


def cmd_download(ctx) -> int:
    from photosearch.train import download_flickr8k, load_captions
    from photosearch.train import download as dl

    a = ctx.args
    tty = sys.stderr.isatty() and not a.quiet
    state = {"t": 0.0}

    def progress(done, total):
        now = time.monotonic()
        if not tty or (now - state["t"] < 0.2 and done != total):
            return
        state["t"] = now
        if total:
            bar = "#" * int(30 * done / total)
            print(f"\r\033[K[{bar:<30}] {done / 1e6:,.1f}/{total / 1e6:,.1f} MB", end="", file=sys.stderr,
                  flush=True)
        else:
            print(f"\r\033[K{done / 1e6:,.1f} MB", end="", file=sys.stderr, flush=True)

    ctx.info(f"downloading Flickr8k into {a.dir}")
    dest = download_flickr8k(a.dir, images_url=a.images_url or dl.IMAGES_URL,
                             captions_url=a.captions_url or dl.CAPTIONS_URL, progress=progress,
                             images_sha256=a.images_sha256, captions_sha256=a.captions_sha256,
                             keep_archive=a.keep_archive)
    if tty:
        print(file=sys.stderr)
    data = load_captions(dest)
    out = {"path": str(dest.resolve()), "images": len(data.images),
           "captions": sum(len(i.captions) for i in data.images), "splits": data.counts()}
    ctx.emit(out, lambda o: f"{o['path']}: {o['images']} images, {o['captions']} captions "
                            f"({', '.join(f'{k} {v}' for k, v in o['splits'].items())})")
    return 0
