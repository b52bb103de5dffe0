"""Image transforms from a model's :class:`PreprocessConfig` (timm's, so training and eval agree)."""

from __future__ import annotations

from typing import Callable

from photosearch.model.config import PreprocessConfig


def eval_transform(cfg: PreprocessConfig) -> Callable:
    """Deterministic: resize the short side and centre-crop (or squash the whole photo, ``crop_mode="squash"``),
    normalise. PIL RGB -> (3, S, S) float tensor."""
    import timm.data

    return timm.data.create_transform(input_size=(3, cfg.input_size, cfg.input_size), is_training=False,
                                      interpolation=cfg.interpolation, mean=cfg.mean, std=cfg.std,
                                      crop_pct=cfg.crop_pct, crop_mode=cfg.crop_mode)


def train_transform(cfg: PreprocessConfig) -> Callable:
    """Augmentation for fine-tuning: random resized crop (mild scale) and horizontal flip, no colour jitter
    (captions name colours)."""
    import timm.data

    return timm.data.create_transform(input_size=(3, cfg.input_size, cfg.input_size), is_training=True,
                                      interpolation=cfg.interpolation, mean=cfg.mean, std=cfg.std,
                                      scale=(0.5, 1.0), hflip=0.5, color_jitter=None, auto_augment=None)
