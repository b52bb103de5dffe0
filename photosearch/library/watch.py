"""A live library: watch the library folders and index what changes, in batches.

:func:`watch` is a core generator (no Qt) like :meth:`Library.index`: it yields a :class:`WatchEvent` for each
batch it indexed and each change of a folder's state, and stops when its ``cancel`` event is set. The window
runs it in a worker thread; ``photosearch watch`` prints one line per event.

How a change becomes a batch:

* watchdog's native observer (inotify / FSEvents / ReadDirectoryChangesW) reports file events per library
  folder; events are only *collected* (path -> when last seen), never acted on one by one.
* Once no event arrived for ``settle`` seconds and every changed file has kept its size and mtime since the
  last look (a JPEG also ends with its end-of-image marker), the batch runs: one incremental
  :meth:`Library.index` of the folders involved. The scan behind it already tells new, changed, deleted and
  moved files apart (moves by content hash, so nothing is re-embedded). A burst of thousands of files is
  therefore a few batches, not thousands of runs. A file that keeps growing is waited for up to ``max_wait``
  seconds; one that stays truncated is then recorded as skipped with its reason, and retried when it changes.
* Where watching is impossible (the inotify watch limit, a network file system whose server sends no
  events) the folder falls back to polling: watchdog's polling observer, every ``poll_interval`` seconds.
* A folder that disappears (unplugged drive, empty mount point, unreachable share) is *offline*: its photos
  are kept (the scan never deletes what it cannot see) and it is checked every tick until it returns; then
  it is watched again and one incremental batch catches up, re-embedding nothing that did not change.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from photosearch.errors import LibraryError
from photosearch.imageio import is_image_name
from photosearch.library.index import IndexReport
from photosearch.library.scan import under

log = logging.getLogger(__name__)

WATCHING, POLLING, OFFLINE = "watching", "polling", "offline"
# File systems whose change events do not reach this machine (the server or a FUSE daemon changes files).
NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse.sshfs", "fuse.rclone", "afpfs", "davfs",
              "fuse.gvfsd-fuse", "ncpfs", "glusterfs", "ceph", "lustre"}
JPEG_NAMES = (".jpg", ".jpeg", ".jpe", ".jfif")


@dataclass
class FolderState:
    """How one library folder is kept fresh: ``watching`` (native events), ``polling`` or ``offline``."""

    folder: str
    mode: str
    reason: str = ""


@dataclass
class WatchEvent:
    """One thing the watcher did: ``kind`` "batch" (an incremental index ran; ``report`` says what changed),
    "changes" (a batch is ready but ``index=False``: the caller indexes) or "folders" (a folder's state
    changed; ``folders`` lists every folder's state)."""

    kind: str
    folders: list[FolderState] = field(default_factory=list)
    report: IndexReport | None = None
    changed: int = 0  # distinct paths whose events made this batch
    seconds: float = 0.0  # the batch's own time (indexing)
    waited: float = 0.0  # from the first event of the batch to its end: what a user waits for

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.report is not None:
            d["report"] = self.report.to_dict()
        return d


def fs_type(path: str) -> str | None:
    """The file-system type of the mount holding ``path`` (Linux: /proc/self/mounts), or None elsewhere."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, kind = "", None
    for parts in mounts:
        if len(parts) >= 3:
            point = parts[1].replace("\\040", " ")
            if under(real, point) and len(point) >= len(best):
                best, kind = point, parts[2]
    return kind


def looks_complete(path: str) -> bool:
    """False for a JPEG whose last bytes are not the end-of-image marker (still being written)."""
    if not path.lower().endswith(JPEG_NAMES):
        return True
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size < 4:
                return False
            f.seek(max(0, size - 64))
            tail = f.read().rstrip(b"\x00")  # some cameras pad after the marker
    except OSError:
        return True  # unreadable or gone: the index run records or forgets it
    return tail.endswith(b"\xff\xd9")


def _stat_key(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class _Pending:
    """Paths changed since the last batch, shared between observer threads and the watcher loop."""

    def __init__(self):
        self._lock = threading.Lock()
        self.paths: dict[str, str] = {}  # path -> the library folder it belongs to
        self.first = 0.0
        self.last = 0.0

    def add(self, root: str, *paths: str) -> None:
        now = time.monotonic()
        with self._lock:
            if not self.paths:
                self.first = now
            for p in paths:
                self.paths[p] = root
            self.last = now

    def take(self) -> tuple[dict[str, str], float]:
        with self._lock:
            paths, first = self.paths, self.first
            self.paths = {}
            return paths, first

    def snapshot(self) -> tuple[dict[str, str], float, float]:
        with self._lock:
            return dict(self.paths), self.first, self.last


def _handler(root: str, pending: _Pending):
    from watchdog.events import FileSystemEventHandler

    class Collector(FileSystemEventHandler):
        """Notes which paths changed; a folder's own "modified" (its listing changed) adds nothing."""

        def on_any_event(self, event):
            if event.event_type in ("opened", "closed_no_write"):
                return
            if event.is_directory and event.event_type == "modified":
                return
            paths = [os.fsdecode(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
            if not event.is_directory:
                paths = [p for p in paths if is_image_name(p)]
            if paths:
                pending.add(root, *paths)

    return Collector()


class _Watches:
    """The observers: one native observer for all folders that can be watched, one polling observer for
    the rest; ``schedule``/``unschedule`` per library folder."""

    def __init__(self, pending: _Pending, poll_interval: float, force_polling: bool):
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        self.pending = pending
        self.force_polling = force_polling
        self.native = Observer()
        self.polling = PollingObserver(timeout=poll_interval)
        self.native.start()
        self.polling.start()
        self.handles: dict[str, tuple[object, object]] = {}  # folder -> (observer, watch)

    def schedule(self, folder: str) -> FolderState:
        kind = fs_type(folder)
        reason = ""
        if self.force_polling:
            reason = "polling was asked for"
        elif kind in NETWORK_FS:
            reason = f"a network file system ({kind}) sends no change events"
        else:
            try:
                watch = self.native.schedule(_handler(folder, self.pending), folder, recursive=True)
                self.handles[folder] = (self.native, watch)
                return FolderState(folder, WATCHING)
            except OSError as e:  # inotify's watch or instance limit (ENOSPC/EMFILE), or no events here
                reason = f"cannot watch for changes ({e.strerror or e}); checked periodically instead"
                log.info("watch %s: %s", folder, reason)
        watch = self.polling.schedule(_handler(folder, self.pending), folder, recursive=True)
        self.handles[folder] = (self.polling, watch)
        return FolderState(folder, POLLING, reason)

    def unschedule(self, folder: str) -> None:
        obs, watch = self.handles.pop(folder, (None, None))
        if obs is not None:
            try:
                obs.unschedule(watch)
            except (KeyError, OSError, ValueError):  # its folder vanished under the observer
                pass

    def stop(self) -> None:
        for obs in (self.native, self.polling):
            obs.stop()
        for obs in (self.native, self.polling):
            obs.join(timeout=5)


def watch(library_path: str | Path, model, folders: list[str] | None = None, *,
          cancel: threading.Event, settle: float = 1.0, max_wait: float = 30.0, poll_interval: float = 30.0,
          force_polling: bool = False, catch_up: bool = True, batch_size: int = 32,
          tick: float = 0.2, index: bool = True) -> Iterator[WatchEvent]:
    """Watch ``folders`` (default: every library folder) until ``cancel`` is set, indexing changes in batches.

    ``catch_up`` first runs one incremental index, for what changed while nobody watched. Yields a "folders"
    event at the start and whenever a folder's state changes, and a "batch" event after each index run.
    With ``index=False`` (``model`` may be None) it indexes nothing and yields a "changes" event when a batch
    is ready instead: the window hands those to its own single library writer.
    """
    from photosearch.library import Library

    pending = _Pending()
    lib = Library.open(library_path)
    watches = None
    try:
        roots = [lib.add_folder(f) for f in folders] if folders else lib.folders()
        if not roots:
            raise LibraryError("the library has no folders yet; add one (photosearch folders add PATH)")
        watches = _Watches(pending, poll_interval, force_polling)
        states: dict[str, FolderState] = {}
        offline = lib.offline_folders()
        for r in roots:
            states[r] = (FolderState(r, OFFLINE, offline[r]) if r in offline or not os.path.isdir(r)
                         else watches.schedule(r))
            if states[r].mode == OFFLINE and not states[r].reason:
                states[r].reason = "not found"
        yield WatchEvent("folders", folders=list(states.values()))
        if catch_up:
            for r in roots:  # a folder's own path as the change: one incremental re-scan of each
                pending.add(r, r)
        seen: dict[str, object] = {}  # path -> (size, mtime) at the last look, for the stability check
        next_check = 0.0
        while not cancel.wait(tick):
            now = time.monotonic()
            if now >= next_check:  # folder states: cheap (a stat, a one-entry listing)
                next_check = now + 1.0
                changed = _update_states(lib, roots, states, watches, pending)
                if changed:
                    yield WatchEvent("folders", folders=list(states.values()))
            paths, first, last = pending.snapshot()
            if not paths or now - last < settle:
                continue
            if now - first < max_wait and not _stable(paths, seen):
                continue
            batch, first = pending.take()
            seen.clear()
            current = set(lib.folders())  # a folder removed from the library meanwhile is not re-added
            for gone in [r for r in roots if r not in current]:
                watches.unschedule(gone)
                roots.remove(gone)
                states.pop(gone, None)
            targets = sorted({root for root in batch.values() if root in states and states[root].mode != OFFLINE})
            if not targets:
                continue
            if not index:
                yield WatchEvent("changes", folders=list(states.values()), changed=len(batch),
                                 waited=time.monotonic() - first)
                continue
            try:
                t0 = time.monotonic()
                report = lib.run_index(model, targets, batch_size=batch_size, cancel=cancel)
            except LibraryError as e:
                if "indexing the library" not in str(e):  # anything but another indexer's lock is real
                    raise
                for p, root in batch.items():  # someone else is indexing: try again shortly
                    pending.add(root, p)
                continue
            yield WatchEvent("batch", folders=list(states.values()), report=report, changed=len(batch),
                             seconds=time.monotonic() - t0, waited=time.monotonic() - first)
    finally:
        if watches is not None:
            watches.stop()
        lib.close()


def _stable(paths: dict[str, str], seen: dict[str, object]) -> bool:
    """Whether every changed file kept its size and mtime since the last look and looks complete."""
    ok = True
    for p in paths:
        key = _stat_key(p)
        if key is None:  # deleted, or a folder's path: nothing to wait for
            continue
        if os.path.isdir(p):
            continue
        if seen.get(p) != key or not looks_complete(p):
            ok = False
        seen[p] = key
    return ok


def _update_states(lib, roots, states, watches, pending) -> bool:
    """Move folders between offline and watched; True when any state changed."""
    offline = lib.offline_folders()
    changed = False
    for r in roots:
        gone = offline.get(r) or (None if os.path.isdir(r) else "not found")
        st = states[r]
        if gone and st.mode != OFFLINE:
            watches.unschedule(r)
            states[r] = FolderState(r, OFFLINE, gone)
            changed = True
        elif not gone and st.mode == OFFLINE:
            states[r] = watches.schedule(r)
            pending.add(r, r)  # back: one incremental batch catches up (nothing unchanged is re-embedded)
            changed = True
    return changed
