"""Small adapters around timm (images) and transformers (text), as open_clip does."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from photosearch.errors import ModelError
from photosearch.model.config import ImageTowerConfig, TextTowerConfig
from photosearch.model.weights import load_in_order, read_weights_file


VIEWS = ("whole", "centre")


def image_view(x: torch.Tensor, view: str, size: int, crop: float = 0.875,
               interpolation: str = "bilinear") -> torch.Tensor:
    """One view (B, 3, size, size) of a batch (B, 3, H, W): "whole" (all of it) or "centre" (its centre
    ``crop`` of each side), resized to ``size``. Slicing and F.interpolate only, so it traces to ONNX."""
    if view == "centre":
        h, w = int(x.shape[-2]), int(x.shape[-1])  # fixed per model (input_size): constants in an ONNX graph
        ch, cw = round(h * crop), round(w * crop)
        top, left = (h - ch) // 2, (w - cw) // 2
        x = x[:, :, top:top + ch, left:left + cw]
    elif view != "whole":
        raise ModelError(f"unknown image view {view!r} (use {', '.join(VIEWS)})")
    if tuple(x.shape[-2:]) != (size, size):
        # no antialiasing: exports to ONNX (opset 17); views are resized by a factor near 1
        x = F.interpolate(x, size=(size, size), mode=interpolation, align_corners=False)
    return x


class ImageTower(nn.Module):
    """A timm backbone returning pooled features (B, num_features); with ``cfg.views``, the backbone's features
    of each view side by side (B, V * view_features)."""

    def __init__(self, cfg: ImageTowerConfig, load_pretrained: bool, keep_classifier: bool = False):
        super().__init__()
        import timm

        self.cfg = cfg
        try:
            if load_pretrained and cfg.pretrained and cfg.weights_file and not cfg.weights_in_order:
                sd = read_weights_file(cfg.weights_file)
                model = timm.create_model(cfg.timm_name, pretrained=False)
                missing, unexpected = model.load_state_dict(sd, strict=False)
                if unexpected or [k for k in missing if not k.startswith(model.default_cfg.get("classifier", "fc"))]:
                    raise ModelError(f"{cfg.weights_file} does not fit timm model {cfg.timm_name}")
            elif load_pretrained and cfg.pretrained and cfg.weights_file:
                model = timm.create_model(cfg.timm_name, pretrained=False)
                load_in_order(model, read_weights_file(cfg.weights_file))
            else:
                # pretrained=True downloads from the Hugging Face hub (or its local cache) through timm.
                model = timm.create_model(cfg.timm_name, pretrained=bool(load_pretrained and cfg.pretrained))
        except ModelError:
            raise
        except RuntimeError as e:  # timm raises RuntimeError for unknown architectures
            raise ModelError(f"cannot build image tower {cfg.timm_name!r}: {e}") from e
        except OSError as e:
            raise ModelError(f"cannot fetch weights for {cfg.timm_name!r} (offline?): {e}") from e
        # The ImageNet classifier is handed to a class_prompt head (the starter model) before it is dropped.
        self.classifier: nn.Linear | None = None
        if keep_classifier:
            clf = model.get_classifier()
            if isinstance(clf, nn.Linear):
                self.classifier = clf
        model.reset_classifier(0, global_pool=cfg.global_pool)
        self.model = model
        unknown = [v for v in cfg.views if v not in VIEWS]
        if unknown:
            raise ModelError(f"unknown image views {unknown} (use {', '.join(VIEWS)})")
        self.num_views = max(1, len(cfg.views))
        self.view_features = model.num_features  # per view
        self.num_features = model.num_features * self.num_views

    def views(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The views the backbone sees of a batch (B, 3, H, W)."""
        if not self.cfg.views:
            return [x]
        return [image_view(x, v, self.cfg.view_size, self.cfg.view_crop, self.cfg.view_interpolation)
                for v in self.cfg.views]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        views = self.views(x)
        if len(views) == 1:
            return self.model(views[0])  # (B, num_features)
        # One backbone pass per view: on 2 CPU cores a single pass over the 2B stacked views cost 2.4-2.6x one
        # view's, two passes 2.05-2.1x (larger batches fall out of cache).
        return torch.cat([self.model(v) for v in views], dim=1)  # (B, V*F), view-major per image

    def data_config(self) -> dict:
        import timm.data

        return timm.data.resolve_data_config({}, model=self.model)


class TextTower(nn.Module):
    """A transformers encoder with CLS or masked-mean pooling, returning (B, hidden)."""

    def __init__(self, cfg: TextTowerConfig, load_pretrained: bool, local_dir: Path | None = None):
        super().__init__()
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        self.cfg = cfg
        if cfg.pooling not in ("cls", "mean"):
            raise ModelError(f"unknown text pooling {cfg.pooling!r} (use 'cls' or 'mean')")
        source = str(local_dir) if local_dir is not None else cfg.hf_name
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            if load_pretrained and cfg.pretrained and local_dir is None:
                self.model = AutoModel.from_pretrained(source)
            else:
                self.model = AutoModel.from_config(AutoConfig.from_pretrained(source))
        except OSError as e:
            raise ModelError(f"cannot load text encoder {source!r} (offline, or not a transformers folder): "
                             f"{str(e).splitlines()[0]}") from e
        self.num_features = self.model.config.hidden_size

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.cfg.max_length,
                             return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (B, T, H)
        if self.cfg.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-6)

    def save_aux(self, folder: Path) -> None:
        """Tokenizer files and the architecture config (not the weights) so a checkpoint loads offline."""
        folder.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save_pretrained(str(folder))
        self.model.config.save_pretrained(str(folder))
