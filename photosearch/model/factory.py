"""One factory that builds a model of any family from its :class:`ModelConfig`."""

from __future__ import annotations

from pathlib import Path

from photosearch.errors import ModelError
from photosearch.model.config import FAMILY_DUAL, FAMILY_HF_CLIP, ModelConfig


def build_model(config: ModelConfig, load_pretrained: bool = True, folder: Path | None = None):
    """Build the model ``config`` describes. ``load_pretrained``: fetch the towers' pretrained weights (first
    build); ``folder``: a checkpoint folder whose aux files (tokenizer, HF config) are used instead of the hub."""
    # Imported here, not at the top: each family pulls in torch/timm/transformers, and only one is needed.
    if config.family == FAMILY_DUAL:
        from photosearch.model.dual import DualEncoder

        text_dir = folder / "text" if folder is not None and (folder / "text").is_dir() else None
        return DualEncoder(config, load_pretrained=load_pretrained, text_dir=text_dir)
    if config.family == FAMILY_HF_CLIP:
        from photosearch.model.hf_clip import HFClip

        hf_dir = folder / "hf" if folder is not None and (folder / "hf").is_dir() else None
        return HFClip(config, load_pretrained=load_pretrained, hf_dir=hf_dir)
    raise ModelError(f"unknown model family {config.family!r}")
