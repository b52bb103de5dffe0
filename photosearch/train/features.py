"""The frozen-encoder feature cache: the towers' pooled features of every image (eval transform) and of every
caption, computed once per (base model, data, split) and kept on disk, so that training only the heads takes
seconds per epoch. Works for any :class:`~photosearch.model.base.EmbeddingModel` through its
``image_tower_features`` / ``text_tower_features`` / ``project_*`` methods."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from pathlib import Path
from typing import Callable, Iterator

from photosearch.errors import Cancelled, DatasetError, TrainingError


def clean_errors(batches):
    """Re-raise a data loader's wrapped :class:`DatasetError` as the one-line error it was."""
    from photosearch.train.data import clean_loader_error

    it = iter(batches)
    while True:
        try:
            b = next(it)
        except StopIteration:
            return
        except DatasetError as e:
            raise clean_loader_error(e) from None
        yield b


def heads_module(model):
    """An ``nn.Module`` mapping cached (image, text) tower features to (image embeddings, text embeddings,
    logit scale), as the model's forward does from pixels and tokens. It holds the whole model so that DDP
    sees the heads' parameters (only those that require grad take part)."""
    import torch.nn.functional as F
    from torch import nn

    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, img_feats, txt_feats):
            return (F.normalize(model.project_image(img_feats).float(), dim=-1),
                    F.normalize(model.project_text(txt_feats).float(), dim=-1), model.scale())

    return Heads()


class FeatureCache:
    """Tower features per split on ``device``: ``feats[split]`` = {"images": (N, F), "captions": (M, G),
    "owner": (M,) image index of each caption}. Rank 0 computes and writes; the other ranks read."""

    def __init__(self, model, cache_dir: Path, device, dist, *, data_fingerprint: str, base_fingerprint: str,
                 batch_size: int, num_workers: int, use_amp: bool):
        self.model, self.cache_dir, self.device, self.dist = model, cache_dir, device, dist
        self.data_fingerprint, self.base_fingerprint = data_fingerprint, base_fingerprint
        self.batch_size, self.num_workers, self.use_amp = batch_size, num_workers, use_amp
        self.feats: dict[str, dict] = {}

    def key(self, split: str, items) -> str:
        h = hashlib.sha256(json.dumps([self.base_fingerprint, self.data_fingerprint, split, len(items),
                                       self.model.config.preprocess.input_size]).encode())
        return h.hexdigest()[:24]

    def prepare(self, splits: list[tuple[str, list]], cancel, note: Callable) -> Iterator:
        """Load or compute every split. ``note(message, **kw)`` makes the progress event to yield."""
        for split, items in splits:
            path = self.cache_dir / f"{self.key(split, items)}.safetensors"
            if self.dist.main and not (path.is_file() and self._load(split, path)):
                yield note(f"caching encoder features of {len(items)} {split} images (once; later epochs "
                           f"reuse them)", done=0, total=len(items))
                yield from self._compute(split, items, path, cancel, note)
            self.dist.barrier()
            if not self.dist.main and not self._load(split, path):
                raise TrainingError(f"feature cache {path} could not be read on rank {self.dist.rank}")

    def _load(self, split: str, path: Path) -> bool:
        from safetensors.torch import load_file

        try:
            t = load_file(str(path))
            self.feats[split] = {k: v.to(self.device) for k, v in t.items()}
            return True
        except Exception:  # noqa: BLE001 - a bad cache is recomputed
            return False

    def _compute(self, split: str, items, path: Path, cancel, note: Callable) -> Iterator:
        import torch
        from safetensors.torch import save_file

        from photosearch.device import autocast
        from photosearch.train.data import EvalImages, collate_images
        from photosearch.train.evaluate import captions_of

        model = self.model
        model.eval()
        loader = torch.utils.data.DataLoader(
            EvalImages(items, model.eval_transform(), model.config.preprocess.input_size),
            batch_size=self.batch_size, num_workers=self.num_workers, collate_fn=collate_images,
            generator=torch.Generator())
        texts, owner = captions_of(items)
        img_parts, txt_parts, done, t0 = [], [], 0, time.monotonic()
        with torch.inference_mode():
            for pixels, _ in clean_errors(loader):
                _check(cancel)
                pixels = pixels.to(self.device)
                if self.device.type == "cuda":
                    pixels = pixels.contiguous(memory_format=torch.channels_last)
                with autocast(self.device, self.use_amp):
                    img_parts.append(model.image_tower_features(pixels).float().cpu())
                done += len(pixels)
                rate = done / max(1e-9, time.monotonic() - t0)
                yield note(f"caching {split} features: {done}/{len(items)} images", images_per_second=rate,
                           eta=(len(items) - done) / rate, done=done, total=len(items))
            for s in range(0, len(texts), 256):
                _check(cancel)
                tok = {k: v.to(self.device) for k, v in model.tokenize(texts[s:s + 256]).items()}
                with autocast(self.device, self.use_amp):
                    txt_parts.append(model.text_tower_features(tok["input_ids"], tok["attention_mask"])
                                     .float().cpu())
        t = {"images": torch.cat(img_parts).contiguous(), "captions": torch.cat(txt_parts).contiguous(),
             "owner": owner}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        save_file(t, str(tmp))
        os.replace(tmp, path)
        self.feats[split] = {k: v.to(self.device) for k, v in t.items()}

    def embeddings(self, split: str):
        """Normalised (image, caption) embeddings of a split through the current heads, and caption owners."""
        import torch
        import torch.nn.functional as F

        f = self.feats[split]
        self.model.eval()
        with torch.inference_mode():
            img = F.normalize(self.model.project_image(f["images"]).float(), dim=-1)
            txt = F.normalize(self.model.project_text(f["captions"]).float(), dim=-1)
        return img, txt, f["owner"]

    def batches(self, n_images: int, seed: int, epoch: int, batches) -> Iterator:
        """(image features, one caption's features per image, image indices) per batch; the caption is a
        pure function of (seed, epoch, image), as in full fine-tuning."""
        import torch

        from photosearch.train.data import sample_seed

        f = self.feats["train"]
        counts = torch.bincount(f["owner"].cpu(), minlength=n_images)
        offsets = torch.cumsum(counts, 0) - counts
        for b in batches:
            idx = torch.tensor(b)
            pick = torch.tensor([random.Random(sample_seed(seed, epoch, i)).randrange(int(counts[i])) for i in b])
            yield f["images"][idx.to(self.device)], f["captions"][(offsets[idx] + pick).to(self.device)], idx


def _check(cancel) -> None:
    if cancel.is_set():
        raise Cancelled("training cancelled")
