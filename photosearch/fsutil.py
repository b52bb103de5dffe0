"""Small file helpers shared by the model store, training and downloads (no heavy imports)."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from pathlib import Path


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()



@contextlib.contextmanager
def atomic_folder(folder: Path):
    """Yield a temporary sibling folder to fill; it replaces ``folder`` only if the block completes, so a
    crash or a full disk mid-write leaves the previous folder (or none) in place, never a half-written one."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield tmp
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
