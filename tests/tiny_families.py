"""Tiny random-weight transformers dual encoders, one per family, built with transformers' own config
classes and saved as hub-style folders (config, weights, tokenizer, image processor)."""

from __future__ import annotations

from pathlib import Path

WORDS = ("a an the of on in with and photo picture dog cat cup coffee saucer rocket moon space astronaut "
         "flower pink temple woman uniform coins stars galaxies brick wall red blue green yellow circle square triangle top bottom left right").split()
PAD_ID = 1  # <s>=0 <pad>=1 </s>=2 <unk>=3, as RoBERTa numbers them
SIGLIP_TEXT_LEN = 16  # SigLIP pads every caption to this fixed length (64 in the released models)
FAMILIES = ("clip", "siglip", "siglip2", "chinese_clip", "altclip", "align")

_TEXT = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
_VISION = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=32,
               patch_size=8)


def _tokenizer(template: str, max_len: int):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single=template, special_tokens=[("<s>", 0), ("</s>", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", model_max_length=max_len), len(vocab)


def build(family: str, dest: Path) -> Path:
    """Save a tiny ``family`` model with its tokenizer and image processor in ``dest``; returns ``dest``."""
    import torch
    import transformers as tf

    if family == "clip":
        from helpers import tiny_clip_folder

        tiny_clip_folder(dest, WORDS)
        tok = tf.AutoTokenizer.from_pretrained(str(dest), model_max_length=32)  # its position embeddings
        tok.save_pretrained(dest)
        tf.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(dest)
        return dest
    torch.manual_seed(0)
    if family in ("siglip", "siglip2"):
        # SigLIP 2's fixed-resolution checkpoints are SiglipModel with a Gemma tokenizer; both pad to a fixed length
        tok, n = _tokenizer("$A </s>", SIGLIP_TEXT_LEN)
        model = tf.SiglipModel(tf.SiglipConfig(
            text_config=dict(_TEXT, vocab_size=n, max_position_embeddings=SIGLIP_TEXT_LEN, pad_token_id=PAD_ID, bos_token_id=0,
                             eos_token_id=2),
            vision_config=_VISION))
        proc = tf.SiglipImageProcessor(size={"height": 32, "width": 32})
    elif family == "chinese_clip":
        tok, n = _tokenizer("<s> $A </s>", 52)
        model = tf.ChineseCLIPModel(tf.ChineseCLIPConfig(
            text_config=dict(_TEXT, vocab_size=n, max_position_embeddings=64, pad_token_id=PAD_ID),
            vision_config=_VISION, projection_dim=24))
        proc = tf.ChineseCLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    elif family == "altclip":
        tok, n = _tokenizer("<s> $A </s>", 52)
        model = tf.AltCLIPModel(tf.AltCLIPConfig(
            text_config=dict(_TEXT, vocab_size=n, max_position_embeddings=66, pad_token_id=PAD_ID, project_dim=24),
            vision_config=_VISION, projection_dim=24))
        proc = tf.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    elif family == "align":
        tok, n = _tokenizer("<s> $A </s>", 64)
        model = tf.AlignModel(tf.AlignConfig(
            text_config=dict(_TEXT, vocab_size=n, max_position_embeddings=64, pad_token_id=PAD_ID),
            vision_config=dict(image_size=32, width_coefficient=0.1, depth_coefficient=0.1, hidden_dim=64),
            projection_dim=32))  # ALIGN projects only the text, into the image tower's width
        proc = tf.EfficientNetImageProcessor(size={"height": 32, "width": 32}, do_center_crop=False,
                                             rescale_factor=1 / 127.5, rescale_offset=True, do_normalize=False,
                                             include_top=False)
    else:
        raise ValueError(family)
    model.save_pretrained(dest)
    tok.save_pretrained(dest)
    proc.save_pretrained(dest)
    return dest


def reference_embeddings(family: str, folder: Path, images, texts):
    """transformers' own normalised get_image_features / get_text_features, used as each model card shows."""
    import torch
    import torch.nn.functional as F
    from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(folder)).eval()
    tok = AutoTokenizer.from_pretrained(str(folder))
    proc = AutoImageProcessor.from_pretrained(str(folder))

    def first(x):
        return x if isinstance(x, torch.Tensor) else x.pooler_output

    with torch.no_grad():
        pixels = proc(images=[im.convert("RGB") for im in images], return_tensors="pt")["pixel_values"]
        img = first(model.get_image_features(pixel_values=pixels))
        if family in ("siglip", "siglip2"):  # the SigLIP model card: padding="max_length", input_ids only
            enc = tok(texts, padding="max_length", truncation=True, return_tensors="pt")
            txt = first(model.get_text_features(input_ids=enc["input_ids"]))
        elif family == "align":  # AlignProcessor pads to max_length 64
            enc = tok(texts, padding="max_length", max_length=64, truncation=True, return_tensors="pt")
            txt = first(model.get_text_features(**enc))
        else:
            enc = tok(texts, padding=True, truncation=True, return_tensors="pt")
            txt = first(model.get_text_features(**enc))
    return F.normalize(img, dim=-1), F.normalize(txt, dim=-1)
