"""Walking the library folders and telling new, changed, moved and deleted files apart cheaply.

A re-scan stats every file (``os.scandir``) and compares size + mtime with the database; only files whose
size or mtime changed, or that might be a moved file, are read to hash them, and then whole (a changed size or
mtime is a change to verify, never to guess from samples).

Sub-folders on another device than their parent (a drive mounted inside a library folder) are recorded as
*mount points*: once unmounted (the folder is empty, gone or back on its parent's device) their photos are
kept, like an unmounted library folder's.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path


# Folders that hold no photos of the user's, or the OS's/NAS's own copies of them.
SYSTEM_DIRS = frozenset(s.lower() for s in (
    "$RECYCLE.BIN", "System Volume Information", "lost+found", "@eaDir", "#recycle", "__MACOSX",
    ".Trashes", ".Spotlight-V100", ".fseventsd", ".thumbnails", "node_modules", "$Recycle.Bin",
))

HASH_BLOCK = 64 * 1024
LEGACY_SAMPLED_ABOVE = 4 * 1024 * 1024  # libraries before 2026-12 fingerprinted larger files from samples


def content_hash(path: str | os.PathLike) -> str:
    """The file's content fingerprint (its size and every byte, 32 hex digits): finds moved files and tells
    a rewritten file from a touched one.

    Files over 4 MB were once fingerprinted from five 64 KB blocks; a TIFF painted over between them stayed
    "unchanged". They are now hashed whole with SHA-256 (CPUs with SHA extensions run it about 1.7x faster
    than BLAKE2b: benchmarks/bench_rescan.py), so a stored sampled hash never equals a new one by accident
    (:func:`legacy_hash` still recognises such a row's moved file). Smaller files keep their BLAKE2b hash."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        big = size > LEGACY_SAMPLED_ABOVE
        h = hashlib.sha256() if big else hashlib.blake2b(digest_size=16)
        h.update(size.to_bytes(8, "little"))
        while b := f.read(1 << 20):
            h.update(b)
    return h.hexdigest()[:32] if big else h.hexdigest()


def legacy_hash(path: str | os.PathLike) -> str | None:
    """The sampled fingerprint libraries stored for files over 4 MB before full hashing (size + five 64 KB
    blocks), or None for smaller files (their hash never changed). Used only to recognise the same file
    again (a move, a drive back on another device number), never to decide that a file is unchanged."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size <= LEGACY_SAMPLED_ABOVE:
            return None
        h = hashlib.blake2b(digest_size=16)
        h.update(size.to_bytes(8, "little"))
        for off in (0, size // 4, size // 2, (3 * size) // 4, size - HASH_BLOCK):
            f.seek(off)
            h.update(f.read(HASH_BLOCK))
    return h.hexdigest()


def same_content(path: str, size: int, stored_hash: str) -> bool:
    """Whether the file at ``path`` is the stored photo (``size``, ``stored_hash``), by full or legacy hash;
    False when it cannot be read."""
    try:
        if os.stat(path).st_size != size:
            return False
        return content_hash(path) == stored_hash or legacy_hash(path) == stored_hash
    except OSError:
        return False


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
    mounts: dict[str, int] = field(default_factory=dict)  # sub-folder on another device than its parent -> st_dev

    @property
    def errors(self) -> int:
        """Sub-folders that could not be listed."""
        return len(self.unreadable_folders)

    def kept(self, path: str) -> bool:
        """A stored photo not found by this walk is kept (not deleted) when it lies under a folder that
        could not be listed or that is offline."""
        return _under_any(path, self.unreadable_folders) or _under_any(path, self.missing_folders)


def walk_folders(folders: list[str], all_roots: list[str] | None = None,
                 offline: dict[str, str] | None = None) -> WalkResult:
    """Image files under ``folders``: hidden and system folders skipped, symlinks followed only while they
    stay inside the library folders (``all_roots``), each real folder visited once (no symlink loops).
    ``offline`` folders (library folders, see :func:`folder_offline`, or unmounted sub-folders) are reported
    missing without being walked; sub-folders that cannot be listed, or whose listing fails part way, are
    reported in ``unreadable_folders`` and the walk carries on."""
    w = _Walk([os.path.realpath(r) for r in (all_roots or folders)], offline or {})
    for root in folders:
        try:
            st = os.stat(root)
        except OSError:
            w.result.missing_folders.append(root)
            continue
        if not os.path.isdir(root) or root in w.offline:
            w.result.missing_folders.append(root)
            continue
        w.result.devices[root] = st.st_dev
        w.visited.add((st.st_dev, st.st_ino))
        w.walk(root, st.st_dev)
    return w.result


class _Walk:
    """The state of one :func:`walk_folders`: what was found, and the real folders already visited."""

    def __init__(self, real_roots: list[str], offline: dict[str, str]):
        from photosearch.imageio import is_image_name  # here: imageio imports Pillow, which a search does not need

        self.is_image_name = is_image_name
        self.real_roots = real_roots
        self.offline = offline
        self.result = WalkResult({}, [])
        self.visited: set[tuple[int, int]] = set()

    def walk(self, root: str, device: int) -> None:
        stack = [(root, device)]
        while stack:
            d, dev = stack.pop()
            try:
                with os.scandir(d) as it:
                    for e in it:  # a listing can fail part way (EACCES from /proc's map_files, EIO)
                        sub = self._visit(e, root, dev)
                        if sub is not None:
                            stack.append(sub)
            except OSError:
                self.result.unreadable_folders.append(d)  # what is stored under it is kept

    def _visit(self, e: os.DirEntry, root: str, parent_dev: int) -> tuple[str, int] | None:
        """Record an image file; return a folder to walk (with its device)."""
        if e.name.startswith("."):
            return None
        try:
            is_link = e.is_symlink()
            if is_link and not _under_any(os.path.realpath(e.path), self.real_roots):
                return None
            if e.is_dir():  # follows links
                if e.name.lower() in SYSTEM_DIRS:
                    return None
                if e.path in self.offline:  # an unmounted drive's mount point: its photos are kept
                    self.result.missing_folders.append(e.path)
                    return None
                s = e.stat()
                if (s.st_dev, s.st_ino) in self.visited:
                    return None
                self.visited.add((s.st_dev, s.st_ino))
                if s.st_dev != parent_dev and not is_link:
                    self.result.mounts[e.path] = s.st_dev
                return e.path, s.st_dev
            if self.is_image_name(e.name) and e.is_file() and e.path not in self.result.files:
                s = e.stat()
                self.result.files[e.path] = FileStat(e.path, root, s.st_size, s.st_mtime_ns)
        except OSError:
            pass  # vanished or a dangling link
        return None


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
