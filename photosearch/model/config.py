"""Model architecture as data: a checkpoint's ``config.json`` is one :class:`ModelConfig`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1

FAMILY_DUAL = "dual"  # timm image tower + transformers text tower + projection heads (the tutorial's model)
FAMILY_HF_CLIP = "hf_clip"  # a transformers CLIPModel (e.g. openai/clip-vit-base-patch32)


@dataclass
class ImageTowerConfig:
    timm_name: str = "resnet50"  # any timm architecture; features are its pooled output (num_classes=0)
    pretrained: bool = True  # load ImageNet weights when the model is first built (not when loading a checkpoint)
    weights_file: str | None = None  # local weights instead of the hub: .safetensors or a weights-only .pth
    weights_in_order: bool = False  # map the file's tensors onto the model by position (foreign key names)
    global_pool: str = "avg"
    # Views of each (preprocessed) image the backbone sees, features concatenated per image (B, V*F): "whole"
    # (the input resized to view_size) and "centre" (its centre view_crop, resized to view_size). Empty: the
    # input as it is. Inside the model, so preprocessing stays one tensor per image and ONNX export sees it.
    views: list[str] = field(default_factory=list)
    view_size: int = 224
    view_crop: float = 0.875  # "centre": the fraction of the input's side it keeps
    view_interpolation: str = "bilinear"  # F.interpolate mode when a view is resized ("bilinear" or "bicubic")


@dataclass
class TextTowerConfig:
    hf_name: str = "distilbert-base-uncased"  # hub id or local folder of a transformers encoder
    pooling: str = "cls"  # "cls" (the tutorial's, BERT-style) or "mean" (masked mean; sentence-transformers models)
    max_length: int = 64  # captions are short; the tutorial's 200 only pads
    pretrained: bool = True


@dataclass
class HeadConfig:
    kind: str = "linear"  # "linear": Linear(in, dim, bias=False) as in the tutorial; "class_prompt": see heads.py
    init: str = "random"  # "random" or "identity" (in == dim only)
    num_classes: int = 0  # class_prompt: classifier outputs
    temperature: float = 1.0  # class_prompt: softmax temperature over the classifier's logits


@dataclass
class PreprocessConfig:
    input_size: int = 224
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    interpolation: str = "bicubic"
    crop_pct: float = 0.875  # resize the short side to input_size / crop_pct, then centre-crop
    crop_mode: str = "center"  # timm's: "center" as above; "squash": the whole photo to input_size x input_size


@dataclass
class ModelConfig:
    name: str = "model"
    family: str = FAMILY_DUAL
    embed_dim: int = 256  # the shared space's dimension
    image: ImageTowerConfig = field(default_factory=ImageTowerConfig)
    text: TextTowerConfig = field(default_factory=TextTowerConfig)
    image_head: HeadConfig = field(default_factory=HeadConfig)
    text_head: HeadConfig = field(default_factory=HeadConfig)
    init_temperature: float = 0.07  # CLIP's; the logit scale 1/T is learnable and clamped at 100
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    hf_clip_name: str | None = None  # FAMILY_HF_CLIP: hub id or local folder
    description: str = ""
    base: str | None = None  # the model this one was fine-tuned from
    fingerprint: str = ""  # sha256 of the weights; set when saved. Library vectors are keyed by it.

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["format_version"] = FORMAT_VERSION
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        d = dict(d)
        d.pop("format_version", None)
        known = {f.name for f in dataclasses.fields(cls)}
        sub = {"image": ImageTowerConfig, "text": TextTowerConfig, "image_head": HeadConfig,
               "text_head": HeadConfig, "preprocess": PreprocessConfig}
        kwargs: dict[str, Any] = {}
        for k, v in d.items():
            if k not in known:
                continue
            if k in sub and isinstance(v, dict):
                sub_known = {f.name for f in dataclasses.fields(sub[k])}
                v = sub[k](**{kk: vv for kk, vv in v.items() if kk in sub_known})
                if k == "preprocess":
                    v.mean, v.std = tuple(v.mean), tuple(v.std)
                if k == "image":
                    v.views = list(v.views)
            kwargs[k] = v
        return cls(**kwargs)

    @property
    def model_id(self) -> str:
        """Stable id of these weights: what library vectors are stored under."""
        return f"{self.name}@{self.fingerprint[:12]}" if self.fingerprint else self.name
