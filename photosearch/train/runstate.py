"""What a front end shows of a training run, without any widget: the plain-words status of an event, the
progress line, the points for the loss and recall charts, and the before/after comparison at the end.

:class:`RunState` follows the events of :func:`photosearch.train.train`; the window's fine-tuning dialog draws
what it says (and a test reads it without Qt)."""

from __future__ import annotations

from dataclasses import dataclass, field

from photosearch.humanize import format_duration
from photosearch.train.estimate import FLICKR8K_SPLITS, estimate_cpu

KS = ("R@1", "R@5", "R@10")
DIRECTIONS = (("text_to_image", "text → image"), ("image_to_text", "image → text"))


def plain_status(ev) -> str | None:
    """A training event in words for people who do not train models every day (None: keep the last)."""
    phase, done, total = ev.phase, ev.done, ev.total
    if phase == "data":
        return "Reading the photo descriptions…"
    if phase == "model":
        return "Loading the model to start from…"
    if phase == "resume":
        return f"Continuing the interrupted run from epoch {ev.epoch}…"
    if phase == "cache":
        return (f"Looking at every photo once ({done:,} of {total:,}); later epochs reuse what it sees"
                if done else f"Looking at every photo once ({total:,} photos); later epochs reuse what it sees")
    if phase == "zero_shot":
        return f"Measuring how well the model finds photos before training ({total:,} test photos)…"
    if phase == "eval":
        return f"Measuring how well it finds photos now: {done:,} of {total:,}"
    if phase == "note":
        return ev.message
    if ev.kind == "eval" and ev.metrics:
        t2i = ev.metrics.get("text_to_image", {})
        when = "Before training" if ev.epoch == 0 else f"After epoch {ev.epoch}"
        return (f"{when}: the right photo comes first for {t2i.get('R@1', 0):.0f}% of descriptions and is "
                f"in the top 10 for {t2i.get('R@10', 0):.0f}%")
    return None


def rate_line(ev) -> str:
    """The progress line under the bar for a training step: epoch, step, loss, speed, time left."""
    parts = [f"epoch {ev.epoch}/{ev.total_epochs}", f"step {ev.step:,}/{ev.total_steps:,}", f"loss {ev.loss:.3f}"]
    if ev.images_per_second:
        parts.append(f"{ev.images_per_second:.1f} images/s")
    if ev.eta is not None:
        parts.append(f"about {format_duration(ev.eta)} left")
    return " · ".join(parts)


@dataclass
class Update:
    """What one event changes on screen (None / empty: leave it as it is)."""

    status: str | None = None
    steps: tuple[int, int] | None = None  # (done, total) training steps
    loss: tuple[int, float] | None = None  # (step, loss): a point of the loss chart
    rate: str | None = None
    recall: list[tuple[str, int, float]] = field(default_factory=list)  # (R@k, epoch, %): recall chart points


class RunState:
    """One run as the dialog shows it: the recall before training and now, and the result at the end."""

    def __init__(self):
        self.before: dict | None = None  # validation metrics of the base model (epoch 0)
        self.after: dict | None = None  # the latest (at the end: the best epoch's) metrics
        self.result = None  # TrainResult once the run has ended

    def on_event(self, ev) -> Update:
        up = Update(status=plain_status(ev))
        if ev.total_steps:
            up.steps = (ev.step, ev.total_steps)
        if ev.kind == "step" and ev.loss is not None:
            up.loss = (ev.step, ev.loss)
            up.rate = rate_line(ev)
        elif ev.kind == "eval" and ev.metrics:
            t2i = ev.metrics.get("text_to_image", {})
            up.recall = [(k, ev.epoch, t2i[k]) for k in KS if k in t2i]
            if ev.epoch == 0 and self.before is None:
                self.before = ev.metrics
            self.after = ev.metrics
        return up

    def finish(self, result) -> None:
        """The run's last event carried ``result`` (a TrainResult, or None when it ended without one)."""
        self.result = result
        if result is None:
            return
        hist = list(result.history or [])
        if self.before is None and hist and isinstance(hist[0], dict) and hist[0].get("epoch") == 0:
            self.before = hist[0].get("val") or hist[0].get("metrics")
        self.after = result.val or self.after

    def comparison(self) -> list[tuple[str, float | None, float | None]]:
        """(what, before %, after %) for each recall measured, text → image first."""
        rows = []
        for direction, label in DIRECTIONS:
            for k in KS:
                b = (self.before or {}).get(direction, {}).get(k)
                a = (self.after or {}).get(direction, {}).get(k)
                if a is not None or b is not None:
                    rows.append((f"{label} {k}", b, a))
        return rows


def comparison_cells(row: tuple[str, float | None, float | None]) -> list[str]:
    """A comparison row as table cells: name, before, after, change."""
    name, b, a = row
    return [name, "—" if b is None else f"{b:.1f}%", "—" if a is None else f"{a:.1f}%",
            "—" if a is None or b is None else f"{a - b:+.1f}"]


def estimate_line(device: str, counts: tuple[int, int] | None, cap: int, epochs: int, heads_only: bool) -> str:
    """The expected duration, shown before Start, from throughput measured on a CPU. ``device``: the kind
    training will use; ``counts``: (train, val) images of the chosen data (None: Flickr8k's); ``cap``: the
    images-per-split limit (0: none)."""
    if device != "cpu":
        return ("On a graphics card this takes a fraction of the processor time "
                "(no measured estimate for this card yet).")
    n_train, n_val = counts or FLICKR8K_SPLITS
    if cap:
        n_train, n_val = min(n_train, cap), min(n_val, cap)
    est = estimate_cpu(n_train, n_val, epochs, heads_only)
    what = "" if counts else " (Flickr8k)"
    text = f"Expected time on this computer's processor{what}: about {format_duration(est.seconds)}"
    if est.first_pass:
        return text + f" (a first look at every photo, then about {format_duration(est.per_epoch)} per epoch)."
    return text + f" (about {format_duration(est.per_epoch)} per epoch). Training only the heads is far faster."
