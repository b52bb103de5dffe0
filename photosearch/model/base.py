"""The interface every model family implements: what indexing, search, training and eval rely on."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from photosearch.model.config import ModelConfig

MAX_LOGIT_SCALE = 100.0  # CLIP clamps 1/T at 100


class EmbeddingModel(nn.Module):
    """A dual encoder: images and texts into one space of L2-normalised vectors."""

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

    # -- other runtimes for inference (photosearch.model.onnx_backend) ------------------------------
    def set_tower_runners(self, image: Callable | None = None, text: Callable | None = None) -> None:
        """Run ``image_features`` / ``text_features`` in ``embed_pixels`` / ``embed_texts`` through these
        callables (e.g. ONNX Runtime sessions of the same weights) instead of torch; None: torch. A runner is
        dropped as soon as the weights change (a training step), so it never serves stale weights."""
        self._runners = {"image": image, "text": text}
        self._runners_version = self._weights_version()

    def _weights_version(self) -> int:
        return sum(p._version for p in self.parameters())  # bumped by every in-place update

    def _runner(self, tower: str) -> Callable | None:
        runners = getattr(self, "_runners", None)
        if not runners or runners.get(tower) is None:
            return None
        if self._weights_version() != self._runners_version:
            self._runners = None
            return None
        return runners[tower]

    # -- convenience for inference --------------------------------------------------------------
    def eval_transform(self) -> Callable:
        from photosearch.model.preprocess import eval_transform

        return eval_transform(self.config.preprocess)

    def train_transform(self) -> Callable:
        from photosearch.model.preprocess import train_transform

        return train_transform(self.config.preprocess)

    @torch.inference_mode()
    def embed_texts(self, texts: Sequence[str], batch_size: int = 64) -> torch.Tensor:
        """(N, D) normalised float32 on the CPU, in input order. Batches are made of texts of similar length
        (a batch is padded to its longest text: mixed lengths cost up to 3x when building the starter)."""
        from photosearch.device import autocast

        self.eval()
        runner = self._runner("text")
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = []
        for i in range(0, len(texts), batch_size):
            batch = [texts[j] for j in order[i:i + batch_size]]
            tok = {k: v.to(self.device) for k, v in self.tokenize(batch).items()}
            if runner is not None:
                out.append(F.normalize(runner(tok["input_ids"], tok["attention_mask"]).float(), dim=-1))
                continue
            with autocast(self.device):
                out.append(self.encode_text(tok["input_ids"], tok["attention_mask"]).float().cpu())
        if not out:
            return torch.zeros(0, self.embed_dim)
        emb = torch.cat(out)
        return emb[torch.argsort(torch.tensor(order))]

    def embed_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Normalised embeddings of a ready batch (B, 3, H, W), float32 on the CPU."""
        from photosearch.device import autocast

        self.eval()
        runner = self._runner("image")
        if runner is not None:
            return F.normalize(runner(pixels).float(), dim=-1)
        if not getattr(self, "_channels_last", False):
            # NHWC convolutions: 1.5x faster for EfficientNet-Lite0 on this 2-core CPU (benchmarks/bench_embed.py),
            # and the usual win on GPUs. Converted once, outside inference mode: parameters converted inside it
            # would become inference tensors that a later fine-tuning step cannot use.
            self.to(memory_format=torch.channels_last)
            self._channels_last = True
        with torch.inference_mode():
            pixels = pixels.to(self.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            with autocast(self.device):
                return self.encode_image(pixels).float().cpu()

    def embed_pil(self, images: Sequence, batch_size: int = 32) -> torch.Tensor:
        tf = self.eval_transform()
        out = []
        for i in range(0, len(images), batch_size):
            out.append(self.embed_pixels(torch.stack([tf(im.convert("RGB")) for im in images[i:i + batch_size]])))
        return torch.cat(out) if out else torch.zeros(0, self.embed_dim)
