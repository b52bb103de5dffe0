"""Every transformers dual-encoder family, downloaded through the app from a hub on 127.0.0.1, embeds texts
and real photos exactly as transformers' own get_text_features / get_image_features (normalised) do."""

import threading

import pytest
import torch

from photosearch.errors import DownloadError, ModelError
from photosearch.model.download import download_model
from photosearch.model.store import ModelStore
from photosearch.paths import app_paths

from hubserver import HubServer
from tiny_families import FAMILIES, build, reference_embeddings

# Families served under their catalog entry's hub id go through the catalog name; the rest by hub id.
CATALOG_NAME = {"clip": "clip-vit-b32", "siglip": "siglip-b16-224", "siglip2": "siglip2-b16-224"}


@pytest.fixture
def online(monkeypatch):
    """The tests' default is offline; these talk to the local hub server only."""
    import huggingface_hub.constants as hc

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", False)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    from PIL import Image

    from helpers import real_photos

    pairs = real_photos(tmp_path_factory.mktemp("photos"), include_mate=False)[:6]
    return [Image.open(p) for p, _ in pairs], [c for _, c in pairs] + ["a dog on the moon"]


def _source(family: str) -> tuple[str, str]:
    from photosearch.model.catalog import catalog_entry

    if family in CATALOG_NAME:
        return CATALOG_NAME[family], catalog_entry(CATALOG_NAME[family]).hub_repo
    return f"tiny/{family}", f"tiny/{family}"


@pytest.mark.parametrize("family", FAMILIES)
def test_family_downloads_and_embeds_like_transformers(family, photos, tmp_path, home, online, monkeypatch):
    images, texts = photos
    src = build(family, tmp_path / family)
    name, repo = _source(family)
    store = ModelStore(app_paths(home))
    with HubServer({repo: src}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        events = list(download_model(store, name))
    assert [e.phase for e in events][-2:] == ["install", "done"]
    assert events[-1].done_bytes == events[-1].total_bytes > 0
    stored = events[-1].name
    assert not (store.paths.downloads / stored).exists()  # staging removed
    model = store.load(stored, device="cpu")  # from the store, with the server gone
    ref_img, ref_txt = reference_embeddings(family, src, images, texts)
    assert torch.allclose(model.embed_pil(images), ref_img, atol=1e-5)
    assert torch.allclose(model.embed_texts(texts), ref_txt, atol=1e-5)
    # scores use the family's own scale (and SigLIP's bias), as transformers' forward computes them
    with torch.no_grad():
        cos = ref_txt[:1] @ ref_img[:1].t()
        assert torch.allclose(model.match_logits(cos), _reference_logit(family, src, cos), atol=1e-4)


def _reference_logit(family, src, cos):
    from transformers import AutoModel

    m = AutoModel.from_pretrained(str(src))
    if family == "align":
        return cos / m.temperature
    return cos * m.logit_scale.exp() + (m.logit_bias if family in ("siglip", "siglip2") else 0)


def test_siglip_text_must_be_padded_to_its_fixed_length(tmp_path, photos):
    """The rule that makes SigLIP's parity hold: padded to the longest caption, its text vectors change."""
    from photosearch.model.config import FAMILY_HF_CLIP, ModelConfig
    from photosearch.model.factory import build_model

    _, texts = photos
    src = build("siglip", tmp_path / "siglip")
    model = build_model(ModelConfig(name="s", family=FAMILY_HF_CLIP, hf_clip_name=str(src))).eval()
    ours = model.embed_texts(texts)
    enc = model.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        longest = torch.nn.functional.normalize(model.text_features(enc["input_ids"], enc["attention_mask"]), dim=-1)
    assert not torch.allclose(ours, longest, atol=1e-3)


def test_naflex_siglip2_is_refused_with_a_clear_error(tmp_path):
    import transformers as tf

    from photosearch.model.config import FAMILY_HF_CLIP, ModelConfig
    from photosearch.model.factory import build_model

    cfg = tf.Siglip2Config(text_config=dict(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                            num_attention_heads=2),
                           vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                              num_attention_heads=2))
    tf.Siglip2Model(cfg).save_pretrained(tmp_path / "naflex")
    with pytest.raises(ModelError, match="siglip2.*not a supported"):
        build_model(ModelConfig(name="n", family=FAMILY_HF_CLIP, hf_clip_name=str(tmp_path / "naflex")))


