"""The fine-tuning run as a front end shows it, without Qt (photosearch/train/runstate.py)."""

from __future__ import annotations

from photosearch.train.options import TrainEvent, TrainResult
from photosearch.train.runstate import RunState, comparison_cells, estimate_line, plain_status


def _metrics(r1, r5=None, r10=None, i2t=None):
    t2i = {"R@1": r1, **({"R@5": r5} if r5 is not None else {}), **({"R@10": r10} if r10 is not None else {})}
    return {"text_to_image": t2i, **({"image_to_text": {"R@1": i2t}} if i2t is not None else {})}


def test_events_become_chart_points_a_progress_line_and_the_before_after_table():
    state = RunState()
    up = state.on_event(TrainEvent("eval", 0, 2, 0, 20, metrics=_metrics(10.0, 30.0, 50.0)))
    assert up.recall == [("R@1", 0, 10.0), ("R@5", 0, 30.0), ("R@10", 0, 50.0)]
    assert up.status.startswith("Before training: the right photo comes first for 10%")
    up = state.on_event(TrainEvent("step", 1, 2, 5, 20, loss=1.25, images_per_second=12.0, eta=90))
    assert up.loss == (5, 1.25) and up.steps == (5, 20)
    assert up.rate == "epoch 1/2 · step 5/20 · loss 1.250 · 12.0 images/s · about 1:30 left"
    state.on_event(TrainEvent("eval", 1, 2, 10, 20, metrics=_metrics(20.0, 40.0, 60.0)))
    assert state.before["text_to_image"]["R@1"] == 10.0 and state.after["text_to_image"]["R@1"] == 20.0
    best = _metrics(25.0, 45.0, 65.0, i2t=30.0)
    state.finish(TrainResult("m", "/m", 2, 2, best, [{"epoch": 0, "val": _metrics(10.0)}]))
    rows = state.comparison()
    assert [r[0] for r in rows] == ["text → image R@1", "text → image R@5", "text → image R@10", "image → text R@1"]
    assert comparison_cells(rows[0]) == ["text → image R@1", "10.0%", "25.0%", "+15.0"]
    assert comparison_cells(rows[3]) == ["image → text R@1", "—", "30.0%", "—"]


def test_before_comes_from_the_history_when_no_zero_shot_event_was_seen():
    state = RunState()  # e.g. a resumed run: the zero-shot evaluation happened in the first session
    state.finish(TrainResult("m", "/m", 1, 1, _metrics(30.0), [{"epoch": 0, "val": _metrics(12.0)}]))
    assert state.comparison()[0] == ("text → image R@1", 12.0, 30.0)
    assert RunState().comparison() == []


def test_plain_words_and_the_estimate():
    assert plain_status(TrainEvent("message", 0, 1, 0, 0, phase="data")) == "Reading the photo descriptions…"
    assert plain_status(TrainEvent("step", 1, 1, 1, 2, loss=1.0)) is None  # keep the last status
    assert "graphics card" in estimate_line("cuda", None, 0, 4, False)
    cpu = estimate_line("cpu", None, 0, 4, True)
    assert cpu.startswith("Expected time on this computer's processor (Flickr8k): about ")
    assert "(Flickr8k)" not in estimate_line("cpu", (100, 20), 0, 1, True)


def test_a_short_runs_estimate_counts_the_fixed_costs():
    """Issue 20.11: 1:27 shown, 5:15 taken: the estimate was images / rates only, and a short run is mostly
    loading the model, starting up and saving (measured: benchmarks/bench_finetune_estimate.py)."""
    from photosearch.train.estimate import FINISH_S, FULL_START_S, START_S, estimate_cpu

    heads, full = estimate_cpu(36, 12, 2, True), estimate_cpu(36, 12, 2, False)
    assert heads.seconds >= START_S + heads.first_pass + 2 * heads.per_epoch + FINISH_S - 1e-9
    assert full.seconds >= START_S + FULL_START_S + 2 * full.per_epoch + FINISH_S - 1e-9
    assert 12 <= heads.seconds <= 20 and 80 <= full.seconds <= 120  # measured 15.6 s and 111 s (load ~4)
