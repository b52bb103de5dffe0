"""models, embed-text, embed-image."""

from __future__ import annotations

import sys

from photosearch.cli import add_backend, add_json


def register(sub) -> None:
    p = sub.add_parser("models", help="list available models")
    add_json(p)
    p.add_argument("--use", metavar="MODEL", help="make MODEL the active model (it must be on disk)")
    p.add_argument("--download", metavar="MODEL", help="download MODEL (a name listed here, or a hub id org/name "
                                                       "of a CLIP-family transformers model) into the store")
    p.set_defaults(handler=cmd_models)

    p = sub.add_parser("embed-text", help="print normalised text embeddings")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.add_argument("--model", metavar="M", help="model name or checkpoint folder (default: the active model)")
    p.add_argument("--device", default="auto")
    add_backend(p)
    add_json(p)
    p.set_defaults(handler=cmd_embed_text)

    p = sub.add_parser("embed-image", help="print normalised image embeddings")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--model", metavar="M")
    p.add_argument("--device", default="auto")
    add_backend(p)
    add_json(p)
    p.set_defaults(handler=cmd_embed_image)


def cmd_models(ctx) -> int:
    store = ctx.model_store()
    if ctx.args.download:
        _download(ctx, store, ctx.args.download)
    if ctx.args.use:
        store.set_active(ctx.args.use)
    infos = [i.to_dict() for i in store.list()]

    def human(rows):
        from photosearch.humanize import format_size

        lines = [f"{'':2}{'NAME':<30}{'FAMILY':<9}{'DIMS':>5}  {'ON DISK':<8}{'SIZE':>9}  DESCRIPTION"]
        for r in rows:
            size = ("~" if r["size_estimate"] else "") + format_size(r["size_bytes"]) if r["size_bytes"] else "-"
            lines.append(f"{'*' if r['active'] else ' ':2}{r['name']:<30}{r['family']:<9}{r['embed_dim']:>5}  "
                         f"{'yes' if r['downloaded'] else 'no':<8}{size:>9}  {r['description']}")
        return "\n".join(lines)

    ctx.emit(infos, human)
    return 0


def _download(ctx, store, name: str) -> None:
    """Run the core download generator with a tqdm bar on stderr; Ctrl+C cancels (the next run resumes)."""
    import threading

    from tqdm import tqdm

    from photosearch.errors import Cancelled
    from photosearch.model.download import download_model

    cancel = threading.Event()
    bar = None
    events = download_model(store, name, cancel)
    try:
        for ev in events:
            if ev.phase == "download":
                if bar is None:
                    bar = tqdm(total=ev.total_bytes, unit="B", unit_scale=True, unit_divisor=1000, desc=ev.name,
                               disable=getattr(ctx.args, "quiet", False), file=sys.stderr)
                bar.update(ev.done_bytes - bar.n)
            elif ev.phase == "cancelled":
                raise Cancelled(f"download of {ev.name} cancelled; run the same command again to resume")
            elif ev.phase in ("install", "done"):
                ctx.info(ev.message)
    except KeyboardInterrupt:
        cancel.set()
        for ev in events:  # let the generator stop cleanly at its next chunk
            if ev.phase == "cancelled":
                break
        raise Cancelled(f"download of {name} cancelled; run the same command again to resume") from None
    finally:
        if bar is not None:
            bar.close()


def _rows(inputs, emb):
    return [{"input": i, "embedding": [round(float(x), 7) for x in v]} for i, v in zip(inputs, emb.tolist())]


def _human_vectors(rows) -> str:
    from photosearch.humanize import fixed

    return "\n".join(f"{r['input']}: [{', '.join(fixed(x, 4) for x in r['embedding'][:6])}, ...]" for r in rows)


def cmd_embed_text(ctx) -> int:
    model = ctx.load_model()
    rows = _rows(ctx.args.texts, model.embed_texts(ctx.args.texts))
    ctx.emit(rows, _human_vectors)
    return 0


def cmd_embed_image(ctx) -> int:
    from pathlib import Path

    from photosearch.errors import PhotoSearchError
    from photosearch.imageio import ImageSkip, decode_min_side, load_image

    model = ctx.load_model()
    pre = model.config.preprocess
    paths = [str(Path(f).expanduser().resolve()) for f in ctx.args.files]
    images = []
    for p in paths:
        try:
            images.append(load_image(p, decode_min_side(pre.input_size, pre.crop_pct))[0])
        except ImageSkip as e:
            raise PhotoSearchError(f"{p}: {e.reason}") from None
    rows = _rows(paths, model.embed_pil(images))
    ctx.emit(rows, _human_vectors)
    return 0