def test_cancelled_download_resumes_with_a_range_request(tmp_path, home, online, monkeypatch):
    src = build("siglip", tmp_path / "siglip")
    store = ModelStore(app_paths(home))
    cancel = threading.Event()
    with HubServer({"tiny/siglip": src}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setattr("photosearch.model.download.CHUNK", 16 * 1024)
        phases = []
        for ev in download_model(store, "tiny/siglip", cancel):
            phases.append(ev.phase)
            if ev.phase == "download" and ev.file == "model.safetensors" and ev.done_bytes > 0:
                cancel.set()
        assert phases[-1] == "cancelled"
        part = store.paths.downloads / "tiny--siglip" / "model.safetensors.incomplete"
        assert part.is_file() and 0 < part.stat().st_size
        assert "tiny--siglip" not in store.installed()
        events = list(download_model(store, "tiny/siglip"))
    assert events[-1].phase == "done" and "tiny--siglip" in store.installed()
    assert any("model.safetensors range=bytes=" in r for r in hub.requests)
    assert store.load("tiny--siglip", device="cpu").embed_dim == 32


def test_download_refuses_early_without_disk_space_or_network(tmp_path, home, online, monkeypatch):
    import time

    src = build("clip", tmp_path / "clip")
    store = ModelStore(app_paths(home))
    with HubServer({"openai/clip-vit-base-patch32": src}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setattr("photosearch.model.download._free_bytes", lambda path: 1000)
        with pytest.raises(DownloadError, match="not enough disk space for clip-vit-b32"):
            list(download_model(store, "clip-vit-b32"))
        assert not any("/resolve/" in r for r in hub.requests)  # checked before any file
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    t = time.monotonic()
    with pytest.raises(DownloadError, match="cannot reach the model hub"):
        list(download_model(store, "clip-vit-b32"))
    assert time.monotonic() - t < 10
    with pytest.raises(ModelError, match="not downloaded from the hub"):
        list(download_model(store, "starter"))


@pytest.mark.parametrize("family", ["siglip", "align"])
@pytest.mark.parametrize("freeze", [False, True])
def test_non_clip_families_fine_tune(family, freeze, tmp_path, home):
    """A tiny fine-tuning run from SigLIP (sigmoid family, heads inside its towers) and ALIGN (EfficientNet
    image tower with BatchNorm): it trains, saves, and the saved model is the trained one."""
    from photosearch.model.config import FAMILY_HF_CLIP, ModelConfig
    from photosearch.model.factory import build_model
    from photosearch.train import TrainOptions, train_to_end
    from photosearch.train.synthetic import make_shapes_dataset
    from photosearch.train.trainer import weights_digest

    shapes = make_shapes_dataset(tmp_path / "shapes", n_images=24)
    paths = app_paths(home).ensure()
    src = build(family, tmp_path / family)
    model = build_model(ModelConfig(name=family, family=FAMILY_HF_CLIP, hf_clip_name=str(src))).eval()
    base = str(ModelStore(paths).save(model, f"base-{family}"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = train_to_end(TrainOptions(str(shapes), base=base, name=f"ft-{family}", epochs=1, batch_size=8,
                                    num_workers=0, freeze_encoders=freeze, zero_shot=False, head_lr=1e-2,
                                    image_lr=1e-3, text_lr=1e-3), paths)
    tuned = ModelStore(paths).load(f"ft-{family}", device="cpu")
    assert weights_digest(tuned) == res.weights_digest and tuned.model_type == model.model_type
    after = tuned.state_dict()
    changed = {k for k in after if not torch.equal(before[k], after[k])}
    groups = tuned.param_groups()
    names = {id(p): n for n, p in tuned.named_parameters()}
    towers = {names[id(p)] for p in groups["image_encoder"] + groups["text_encoder"]}
    assert changed - towers  # the heads (or the temperature) learnt
    assert bool(changed & towers) == (not freeze)
