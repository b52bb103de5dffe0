"""Retrieval recall the standard way (Karpathy splits): Recall@1/5/10, text->image and image->text.

Text->image: each caption is a query; a hit if its own image ranks within K among all split images.
Image->text: each image is a query; a hit if any of its (five) captions ranks within K among all captions.
Ties count against the query (a collapsed model that scores everything alike gets 0, not 100).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Sequence

from photosearch.errors import DatasetError
from photosearch.train.data import CaptionedImage, EvalImages, clean_loader_error, collate_images, load_captions

KS = (1, 5, 10)


def recall_at_k(image_emb, text_emb, text_owner, ks: Sequence[int] = KS, chunk: int = 1024) -> dict:
    """``image_emb`` (N, D), ``text_emb`` (C, D) normalised; ``text_owner`` (C,) the image index of each
    caption. Returns the eval object's two recall dicts in percent."""
    import torch

    img = image_emb.float().cpu()
    txt = text_emb.float().cpu()
    owner = torch.as_tensor(text_owner, dtype=torch.long).cpu()
    n, c = img.shape[0], txt.shape[0]
    t2i_rank = torch.empty(c, dtype=torch.long)
    for s in range(0, c, chunk):
        sim = txt[s:s + chunk] @ img.t()  # (b, N)
        own = sim.gather(1, owner[s:s + chunk, None])  # (b, 1)
        t2i_rank[s:s + chunk] = (sim >= own).sum(1) - 1  # other images scoring at least as high
    i2t_rank = torch.empty(n, dtype=torch.long)
    for s in range(0, n, chunk):
        sim = img[s:s + chunk] @ txt.t()  # (b, C)
        mine = owner[None, :] == torch.arange(s, min(s + chunk, n))[:, None]  # (b, C)
        best = sim.masked_fill(~mine, float("-inf")).max(1, keepdim=True).values  # best own caption
        i2t_rank[s:s + chunk] = ((sim >= best) & ~mine).sum(1)  # foreign captions at least as high
    pct = lambda r, k: round(100.0 * (r < k).float().mean().item(), 2) if r.numel() else 0.0  # noqa: E731
    return {"text_to_image": {f"R@{k}": pct(t2i_rank, k) for k in ks},
            "image_to_text": {f"R@{k}": pct(i2t_rank, k) for k in ks}}


def mean_recall(metrics: dict) -> float:
    """The single number the best epoch is chosen by: the mean of the six recalls."""
    vals = list(metrics["text_to_image"].values()) + list(metrics["image_to_text"].values())
    return sum(vals) / len(vals)


def captions_of(items: list[CaptionedImage]):
    """All captions of ``items`` in order, and the item index each belongs to."""
    import torch

    texts, owner = [], []
    for i, im in enumerate(items):
        texts.extend(im.captions)
        owner.extend([i] * len(im.captions))
    return texts, torch.tensor(owner, dtype=torch.long)


def iter_embed(model, items: list[CaptionedImage], *, batch_size: int = 64,
               num_workers: int = 0) -> Iterator[tuple[int, int]]:
    """Generator: yields (done, total) as it embeds; returns (image emb (N, D), caption emb (C, D), owners)."""
    import torch

    loader = torch.utils.data.DataLoader(
        EvalImages(items, model.eval_transform(), model.config.preprocess.input_size), batch_size=batch_size,
        num_workers=num_workers, collate_fn=collate_images, generator=torch.Generator())
    texts, owner = captions_of(items)
    total = len(items) + len(texts)
    out, done = [], 0
    it = iter(loader)
    while True:
        try:
            pixels, _ = next(it)
        except StopIteration:
            break
        except DatasetError as e:
            raise clean_loader_error(e) from None
        out.append(model.embed_pixels(pixels))
        done += len(pixels)
        yield done, total
    img = torch.cat(out) if out else torch.zeros(0, model.embed_dim)
    txt_parts = []
    step = batch_size * 4
    for s in range(0, len(texts), step):
        txt_parts.append(model.embed_texts(texts[s:s + step], batch_size=step))
        done += len(txt_parts[-1])
        yield done, total
    txt = torch.cat(txt_parts) if txt_parts else torch.zeros(0, model.embed_dim)
    return img, txt, owner


def eval_object(img, txt, owner, split: str, model_id: str) -> dict:
    return {"images": int(img.shape[0]), "captions": int(txt.shape[0]), "split": split, "model": model_id,
            **recall_at_k(img, txt, owner)}


def evaluate(model, data_dir: str | Path, captions: str | Path | None = None, split: str = "test", *,
             batch_size: int = 64, max_images: int | None = None,
             progress: Callable[[int, int], None] | None = None, num_workers: int = 0, cancel=None) -> dict:
    """Zero-shot or fine-tuned recall of ``model`` on a split:
    ``{"images", "captions", "split", "model", "text_to_image": {"R@1","R@5","R@10"}, "image_to_text": ...}``
    (percent, 0-100). ``cancel`` (a threading.Event) stops it with :class:`~photosearch.errors.Cancelled`."""
    from photosearch.errors import Cancelled

    data = load_captions(data_dir, captions)
    items = data.split(split, max_images)
    if not items:
        raise DatasetError(f"the {split} split of {data.captions_file.name} is empty "
                           f"(have: {', '.join(f'{k} {v}' for k, v in data.counts().items())})")
    gen = iter_embed(model, items, batch_size=batch_size, num_workers=num_workers)
    while True:
        try:
            done, total = next(gen)
        except StopIteration as stop:
            img, txt, owner = stop.value
            break
        if cancel is not None and cancel.is_set():
            raise Cancelled("evaluation cancelled")
        if progress:
            progress(done, total)
    return eval_object(img, txt, owner, split, model.model_id)
