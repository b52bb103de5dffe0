"""models, embed-text, embed-image."""

from __future__ import annotations

from photosearch.cli import add_backend, add_json


def register(sub) -> None:
    p = sub.add_parser("models", help="list available models")
    add_json(p)
    p.add_argument("--use", metavar="MODEL", help="make MODEL the active model")
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
    if ctx.args.use:
        store.set_active(ctx.args.use)
    infos = [i.to_dict() for i in store.list()]

    def human(rows):
        lines = [f"{'':2}{'NAME':<24}{'FAMILY':<9}{'DIMS':>5}  {'OFFLINE':<8}DESCRIPTION"]
        for r in rows:
            lines.append(f"{'*' if r['active'] else ' ':2}{r['name']:<24}{r['family']:<9}{r['embed_dim']:>5}  "
                         f"{'yes' if r['offline_ready'] else 'no':<8}{r['description']}")
        return "\n".join(lines)

    ctx.emit(infos, human)
    return 0


def _rows(inputs, emb):
    return [{"input": i, "embedding": [round(float(x), 7) for x in v]} for i, v in zip(inputs, emb.tolist())]


def cmd_embed_text(ctx) -> int:
    model = ctx.load_model()
    rows = _rows(ctx.args.texts, model.embed_texts(ctx.args.texts))
    ctx.emit(rows, lambda rs: "\n".join(f"{r['input']}: [{', '.join(f'{x:.4f}' for x in r['embedding'][:6])}, ...]"
                                       for r in rs))
    return 0


def cmd_embed_image(ctx) -> int:
    from pathlib import Path

    from photosearch.errors import PhotoSearchError
    from photosearch.imageio import ImageSkip, load_image

    model = ctx.load_model()
    paths = [str(Path(f).expanduser().resolve()) for f in ctx.args.files]
    images = []
    for p in paths:
        try:
            images.append(load_image(p, model.config.preprocess.input_size)[0])
        except ImageSkip as e:
            raise PhotoSearchError(f"{p}: {e.reason}") from None
    rows = _rows(paths, model.embed_pil(images))
    ctx.emit(rows, lambda rs: "\n".join(f"{r['input']}: [{', '.join(f'{x:.4f}' for x in r['embedding'][:6])}, ...]"
                                       for r in rs))
    return 0
