"""First use (issue #20 item 7): building the starter says what it is doing, how far it is and how long is
left, and its chunked prompt embedding gives exactly what one call gives."""

from __future__ import annotations

import torch

from photosearch.model import starter


def test_prompts_embedded_in_chunks_equal_one_call_and_report_progress(tiny):
    words = ["dog", "cat", "a small red bicycle leaning on a wall", "sea", "mountain lake at dawn", "x"]
    texts = [f"{w} {i}" for i, w in enumerate(words * 360)][:starter.PROMPT_CHUNK + 100]  # two chunks
    assert len(texts) > starter.PROMPT_CHUNK
    events = []
    got = starter._embed_with_progress(tiny, texts, events.append)
    assert torch.equal(got, tiny.embed_texts(texts, batch_size=starter.PROMPT_BATCH))
    assert [e.phase for e in events] == ["prompts"] * -(-len(texts) // starter.PROMPT_CHUNK)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] > starter.WEIGHTS_SHARE
    assert all(e.eta_s is not None and e.eta_s >= 0 for e in events) and events[-1].eta_s == 0


def test_the_starter_build_says_what_it_does_how_far_and_how_long(starter_build_events):
    events = starter_build_events
    assert all(isinstance(e, starter.BuildProgress) for e in events)
    phases = [e.phase for e in events]
    assert phases[0] == "weights" and phases[-1] == "done" and phases.count("prompts") >= 3
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    middle = events[1]
    assert middle.phase == "prompts" and middle.eta_s is not None and middle.eta_s > 0
    # One plain line each, for the command line and the status bar.
    assert str(middle).startswith("preparing the starter model (first use only): ")
    assert f"{middle.fraction:.0%}" in middle and "s left" in middle and "\n" not in middle
