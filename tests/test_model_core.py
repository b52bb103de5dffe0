"""The CLIP model core: normalisation, loss, checkpoints, pickle refusal, families, device choice."""

import math

import pytest
import torch
import torch.nn.functional as F

from photosearch.errors import ModelError, PhotoSearchError, UnsafeCheckpointError
from photosearch.model.checkpoint import load_checkpoint, save_checkpoint
from photosearch.model.loss import ClipLoss

from helpers import tiny_clip_folder


def test_embeddings_are_l2_normalised(tiny):
    pixels = torch.randn(3, 3, 64, 64)
    tok = tiny.tokenize(["a red square", "two blue circles", "x"])
    img = tiny.encode_image(pixels)
    txt = tiny.encode_text(tok["input_ids"], tok["attention_mask"])
    assert img.shape == (3, 16) and txt.shape == (3, 16)
    assert torch.allclose(img.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(txt.norm(dim=-1), torch.ones(3), atol=1e-5)
    # and unnormalised features are not already unit length (the normalisation is doing the work)
    assert not torch.allclose(tiny.image_features(pixels).norm(dim=-1), torch.ones(3), atol=1e-2)


def test_temperature_is_learnable_initialised_and_clamped(tiny):
    assert tiny.logit_scale.requires_grad
    assert math.isclose(tiny.scale().item(), 1 / 0.07, rel_tol=1e-5)
    with torch.no_grad():
        tiny.logit_scale.fill_(10.0)
    assert tiny.scale().item() == pytest.approx(100.0)
    tiny.clamp_logit_scale()
    assert tiny.logit_scale.item() == pytest.approx(math.log(100.0))


def test_loss_matches_hand_computed_value():
    # Two orthogonal pairs: logits = s * I, so each row's CE is log(1 + e^-s) ... computed by hand below.
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    txt = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    s = torch.tensor(2.0)
    # logits = s * img @ txt.T = [[2, 1.2], [0, 1.6]]
    # image->text rows: -log softmax: row0: log(e^2+e^1.2)-2 ; row1: log(1+e^1.6)-1.6
    i2t = (math.log(math.exp(2) + math.exp(1.2)) - 2 + math.log(1 + math.exp(1.6)) - 1.6) / 2
    # text->image (columns): col0 = [2, 0] target 0; col1 = [1.2, 1.6] target 1
    t2i = (math.log(math.exp(2) + 1) - 2 + math.log(math.exp(1.2) + math.exp(1.6)) - 1.6) / 2
    assert ClipLoss()(img, txt, s).item() == pytest.approx((i2t + t2i) / 2, rel=1e-6)


def test_loss_is_symmetric_and_low_for_matching_pairs():
    torch.manual_seed(0)
    a = F.normalize(torch.randn(8, 16), dim=-1)
    b = F.normalize(torch.randn(8, 16), dim=-1)
    loss = ClipLoss()
    assert loss(a, b, torch.tensor(10.0)).item() == pytest.approx(loss(b, a, torch.tensor(10.0)).item(), rel=1e-6)
    assert loss(a, a, torch.tensor(50.0)).item() < 0.01 < loss(a, b, torch.tensor(50.0)).item()


def test_loss_does_not_push_apart_captions_of_the_same_image():
    # Rows 0 and 1 are the same image with two captions; the texts are identical too, so without the
    # mask each would be the other's hard negative and the loss could never go below log(2).
    img = F.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), dim=-1)
    txt = img.clone()
    s = torch.tensor(50.0)
    unmasked = ClipLoss()(img, txt, s).item()
    masked = ClipLoss()(img, txt, s, image_ids=torch.tensor([7, 7, 9])).item()
    assert unmasked > 0.4 and masked < 1e-6


def test_gradient_flows_to_both_towers_heads_and_temperature(tiny):
    tiny.train()
    pixels = torch.randn(4, 3, 64, 64)
    tok = tiny.tokenize(["a", "b c", "d e f", "g"])
    img, txt, scale = tiny(pixels, tok["input_ids"], tok["attention_mask"])
    ClipLoss()(img, txt, scale).backward()
    groups = tiny.param_groups()
    for name in ("image_encoder", "text_encoder", "heads"):
        grads = [p.grad for p in groups[name] if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads), name
    assert tiny.logit_scale.grad is not None and tiny.logit_scale.grad.abs() > 0


def test_checkpoint_round_trip_is_bit_identical(tiny, tmp_path):
    pixels = torch.randn(2, 3, 64, 64)
    texts = ["a dog on the grass", "a boy jumping with a skateboard"]
    before_i = tiny.embed_pixels(pixels)
    before_t = tiny.embed_texts(texts)
    folder = save_checkpoint(tiny, tmp_path / "ckpt")
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert len(tiny.config.fingerprint) == 64
    loaded = load_checkpoint(folder)
    assert loaded.config.fingerprint == tiny.config.fingerprint
    assert torch.equal(loaded.embed_pixels(pixels), before_i)
    assert torch.equal(loaded.embed_texts(texts), before_t)


def test_checkpoint_save_is_atomic_and_replaces(tiny, tmp_path):
    folder = save_checkpoint(tiny, tmp_path / "m")
    fp1 = tiny.config.fingerprint
    with torch.no_grad():
        tiny.logit_scale.add_(0.5)
    save_checkpoint(tiny, folder)
    assert tiny.config.fingerprint != fp1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "tiny-text"]  # no temp folders left behind


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


def test_pickle_with_code_is_refused(tmp_path):
    bad = tmp_path / "evil.pt"
    torch.save({"weights": torch.zeros(2), "payload": _Evil()}, bad)
    with pytest.raises(UnsafeCheckpointError, match="refusing"):
        load_checkpoint(bad)
    # also when it sits in a model folder in place of model.safetensors
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text('{"name": "m"}')
    torch.save({"x": _Evil()}, folder / "model.bin")
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(folder)


