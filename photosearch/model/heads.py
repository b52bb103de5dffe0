"""Projection heads into the shared embedding space."""

from __future__ import annotations

import torch
from torch import nn

from photosearch.errors import ModelError
from photosearch.model.config import HeadConfig


class LinearHead(nn.Module):
    """The tutorial's head: one linear map without bias."""

    def __init__(self, in_dim: int, out_dim: int, init: str = "random"):
        super().__init__()
        self.projection = nn.Linear(in_dim, out_dim, bias=False)
        if init == "identity":
            if in_dim != out_dim:
                raise ModelError(f"identity head needs equal dims, got {in_dim} -> {out_dim}")
            with torch.no_grad():
                self.projection.weight.copy_(torch.eye(in_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(x)


class ClassPromptHead(nn.Module):
    """Lands image features in a text space through what an ImageNet classifier knows.

    features -> classifier logits -> softmax(logits / T) -> weighted mean of the class prompts' text
    embeddings. ``prompts`` starts as the text tower's embeddings of prompts built from the class names,
    so an image of a tabby cat lands near "a photo of a tabby cat". Every part stays trainable, so the
    head is a fine-tuning starting point like any other.

    With ``views`` > 1 the features are several views of each image side by side (B, V * in_dim, see
    :class:`~photosearch.model.towers.ImageTower`); their logits are averaged before the softmax.
    """

    def __init__(self, in_dim: int, num_classes: int, out_dim: int, temperature: float = 1.0, views: int = 1):
        super().__init__()
        self.views = views
        self.classifier = nn.Linear(in_dim, num_classes)
        self.prompts = nn.Linear(num_classes, out_dim, bias=False)  # weight: (out_dim, num_classes)
        self.log_temperature = nn.Parameter(torch.tensor(float(temperature)).log())

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, V * in_dim) features -> (B, C) classifier logits, averaged over the views."""
        return self.classifier(x.reshape(-1, self.views, self.classifier.in_features)).mean(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = (self.logits(x) / self.log_temperature.exp()).softmax(-1)  # (B, C)
        return self.prompts(probs)  # (B, out_dim)


def build_head(cfg: HeadConfig, in_dim: int, out_dim: int, views: int = 1) -> nn.Module:
    """``in_dim``: features per view; ``views``: how many views' features arrive side by side."""
    if cfg.kind == "linear":
        return LinearHead(in_dim * views, out_dim, cfg.init)
    if cfg.kind == "class_prompt":
        if cfg.num_classes <= 0:
            raise ModelError("class_prompt head needs num_classes")
        return ClassPromptHead(in_dim, cfg.num_classes, out_dim, cfg.temperature, views)
    raise ModelError(f"unknown head kind {cfg.kind!r}")
