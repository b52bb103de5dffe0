"""Which folders are offline: their photos are kept (and stay searchable) while their drive is away.

A library folder is offline when it is not there, is empty while the library holds photos from it (an empty
mount point), or is on another device than when it was indexed *and* does not hold the photos stored for it.
A device number alone is not an identity: a USB drive plugged into another port, or mounted after another one,
comes back under another ``st_dev``; it is recognised by its content (a few stored photos found again with
the same content hash) and indexed as usual, re-embedding nothing.

A sub-folder that was on another device than its parent when last indexed (a drive mounted inside a library
folder, recorded by :func:`~photosearch.library.scan.walk_folders`) is offline when it is gone, back on its
parent's device (unmounted: the bare mount point) or on a device holding other content.
"""

from __future__ import annotations

import os
import sqlite3
import stat

from photosearch.library import queries as sql
from photosearch.library.scan import same_content, under

SAMPLE = 8  # stored photos looked at to recognise a folder by its content
OTHER_DEVICE = "on another device than when it was indexed, holding other photos (drive not mounted?)"


def folder_offline(path: str, device: int | None, has_photos: bool) -> str | None:
    """Why a library folder looks offline from its metadata alone, or None when it is there: not there or
    not a folder; on another device than ``device`` (the recorded ``st_dev``; the caller then looks at the
    content, see :func:`offline_folders`); or empty while the library holds photos from it."""
    try:
        st = os.stat(path)
    except OSError:
        return "not found"
    if not stat.S_ISDIR(st.st_mode):
        return "not a folder"
    if device is not None and st.st_dev != device:
        return OTHER_DEVICE
    if has_photos:
        try:
            with os.scandir(path) as it:
                empty = next(it, None) is None
        except OSError:
            return "cannot be read"
        if empty:
            return "empty, but its photos were indexed (drive not mounted?)"
    return None


def holds_its_photos(conn: sqlite3.Connection, folder: str) -> bool:
    """Whether ``folder`` holds the photos the library stored under it: of a few stored photos, at least one
    and at least half of those present have the same size and content hash (sampled hashes of old libraries
    count: this recognises a drive, it does not decide that a photo is unchanged). True when nothing is
    stored under it."""
    rows = sql.photo_sample(conn, folder.rstrip(os.sep) + os.sep, SAMPLE)
    if not rows:
        return True  # nothing stored under it: nothing to keep, nothing to recognise
    present = matched = 0
    for r in rows:
        if not os.path.exists(r["path"]):
            continue
        present += 1
        matched += same_content(r["path"], r["size"], r["hash"])
    return matched >= 1 and 2 * matched >= present


def offline_folders(conn: sqlite3.Connection, folders: list[str],
                    recognised: dict[tuple, bool] | None = None) -> dict[str, str]:
    """Library folders that are there but offline (unmounted drive, empty mount point): folder -> why.
    ``recognised`` caches content checks by (folder, st_dev, st_ino, st_mtime_ns) for callers that ask every
    second (the watcher)."""
    devices = sql.folder_devices(conn)
    with_photos = sql.folders_with_photos(conn)
    out = {}
    for f in folders:
        why = folder_offline(f, devices.get(f), f in with_photos)
        if why == OTHER_DEVICE and _recognised(conn, f, recognised):
            why = folder_offline(f, None, f in with_photos)  # the same drive under a new number
        if why is not None:
            out[f] = why
    return out


def offline_mounts(conn: sqlite3.Connection, mounts: dict[str, int], folders: list[str]) -> dict[str, str]:
    """Recorded mount points (``mounts``: sub-folder -> st_dev) under ``folders`` whose drive is away:
    sub-folder -> why."""
    out = {}
    for m, dev in mounts.items():
        if not any(under(m, f) and m != f for f in folders):
            continue
        if not sql.photo_sample(conn, m.rstrip(os.sep) + os.sep, 1):
            continue  # no photos stored from that drive: nothing to keep
        try:
            st, parent = os.stat(m), os.stat(os.path.dirname(m))
        except OSError:
            out[m] = "a drive mounted here is not mounted (the folder is gone)"
            continue
        if st.st_dev == parent.st_dev:
            out[m] = "a drive mounted here is not mounted"
        elif st.st_dev != dev and not holds_its_photos(conn, m):
            out[m] = "another drive is mounted here"
    return out


def _recognised(conn, folder: str, cache: dict | None) -> bool:
    try:
        st = os.stat(folder)
        key = (folder, st.st_dev, st.st_ino, st.st_mtime_ns)  # a device number is reused by the next drive
    except OSError:
        return False
    if cache is not None and key in cache:
        return cache[key]
    found = holds_its_photos(conn, folder)
    if cache is not None:
        cache[key] = found
    return found
