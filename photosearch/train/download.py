"""Fetching Flickr8k: resumable HTTP downloads with verification, and safe archive extraction.

- Downloads go through photosearch/download.py: a partial download is kept as ``NAME.part`` and continued
  with an HTTP Range request next time; a file is accepted only when its size matches what the server
  announced (and its sha256, when known); a short read leaves the ``.part`` for resume and says so.
- Extraction refuses the whole archive if any member would land outside the destination (absolute paths,
  ``..``, drive letters, links), before writing anything.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from photosearch.errors import Cancelled, DownloadError

# The tutorial's addresses. Override with arguments / CLI flags, or these environment variables (mirrors).
IMAGES_URL = os.environ.get("PHOTOSEARCH_FLICKR8K_IMAGES_URL",
                            "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k/Flickr8k_Dataset.zip")
CAPTIONS_URL = os.environ.get("PHOTOSEARCH_FLICKR8K_CAPTIONS_URL",
                              "https://github.com/Delphboy/karpathy-splits/raw/refs/heads/main/dataset_flickr8k.json")
IMAGE_DIR = "Flicker8k_Dataset"
CAPTIONS_FILE = "dataset_flickr8k.json"
MAX_UNPACKED = 20 * 1024 ** 3  # refuse archives that claim to unpack to more (zip bombs)
MAX_ARCHIVE = 8 * 1024 ** 3  # the images archive is ~1 GB: a server sending more is not sending it
MAX_CAPTIONS = 256 * 1024 ** 2  # the split file is ~10 MB
DONE_MARKER = ".flickr8k-complete"
# Disk space a download needs: the ~1.1 GB archive and the ~1.1 GB of photos it unpacks to, side by side
# until the archive is removed (measured sizes of the tutorial's archive, rounded up).
DISK_NEEDED = 2_300_000_000

Progress = Callable[[int, "int | None"], None]


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("download cancelled; run it again to resume")


def fetch(url: str, dest: Path, *, sha256: str | None = None, progress: Progress | None = None,
          cancel: threading.Event | None = None, max_bytes: int = MAX_ARCHIVE) -> Path:
    """Download ``url`` to ``dest``, continuing ``dest.part`` if present; verifies the size the server
    announced and ``sha256`` (photosearch/download.py: resume, bounds, stalls, cancel)."""
    from photosearch.download import stream

    gen = stream(url, Path(dest), sha256=sha256, max_bytes=max_bytes, cancel=cancel)
    try:
        while True:
            done, total = next(gen)
            if progress:
                progress(done, total)
    except StopIteration as stop:
        return stop.value
    except Cancelled:
        raise Cancelled("download cancelled; run it again to resume") from None


def safe_members(zf: zipfile.ZipFile, dest: Path) -> list[zipfile.ZipInfo]:
    """The members to extract, after checking every one stays inside ``dest``; raises on the first that
    would not (nothing has been written by then)."""
    root = dest.resolve()
    out, total = [], 0
    for info in zf.infolist():
        name = info.filename
        p = PurePosixPath(name.replace("\\", "/"))
        mode = (info.external_attr >> 16) & 0o170000
        if (p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]) or mode == stat.S_IFLNK
                or not name):
            raise DownloadError(f"refusing the archive: member {name!r} would be written outside {dest}")
        if (root / p).resolve() != root and root not in (root / p).resolve().parents:
            raise DownloadError(f"refusing the archive: member {name!r} would be written outside {dest}")
        if p.parts and p.parts[0] == "__MACOSX":  # resource forks a Mac adds to zips: not images
            continue
        total += info.file_size
        out.append(info)
    if total > MAX_UNPACKED:
        raise DownloadError(f"refusing the archive: it would unpack to {total / 1e9:.1f} GB")
    return out


def extract_zip(archive: Path, dest: Path, cancel: threading.Event | None = None) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = safe_members(zf, dest)
            need = sum(m.file_size for m in members)
            free = shutil.disk_usage(dest).free
            if need > free:
                from photosearch.humanize import format_size

                raise DownloadError(f"not enough disk space in {dest}: need {format_size(need)}, "
                                    f"have {format_size(free)}")
            for m in members:
                _check_cancel(cancel)
                zf.extract(m, dest)
    except zipfile.BadZipFile as e:
        raise DownloadError(f"{archive.name} is not a valid zip archive ({e}); delete it and download again") \
            from None
    except zipfile.LargeZipFile as e:
        raise DownloadError(f"{archive.name}: {e}") from None


def download_flickr8k(dest: str | Path, *, images_url: str = IMAGES_URL, captions_url: str = CAPTIONS_URL,
                      progress: Progress | None = None, cancel: threading.Event | None = None,
                      images_sha256: str | None = None, captions_sha256: str | None = None,
                      keep_archive: bool = False) -> Path:
    """Fetch the Flickr8k images archive and the Karpathy split JSON into ``dest`` (resumable), unpack the
    images safely and check the result loads. Returns ``dest``. ``progress(done_bytes, total_bytes|None)``."""
    dest = Path(dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    if (dest / DONE_MARKER).is_file() and (dest / CAPTIONS_FILE).is_file():
        return dest
    cap = dest / CAPTIONS_FILE
    if not cap.is_file():
        fetch(captions_url, cap, sha256=captions_sha256, progress=progress, cancel=cancel, max_bytes=MAX_CAPTIONS)
    try:
        doc = json.loads(cap.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
            raise ValueError("no 'images' list")
    except (ValueError, UnicodeDecodeError) as e:
        cap.unlink()
        raise DownloadError(f"{captions_url} did not return a Karpathy split file ({e}); removed it") from None
    archive = dest / Path(images_url.split("?")[0]).name
    if archive.suffix.lower() != ".zip":
        archive = dest / "Flickr8k_Dataset.zip"
    fetch(images_url, archive, sha256=images_sha256, progress=progress, cancel=cancel)
    extract_zip(archive, dest, cancel)
    from photosearch.errors import DatasetError
    from photosearch.train.data import load_captions

    try:
        load_captions(dest)
    except DatasetError as e:
        raise DownloadError(f"the download finished but the data set does not check out: {e}") from None
    if not keep_archive:
        archive.unlink()
    (dest / DONE_MARKER).write_text("ok\n")
    return dest
