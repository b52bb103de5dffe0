"""The symmetric contrastive (InfoNCE) loss of CLIP."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ClipLoss(nn.Module):
    """Mean of image->text and text->image cross-entropy over ``scale * cos(image, text)``.

    Embeddings must be L2-normalised; ``logit_scale`` is 1/temperature (already exponentiated).
    Targets are by identity: row i's positive is column i. When ``image_ids`` is given and a batch holds
    two captions of the same image, those other pairs are masked out of the softmax instead of being
    pushed apart as negatives (the tutorial's soft targets collapsed instead).
    """

    def forward(self, image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor,
                image_ids: torch.Tensor | None = None) -> torch.Tensor:
        logits = logit_scale * image_emb @ text_emb.t()  # (B, B): rows images, columns texts
        if image_ids is not None:
            ids = torch.as_tensor(image_ids, device=logits.device)
            same = ids[:, None] == ids[None, :]
            same.fill_diagonal_(False)
            if same.any():
                logits = logits.masked_fill(same, float("-inf"))
        targets = torch.arange(logits.shape[0], device=logits.device)
        return 0.5 * (F.cross_entropy(logits.float(), targets) + F.cross_entropy(logits.t().float(), targets))
