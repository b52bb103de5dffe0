#!/usr/bin/env python3
"""Render the app icon (resources/photosearch.svg) into what each platform wants.

    python packaging/make_icons.py [--svg PATH] [--out packaging/icons]

Writes, under ``--out``:
- ``hicolor/<N>x<N>/apps/io.github.photosearch.PhotoSearch.png`` for N in SIZES and
  ``hicolor/scalable/apps/io.github.photosearch.PhotoSearch.svg``: the freedesktop icon theme layout, copied
  as is into ``/usr/share/icons`` (or ``~/.local/share/icons``) by installers;
- ``photosearch.ico`` (Windows: exe and Start-menu shortcut icon, 16-256 px) and ``photosearch.icns``
  (macOS app bundle, 16-1024 px), both written by Pillow from the same renders.

Rendering uses Qt's own SVG renderer (QtSvg ships in PySide6-Essentials, a dependency already), offscreen,
so it runs headless on any build machine. The output is committed; rerun this after changing the SVG
(tests/test_packaging.py fails when the committed PNGs no longer match the SVG).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP_ID = "io.github.photosearch.PhotoSearch"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render_png(svg: Path, size: int) -> bytes:
    """The SVG rendered at ``size`` x ``size`` as PNG bytes (transparent background, antialiased)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG")
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    painter = QPainter(img)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    buf.close()
    return bytes(data.data())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--svg", type=Path, default=REPO / "resources" / "photosearch.svg")
    ap.add_argument("--out", type=Path, default=REPO / "packaging" / "icons")
    args = ap.parse_args(argv)
    from PIL import Image

    if not args.svg.is_file():
        raise SystemExit(f"make_icons: no SVG at {args.svg}")
    hicolor = args.out / "hicolor"
    scalable = hicolor / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.svg, scalable / f"{APP_ID}.svg")
    images = {}
    for size in sorted(set(SIZES) | set(ICO_SIZES) | set(ICNS_SIZES)):
        data = render_png(args.svg, size)
        images[size] = Image.open(io.BytesIO(data)).convert("RGBA")
        if size in SIZES:
            d = hicolor / f"{size}x{size}" / "apps"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{APP_ID}.png").write_bytes(data)
    # Each size rendered from the vector, not downscaled: small sizes stay crisp.
    images[256].save(args.out / "photosearch.ico", format="ICO", sizes=[(s, s) for s in ICO_SIZES],
                     append_images=[images[s] for s in ICO_SIZES if s != 256])
    images[1024].save(args.out / "photosearch.icns", format="ICNS",
                      append_images=[images[s] for s in ICNS_SIZES if s != 1024])
    print(f"make_icons: wrote {len(SIZES)} PNGs, photosearch.ico and photosearch.icns under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
