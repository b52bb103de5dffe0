"""Reading the metadata of photos indexed before the library had it (schema version < 6): a pass after the
visual one that decodes each such photo small (JPEG draft) and writes its record, one transaction per batch,
so a killed run keeps what it read. Photos that cannot be read now (an offline drive) are left for a later
run; a fresh library never has anything to do here (the indexer writes the record with the vector)."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Iterator

from photosearch.library.db import Tx
from photosearch.meta import store
from photosearch.meta.record import describe

DECODE_SIDE = 64  # enough for the colour thumbnail; the EXIF does not depend on it


def run(conn: sqlite3.Connection, *, batch_size: int = 32,
        cancel: threading.Event | None = None) -> Iterator[tuple[int, int, str]]:
    """(done, total, current path) after each committed batch."""
    from photosearch.imageio import ImageSkip, load_image, load_video
    from photosearch.video import is_video_name

    todo = conn.execute("SELECT p.id, p.path, p.hash FROM photos p LEFT JOIN photo_meta m ON m.photo_id = p.id "
                        "WHERE m.photo_id IS NULL ORDER BY p.id").fetchall()
    done = 0
    for i in range(0, len(todo), batch_size):
        if cancel is not None and cancel.is_set():
            return
        records = []
        for pid, path, h in todo[i:i + batch_size]:
            try:
                if is_video_name(path):
                    img, im, _ = load_video(path)  # the poster frame
                else:
                    img, im = load_image(path, min_side=DECODE_SIDE)
            except (ImageSkip, OSError, MemoryError):
                continue  # offline or gone: the next index run tries again (or forgets the photo)
            records.append((pid, h, describe(img, im.width, im.height, im.format, im.exif, path)))
        with Tx(conn):
            alive = {r[0] for r in conn.execute(
                f"SELECT id FROM photos WHERE id IN ({', '.join('?' * len(records))})", [r[0] for r in records])}
            for pid, h, meta in records:
                if pid in alive:  # removed meanwhile by another writer: no orphan record
                    store.put(conn, pid, h, meta)
        done += len(todo[i:i + batch_size])
        yield done, len(todo), todo[min(i + batch_size, len(todo)) - 1][1]


def event(done: int, total: int, current: str | None, t0: float):
    """An :class:`~photosearch.library.index.IndexEvent` of phase "meta" (the window and CLI may show it)."""
    from photosearch.library.index import IndexEvent

    rate = done / max(time.perf_counter() - t0, 1e-6)
    return IndexEvent(phase="meta", done=done, total=total, indexed=0, skipped=0, rate=rate,
                      eta=(total - done) / rate if rate > 0 else None, current=current, new_skips=[])
