"""Walking the library folders and telling new, changed, moved and deleted files apart cheaply.

A re-scan stats every file (``os.scandir``) and compares size + mtime with the database; only files whose
size or mtime changed, or that might be a moved file, are read to hash them.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path


# Folders that hold no photos of the user's, or the OS's/NAS's own copies of them.
SYSTEM_DIRS = frozenset(s.lower() for s in (
    "$RECYCLE.BIN", "System Volume Information", "lost+found", "@eaDir", "#recycle", "__MACOSX",
    ".Trashes", ".Spotlight-V100", ".fseventsd", ".thumbnails", "node_modules", "$Recycle.Bin",
))

HASH_BLOCK = 64 * 1024
FULL_HASH_LIMIT = 4 * 1024 * 1024


def content_hash(path: str | os.PathLike) -> str:
    """A content fingerprint that finds moved files without reading whole camera files.

    Files up to 4 MB are hashed whole; larger ones by size + five 64 KB blocks (start, end and three in
    between). JPEG/HEIC start with EXIF (timestamps, camera serials) and any pixel edit changes the
    entropy-coded data to the end, so two different photos agreeing on all of them is not a practical risk.
    """
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        h.update(size.to_bytes(8, "little"))
        if size <= FULL_HASH_LIMIT:
            while b := f.read(1 << 20):
                h.update(b)
        else:
            for off in (0, size // 4, size // 2, (3 * size) // 4, size - HASH_BLOCK):
                f.seek(off)
                h.update(f.read(HASH_BLOCK))
    return h.hexdigest()


@dataclass
class FileStat:
    path: str  # absolute, as found under the library folder (not symlink-resolved)
    folder: str  # the library folder it belongs to
    size: int
    mtime_ns: int


@dataclass
class WalkResult:
    files: dict[str, FileStat]  # path -> stat, image files only
    missing_folders: list[str]  # library folders that are not there or offline: their photos are kept
    unreadable_folders: list[str] = field(default_factory=list)  # could not be listed: photos under them kept
    devices: dict[str, int] = field(default_factory=dict)  # library folder -> st_dev, for those scanned

    @property
    def errors(self) -> int:
        """Sub-folders that could not be listed."""
        return len(self.unreadable_folders)

    def kept(self, path: str) -> bool:
        """A stored photo not found by this walk is kept (not deleted) when it lies under a folder that
        could not be listed or that is offline."""
        return _under_any(path, self.unreadable_folders) or _under_any(path, self.missing_folders)


def folder_offline(path: str, device: int | None, has_photos: bool) -> str | None:
    """Why a library folder counts as offline (its photos are kept, not deleted), or None when it is there.

    Not there or not a folder; on another device than when it was indexed (``device``: the recorded
    ``st_dev``; an unmounted drive leaves its mount point on the parent's device); or empty while the library
    holds photos from it (an empty mount point)."""
    try:
        st = os.stat(path)
    except OSError:
        return "not found"
    if not stat.S_ISDIR(st.st_mode):
        return "not a folder"
    if device is not None and st.st_dev != device:
        return "on another device than when it was indexed (drive not mounted?)"
    if has_photos:
        try:
            with os.scandir(path) as it:
                empty = next(it, None) is None
        except OSError:
            return "cannot be read"
        if empty:
            return "empty, but its photos were indexed (drive not mounted?)"
    return None


def walk_folders(folders: list[str], all_roots: list[str] | None = None,
                 offline: dict[str, str] | None = None) -> WalkResult:
    """Image files under ``folders``: hidden and system folders skipped, symlinks followed only while they
    stay inside the library folders (``all_roots``), each real folder visited once (no symlink loops).
    ``offline`` folders (see :func:`folder_offline`) are reported missing without being walked; sub-folders
    that cannot be listed are reported in ``unreadable_folders``."""
    from photosearch.imageio import is_image_name  # here: imageio imports Pillow, which a search does not need

    real_roots = [os.path.realpath(r) for r in (all_roots or folders)]
    files: dict[str, FileStat] = {}
    missing: list[str] = []
    unreadable: list[str] = []
    devices: dict[str, int] = {}
    visited: set[tuple[int, int]] = set()
    for root in folders:
        try:
            st = os.stat(root)
        except OSError:
            missing.append(root)
            continue
        if not os.path.isdir(root) or (offline and root in offline):
            missing.append(root)
            continue
        devices[root] = st.st_dev
        visited.add((st.st_dev, st.st_ino))
        stack = [root]
        while stack:
            d = stack.pop()
            try:
                it = os.scandir(d)
            except OSError:
                unreadable.append(d)  # a permission or network error: what is stored under it is kept
                continue
            with it:
                for e in it:
                    name = e.name
                    if name.startswith("."):
                        continue
                    try:
                        is_link = e.is_symlink()
                        if e.is_dir():  # follows links
                            if name.lower() in SYSTEM_DIRS:
                                continue
                            if is_link and not _under_any(os.path.realpath(e.path), real_roots):
                                continue
                            s = e.stat()
                            key = (s.st_dev, s.st_ino)
                            if key in visited:
                                continue
                            visited.add(key)
                            stack.append(e.path)
                        elif is_image_name(name) and e.is_file():
                            if is_link and not _under_any(os.path.realpath(e.path), real_roots):
                                continue
                            if e.path in files:
                                continue
                            s = e.stat()
                            files[e.path] = FileStat(e.path, root, s.st_size, s.st_mtime_ns)
                    except OSError:
                        continue  # vanished or a dangling link
    return WalkResult(files, missing, unreadable, devices)


def norm_folder(path: str | os.PathLike) -> str:
    """How a library folder is stored: absolute, user-expanded, without a trailing separator.

    Symlinks are kept as given (a user's ``~/Pictures`` link stays that path)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def under(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or inside it (by name: no file system access)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _under_any(path: str, folders: list[str]) -> bool:
    return any(under(path, f) for f in folders)


def as_path(p) -> Path:
    return Path(norm_folder(p))
