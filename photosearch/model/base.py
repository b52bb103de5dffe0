"""The interface every model family implements: what indexing, search, training and eval rely on."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from photosearch.model.config import ModelConfig

if TYPE_CHECKING:
    from photosearch.model.embedder import Embedder

MAX_LOGIT_SCALE = 100.0  # CLIP clamps 1/T at 100


class EmbeddingModel(nn.Module):
    """A dual encoder: images and texts into one space of L2-normalised vectors. The network only; running it
    for inference (runtimes, batching) is its :attr:`embedder`'s job."""

    config: ModelConfig

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        # Learnable temperature, stored as log(1/T) as in CLIP.
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / config.init_temperature)))

    # -- to implement -------------------------------------------------------------------------
    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) -> (B, D) unnormalised
        raise NotImplementedError

    def text_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def towers(self) -> tuple[nn.Module, nn.Module]:
        """(image tower, text tower): the pretrained encoders whose pooled features the heads project."""
        raise NotImplementedError

    def heads(self) -> tuple[nn.Module, nn.Module]:
        """(image head, text head): modules mapping tower features into the shared space."""
        raise NotImplementedError

    def image_tower_features(self, pixels: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) -> (B, F_img)
        raise NotImplementedError

    def text_tower_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # (B, T) -> (B, F_txt)

    # -- training support (works for any family through the methods above) ------------------------
    def project_image(self, tower_features: torch.Tensor) -> torch.Tensor:
        """Image head outputs (unnormalised) from cached :meth:`image_tower_features`."""
        return self.heads()[0](tower_features)

    def project_text(self, tower_features: torch.Tensor) -> torch.Tensor:
        """Text head outputs (unnormalised) from cached :meth:`text_tower_features`."""
        return self.heads()[1](tower_features)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters by role, for per-group learning rates: image_encoder, text_encoder, heads (with the
        temperature)."""
        image, text = self.towers()
        ihead, thead = self.heads()
        return {"image_encoder": list(image.parameters()), "text_encoder": list(text.parameters()),
                "heads": list(ihead.parameters()) + list(thead.parameters()) + [self.logit_scale]}

    def lock_towers(self) -> None:
        """Freeze both towers, as open_clip's ``lock_image_tower``: no gradients, and they stay in eval mode
        (BatchNorm statistics and dropout as in the base model) even when the model is put in train mode."""
        for tower in self.towers():
            tower.requires_grad_(False)
        self._towers_locked = True
        self.train(self.training)

    @property
    def towers_locked(self) -> bool:
        return getattr(self, "_towers_locked", False)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.towers_locked:
            for tower in self.towers():
                tower.eval()
        return self

    # -- shared ---------------------------------------------------------------------------------
    @property
    def embed_dim(self) -> int:
        return self.config.embed_dim

    @property
    def model_id(self) -> str:
        return self.config.model_id

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_features(pixels).float(), dim=-1)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text_features(input_ids, attention_mask).float(), dim=-1)

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)

    def clamp_logit_scale(self) -> None:
        """Call after each optimiser step (as CLIP does) so 1/T never exceeds 100."""
        with torch.no_grad():
            self.logit_scale.clamp_(0, math.log(MAX_LOGIT_SCALE))

    def forward(self, pixels: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        """(image embeddings, text embeddings, logit scale) for :class:`~photosearch.model.loss.ClipLoss`."""
        return self.encode_image(pixels), self.encode_text(input_ids, attention_mask), self.scale()

    @property
    def device(self) -> torch.device:
        return self.logit_scale.device

    # -- inference: delegated to the model's Embedder (photosearch/model/embedder.py) -------------------------
    @property
    def embedder(self) -> "Embedder":
        """What runs this network for inference (runtimes, channels-last, batching); made on first use, kept
        outside the module's parameters and state dict."""
        embedder = self.__dict__.get("_embedder")
        if embedder is None:
            from photosearch.model.embedder import Embedder

            embedder = self.__dict__["_embedder"] = Embedder(self)
        return embedder

    def set_tower_runners(self, image: Callable | None = None, text: Callable | None = None) -> None:
        """See :meth:`Embedder.set_runners`."""
        self.embedder.set_runners(image, text)

    def _runner(self, tower: str) -> Callable | None:
        return self.embedder.runner(tower)

    def embed_texts(self, texts: Sequence[str], batch_size: int = 64) -> torch.Tensor:
        """(N, D) normalised float32 on the CPU, in input order (:meth:`Embedder.texts`)."""
        return self.embedder.texts(texts, batch_size)

    def embed_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Normalised embeddings of a ready batch (B, 3, H, W), float32 on the CPU (:meth:`Embedder.pixels`)."""
        return self.embedder.pixels(pixels)

    def embed_pil(self, images: Sequence, batch_size: int = 32) -> torch.Tensor:
        return self.embedder.pil(images, batch_size)

    # -- convenience for inference --------------------------------------------------------------
    def eval_transform(self) -> Callable:
        from photosearch.model.preprocess import eval_transform

        return eval_transform(self.config.preprocess)

    def train_transform(self) -> Callable:
        from photosearch.model.preprocess import train_transform

        return train_transform(self.config.preprocess)
