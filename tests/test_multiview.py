"""Multi-view image towers (the starter's whole + centre views, issue #11 section 2): the class_prompt head
averages the views' logits, the view config survives a checkpoint, squash preprocessing keeps the whole
photo, and the graph exports to ONNX with parity."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from photosearch.errors import ModelError
from photosearch.model.config import HeadConfig


def _multiview_model(tmp_path, views=("whole", "centre"), seed=0):
    """A tiny random-weight DualEncoder with a class_prompt head over two views of a squashed 72 px input."""
    from helpers import tiny_config

    from photosearch.model.dual import DualEncoder

    cfg = tiny_config(tmp_path)
    cfg.image.views, cfg.image.view_size, cfg.image.view_crop = list(views), 64, 64 / 72
    cfg.image_head = HeadConfig(kind="class_prompt", num_classes=1000, temperature=2.0)  # test_efficientnet: 1000
    cfg.preprocess.input_size, cfg.preprocess.crop_mode = 72, "squash"
    torch.manual_seed(seed)
    return DualEncoder(cfg, load_pretrained=False).eval()


def test_multiview_head_is_the_mean_of_the_views_logits(tmp_path):
    m = _multiview_model(tmp_path)
    torch.manual_seed(1)
    x = torch.randn(3, 3, 72, 72)
    net, head = m.image_encoder.model, m.image_projection
    with torch.no_grad():
        head.classifier.weight.mul_(100)  # random weights give near-uniform softmaxes: make the views count
        whole = F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False)
        centre = x[:, :, 4:68, 4:68]  # 64 of 72, centred
        logits = (head.classifier(net(whole)) + head.classifier(net(centre))) / 2
        expected = F.normalize(head.prompts((logits / 2.0).softmax(-1)), dim=-1)
        got = m.encode_image(x)
        # the views differ, so the average is not either view alone
        only_centre = F.normalize(head.prompts((head.classifier(net(centre)) / 2.0).softmax(-1)), dim=-1)
    assert m.image_encoder.num_features == 2 * m.image_encoder.view_features
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(got, only_centre, atol=1e-3)
    # training's cached-features path (tower features -> head) gives the same vectors
    with torch.no_grad():
        assert torch.allclose(F.normalize(m.project_image(m.image_tower_features(x)), dim=-1), got, atol=1e-5)


def test_view_config_survives_a_checkpoint_round_trip(tmp_path):
    from photosearch.model.checkpoint import load_checkpoint, save_checkpoint

    m = _multiview_model(tmp_path)
    save_checkpoint(m, tmp_path / "ckpt")
    back = load_checkpoint(tmp_path / "ckpt")
    assert back.config.image.views == ["whole", "centre"]
    assert back.config.image.view_size == 64 and back.config.image.view_crop == pytest.approx(64 / 72)
    assert back.config.preprocess.crop_mode == "squash" and back.config.preprocess.input_size == 72
    x = torch.randn(2, 3, 72, 72)
    with torch.no_grad():
        assert torch.allclose(back.encode_image(x), m.encode_image(x), atol=1e-6)


def test_unknown_view_is_refused(tmp_path):
    with pytest.raises(ModelError, match="view"):
        _multiview_model(tmp_path, views=("whole", "corner"))


def test_squash_preprocessing_keeps_the_whole_photo(tmp_path):
    """A wide photo, red on its left fifth: squashed, the left columns of the tensor are red; the centre crop of
    the same photo (crop_mode "center") has cut the red away."""
    from PIL import Image

    from photosearch.model.config import PreprocessConfig
    from photosearch.model.preprocess import eval_transform

    im = Image.new("RGB", (500, 200), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 100, 200))
    sq = eval_transform(PreprocessConfig(input_size=64, crop_pct=1.0, crop_mode="squash"))(im)
    cc = eval_transform(PreprocessConfig(input_size=64, crop_pct=1.0))(im)
    assert sq.shape == cc.shape == (3, 64, 64)
    assert sq[0, :, :8].mean() > 1.5 and sq[2, :, :8].mean() < 0  # red (normalised) at the left edge
    assert cc[0, :, :8].mean() < 0  # blue: the centre crop lost the red fifth


def test_multiview_model_exports_to_onnx_with_parity(tmp_path, captioned_photos):
    from PIL import Image

    from photosearch.model.onnx_backend import MIN_COSINE, attach_backend

    m = _multiview_model(tmp_path)
    images = [Image.open(p).convert("RGB") for p, _ in captioned_photos[:6]]
    ref = m.embed_pil(images)
    assert attach_backend(m, "onnx", tmp_path / "onnx")["image"] == "onnx"
    got = m.embed_pil(images)
    assert float((ref * got).sum(-1).min()) >= MIN_COSINE
