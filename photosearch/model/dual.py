"""The tutorial's CLIP: timm image tower + transformers text tower + projection heads, done right."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from photosearch.model.base import EmbeddingModel
from photosearch.model.config import ModelConfig, PreprocessConfig
from photosearch.model.heads import build_head
from photosearch.model.towers import ImageTower, TextTower


class DualEncoder(EmbeddingModel):
    """timm image tower and transformers text tower, each with its own projection head."""

    def __init__(self, config: ModelConfig, load_pretrained: bool = True, text_dir: Path | None = None):
        """``load_pretrained``: fetch the towers' pretrained weights (building a new model); False when a
        checkpoint's weights follow. ``text_dir``: a checkpoint's tokenizer/config folder."""
        super().__init__(config)
        keep_clf = config.image_head.kind == "class_prompt"
        self.image_encoder = ImageTower(config.image, load_pretrained, keep_classifier=keep_clf)
        self.text_encoder = TextTower(config.text, load_pretrained, local_dir=text_dir)
        self.image_projection = build_head(config.image_head, self.image_encoder.view_features, config.embed_dim,
                                           views=self.image_encoder.num_views)
        self.text_projection = build_head(config.text_head, self.text_encoder.num_features, config.embed_dim)
        if keep_clf and self.image_encoder.classifier is not None:
            # Start the class_prompt head from the backbone's own ImageNet classifier.
            self.image_projection.classifier.load_state_dict(self.image_encoder.classifier.state_dict())
        self.image_encoder.classifier = None
        if load_pretrained and config.preprocess == PreprocessConfig():
            dc = self.image_encoder.data_config()
            config.preprocess = PreprocessConfig(
                input_size=int(dc["input_size"][-1]), mean=tuple(dc["mean"]), std=tuple(dc["std"]),
                interpolation=dc.get("interpolation", "bicubic"), crop_pct=float(dc.get("crop_pct", 0.875)))

    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.image_projection(self.image_encoder(pixels))

    def text_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.text_projection(self.text_encoder(input_ids, attention_mask))

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        return self.text_encoder.tokenize(texts)

    def towers(self) -> tuple[nn.Module, nn.Module]:
        return self.image_encoder, self.text_encoder

    def heads(self) -> tuple[nn.Module, nn.Module]:
        return self.image_projection, self.text_projection

    def image_tower_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.image_encoder(pixels)

    def text_tower_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.text_encoder(input_ids, attention_mask)

    def save_aux(self, folder: Path) -> None:
        self.text_encoder.save_aux(folder / "text")
