"""A pretrained CLIP through transformers' ``CLIPModel`` (e.g. ``openai/clip-vit-base-patch32``)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from photosearch.errors import ModelError
from photosearch.model.base import EmbeddingModel
from photosearch.model.config import FAMILY_HF_CLIP, ModelConfig, PreprocessConfig


def _first(x):
    # transformers 5 may return a ModelOutput from get_*_features; 4.x returns a tensor.
    if isinstance(x, torch.Tensor):
        return x
    for key in ("pooler_output", "image_embeds", "text_embeds"):
        if getattr(x, key, None) is not None:
            return getattr(x, key)
    return x[0]


class HFClip(EmbeddingModel):
    """transformers' ``CLIPModel`` behind the :class:`EmbeddingModel` interface."""

    def __init__(self, config: ModelConfig, load_pretrained: bool = True, hf_dir: Path | None = None):
        super().__init__(config)
        from transformers import AutoTokenizer, CLIPConfig, CLIPModel

        source = str(hf_dir) if hf_dir is not None else config.hf_clip_name
        if not source:
            raise ModelError("hf_clip model needs hf_clip_name (hub id or local folder)")
        try:
            if load_pretrained and hf_dir is None:
                self.clip = CLIPModel.from_pretrained(source)
            else:
                # _from_config picks the same attention implementation as from_pretrained (bit-identical reloads)
                self.clip = CLIPModel._from_config(CLIPConfig.from_pretrained(source))
            self.tokenizer = AutoTokenizer.from_pretrained(source)
        except OSError as e:
            raise ModelError(f"cannot load CLIP model {source!r} (offline, or not a CLIP folder): "
                             f"{str(e).splitlines()[0]}") from e
        cc = self.clip.config
        config.family = FAMILY_HF_CLIP
        config.embed_dim = cc.projection_dim
        self._max_len = cc.text_config.max_position_embeddings
        if load_pretrained:
            # CLIP's logit scale comes with the weights: use it rather than 1/0.07.
            with torch.no_grad():
                self.logit_scale.copy_(self.clip.logit_scale.detach())
            config.preprocess = self._preprocess_from(source, cc.vision_config.image_size)

    @staticmethod
    def _preprocess_from(source: str, size: int) -> PreprocessConfig:
        try:
            from transformers import CLIPImageProcessor

            p = CLIPImageProcessor.from_pretrained(source)
            return PreprocessConfig(input_size=size, mean=tuple(p.image_mean), std=tuple(p.image_std),
                                    interpolation="bicubic", crop_pct=1.0)
        except (OSError, ValueError):
            return PreprocessConfig(input_size=size, mean=(0.48145466, 0.4578275, 0.40821073),
                                    std=(0.26862954, 0.26130258, 0.27577711), interpolation="bicubic",
                                    crop_pct=1.0)

    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return _first(self.clip.get_image_features(pixel_values=pixels))

    def text_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return _first(self.clip.get_text_features(input_ids=input_ids, attention_mask=attention_mask))

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self._max_len,
                             return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def towers(self) -> tuple[nn.Module, nn.Module]:
        return self.clip.vision_model, self.clip.text_model

    def heads(self) -> tuple[nn.Module, nn.Module]:
        return self.clip.visual_projection, self.clip.text_projection

    def image_tower_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.clip.vision_model(pixel_values=pixels).pooler_output

    def text_tower_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.clip.text_model(input_ids=input_ids, attention_mask=attention_mask).pooler_output

    def save_aux(self, folder: Path) -> None:
        hf = folder / "hf"
        hf.mkdir(parents=True, exist_ok=True)
        self.clip.config.save_pretrained(str(hf))
        self.tokenizer.save_pretrained(str(hf))
