"""Stale vectors (issue #24.8): the hash and the pixels of a photo are of the same bytes, any change of size or
mtime is verified with a full hash, and moves are still found by content (old sampled hashes included).
Real files, a real file-system event to time the rewrite, a tiny model."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
from libhelpers import pattern
from PIL import Image

from photosearch.imageio import decode_min_side, load_image
from photosearch.library import Library
from photosearch.library import queries as sql
from photosearch.library.scan import LEGACY_SAMPLED_ABOVE, HASH_BLOCK, content_hash, legacy_hash


def _stored(lib: Library, model, path: Path) -> np.ndarray:
    blob = sql.vector_of(lib.conn, str(path), model.config.model_id)
    assert blob is not None, f"{path} has no vector"
    return np.frombuffer(blob, dtype=sql.VECTOR_DTYPE).astype(np.float32)


def _fresh(model, path: Path) -> np.ndarray:
    pre = model.config.preprocess
    img, _ = load_image(path, min_side=decode_min_side(pre.input_size, pre.crop_pct))
    return model.embed_pil([img]).numpy()[0].astype(np.float32)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _tiff(path: Path, seed: int, size=(1800, 1700)) -> Path:
    """An uncompressed RGB TIFF: same pixel size -> same byte layout, so parts can be painted in place."""
    Image.fromarray(pattern(seed, size)).save(path, "TIFF")
    return path


def test_a_large_file_painted_over_in_place_is_indexed_again(tmp_path, tiny):
    """A 9 MB TIFF with 45% of its bytes painted over, the sampled blocks untouched, stayed "unchanged"."""
    root = tmp_path / "pics"
    root.mkdir()
    photo = _tiff(root / "scan.tif", seed=1)
    size = photo.stat().st_size
    assert size > LEGACY_SAMPLED_ABOVE
    other = _tiff(tmp_path / "other.tif", seed=2).read_bytes()
    assert len(other) == size
    with Library.open(tmp_path / "lib.db") as lib:
        assert lib.run_index(tiny, [root]).indexed == 1
        before = _stored(lib, tiny, photo)
        sampled_before = legacy_hash(photo)
        with open(photo, "r+b") as f:  # paint between the blocks the old fingerprint sampled
            for lo, hi in ((size // 4 + HASH_BLOCK, size // 2), (size // 2 + HASH_BLOCK, (3 * size) // 4)):
                f.seek(lo)
                f.write(other[lo:hi])
        assert legacy_hash(photo) == sampled_before, "the paint must miss the old samples to test this"
        rep = lib.run_index(tiny)
        assert (rep.indexed, rep.unchanged) == (1, 0)
        after = _stored(lib, tiny, photo)
        assert not np.array_equal(after, before)
        assert _cos(after, _fresh(tiny, photo)) > 0.999


def test_a_file_replaced_while_it_is_decoded_never_keeps_the_old_pixels(tmp_path, tiny):
    """A file replaced between decoding and hashing stored the old pixels under the new hash, and no later run
    corrected it. The replacement here is timed by the indexer's own first open of the file (inotify)."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    root = tmp_path / "pics"
    root.mkdir()
    photo = root / "busy.bmp"
    Image.fromarray(pattern(3, (3000, 2000))).save(photo)  # BMP: every version has the same size
    Image.fromarray(pattern(4, (3000, 2000))).save(tmp_path / "b.bmp")
    assert (tmp_path / "b.bmp").stat().st_size == photo.stat().st_size
    replaced = threading.Event()

    class OnOpen(FileSystemEventHandler):
        def on_opened(self, event):
            if os.fsdecode(event.src_path) == str(photo) and not replaced.is_set():
                os.replace(tmp_path / "b.bmp", photo)
                replaced.set()

    obs = Observer()
    obs.schedule(OnOpen(), str(root))
    obs.start()
    try:
        with Library.open(tmp_path / "lib.db") as lib:
            lib.run_index(tiny, [root])
            assert replaced.is_set()
            lib.run_index(tiny)  # a later run must not take the stored vector for the file's
            assert _cos(_stored(lib, tiny, photo), _fresh(tiny, photo)) > 0.999
            assert lib.conn.execute("SELECT hash FROM photos").fetchone()[0] == content_hash(photo)
    finally:
        obs.stop()
        obs.join(timeout=10)


def test_a_moved_large_file_with_an_old_sampled_hash_is_not_re_embedded(tmp_path, tiny):
    """Libraries from before full hashing hold sampled hashes of files over 4 MB: a move is still a move."""
    root = tmp_path / "pics"
    root.mkdir()
    photo = _tiff(root / "scan.tif", seed=5)
    with Library.open(tmp_path / "lib.db") as lib:
        lib.run_index(tiny, [root])
        before = _stored(lib, tiny, photo)
        old = legacy_hash(photo)
        lib.conn.execute("UPDATE photos SET hash = ?", (old,))  # as an old version stored it
        lib.conn.execute("INSERT INTO photo_text (photo_id, hash, engine, text, lines, error, read_at) "
                         "SELECT id, hash, 'ocr', 'EXIT', '[]', NULL, 0 FROM photos")  # its words were read
        photo.rename(root / "moved.tif")
        rep = lib.run_index(tiny)
        assert (rep.moved, rep.indexed, rep.removed) == (1, 0, 0)
        assert np.array_equal(_stored(lib, tiny, root / "moved.tif"), before)
        new = content_hash(root / "moved.tif")
        assert lib.conn.execute("SELECT hash FROM photos").fetchone()[0] == new
        assert lib.conn.execute("SELECT hash FROM photo_text").fetchone()[0] == new, "no need to read it again"
        os.utime(root / "moved.tif")  # touched, same bytes: verified by the full hash, nothing re-embedded
        rep = lib.run_index(tiny)
        assert (rep.indexed, rep.unchanged) == (0, 1)
