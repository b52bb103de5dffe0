"""The network and its embedder are two things (photosearch/model/embedder.py): the model is a plain nn.Module;
the embedder owns the runtime of each tower, channels-last and batching."""

from __future__ import annotations

import torch

from helpers import tiny_model


def test_the_embedder_runs_the_network_and_is_not_part_of_it(tmp_path):
    model = tiny_model(tmp_path)
    keys = set(model.state_dict())
    emb = model.embedder
    assert model.embedder is emb and emb.model is model
    assert not any(m is emb for m in model.modules())
    texts = ["a red circle on a square", "cat", "a dog"]
    assert torch.allclose(emb.texts(texts, batch_size=2), model.embed_texts(texts))
    px = torch.randn(3, 3, 64, 64)
    assert torch.allclose(emb.pixels(px), model.embed_pixels(px))
    assert set(model.state_dict()) == keys  # running it added nothing to the weights


def test_a_runner_serves_until_the_weights_change(tmp_path):
    model = tiny_model(tmp_path)
    calls = []

    def runner(pixels):
        calls.append(len(pixels))
        return torch.ones(len(pixels), model.embed_dim)

    model.embedder.set_runners(image=runner)
    out = model.embed_pixels(torch.randn(2, 3, 64, 64))
    assert calls == [2] and torch.allclose(out.norm(dim=-1), torch.ones(2))
    with torch.no_grad():  # a training step: the runner no longer holds these weights
        model.image_projection.projection.weight.add_(0.1)
    model.embed_pixels(torch.randn(2, 3, 64, 64))
    assert calls == [2] and model.embedder.runner("image") is None
