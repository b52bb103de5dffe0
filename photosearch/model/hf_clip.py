"""Any transformers dual encoder with ``get_image_features`` / ``get_text_features`` (family ``hf_clip``):
CLIP, SigLIP (and the fixed-resolution SigLIP 2 checkpoints, which are SigLIP models), ChineseCLIP, AltCLIP
and ALIGN, by hub id or local folder.

Each model keeps its own processor: texts are tokenised as the model was trained (SigLIP and ALIGN pad to a
fixed length; SigLIP takes no attention mask) and images go through the model's own image processor (its
resize, crop and normalisation), so embeddings equal transformers' own. The family's score scale (and
SigLIP's bias) come with the weights: :meth:`HFClip.match_logits` turns cosine similarities into the
model's logits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import nn

from photosearch.errors import ModelError
from photosearch.model.base import EmbeddingModel
from photosearch.model.config import FAMILY_HF_CLIP, ModelConfig, PreprocessConfig


# SentencePiece tokenizer files: without a tokenizer.json beside them (SigLIP's spiece.model, for one),
# transformers needs the optional ``sentencepiece`` package to read them.
SENTENCEPIECE_FILES = ("spiece.model", "sentencepiece.bpe.model", "tokenizer.model")


def sentencepiece_missing(file_names, source: str) -> str | None:
    """One line for the user when ``source``'s tokenizer (its files: ``file_names``) needs ``sentencepiece``
    and it is not installed; None when the tokenizer can load."""
    import importlib.util

    names = {Path(n).name for n in file_names}
    if "tokenizer.json" in names or not names & set(SENTENCEPIECE_FILES):
        return None
    if importlib.util.find_spec("sentencepiece") is not None:
        return None
    return (f"{source} needs the sentencepiece package for its tokenizer (SigLIP models do): "
            f"pip install sentencepiece")


@dataclass(frozen=True)
class TextRules:
    """How one transformers family tokenises captions and scores pairs."""

    pad_to_max: bool = False  # pad every caption to the fixed length the model was trained with
    max_length: int | None = None  # that length (None: the tokenizer's, capped by the position embeddings)
    attention_mask: bool = True  # False: the model was trained without one (SigLIP pools the last token)
    scale: str = "logit_scale"  # "logit_scale" (log of 1/T) or "temperature" (ALIGN: T itself)
    bias: bool = False  # SigLIP adds a learnt bias to its logits


RULES: dict[str, TextRules] = {
    "clip": TextRules(),
    "chinese_clip": TextRules(),
    "altclip": TextRules(),
    "siglip": TextRules(pad_to_max=True, attention_mask=False, bias=True),
    "align": TextRules(pad_to_max=True, max_length=64, scale="temperature"),
}


def _first(x):
    # transformers 5 returns a ModelOutput from get_*_features (the projected vectors in pooler_output);
    # 4.x returns a tensor.
    if isinstance(x, torch.Tensor):
        return x
    for key in ("pooler_output", "image_embeds", "text_embeds"):
        if getattr(x, key, None) is not None:
            return getattr(x, key)
    return x[0]


def estimated_parameters(config: dict) -> int:
    """About how many parameters a transformers config asks for: for every (sub-)config with a hidden size
    and a layer count, its transformer blocks plus token and position embeddings. An estimate from above,
    to refuse configs no machine here could build (they would be killed for memory while building)."""
    total = 0
    todo = [config]
    while todo:
        d = todo.pop()
        h, layers = d.get("hidden_size", d.get("d_model")), d.get("num_hidden_layers", d.get("num_layers"))
        if isinstance(h, int) and isinstance(layers, int) and h > 0 and layers > 0:
            inner = d.get("intermediate_size")
            inner = inner if isinstance(inner, int) and inner > 0 else 4 * h
            rows = sum(v for v in (d.get("vocab_size"), d.get("max_position_embeddings")) if isinstance(v, int) and v > 0)
            total += layers * (4 * h * h + 2 * h * inner) + rows * h
        todo += [v for v in d.values() if isinstance(v, dict)]
    return total


def memory_bytes() -> int:
    """Physical memory, or the memory limit of this process's cgroup when lower."""
    import os

    try:
        limit = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        limit = 1 << 62
    for f in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            limit = min(limit, int(Path(f).read_text().strip()))
        except (OSError, ValueError):
            continue
    return limit


