"""A live library: watch the library folders and index what changes, in batches.

:func:`watch` is a core generator (no Qt) like :meth:`Library.index`: it yields a :class:`WatchEvent` for each
batch it indexed and each change of a folder's state, and stops when its ``cancel`` event is set. The window
runs it in a worker thread; ``photosearch watch`` prints one line per event.

How a change becomes a batch:

* watchdog's native observer (inotify / FSEvents / ReadDirectoryChangesW) reports file events per library
  folder; events are only *collected* (path -> when last seen), never acted on one by one.
* Each changed path settles on its own: once no event arrived for it for ``settle`` seconds and the file has
  kept its size and mtime since the last look (a JPEG also ends with its end-of-image marker, an MP4, MOV or
  HEIC with its last box, an AVI as long as its header says: a copy that pauses is not read half-way), it is ready,
  whatever other files do (a webcam's ``latest.jpg`` replaced twice a second delays nobody). The ready paths
  make a batch: one incremental :meth:`Library.index` of the folders involved. The scan behind it already
  tells new, changed, deleted and moved files apart (moves by content hash, so nothing is re-embedded). A
  burst of thousands of files is therefore a few batches, not thousands of runs. A file that keeps changing
  is waited for up to ``max_wait`` seconds from its first event; one that stays truncated is then recorded
  as skipped with its reason, and retried when it changes.
* When the library reads the words in photos (its text setting), the text pass follows each batch; it
  yields to the next ready batch and goes on after it.
* Where watching is impossible (the inotify watch limit, a network file system whose server sends no
  events) the folder falls back to polling: watchdog's polling observer, every ``poll_interval`` seconds;
  sub-folders that inotify could not watch are polled too and the folder says so (library/observe.py).
* A folder that disappears (unplugged drive, empty mount point, unreachable share) is *offline*: its photos
  are kept (the scan never deletes what it cannot see) and it is checked every tick until it returns; then
  it is watched again and one incremental batch catches up, re-embedding nothing that did not change.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from photosearch.errors import LibraryError
from photosearch.library.index import IndexReport
from photosearch.library.observe import OFFLINE, POLLING, WATCHING, FolderState, Watches

if TYPE_CHECKING:
    from photosearch.library.textindex import TextEvent

__all__ = ["FolderState", "OFFLINE", "POLLING", "WATCHING", "WatchEvent", "looks_complete", "watch"]

JPEG_NAMES = (".jpg", ".jpeg", ".jpe", ".jfif")


@dataclass
class WatchEvent:
    """One thing the watcher did: ``kind`` "batch" (an incremental index ran; ``report`` says what changed),
    "changes" (a batch is ready but ``index=False``: the caller indexes), "text" (words read in new photos;
    ``text`` is the text pass's last event) or "folders" (a folder's state changed; ``folders`` lists every
    folder's state)."""

    kind: str
    folders: list[FolderState] = field(default_factory=list)
    report: IndexReport | None = None
    changed: int = 0  # distinct paths whose events made this batch
    seconds: float = 0.0  # the batch's own time (indexing)
    waited: float = 0.0  # from the first event of the batch to its end: what a user waits for
    text: TextEvent | None = None  # the text pass's last event: done/total/with_text (text_report at its end)

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.report is not None:
            d["report"] = self.report.to_dict()
        return d


BMFF_NAMES = (".mp4", ".m4v", ".mov", ".3gp", ".3g2", ".heic", ".heif", ".avif", ".cr3")  # ISO base media files
RIFF_NAMES = (".avi", ".webp")


def looks_complete(path: str) -> bool:
    """False for a file visibly still being written: a JPEG whose last bytes are not the end-of-image marker, an
    MP4/MOV/HEIC (ISO base media) whose boxes run past its end, an AVI/WebP shorter than its RIFF header says.
    Other kinds, and anything unreadable, look complete (the index run records what is wrong)."""
    name = path.lower()
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            if name.endswith(JPEG_NAMES):
                if size < 4:
                    return False
                f.seek(max(0, size - 64))
                return f.read().rstrip(b"\x00").endswith(b"\xff\xd9")  # some cameras pad after the marker
            if name.endswith(BMFF_NAMES):
                return _boxes_complete(f, size)
            if name.endswith(RIFF_NAMES):
                f.seek(0)
                head = f.read(8)
                return len(head) == 8 and (head[:4] != b"RIFF" or int.from_bytes(head[4:], "little") + 8 <= size)
    except OSError:
        return True  # unreadable or gone: the index run records or forgets it
    return True


def _boxes_complete(f, size: int) -> bool:
    """The top-level boxes (4-byte size, 4-byte type; size 1: a 64-bit size follows; 0: to the end) end exactly
    at the end of the file. A copy in progress has a last box (often the video's ``mdat``) running past it."""
    pos = boxes = 0
    while pos < size:
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            return False  # a box header cut off
        n = int.from_bytes(head[:4], "big")
        if n == 1:
            if len(head) < 16:
                return False  # a 64-bit size cut off
            n = int.from_bytes(head[8:16], "big")
        elif n == 0:
            return True  # the last box runs to the end of the file, whatever it is
        boxes += 1
        if n < 8 or boxes > 10_000:
            return True  # not a layout this understands: never hold a file on a guess
        pos += n
    return pos == size


def _stat_key(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, stat.S_ISDIR(st.st_mode)


@dataclass
class _Change:
    """One changed path: the library folder it belongs to, its first and last event, its last look."""

    root: str
    first: float
    last: float
    looked: object = None  # (size, mtime, is_dir) at the last look; None before the first


class _Pending:
    """Paths changed and not indexed yet, shared between observer threads and the watcher loop. Each path
    settles on its own (see the module's docstring)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._paths: dict[str, _Change] = {}

    def add(self, root: str, *paths: str) -> None:
        now = time.monotonic()
        with self._lock:
            for p in paths:
                c = self._paths.get(p)
                if c is None:
                    self._paths[p] = _Change(root, now, now)
                else:
                    c.root, c.last = root, now

    def ready(self, settle: float, max_wait: float) -> dict[str, tuple[_Change, float]]:
        """The paths ready to index now: path -> (change, its last event time). Looks at each file."""
        now = time.monotonic()
        with self._lock:
            items = [(p, c, c.last) for p, c in self._paths.items()]
        out = {}
        for p, c, last in items:
            if now - last < settle:
                continue
            if _settled(p, c) or now - c.first >= max_wait:
                out[p] = (c, last)
        return out

    def take(self, ready: dict[str, tuple[_Change, float]]) -> tuple[dict[str, str], float]:
        """Remove the ready paths (unless an event came for one meanwhile): (path -> root, earliest first)."""
        batch, first = {}, time.monotonic()
        with self._lock:
            for p, (c, last) in ready.items():
                if self._paths.get(p) is c and c.last == last:
                    del self._paths[p]
                    batch[p] = c.root
                    first = min(first, c.first)
        return batch, first


def _settled(path: str, c: _Change) -> bool:
    """Whether the file kept its size and mtime since the last look and looks complete (a deleted path or a
    folder has nothing to wait for)."""
    key = _stat_key(path)
    if key is None or key[2]:
        return True
    stable = c.looked == key and looks_complete(path)
    c.looked = key
    return stable


def watch(library_path: str | Path, model, folders: list[str] | None = None, *,
          cancel: threading.Event, settle: float = 1.0, max_wait: float = 30.0, poll_interval: float = 30.0,
          force_polling: bool = False, catch_up: bool = True, batch_size: int = 32,
          tick: float = 0.2, index: bool = True, text: bool | None = None, ocr=None) -> Iterator[WatchEvent]:
    """Watch ``folders`` (default: every library folder) until ``cancel`` is set, indexing changes in batches.

    ``catch_up`` first runs one incremental index, for what changed while nobody watched. Yields a "folders"
    event at the start and whenever a folder's state changes, and a "batch" event after each index run.
    ``text`` (default: the library's setting) reads the words in new photos after each batch (``ocr``: an
    :class:`~photosearch.ocr.OcrEngine`, by default one at low priority), with a "text" event.
    With ``index=False`` (``model`` may be None) it indexes nothing and yields a "changes" event when a batch
    is ready instead: the window hands those to its own single library writer (and text pass).
    """
    from photosearch.library import Library

    pending = _Pending()
    lib = Library.open(library_path)
    loop = None
    try:
        roots = [lib.add_folder(f) for f in folders] if folders else lib.folders()
        if not roots:
            raise LibraryError("the library has no folders yet; add one (photosearch folders add PATH)")
        loop = _Loop(lib, model, roots, pending, Watches(pending.add, poll_interval, force_polling), cancel)
        yield WatchEvent("folders", folders=loop.start())
        if catch_up:
            for r in roots:  # a folder's own path as the change: one incremental re-scan of each
                pending.add(r, r)
        if index and (text if text is not None else _text_on(lib)):
            loop.start_text(ocr)
        next_check = 0.0
        while not cancel.wait(tick):
            now = time.monotonic()
            if now >= next_check:  # folder states: cheap (a stat, a one-entry listing)
                next_check = now + 1.0
                if loop.update_states():
                    yield WatchEvent("folders", folders=loop.folder_states())
            ready = pending.ready(settle, max_wait)
            if ready:
                yield from loop.batch(ready, index, batch_size)
            if loop.reader is not None:
                yield from loop.read_text(lambda: bool(pending.ready(settle, max_wait)))
    finally:
        if loop is not None:
            loop.close()
        lib.close()


def _text_on(lib) -> bool:
    from photosearch.library import textindex

    return textindex.enabled(lib.conn)


class _Loop:
    """The watcher's state between ticks: the folders and their states, the observers, the text reader."""

    def __init__(self, lib, model, roots: list[str], pending: _Pending, watches: Watches, cancel):
        self.lib, self.model, self.roots, self.pending = lib, model, roots, pending
        self.watches, self.cancel = watches, cancel
        self.states: dict[str, FolderState] = {}
        self.reader = None  # the text pass: an OCR engine, once text is on
        self._own_reader = False
        self._text_due = True  # photos may be waiting to be read

    def start(self) -> list[FolderState]:
        offline = self.lib.offline_folders()
        for r in self.roots:
            if r in offline or not os.path.isdir(r):
                self.states[r] = FolderState(r, OFFLINE, offline.get(r) or "not found")
            else:
                self.states[r] = self.watches.schedule(r)
        return self.folder_states()

    def folder_states(self) -> list[FolderState]:
        return [self.states[r] for r in self.roots if r in self.states]

    def start_text(self, ocr) -> None:
        if ocr is None:
            from photosearch.ocr import OcrEngine

            ocr, self._own_reader = OcrEngine(background=True), True
        self.reader = ocr

    def update_states(self) -> bool:
        """Move folders between offline and watched, poll new sub-folders inotify cannot watch; True when
        any state changed."""
        offline = self.lib.offline_folders()
        changed = False
        for r in self.roots:
            gone = offline.get(r) or (None if os.path.isdir(r) else "not found")
            st = self.states[r]
            if gone and st.mode != OFFLINE:
                self.watches.unschedule(r)
                self.states[r] = FolderState(r, OFFLINE, gone)
                changed = True
            elif not gone and st.mode == OFFLINE:
                self.states[r] = self.watches.schedule(r)
                self.pending.add(r, r)  # back: one incremental batch catches up (nothing unchanged is re-embedded)
                changed = True
        for r in self.watches.check_new_dirs(self.states):
            self.pending.add(r, r)  # files written there before polling began raised no event
            changed = True
        return changed

    def batch(self, ready, index: bool, batch_size: int) -> Iterator[WatchEvent]:
        batch, first = self.pending.take(ready)
        current = set(self.lib.folders())  # a folder removed from the library meanwhile is not re-added
        for gone in [r for r in self.roots if r not in current]:
            self.watches.unschedule(gone)
            self.roots.remove(gone)
            self.states.pop(gone, None)
        targets = sorted({root for root in batch.values() if root in self.states
                          and self.states[root].mode != OFFLINE})
        if not targets:
            return
        if not index:
            yield WatchEvent("changes", folders=self.folder_states(), changed=len(batch),
                             waited=time.monotonic() - first)
            return
        try:
            t0 = time.monotonic()
            report = self.lib.run_index(self.model, targets, batch_size=batch_size, cancel=self.cancel)
        except LibraryError as e:
            if "indexing the library" not in str(e):  # anything but another indexer's lock is real
                raise
            for p, root in batch.items():  # someone else is indexing: try again shortly
                self.pending.add(root, p)
            return
        self._text_due = True
        yield WatchEvent("batch", folders=self.folder_states(), report=report, changed=len(batch),
                         seconds=time.monotonic() - t0, waited=time.monotonic() - first)

    def read_text(self, interrupt) -> Iterator[WatchEvent]:
        """Read the words in photos not read yet, one photo at a time (each committed), until done or until
        ``interrupt()`` says a batch is ready (the rest is read after it)."""
        if not self._text_due or self.cancel.is_set():
            return
        last = None
        events = self.lib.read_text(self.reader, batch_size=1, cancel=self.cancel)
        try:
            for ev in events:
                last = ev
                if ev.phase == "text" and ev.done < ev.total and interrupt():
                    break
            else:
                self._text_due = False
        finally:
            events.close()
        if last is not None and last.done:
            yield WatchEvent("text", folders=self.folder_states(), text=last)

    def close(self) -> None:
        self.watches.stop()
        if self._own_reader and self.reader is not None:
            self.reader.close()
