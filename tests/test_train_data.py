"""Caption data sets: both Flickr8k layouts, validation messages, sampling, and the recall computation."""

import json
import shutil

import pytest
import torch
import torch.nn.functional as F

from photosearch.errors import DatasetError
from photosearch.train import load_captions, recall_at_k
from photosearch.train.data import TrainPairs, epoch_batches
from photosearch.train.synthetic import make_shapes_dataset


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes_dataset(tmp_path_factory.mktemp("shapes"), n_images=40)


def copy_set(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_karpathy_json_loads_with_splits_and_five_captions(shapes):
    data = load_captions(shapes)
    assert data.image_dir.name == "Flicker8k_Dataset"
    assert data.counts() == {"train": 24, "val": 8, "test": 8}
    for im in data.images:
        assert len(im.captions) == 5 and len(set(im.captions)) >= 4 and im.path.is_file()
    assert len(data.split("train", max_images=5)) == 5
    assert len(data.fingerprint) == 64 and load_captions(shapes).fingerprint == data.fingerprint


def test_original_token_file_and_split_lists(shapes, tmp_path):
    ds = copy_set(shapes, tmp_path / "orig")
    doc = json.loads((ds / "dataset_flickr8k.json").read_text())
    (ds / "dataset_flickr8k.json").unlink()
    lines, lists = [], {"train": [], "val": [], "test": []}
    for e in doc["images"]:
        lines += [f"{e['filename']}#{k}\t{s['raw']}" for k, s in enumerate(e["sentences"])]
        lists[e["split"]].append(e["filename"])
    lines.append("9999_unlisted.jpg#0\tan image in no split list")  # as in the real distribution
    (ds / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")
    for split, name in (("train", "trainImages"), ("val", "devImages"), ("test", "testImages")):
        (ds / f"Flickr_8k.{name}.txt").write_text("\n".join(lists[split]) + "\n")
    data = load_captions(ds)
    assert data.counts() == {"train": 24, "val": 8, "test": 8}
    assert any("no split list" in n for n in data.notes)
    ref = {im.filename: im.captions for im in load_captions(shapes).images}
    assert {im.filename: im.captions for im in data.images} == ref
    (ds / "Flickr_8k.devImages.txt").unlink()
    with pytest.raises(DatasetError, match="Flickr_8k.devImages.txt is missing"):
        load_captions(ds)


def test_bad_data_set_gets_one_message_with_counts(shapes, tmp_path):
    ds = copy_set(shapes, tmp_path / "bad")
    doc = json.loads((ds / "dataset_flickr8k.json").read_text())
    imgs = doc["images"]
    for e in imgs[:3]:
        (ds / "Flicker8k_Dataset" / e["filename"]).unlink()
    imgs[5]["sentences"][2]["raw"] = "   "
    imgs[6]["sentences"] = []
    imgs[7]["split"] = "holdout"
    (ds / "dataset_flickr8k.json").write_text(json.dumps(doc))
    with pytest.raises(DatasetError) as e:
        load_captions(ds)
    msg = str(e.value)
    assert "\n" not in msg
    assert "3 missing images" in msg and imgs[0]["filename"] in msg
    assert "2 images with an empty caption" in msg
    assert "1 images with an unknown split" in msg and "holdout" in msg


@pytest.mark.parametrize("content,match", [
    ("{not json", "not readable JSON"),
    ('{"annotations": []}', "no 'images' list"),
    ('{"images": []}', "lists no images"),
])
def test_malformed_captions_file(tmp_path, content, match):
    (tmp_path / "dataset_flickr8k.json").write_text(content)
    with pytest.raises(DatasetError, match=match):
        load_captions(tmp_path)


def test_missing_folder_or_captions(tmp_path):
    with pytest.raises(DatasetError, match="data folder not found"):
        load_captions(tmp_path / "nope")
    with pytest.raises(DatasetError, match="no captions in"):
        load_captions(tmp_path)


def test_training_samples_one_caption_per_image_reproducibly(shapes):
    items = load_captions(shapes).split("train")
    tf = lambda im: torch.from_numpy(__import__("numpy").asarray(im, dtype="float32"))  # noqa: E731
    a = TrainPairs(items, tf, 64, seed=1)
    picks = {}
    for epoch in range(6):
        a.epoch = epoch
        for i in range(len(a)):
            _, cap, idx = a[i]
            assert idx == i and cap in items[i].captions
            picks.setdefault(i, set()).add(cap)
    assert sum(len(v) > 1 for v in picks.values()) > len(items) // 2  # captions vary across epochs
    b = TrainPairs(items, tf, 64, seed=1)
    b.epoch = 5
    assert [b[i][1] for i in range(len(b))] == [a[i][1] for i in range(len(a))]
    # Batches are a pure function of (seed, epoch), cover each image at most once, and change per epoch.
    e0 = epoch_batches(24, 8, seed=1, epoch=0)
    assert e0 == epoch_batches(24, 8, seed=1, epoch=0) != epoch_batches(24, 8, seed=1, epoch=1)
    assert sorted(i for b in e0 for i in b) == list(range(24))


def test_augmentation_is_seeded_per_sample_and_leaves_global_rng_alone(shapes):
    from helpers import tiny_model

    items = load_captions(shapes).split("train")
    tf = tiny_model(shapes.parent).train_transform()
    ds = TrainPairs(items, tf, 64, seed=3)
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    x1 = ds[0][0]
    after = torch.rand(1)
    assert torch.equal(before, after)
    assert torch.equal(x1, ds[0][0])
    ds.epoch = 1
    assert not torch.equal(x1, ds[0][0])  # a different crop/flip next epoch


def test_recall_perfect_random_and_collapsed():
    torch.manual_seed(0)
    img = F.normalize(torch.randn(20, 8), dim=-1)
    owner = torch.arange(20).repeat_interleave(5)
    txt = img[owner]
    perfect = recall_at_k(img, txt, owner)
    assert perfect["text_to_image"] == {"R@1": 100.0, "R@5": 100.0, "R@10": 100.0}
    assert perfect["image_to_text"]["R@1"] == 100.0
    collapsed = recall_at_k(torch.ones(20, 8) / 8 ** 0.5, torch.ones(100, 8) / 8 ** 0.5, owner)
    assert collapsed["text_to_image"]["R@10"] == 0.0 and collapsed["image_to_text"]["R@10"] == 0.0
    rand = recall_at_k(img, F.normalize(torch.randn(100, 8), dim=-1), owner)
    assert rand["text_to_image"]["R@1"] < 20 and rand["text_to_image"]["R@10"] > 20


def test_recall_counts_ranks_by_hand():
    # Image 0 has a poor caption (closer to image 1) and an exact one; image 1 has an exact one.
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    txt = torch.tensor([[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]])
    owner = torch.tensor([0, 0, 1])
    r = recall_at_k(img, txt, owner, ks=(1, 2))
    # text->image: the poor caption ranks its image second -> 2 of 3 hits at 1, all at 2.
    assert r["text_to_image"] == {"R@1": pytest.approx(66.67), "R@2": 100.0}
    # image->text: image 0 hits because ANY of its captions (the exact one) is first.
    assert r["image_to_text"] == {"R@1": 100.0, "R@2": 100.0}
    # Each image's own caption ranks second behind the other image's caption: no hit at 1, all at 2.
    r2 = recall_at_k(img, torch.tensor([[0.6, 0.8], [0.8, 0.6]]), torch.tensor([0, 1]), ks=(1, 2))
    assert r2["image_to_text"] == {"R@1": 0.0, "R@2": 100.0}


@pytest.mark.parametrize("workers", [0, 1])
def test_damaged_image_mid_run_is_one_clear_line(shapes, tmp_path, workers):
    from helpers import tiny_model

    from photosearch.train import evaluate

    ds = copy_set(shapes, tmp_path / "dmg")
    victim = load_captions(ds).split("test")[2].path
    victim.write_bytes(victim.read_bytes()[:200])  # a truncated JPEG: exists, so it passes the load check
    with pytest.raises(DatasetError) as e:
        evaluate(tiny_model(tmp_path), ds, split="test", num_workers=workers)
    msg = str(e.value)
    assert victim.name in msg and ("truncated" in msg or "damaged" in msg) and "\n" not in msg