def check_plausible(hf_config, source: str) -> None:
    """Refuse a config whose model (float32) would not fit in this machine's memory."""
    from photosearch.humanize import format_size

    need = 4 * estimated_parameters(hf_config.to_dict())
    have = memory_bytes()
    if need > have:
        raise ModelError(f"{source}: its config describes a model of about {format_size(need)}, more than this "
                         f"computer's memory ({format_size(have)}); refusing to build it")


def check_covered(model: nn.Module, missing_keys: list[str], source: str) -> None:
    """Refuse weights that leave any of the model's parameters at their random start (a weights file without
    the model's tensors would otherwise install as "ready" and give meaningless results)."""
    params = {n for n, _ in model.named_parameters()}
    missing = sorted(k for k in missing_keys if k in params)
    if missing:
        raise ModelError(f"{source}: its weights do not cover the model ({len(missing)} of {len(params)} "
                         f"parameters missing, e.g. {missing[0]}); refusing random weights")


class ProcessorTransform:
    """PIL RGB -> (3, H, W): the model's own transformers image processor (picklable for data loaders)."""

    def __init__(self, processor):
        self.processor = processor

    def __call__(self, image) -> torch.Tensor:
        return self.processor(images=image, return_tensors="pt")["pixel_values"][0]


class HFClip(EmbeddingModel):
    """A transformers dual encoder (see the module doc) behind the :class:`EmbeddingModel` interface."""

    def __init__(self, config: ModelConfig, load_pretrained: bool = True, hf_dir: Path | None = None):
        super().__init__(config)
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        source = str(hf_dir) if hf_dir is not None else config.hf_clip_name
        if not source:
            raise ModelError("hf_clip model needs hf_clip_name (hub id or local folder)")
        try:
            hf_config = AutoConfig.from_pretrained(source)
            self.model_type = hf_config.model_type
            if self.model_type not in RULES:
                raise ModelError(f"{source}: transformers model type {self.model_type!r} is not a supported "
                                 f"dual encoder (supported: {', '.join(sorted(RULES))})")
            check_plausible(hf_config, source)  # before a byte is allocated for it
            if load_pretrained and hf_dir is None:
                self.clip, info = AutoModel.from_pretrained(source, output_loading_info=True)
                check_covered(self.clip, info.get("missing_keys") or [], source)
            else:
                # from_config picks the same attention implementation as from_pretrained (bit-identical reloads)
                self.clip = AutoModel.from_config(hf_config)
            problem = sentencepiece_missing(Path(source).iterdir(), source) if Path(source).is_dir() else None
            if problem:
                raise ModelError(problem)
            self.tokenizer = AutoTokenizer.from_pretrained(source)
        except (ImportError, ValueError) as e:
            if "sentencepiece" not in str(e).lower():
                raise
            raise ModelError(f"{source} needs the sentencepiece package for its tokenizer: "
                             f"pip install sentencepiece") from e
        except OSError as e:
            raise ModelError(f"cannot load model {source!r} (offline, or not a transformers folder): "
                             f"{str(e).splitlines()[0]}") from e
        self.rules = RULES[self.model_type]
        self.image_processor = _image_processor(source)
        self._max_len = self._text_length()
        self._no_head = nn.Identity()
        config.family = FAMILY_HF_CLIP
        config.embed_dim = self._probe_embed_dim()
        if load_pretrained:
            # The family's logit scale comes with the weights: use it rather than 1/0.07.
            with torch.no_grad():
                self.logit_scale.copy_(torch.tensor(math.log(self._family_scale())))
            config.preprocess = self._preprocess_config()

    # -- family details -------------------------------------------------------------------------
    def _text_length(self) -> int:
        if self.rules.max_length:
            return self.rules.max_length
        positions = getattr(self.clip.config.text_config, "max_position_embeddings", 77)
        if self.model_type in ("altclip",):  # RoBERTa positions start after the padding index
            positions -= 2
        tok_max = getattr(self.tokenizer, "model_max_length", None) or positions
        return int(min(tok_max, positions))

    def _family_scale(self) -> float:
        if self.rules.scale == "temperature":
            return 1.0 / float(self.clip.temperature.detach())
        return float(self.clip.logit_scale.detach().exp())

    def _probe_embed_dim(self) -> int:
        with torch.no_grad():
            tok = self.tokenize(["a"])
            return int(self.text_features(tok["input_ids"], tok["attention_mask"]).shape[-1])

    def _preprocess_config(self) -> PreprocessConfig:
        """Size and normalisation for training-time augmentation and decode sizes (inference uses the
        processor itself)."""
        size = getattr(self.clip.config.vision_config, "image_size", 224)
        p = self.image_processor
        if p is None:
            return PreprocessConfig(input_size=size, mean=(0.48145466, 0.4578275, 0.40821073),
                                    std=(0.26862954, 0.26130258, 0.27577711), interpolation="bicubic",
                                    crop_pct=1.0)
        return PreprocessConfig(input_size=size, mean=tuple(float(x) for x in p.image_mean),
                                std=tuple(float(x) for x in p.image_std), interpolation="bicubic", crop_pct=1.0)

    def match_logits(self, cosine: torch.Tensor) -> torch.Tensor:
        """The model's own logits for cosine similarities: ``scale * cos (+ bias)``. For SigLIP,
        ``sigmoid`` of these is the probability that the caption matches the photo."""
        bias = float(self.clip.logit_bias.detach()) if self.rules.bias else 0.0
        return cosine * self.scale().detach() + bias

    # -- EmbeddingModel -------------------------------------------------------------------------
    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return _first(self.clip.get_image_features(pixel_values=pixels))

    def text_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask if self.rules.attention_mask else None
        return _first(self.clip.get_text_features(input_ids=input_ids, attention_mask=mask))

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(list(texts), padding="max_length" if self.rules.pad_to_max else True,
                             truncation=True, max_length=self._max_len, return_tensors="pt")
        ids = enc["input_ids"]
        mask = enc.get("attention_mask")
        return {"input_ids": ids, "attention_mask": mask if mask is not None else torch.ones_like(ids)}

    def eval_transform(self) -> Callable:
        if self.image_processor is None:  # a folder without a preprocessor config: CLIP's defaults
            return super().eval_transform()
        return ProcessorTransform(self.image_processor)

    def towers(self) -> tuple[nn.Module, nn.Module]:
        return self.clip.vision_model, self.clip.text_model

    def heads(self) -> tuple[nn.Module, nn.Module]:
        """The projections after the pooled tower outputs. CLIP-likes have both; ALIGN projects only the
        text; SigLIP's text head is the last layer of its text tower, and its image head (attention pooling)
        works on the whole sequence, so it stays in the image tower (identity here)."""
        c = self.clip
        image = getattr(c, "visual_projection", None)
        text = getattr(c, "text_projection", None)
        if text is None and self.model_type == "siglip":
            text = c.text_model.head
        return (image if image is not None else self._no_head), (text if text is not None else self._no_head)

    def image_tower_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self._head_input(self.heads()[0], lambda: self.image_features(pixels))

    def text_tower_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self._head_input(self.heads()[1], lambda: self.text_features(input_ids, attention_mask))

    @staticmethod
    def _head_input(head: nn.Module, run: Callable[[], torch.Tensor]) -> torch.Tensor:
        """What the family feeds its head (each family pools differently): captured on the way in."""
        if isinstance(head, nn.Identity):
            return run()
        seen: list[torch.Tensor] = []
        hook = head.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
        try:
            run()
        finally:
            hook.remove()
        return seen[0]

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Towers, and everything else (heads, the family's own scale/bias, our temperature) as heads; a head
        that sits inside a tower (SigLIP's text head) counts as a head only."""
        head_ids = {id(p) for h in self.heads() for p in h.parameters()}
        image, text = ([p for p in t.parameters() if id(p) not in head_ids] for t in self.towers())
        tower_ids = {id(p) for p in image + text}
        rest = [p for p in self.clip.parameters() if id(p) not in tower_ids]
        return {"image_encoder": image, "text_encoder": text, "heads": rest + [self.logit_scale]}

    def lock_towers(self) -> None:
        super().lock_towers()
        for head in self.heads():  # a head inside a tower keeps learning
            head.requires_grad_(True)

    def save_aux(self, folder: Path) -> None:
        hf = folder / "hf"
        hf.mkdir(parents=True, exist_ok=True)
        self.clip.config.save_pretrained(str(hf))
        self.tokenizer.save_pretrained(str(hf))
        if self.image_processor is not None:
            self.image_processor.save_pretrained(str(hf))


def _image_processor(source: str):
    """The folder's or hub repo's image processor, or None when it has no preprocessor config."""
    from transformers import AutoImageProcessor

    try:
        return AutoImageProcessor.from_pretrained(source)
    except (OSError, ValueError):
        return None
