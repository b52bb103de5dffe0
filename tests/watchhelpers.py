"""Running the core folder watcher in a thread for tests, and what the library holds."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from photosearch.library import Library
from photosearch.library.watch import watch

TIMEOUT = 60  # generous: the suite shares two cores with other work


class Watcher:
    """Runs :func:`watch` in a thread and hands its events to the test."""

    def __init__(self, lib_path: Path, model, folders, **kw):
        self.events: queue.Queue = queue.Queue()
        self.cancel = threading.Event()
        self.error: BaseException | None = None
        kw.setdefault("settle", 0.3)
        kw.setdefault("max_wait", 8.0)
        kw.setdefault("tick", 0.05)
        kw.setdefault("text", False)  # the text pass has tests of its own (it takes about a second a photo)

        def run():
            try:
                for ev in watch(lib_path, model, folders, cancel=self.cancel, **kw):
                    self.events.put(ev)
            except BaseException as e:  # noqa: BLE001 - re-raised in the test thread
                self.error = e
            finally:
                self.events.put(None)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def next(self, kind: str, pred=lambda ev: True, timeout: float = TIMEOUT):
        """The next event of ``kind`` for which ``pred`` holds (others are passed over)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                ev = self.events.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if ev is None:
                raise AssertionError(f"the watcher stopped: {self.error!r}")
            if ev.kind == kind and pred(ev):
                return ev
        raise AssertionError(f"no {kind} event within {timeout} s")

    def stop(self):
        self.cancel.set()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "the watcher did not stop"
        if self.error is not None:
            raise self.error


def paths_in(lib_path: Path) -> set[str]:
    with Library.open(lib_path) as lib:
        return {r[0] for r in lib.conn.execute("SELECT path FROM photos")}