def test_plain_tensor_pickle_loads_inside_a_model_folder(tiny, tmp_path):
    folder = save_checkpoint(tiny, tmp_path / "m")
    sd = {k: v.clone() for k, v in tiny.state_dict().items()}
    (folder / "model.safetensors").unlink()
    torch.save(sd, folder / "model.pth")
    loaded = load_checkpoint(folder)
    x = torch.randn(1, 3, 64, 64)
    assert torch.equal(loaded.embed_pixels(x), tiny.embed_pixels(x))
    # a bare weights file is accepted as safe but needs its config
    with pytest.raises(ModelError, match="config"):
        load_checkpoint(folder / "model.pth")


def test_damaged_checkpoint_is_a_clear_error(tiny, tmp_path):
    folder = save_checkpoint(tiny, tmp_path / "m")
    w = folder / "model.safetensors"
    w.write_bytes(w.read_bytes()[:1000])
    with pytest.raises(ModelError):
        load_checkpoint(folder)


def test_cls_and_mean_pooling_differ(tmp_path):
    from helpers import tiny_model

    a = tiny_model(tmp_path, pooling="cls")
    b = tiny_model(tmp_path, pooling="mean")
    tok = a.tokenize(["a long caption with several words"])
    assert not torch.allclose(a.text_encoder(**tok), b.text_encoder(**tok))


def test_hf_clip_family_loads_from_a_local_folder(tmp_path):
    from transformers import CLIPModel

    from photosearch.model.checkpoint import build_model
    from photosearch.model.config import FAMILY_HF_CLIP, ModelConfig

    src = tiny_clip_folder(tmp_path / "tiny-clip")
    model = build_model(ModelConfig(name="tinyclip", family=FAMILY_HF_CLIP, hf_clip_name=str(src))).eval()
    assert model.embed_dim == 24 and model.config.preprocess.input_size == 32
    t = model.embed_texts(["a dog", "a cat"])
    i = model.embed_pixels(torch.randn(2, 3, 32, 32))
    assert t.shape == (2, 24) and i.shape == (2, 24)
    assert torch.allclose(t.norm(dim=-1), torch.ones(2), atol=1e-5)
    # the loaded weights are the folder's, not random: same features as transformers' own model
    ref = CLIPModel.from_pretrained(str(src)).eval()
    with torch.no_grad():
        tok = model.tokenize(["a dog"])
        out = ref.get_text_features(**tok)
        out = out if isinstance(out, torch.Tensor) else out.pooler_output
    assert torch.allclose(F.normalize(out, dim=-1), model.embed_texts(["a dog"]), atol=1e-5)
    # and it round-trips through our checkpoint format, offline (same tensors; SDPA kernels may pick a
    # different summation order for freshly allocated weights, hence 1e-6 rather than bit equality here)
    folder = save_checkpoint(model, tmp_path / "ck")
    again = load_checkpoint(folder)
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in model.state_dict().items())
    assert torch.allclose(again.embed_texts(["a dog"]), model.embed_texts(["a dog"]), atol=1e-6)


def test_missing_local_model_is_a_model_error(tmp_path):
    from photosearch.model.checkpoint import build_model
    from photosearch.model.config import FAMILY_HF_CLIP, ModelConfig

    with pytest.raises(ModelError):
        build_model(ModelConfig(name="x", family=FAMILY_HF_CLIP, hf_clip_name=str(tmp_path / "nope")))


def test_device_choice():
    from photosearch.device import resolve_device

    assert resolve_device("auto").type in ("cuda", "mps", "cpu")
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(PhotoSearchError):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(PhotoSearchError, match="not available"):
            resolve_device("cuda")


def test_hub_model_downloads_through_the_real_code_from_a_local_hub(tmp_path):
    """`clip-vit-b32` is fetched by transformers/huggingface_hub from a hub server on 127.0.0.1 (HF_ENDPOINT),
    stored in the model store, and then works offline with the server gone."""
    import json
    import subprocess
    import sys

    from helpers import cli_env
    from hubserver import HubServer

    src = tiny_clip_folder(tmp_path / "tiny-clip")
    env = cli_env(tmp_path / "home")
    env.update(HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="0")
    cmd = [sys.executable, "-m", "photosearch", "embed-text", "a dog", "--model", "clip-vit-b32", "--json"]
    with HubServer({"openai/clip-vit-base-patch32": src}) as hub:
        env["HF_ENDPOINT"] = hub.url
        first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stderr
        assert any("model.safetensors" in r for r in hub.requests)
    vec = json.loads(first.stdout)[0]["embedding"]
    assert len(vec) == 24
    env.update(HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9")  # server gone, offline
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)[0]["embedding"] == vec
    models = json.loads(subprocess.run([sys.executable, "-m", "photosearch", "models", "--json"], env=env,
                                       capture_output=True, text=True, check=True).stdout)
    assert next(m for m in models if m["name"] == "clip-vit-b32")["offline_ready"]


def test_a_model_used_for_inference_can_still_be_trained(tiny):
    tiny.embed_pixels(torch.randn(2, 3, 64, 64))  # converts to channels-last on first use
    tiny.embed_texts(["warm up"])
    tiny.train()
    tok = tiny.tokenize(["a", "b"])
    img, txt, scale = tiny(torch.randn(2, 3, 64, 64), tok["input_ids"], tok["attention_mask"])
    ClipLoss()(img, txt, scale).backward()
    assert all(p.grad is not None for p in tiny.param_groups()["heads"])
