"""The watcher's observers: native change events where they reach every sub-folder, polling where they cannot.

Linux's inotify watches one folder per watch, and a user has a limited number of them
(``fs.inotify.max_user_watches``). watchdog adds a watch for every sub-folder and *ignores* a failure below
the top folder, so a large or fast-growing tree used to be reported "watching" while whole albums were
blind. After scheduling a folder, and whenever a sub-folder appears, the kernel's own list of this process's
watches (``/proc/self/fdinfo``) is compared with the sub-folders on disk: the top-most unwatched ones are
polled instead (the whole folder when there are many), and the folder's state says so.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from photosearch.imageio import is_image_name
from photosearch.library.scan import SYSTEM_DIRS, under

log = logging.getLogger(__name__)

WATCHING, POLLING, OFFLINE = "watching", "polling", "offline"
# File systems whose change events do not reach this machine (the server or a FUSE daemon changes files).
NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse.sshfs", "fuse.rclone", "afpfs", "davfs",
              "fuse.gvfsd-fuse", "ncpfs", "glusterfs", "ceph", "lustre"}
MAX_POLLED = 32  # blind sub-folders polled one by one; beyond this the whole library folder is polled


@dataclass
class FolderState:
    """How one library folder is kept fresh: ``watching`` (native events), ``polling`` (all or part of it,
    ``polled`` sub-folders that cannot be watched) or ``offline``."""

    folder: str
    mode: str
    reason: str = ""
    polled: int = 0  # sub-folders checked periodically because no change events reach them


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


def inotify_watched() -> set[tuple[int, int, int]] | None:
    """(major, minor, inode) of every inode this process holds an inotify watch on, as the kernel lists them
    in ``/proc/self/fdinfo``; None where that cannot be known (not Linux)."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return None
    out: set[tuple[int, int, int]] = set()
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:inotify":
                continue
            with open(f"/proc/self/fdinfo/{fd}", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("inotify "):
                        fields = dict(p.split(":", 1) for p in line.split()[1:] if ":" in p)
                        sdev = int(fields["sdev"], 16)  # the kernel's dev_t: major << 20 | minor
                        out.add((sdev >> 20, sdev & 0xFFFFF, int(fields["ino"], 16)))
        except (OSError, ValueError, KeyError):
            continue  # closed meanwhile, or a line this parser does not know
    return out


def blind_spots(folder: str, watched: set[tuple[int, int, int]] | None) -> tuple[list[str], int, int]:
    """The top-most sub-folders of ``folder`` (itself included) that no watch in ``watched`` covers, as the
    library's scan walks them (hidden and system folders skipped, symlinks not followed): (tops, how many
    folders are unwatched, how many folders there are). Nothing is blind when ``watched`` is None."""
    if watched is None:
        return [], 0, 0
    tops: list[str] = []
    blind = total = 0
    stack = [(folder, False)]
    while stack:
        d, parent_blind = stack.pop()
        try:
            st = os.stat(d)
        except OSError:
            continue
        total += 1
        is_blind = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino) not in watched
        blind += is_blind
        if is_blind and not parent_blind:
            tops.append(d)
        try:
            with os.scandir(d) as it:
                subs = [e.path for e in it if not e.name.startswith(".") and e.name.lower() not in SYSTEM_DIRS
                        and e.is_dir(follow_symlinks=False)]
        except OSError:
            continue  # cannot be listed: cannot be watched or polled either; the scan reports it
        stack.extend((s, is_blind) for s in subs)
    return sorted(tops), blind, total


def inotify_limit() -> str:
    """The per-user inotify watch limit in force, in the words of the setting that raises it."""
    values = []
    for p in ("/proc/sys/fs/inotify/max_user_watches", "/proc/sys/user/max_inotify_watches"):
        try:
            with open(p) as f:
                values.append(int(f.read().strip()))
        except (OSError, ValueError):
            pass
    return f"fs.inotify.max_user_watches = {min(values)}" if values else "the system's limit on watched folders"


