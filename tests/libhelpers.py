"""Image generators for the library tests: every format and mode the indexer must handle, and hostile files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def pattern(seed: int, size=(96, 72)) -> np.ndarray:
    """A distinct, smooth RGB picture per seed (so different files embed differently)."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        fx, fy, ph = rng.uniform(0.02, 0.3, 2).tolist() + [rng.uniform(0, 6.28)]
        out[..., c] = 127 + 120 * np.sin(fx * x + fy * y + ph)
    return out.clip(0, 255).astype(np.uint8)


def write_jpeg(path: Path, seed: int, size=(96, 72), exif_date: str | None = None, orientation: int | None = None):
    img = Image.fromarray(pattern(seed, size))
    exif = Image.Exif()
    if exif_date:
        exif.get_ifd(0x8769)[36867] = exif_date  # DateTimeOriginal "YYYY:MM:DD HH:MM:SS"
    if orientation:
        exif[0x0112] = orientation
    img.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


def write_formats(d: Path) -> dict[str, Path]:
    """One file per format/mode the indexer must decode correctly."""
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    a = pattern(1)
    out["jpeg"] = write_jpeg(d / "plain.jpg", 1)
    out["upper"] = write_jpeg(d / "UPPER.JPEG", 2)
    out["rotated"] = write_jpeg(d / "rotated.jpg", 3, size=(120, 60), orientation=6)
    Image.fromarray(a).convert("CMYK").save(d / "cmyk.jpg", "JPEG")
    out["cmyk"] = d / "cmyk.jpg"
    grey16 = (np.linspace(0, 65535, 96 * 72).reshape(72, 96)).astype(np.uint16)
    Image.fromarray(grey16).save(d / "grey16.png")
    out["png16"] = d / "grey16.png"
    Image.fromarray(pattern(4)).convert("P", palette=Image.Palette.ADAPTIVE).save(d / "palette.png",
                                                                                  transparency=0)
    out["palette"] = d / "palette.png"
    rgba = np.dstack([pattern(5), np.full((72, 96), 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(d / "alpha.png")
    out["rgba"] = d / "alpha.png"
    Image.fromarray(pattern(6)).save(d / "pic.webp", quality=80)
    out["webp"] = d / "pic.webp"
    frames = [Image.fromarray(pattern(7 + i)).convert("P") for i in range(3)]
    frames[0].save(d / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    out["gif"] = d / "anim.gif"
    Image.fromarray(pattern(10)).save(d / "pic.bmp")
    out["bmp"] = d / "pic.bmp"
    pages = [Image.fromarray(pattern(11 + i)) for i in range(2)]
    pages[0].save(d / "pages.tif", save_all=True, append_images=pages[1:])
    out["tiff"] = d / "pages.tif"
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        Image.fromarray(pattern(13)).save(d / "pic.heic")
        out["heic"] = d / "pic.heic"
    except (ImportError, OSError, KeyError, ValueError):
        pass
    return out


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_hostile(d: Path) -> dict[str, Path]:
    """Files that must be skipped with a reason, never crash or hang the run."""
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    buf = io.BytesIO()
    Image.fromarray(pattern(20, (400, 300))).save(buf, "JPEG", quality=90)
    (d / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    out["truncated"] = d / "truncated.jpg"
    (d / "text.jpg").write_text("this is not a picture\n" * 20)
    out["text"] = d / "text.jpg"
    (d / "empty.png").write_bytes(b"")
    out["empty"] = d / "empty.png"
    # A 60000 x 60000 PNG (3.6 gigapixels) in a few hundred bytes: refused before decoding.
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    (d / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
                                 + _png_chunk(b"IEND", b""))
    out["bomb"] = d / "bomb.png"
    (d / "garbage.webp").write_bytes(b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(range(256)) * 4)
    out["garbage"] = d / "garbage.webp"
    (d / "folder.png").mkdir()  # a directory with an image name: not a file, silently not a candidate
    return out


def old_library(path: Path, version: int):
    """A library file as the version of library format ``version`` wrote it (its first migrations only), open
    as a plain sqlite3 connection for the test to fill; commit and close it before opening it as a Library."""
    import sqlite3

    from photosearch.library import db

    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("app", db.APP_MARKER), ("schema_version", str(version))])
    conn.execute(f"PRAGMA application_id = {db.APPLICATION_ID}")
    for stmt in [s for m in db.MIGRATIONS[:version] for s in m]:
        conn.execute(stmt)
    return conn
