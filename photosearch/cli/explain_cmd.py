"""explain: why a photo matches a query (concepts and a heat map)."""

from __future__ import annotations

from photosearch.cli import add_json


def register(sub) -> None:
    p = sub.add_parser("explain", help="why a photo matches a query: what it was seen as, and where")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--no-heatmap", action="store_true", help="skip the heat map (it embeds ~40 crops)")
    p.add_argument("--model", metavar="M")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    add_json(p)
    p.set_defaults(handler=cmd_explain)


def cmd_explain(ctx) -> int:
    from photosearch.errors import PhotoSearchError
    from photosearch.explain import explain, query_vector
    from photosearch.imageio import ImageSkip, load_image

    a = ctx.args
    if not a.query.strip():
        raise PhotoSearchError("explain needs a QUERY")
    try:
        img, _ = load_image(a.image, min_side=768)  # the smallest crops (1/3 of a side) still >= 224 px
    except ImageSkip as e:
        raise PhotoSearchError(f"{a.image}: {e.reason}") from None
    model = ctx.load_model()
    ex = explain(model, query_vector(model, a.query), img, with_heatmap=not a.no_heatmap)
    ctx.emit(ex.to_dict(), _human)
    return 0


def _human(d: dict) -> str:
    lines = [f"score {d['score']:.3f}"]
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