def _handler(root: str, on_paths, on_new_dir):
    from watchdog.events import FileSystemEventHandler

    class Collector(FileSystemEventHandler):
        """Notes which paths changed; a folder's own "modified" (its listing changed) adds nothing; a new
        folder is also handed to ``on_new_dir`` (it may not have been watched)."""

        def on_any_event(self, event):
            if event.event_type in ("opened", "closed_no_write"):
                return
            if event.is_directory and event.event_type == "modified":
                return
            paths = [os.fsdecode(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
            if event.is_directory and event.event_type in ("created", "moved"):
                on_new_dir(root, paths[-1])
            if not event.is_directory:
                paths = [p for p in paths if is_image_name(p)]
            if paths:
                on_paths(root, *paths)

    return Collector()


class Watches:
    """The observers: one native observer for all folders that can be watched, one polling observer for the
    rest and for the blind sub-folders of watched ones; ``schedule``/``unschedule`` per library folder.

    ``on_paths(root, *paths)`` receives changed paths (from observer threads)."""

    def __init__(self, on_paths, poll_interval: float, force_polling: bool, watched=inotify_watched):
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        self.on_paths = on_paths
        self.poll_interval = poll_interval
        self.force_polling = force_polling
        self.watched = watched  # what the kernel watches now (injectable: the blind-spot logic's tests)
        self.native = Observer()
        self.polling = PollingObserver(timeout=poll_interval)
        self.native.start()
        self.polling.start()
        self.handles: dict[str, list[tuple[object, object]]] = {}  # folder -> [(observer, watch)]
        self._new_dirs: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def schedule(self, folder: str) -> FolderState:
        kind = fs_type(folder)
        reason = ""
        if self.force_polling:
            reason = "polling was asked for"
        elif kind in NETWORK_FS:
            reason = f"a network file system ({kind}) sends no change events"
        else:
            try:
                watch = self.native.schedule(self._handler(folder), folder, recursive=True)
                self.handles[folder] = [(self.native, watch)]
                return self._cover(folder, folder, FolderState(folder, WATCHING), self.watched())
            except OSError as e:  # inotify's watch or instance limit (ENOSPC/EMFILE), or no events here
                reason = f"cannot watch for changes ({e.strerror or e}); checked every {self.poll_interval:g} s instead"
                log.info("watch %s: %s", folder, reason)
        self._poll(folder, folder)
        return FolderState(folder, POLLING, reason)

    def check_new_dirs(self, states: dict[str, FolderState]) -> list[str]:
        """Poll what new sub-folders of natively watched folders left blind; the library folders whose state
        changed (each needs one re-scan: files written before polling began raise no event)."""
        with self._lock:
            new, self._new_dirs = self._new_dirs, set()
        changed = []
        watched = self.watched() if new else None  # one look at the kernel's list (it may be long)
        for root, d in sorted(new):
            st = states.get(root)
            if st is None or st.mode == OFFLINE or not self._native(root):
                continue
            after = self._cover(root, d, st, watched)
            if after != st:
                states[root] = after
                changed.append(root)
        return changed

    def unschedule(self, folder: str) -> None:
        for obs, watch in self.handles.pop(folder, []):
            try:
                obs.unschedule(watch)
            except (KeyError, OSError, ValueError):  # its folder vanished under the observer
                pass

    def stop(self) -> None:
        for obs in (self.native, self.polling):
            obs.stop()
        for obs in (self.native, self.polling):
            obs.join(timeout=5)

    def _handler(self, root: str):
        return _handler(root, self.on_paths, self._note_new_dir)

    def _note_new_dir(self, root: str, path: str) -> None:
        with self._lock:
            self._new_dirs.add((root, path))

    def _native(self, root: str) -> bool:
        return any(obs is self.native for obs, _ in self.handles.get(root, []))

    def _poll(self, root: str, path: str) -> None:
        watch = self.polling.schedule(self._handler(root), path, recursive=True)
        self.handles.setdefault(root, []).append((self.polling, watch))

    def _cover(self, root: str, path: str, st: FolderState, watched) -> FolderState:
        """Poll the sub-folders of ``path`` that inotify does not watch (``watched``: the kernel's list);
        ``st`` updated to say so."""
        polled = {w.path for obs, w in self.handles.get(root, []) if obs is self.polling}
        tops, blind, total = blind_spots(path, watched)
        tops = [t for t in tops if not any(under(t, p) for p in polled)]
        if not tops:
            return st
        n = st.polled + len(tops)
        if n > MAX_POLLED or path == root and blind == total:
            self.unschedule(root)  # frees the watches it holds for other programs
            self._poll(root, root)
            why = f"{blind} of {total} folders" if path == root else "many sub-folders"
            return FolderState(root, POLLING, f"{why} cannot be watched for changes ({inotify_limit()}); "
                                              f"checked every {self.poll_interval:g} s instead", n)
        for t in tops:
            self._poll(root, t)
        log.info("watch %s: %d sub-folders cannot be watched; polled", root, len(tops))
        return FolderState(root, POLLING, f"{n} sub-folder{'s' if n > 1 else ''} cannot be watched for changes "
                                          f"({inotify_limit()}); checked every {self.poll_interval:g} s instead", n)
