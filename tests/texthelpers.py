"""Rendered text that looks photographed: signs, labels and receipts (PIL + the DejaVu fonts matplotlib ships).

Used by the OCR tests and benchmarks/bench_text.py. Each picture is a printed surface on a textured
background, seen at an angle (perspective), slightly out of focus, unevenly lit and JPEG-compressed."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


def font(name: str = "DejaVuSans-Bold.ttf", size: int = 48) -> ImageFont.FreeTypeFont:
    import matplotlib

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def card(lines: list[str], *, size: int = 48, fg=(25, 25, 30), bg=(240, 236, 225), fontname="DejaVuSans-Bold.ttf",
         pad: int = 30, spacing: float = 1.35) -> Image.Image:
    """The printed surface: lines of text on a plain card."""
    f = font(fontname, size)
    widths = [f.getbbox(t)[2] for t in lines]
    w = max(widths) + 2 * pad
    h = int(len(lines) * size * spacing) + 2 * pad
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    for i, t in enumerate(lines):
        d.text((pad, pad + int(i * size * spacing)), t, font=f, fill=fg)
    return img


def _coeffs(src, dst):
    """Perspective transform coefficients mapping output points ``dst`` to input points ``src``."""
    a = []
    for (x, y), (u, v) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    b = np.array(src, dtype=np.float64).reshape(8)
    return np.linalg.solve(np.array(a, dtype=np.float64), b).tolist()


def photograph(surface: Image.Image, *, seed: int = 0, out_size=(1024, 768), tilt: float = 0.08,
               blur: float = 0.8, light: float = 0.85, rotate: int = 0, quality: int = 80) -> Image.Image:
    """``surface`` placed on a noisy background at an angle, blurred, unevenly lit, JPEG-compressed;
    ``rotate`` (0/90/180/270) turns the whole photo as a camera held sideways would."""
    rng = np.random.default_rng(seed)
    W, H = out_size
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    base = rng.uniform(60, 160, 3)
    bgarr = base[None, None, :] + 25 * np.sin(xx / rng.uniform(40, 90))[..., None] \
        + rng.normal(0, 8, (H, W, 3))
    bg = Image.fromarray(bgarr.clip(0, 255).astype(np.uint8))
    sw, sh = surface.size
    scale = min(0.85 * W / sw, 0.8 * H / sh)
    tw, th = int(sw * scale), int(sh * scale)
    x0, y0 = (W - tw) // 2, (H - th) // 2
    j = lambda s: rng.uniform(-s, s)  # noqa: E731
    dst = [(x0 + j(tilt) * tw, y0 + j(tilt) * th), (x0 + tw + j(tilt) * tw, y0 + j(tilt) * th),
           (x0 + tw + j(tilt) * tw, y0 + th + j(tilt) * th), (x0 + j(tilt) * tw, y0 + th + j(tilt) * th)]
    src = [(0, 0), (sw, 0), (sw, sh), (0, sh)]
    warped = surface.convert("RGBA").transform((W, H), Image.Transform.PERSPECTIVE, _coeffs(src, dst),
                                               Image.Resampling.BICUBIC)
    bg.paste(warped, (0, 0), warped)
    arr = np.asarray(bg).astype(np.float32)
    grad = light * (0.75 + 0.25 * np.cos((xx - rng.uniform(0, W)) / W * 2.5))  # uneven light
    arr = arr * grad[..., None] + rng.normal(0, 4, arr.shape)  # and sensor noise
    img = Image.fromarray(arr.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(blur))
    if rotate:
        img = img.rotate(rotate, expand=True)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def sign(seed: int = 0, **kw) -> Image.Image:
    return photograph(card(["Trattoria Rossi", "WIFI: sunflower42"], size=56, bg=(250, 245, 230)), seed=seed, **kw)


def on_photo(photo: Image.Image, surface: Image.Image, *, angle: float = 3.0, width: float = 0.45,
             blur: float = 0.8) -> Image.Image:
    """``surface`` (a sign) mounted on a real photo, slightly rotated, a third of the way down."""
    bg = photo.convert("RGB")
    fill = surface.getpixel((0, 0))
    s = surface.rotate(angle, expand=True, fillcolor=fill, resample=Image.Resampling.BICUBIC)
    w = int(bg.width * width)
    s = s.resize((w, int(s.height * w / s.width)), Image.Resampling.LANCZOS)
    bg.paste(s, ((bg.width - s.width) // 2, (bg.height - s.height) // 3))
    return bg.filter(ImageFilter.GaussianBlur(blur))


def spaced_sign(word: str, token: str, *, gap: int = 90, size: int = 64, fg=(240, 240, 240),
                bg=(20, 40, 110)) -> Image.Image:
    """A station-style sign: a word, then a short token set apart ("PLATFORM    9")."""
    f = font(size=size)
    w1, w2 = f.getbbox(word)[2], f.getbbox(token)[2]
    img = Image.new("RGB", (w1 + gap + w2 + 60, int(size * 1.6)), bg)
    d = ImageDraw.Draw(img)
    d.text((30, 15), word, font=f, fill=fg)
    d.text((30 + w1 + gap, 15), token, font=f, fill=fg)
    return img
