"""Caption data sets in the Flickr8k layout: loading, validation, and the torch datasets training uses.

Two layouts are accepted:

- the Karpathy split JSON (``dataset_flickr8k.json``: ``images[]`` with ``filename``, ``split``
  train/val/test (``restval`` counts as train), ``sentids`` and ``sentences[].raw``);
- the original distribution: ``Flickr8k.token.txt`` (``name.jpg#k<TAB>caption``) beside the split lists
  ``Flickr_8k.trainImages.txt`` / ``devImages`` / ``testImages``.

Images live in ``Flicker8k_Dataset/`` (the original spelling), ``Flickr8k_Dataset/``, ``images/`` or the data
folder itself. Everything is checked when the set is loaded, so a bad set fails with one message that counts
its problems instead of a traceback in the middle of an epoch.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from photosearch.errors import DatasetError

KARPATHY_JSON = "dataset_flickr8k.json"
TOKEN_FILE = "Flickr8k.token.txt"
SPLIT_LISTS = {"train": "Flickr_8k.trainImages.txt", "val": "Flickr_8k.devImages.txt",
               "test": "Flickr_8k.testImages.txt"}
IMAGE_DIRS = ("Flicker8k_Dataset", "Flickr8k_Dataset", "images", "Images")
SPLITS = ("train", "val", "test")
_SPLIT_ALIASES = {"train": "train", "restval": "train", "val": "val", "dev": "val", "test": "test"}
_EXAMPLES = 3  # problem examples quoted in an error message


@dataclass
class CaptionedImage:
    filename: str  # as written in the captions file, relative to the image folder
    path: Path
    split: str  # train | val | test
    captions: list[str]
    sentids: list[int] = field(default_factory=list)  # caption ids from the Karpathy JSON (empty otherwise)


@dataclass
class CaptionSet:
    images: list[CaptionedImage]
    image_dir: Path
    captions_file: Path
    fingerprint: str  # sha256 over (filename, split, captions): which data a model was trained on
    notes: list[str] = field(default_factory=list)  # harmless oddities worth telling the user

    def split(self, name: str, max_images: int | None = None) -> list[CaptionedImage]:
        if name not in SPLITS:
            raise DatasetError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
        items = [im for im in self.images if im.split == name]
        return items[:max_images] if max_images else items

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for im in self.images if im.split == s) for s in SPLITS}


def find_image_dir(data_dir: Path) -> Path:
    for name in IMAGE_DIRS:
        if (data_dir / name).is_dir():
            return data_dir / name
    return data_dir


def find_captions_file(data_dir: Path) -> Path:
    for rel in (KARPATHY_JSON, TOKEN_FILE, f"Flickr8k_text/{TOKEN_FILE}", f"Flickr8k_text/{KARPATHY_JSON}"):
        if (data_dir / rel).is_file():
            return data_dir / rel
    raise DatasetError(f"no captions in {data_dir}: expected {KARPATHY_JSON} (Karpathy splits) or {TOKEN_FILE} "
                       f"with the split lists; pass --captions FILE if it lives elsewhere")


def load_captions(data_dir: str | Path, captions: str | Path | None = None, *,
                  check_images: bool = True) -> CaptionSet:
    """Read and validate a caption data set. Raises :class:`DatasetError` naming every kind of problem with
    its count (missing images, empty captions, unknown splits, duplicates), never a partial set."""
    data_dir = Path(data_dir).expanduser()
    if not data_dir.is_dir():
        raise DatasetError(f"data folder not found: {data_dir}")
    cap_file = Path(captions).expanduser() if captions else find_captions_file(data_dir)
    if not cap_file.is_file():
        raise DatasetError(f"captions file not found: {cap_file}")
    image_dir = find_image_dir(data_dir)
    notes: list[str] = []
    if cap_file.suffix.lower() == ".json":
        raw = _read_karpathy(cap_file)
    else:
        raw = _read_token_file(cap_file, notes)

    problems: dict[str, list[str]] = {}

    def note(kind: str, example: str) -> None:
        problems.setdefault(kind, []).append(example)

    images: list[CaptionedImage] = []
    seen: set[str] = set()
    for filename, split, caps, sentids in raw:
        if not filename:
            note("entries without a file name", "(blank)")
            continue
        if filename in seen:
            note("duplicate images", filename)
            continue
        seen.add(filename)
        canon = _SPLIT_ALIASES.get(str(split).lower())
        if canon is None:
            note("images with an unknown split", f"{filename} ({split!r})")
            continue
        clean = [c.strip() for c in caps if isinstance(c, str)]
        if not clean or any(not c for c in clean):
            note("images with an empty caption", filename)
            continue
        path = image_dir / filename
        if check_images and not path.is_file():
            note("missing images", filename)
            continue
        images.append(CaptionedImage(filename, path, canon, clean, list(sentids)))
    if problems:
        parts = [f"{len(v)} {k} (e.g. {', '.join(v[:_EXAMPLES])})" for k, v in problems.items()]
        raise DatasetError(f"{cap_file.name} in {data_dir} has problems: " + "; ".join(parts)
                           + f" [image folder: {image_dir}]")
    if not images:
        raise DatasetError(f"{cap_file} lists no images")
    h = hashlib.sha256()
    for im in images:
        h.update(json.dumps([im.filename, im.split, im.captions]).encode())
    return CaptionSet(images, image_dir, cap_file, h.hexdigest(), notes)


def _read_karpathy(path: Path) -> list[tuple[str, str, list[str], list[int]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"{path} is not readable JSON: {e}") from None
    entries = doc.get("images") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise DatasetError(f"{path} is not a Karpathy split file: no 'images' list")
    out = []
    for e in entries:
        if not isinstance(e, dict):
            out.append(("", "", [], []))
            continue
        sents = e.get("sentences") or []
        caps = [s.get("raw", "") if isinstance(s, dict) else "" for s in sents]
        out.append((str(e.get("filename") or ""), str(e.get("split", "")), caps, list(e.get("sentids") or [])))
    return out


def _read_token_file(path: Path, notes: list[str]) -> list[tuple[str, str, list[str], list[int]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path} is not readable: {e}") from None
    caps: dict[str, list[str]] = {}
    bad = 0
    for line in lines:
        if not line.strip():
            continue
        key, sep, text = line.partition("\t")
        if not sep or "#" not in key:
            bad += 1
            continue
        caps.setdefault(key.rsplit("#", 1)[0], []).append(text)
    if bad:
        raise DatasetError(f"{path}: {bad} lines are not 'image.jpg#N<TAB>caption'")
    split_of: dict[str, str] = {}
    for split, name in SPLIT_LISTS.items():
        lst = path.parent / name
        if not lst.is_file():
            raise DatasetError(f"{path.name} needs the split lists beside it; {name} is missing in {path.parent}")
        for fn in lst.read_text(encoding="utf-8").split():
            split_of[fn] = split
    # The original distribution captions ~90 images that are in no split list, and lists one image whose
    # captions are filed under a misspelt name: both are left out with a note, as every Flickr8k loader does.
    unlisted = sum(1 for fn in caps if fn not in split_of)
    uncaptioned = [fn for fn in split_of if fn not in caps]
    if unlisted:
        notes.append(f"{unlisted} captioned images are in no split list and are not used")
    if uncaptioned:
        notes.append(f"{len(uncaptioned)} listed images have no captions and are not used "
                     f"(e.g. {', '.join(uncaptioned[:_EXAMPLES])})")
    return [(fn, split_of[fn], cs, []) for fn, cs in caps.items() if fn in split_of]


# -- torch side -------------------------------------------------------------------------------------------

def sample_seed(seed: int, epoch: int, index: int) -> int:
    """Per-sample seed: augmentation and caption choice depend only on (seed, epoch, image), not on worker
    count or on how far a run got before it was resumed."""
    return (seed * 1_000_003 + epoch * 7_919 + index * 104_729 + 17) % (2 ** 31 - 1)


def load_for_model(path: Path, input_size: int):
    """Decode one image; a file that cannot be decoded is a clear :class:`DatasetError`, not a traceback."""
    from photosearch.imageio import ImageSkip, load_image

    try:
        return load_image(path, min_side=input_size)[0]
    except ImageSkip as e:
        raise DatasetError(f"{path}: {e.reason}") from None


def clean_loader_error(e: DatasetError) -> DatasetError:
    """A DatasetError re-raised from a DataLoader worker carries the worker's traceback in its message; keep
    the one line meant for the user."""
    msg = str(e)
    if "Traceback" not in msg:
        return e
    last = [ln for ln in msg.strip().splitlines() if ln.strip()][-1]
    return DatasetError(last.split("DatasetError: ", 1)[-1].strip())


class TrainPairs:
    """(pixels, caption, image index) with one random caption per image, drawn per epoch (the tutorial's)."""

    def __init__(self, items: list[CaptionedImage], transform, input_size: int, seed: int):
        self.items, self.transform, self.input_size, self.seed = items, transform, input_size, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        import torch

        item = self.items[index]
        s = sample_seed(self.seed, self.epoch, index)
        caption = item.captions[random.Random(s).randrange(len(item.captions))]
        img = load_for_model(item.path, self.input_size)
        # timm's random crop draws from `random`, the flip from torch: seed both for this sample and put the
        # global generators back, so dropout's stream in the training loop is untouched.
        py_state, torch_state = random.getstate(), torch.get_rng_state()
        try:
            random.seed(s)
            torch.manual_seed(s)
            pixels = self.transform(img)
        finally:
            random.setstate(py_state)
            torch.set_rng_state(torch_state)
        return pixels, caption, index


class EvalImages:
    """Images only, deterministic transform: for evaluation and for the frozen-encoder feature cache."""

    def __init__(self, items: list[CaptionedImage], transform, input_size: int):
        self.items, self.transform, self.input_size = items, transform, input_size

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        return self.transform(load_for_model(self.items[index].path, self.input_size)), index


def collate_pairs(batch):
    import torch

    pixels, captions, idx = zip(*batch)
    return torch.stack(pixels), list(captions), torch.tensor(idx)


def collate_images(batch):
    import torch

    pixels, idx = zip(*batch)
    return torch.stack(pixels), torch.tensor(idx)


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int, drop_last: bool = True) -> list[list[int]]:
    """The epoch's shuffled batches, a pure function of (seed, epoch): a resumed run replays them exactly."""
    import torch

    g = torch.Generator().manual_seed(sample_seed(seed, epoch, 0))
    perm = torch.randperm(n, generator=g).tolist()
    stop = n - n % batch_size if drop_last and n >= batch_size else n
    return [perm[i:i + batch_size] for i in range(0, stop, batch_size)]
