"""explain: why a photo matches a query (the score search shows, the concepts, and on request a heat map)."""

from __future__ import annotations

import argparse
import contextlib

from photosearch.cli import add_json


def register(sub) -> None:
    p = sub.add_parser("explain", help="why a photo matches a query: its score, what it was seen as, and where")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--heatmap", action="store_true", help="also show where it matches (embeds ~40 crops: slower)")
    p.add_argument("--no-heatmap", action="store_true", help=argparse.SUPPRESS)  # the default since 0.x
    p.add_argument("--model", metavar="M")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    add_json(p)
    p.set_defaults(handler=cmd_explain)


def _library(ctx):
    """The library, read-only, or None when there is none yet (explain then scores the file alone)."""
    if not ctx.library.exists():
        return contextlib.nullcontext(None)
    from photosearch.cli.library_cmd import _open_to_read

    return _open_to_read(ctx, create=False)


def cmd_explain(ctx) -> int:
    from photosearch.errors import PhotoSearchError
    from photosearch.explain import Explanation, explain, query_vector
    from photosearch.imageio import ImageSkip, load_image
    from photosearch.library.query import Query

    a = ctx.args
    if not a.query.strip():
        raise PhotoSearchError("explain needs a QUERY")
    try:
        img, _ = load_image(a.image, min_side=768)  # the smallest crops (1/3 of a side) still >= 224 px
    except ImageSkip as e:
        raise PhotoSearchError(f"{a.image}: {e.reason}") from None
    with _library(ctx) as lib:
        text = lib.read_line(a.query).text if lib is not None else a.query  # read as search reads it
        if not (text and text.strip()):
            raise PhotoSearchError(f"\"{a.query}\" holds no words to match a photo by (only filters)")
        # The torch-free text model (cli/fast_path.py) scores a library photo and encodes the query; the full
        # model is loaded only to see the photo: concepts, a heat map, or a file outside the library.
        fast = fast_path_model(ctx, lib)
        model = fast or ctx.load_model()
        score = lib.score_of(model, Query(text), a.image) if lib is not None else None
        if score is None or a.heatmap or model.config.image_head.kind == "class_prompt":
            full = model if fast is None else ctx.load_model()
            ex = explain(full, query_vector(model, text), img, with_heatmap=a.heatmap, score=score)
        else:
            ex = Explanation(score)  # a library photo, no concepts to name: the score is the explanation
    ctx.emit({**ex.to_dict(), "in_library": score is not None}, _human)
    return 0


def fast_path_model(ctx, lib):
    if lib is None:
        return None
    from photosearch.cli import fast_path

    return fast_path.text_model(ctx, lib)


def _human(d: dict) -> str:
    from photosearch.humanize import fixed
    from photosearch.library.relevance import GOOD

    verdict = "a good match" if d["score"] >= GOOD else "a weak match"
    where = "as search shows it" if d["in_library"] else "not in the library: scored as search would"
    lines = [f"score {fixed(d['score'])} ({verdict}; {where})"]
    if d["concepts"]:
        lines.append("seen as: " + ", ".join(f"{c['label']} ({c['weight']:.0%})" for c in d["concepts"][:5]))
    if d["heatmap"]:
        hm = d["heatmap"]
        lo = min(min(r) for r in hm)
        hi = max(max(r) for r in hm)
        shades = " .:-=+*#"
        lines.append("where it matches (darker = more):")
        for row in hm:
            lines.append("  " + "".join(shades[int((v - lo) / max(hi - lo, 1e-9) * (len(shades) - 1))] * 2
                                        for v in row))
    return "\n".join(lines)
