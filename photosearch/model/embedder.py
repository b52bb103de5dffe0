"""Running a model for inference: the :class:`Embedder` owns what is not the network itself.

A model family is an ``nn.Module`` (``model/base.py`` and the families): towers, heads, a temperature. How it
is run to embed photos and queries lives here: which runtime each tower uses (torch, or an ONNX Runtime
session of the same weights attached by :mod:`photosearch.model.onnx_backend`), channels-last memory for torch
convolutions, and batching. Training never goes through it.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F


class Embedder:
    """Embeds texts, pixel batches and PIL images with one model (an :class:`EmbeddingModel`)."""

    def __init__(self, model):
        self.model = model
        self._runners: dict[str, Callable | None] = {}
        self._runners_version = -1
        self._channels_last = False

    # -- runtimes -------------------------------------------------------------------------------------------
    def set_runners(self, image: Callable | None = None, text: Callable | None = None) -> None:
        """Run the towers through these callables (e.g. ONNX Runtime sessions of the same weights) instead of
        torch; None: torch. A runner is dropped as soon as the weights change (a training step), so it never
        serves stale weights."""
        self._runners = {"image": image, "text": text}
        self._runners_version = self._weights_version()

    def _weights_version(self) -> int:
        return sum(p._version for p in self.model.parameters())  # bumped by every in-place update

    def runner(self, tower: str) -> Callable | None:
        """The runner ``tower`` uses now (None: torch)."""
        if self._runners.get(tower) is None:
            return None
        if self._weights_version() != self._runners_version:
            self._runners = {}
            return None
        return self._runners[tower]

    # -- embedding ------------------------------------------------------------------------------------------
    @torch.inference_mode()
    def texts(self, texts: Sequence[str], batch_size: int = 64) -> torch.Tensor:
        """(N, D) normalised float32 on the CPU, in input order. Batches are made of texts of similar length
        (a batch is padded to its longest text: mixed lengths cost up to 3x when building the starter)."""
        from photosearch.device import autocast

        model = self.model
        model.eval()
        runner = self.runner("text")
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = []
        for i in range(0, len(texts), batch_size):
            batch = [texts[j] for j in order[i:i + batch_size]]
            tok = {k: v.to(model.device) for k, v in model.tokenize(batch).items()}
            if runner is not None:
                out.append(F.normalize(runner(tok["input_ids"], tok["attention_mask"]).float(), dim=-1))
                continue
            with autocast(model.device):
                out.append(model.encode_text(tok["input_ids"], tok["attention_mask"]).float().cpu())
        if not out:
            return torch.zeros(0, model.embed_dim)
        emb = torch.cat(out)
        return emb[torch.argsort(torch.tensor(order))]

    def pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Normalised embeddings of a ready batch (B, 3, H, W), float32 on the CPU."""
        from photosearch.device import autocast

        model = self.model
        model.eval()
        runner = self.runner("image")
        if runner is not None:
            return F.normalize(runner(pixels).float(), dim=-1)
        if not self._channels_last:
            # NHWC convolutions: 1.5x faster for EfficientNet-Lite0 on this 2-core CPU (benchmarks/bench_embed.py),
            # and the usual win on GPUs. Converted once, outside inference mode: parameters converted inside it
            # would become inference tensors that a later fine-tuning step cannot use.
            model.to(memory_format=torch.channels_last)
            self._channels_last = True
        with torch.inference_mode():
            pixels = pixels.to(model.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            with autocast(model.device):
                return model.encode_image(pixels).float().cpu()

    def pil(self, images: Sequence, batch_size: int = 32) -> torch.Tensor:
        """Normalised embeddings of PIL images, through the model's own eval transform."""
        tf = self.model.eval_transform()
        out = []
        for i in range(0, len(images), batch_size):
            out.append(self.pixels(torch.stack([tf(im.convert("RGB")) for im in images[i:i + batch_size]])))
        return torch.cat(out) if out else torch.zeros(0, self.model.embed_dim)
