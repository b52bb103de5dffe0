"""Thumbnails off the GUI thread: :class:`ThumbnailLoader` makes them on a small pool, most recent request
first, cached on disk (:func:`make_thumbnail`). Workers build ``QImage``s; only the GUI thread makes pixmaps."""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

log = logging.getLogger(__name__)

THUMB_PIXELS = 320  # grid thumbnails are made once at the largest zoom and scaled down when painted
PREVIEW_PIXELS = 1200


MOMENT = "#moment="  # a video's frame at a second: "clip.mp4#moment=6.00" (moment_key)


def moment_key(path: str, t: float) -> str:
    """What to request (and cache) for the frame of video ``path`` at second ``t``."""
    return f"{path}{MOMENT}{t:.2f}"


def split_key(key: str) -> tuple[str, float | None]:
    """(file path, second) of a :func:`moment_key`; (key, None) for a plain path."""
    from photosearch.video import is_video_name

    base, sep, t = key.rpartition(MOMENT)
    if sep and is_video_name(base):
        try:
            return base, float(t)
        except ValueError:
            pass
    return key, None


def thumbnail_cache_file(cache_dir: Path, path: str, size: int) -> Path | None:
    """Cache file for ``path`` (or a :func:`moment_key`) at ``size``; the key includes mtime and size, so edited
    photos refresh."""
    try:
        st = os.stat(split_key(path)[0])
    except OSError:
        return None
    key = hashlib.sha1(f"{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}|{size}".encode()).hexdigest()
    return Path(cache_dir) / key[:2] / f"{key}.jpg"


def _qimage_from_pil(img) -> QImage:
    img = img.convert("RGB")
    data = img.tobytes()
    return QImage(data, img.width, img.height, img.width * 3, QImage.Format.Format_RGB888).copy()


def make_thumbnail(path: str, size: int, cache_dir: Path | None) -> QImage:
    """A thumbnail no larger than ``size`` px, upright (EXIF), from the disk cache when fresh; for a
    :func:`moment_key`, the video's frame at that second.

    Runs in worker threads. Returns a null QImage for anything that cannot be decoded.
    """
    cache = thumbnail_cache_file(cache_dir, path, size) if cache_dir is not None else None
    if cache is not None and cache.is_file():
        img = QImage(str(cache))
        if not img.isNull():
            return img
    src, t = split_key(path)
    try:
        from photosearch.imageio import ImageSkip, load_image
        from photosearch.video import VideoSkip, frame_at

        pil = frame_at(src, t, size) if t is not None else load_image(path, min_side=size)[0]
    except (ImageSkip, VideoSkip):
        return QImage()
    except Exception:  # a thumbnail failure shows a placeholder, nothing more
        log.debug("thumbnail failed for %s", path, exc_info=True)
        return QImage()
    pil.thumbnail((size, size))
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f".{cache.name}.{threading.get_ident()}.tmp")
            pil.save(tmp, "JPEG", quality=85)
            os.replace(tmp, cache)
        except OSError:
            log.debug("could not cache thumbnail %s", cache, exc_info=True)
    return _qimage_from_pil(pil)


class ThumbnailLoader(QObject):
    """Makes thumbnails on a small pool, newest request first; a capped queue drops what scrolled away."""

    loaded = Signal(str, int, QImage)  # path, size, image (null: undecodable)

    def __init__(self, cache_dir: Path | None, threads: int = 2, max_pending: int = 600,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._threads = threads
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._pending: collections.OrderedDict[tuple[str, int], None] = collections.OrderedDict()
        self._active = 0
        self._stop = False
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)

    def request(self, path: str, size: int = THUMB_PIXELS) -> None:
        key = (path, size)
        with self._lock:
            if self._stop:
                return
            self._pending.pop(key, None)
            self._pending[key] = None
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)
            if self._active >= self._threads:
                return
            self._active += 1
        self.pool.start(self._drain)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending or self._stop:
                    self._active -= 1
                    return
                (path, size), _ = self._pending.popitem(last=True)
            self.loaded.emit(path, size, make_thumbnail(path, size, self.cache_dir))

    def clear_pending(self) -> None:
        with self._lock:
            self._pending.clear()

    def shutdown(self) -> None:
        with self._lock:
            self._stop = True
            self._pending.clear()
        self.pool.waitForDone(-1)

    def clear_cache(self) -> int:
        """Delete the disk cache; returns how many files went."""
        import shutil

        if self.cache_dir is None or not self.cache_dir.is_dir():
            return 0
        n = sum(1 for p in self.cache_dir.rglob("*.jpg"))
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        return n
