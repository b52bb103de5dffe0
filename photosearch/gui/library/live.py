"""A live library in the window: :class:`LiveWatcher` runs the core's folder watcher (``library/watch.py``)
on a thread of its own and tells the window when changes are ready to index and when a folder goes offline,
comes back or can only be polled.

The watcher itself writes nothing (``index=False``): a batch of changes becomes an ordinary incremental run of
the window's :class:`~photosearch.gui.library.indexing.Indexer`, so the library keeps one writer, the indexing bar
shows the progress and the current search re-runs when the run ends.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from photosearch.gui.tasks.workers import CurrentJob, Task, TaskRunner


def watch_job(library_path: Path, poll_interval: float):
    """The core watcher without indexing: yields "folders" and "changes" events until cancelled."""
    def job(task: Task):
        from photosearch.library.watch import watch

        yield from watch(library_path, None, cancel=task.cancel_event, index=False, catch_up=False,
                         poll_interval=poll_interval)
    return job


class LiveWatcher(CurrentJob):
    """Starts, restarts and stops the watcher; its events arrive as signals on the GUI thread."""

    changesReady = Signal(int)  # how many paths changed: time to run an incremental index
    statesChanged = Signal(list)  # [FolderState]: watching / polling / offline, with a reason

    def __init__(self, library_path: Path, poll_interval: float = 30.0, parent: QObject | None = None):
        super().__init__(TaskRunner(1), parent)
        self.runner.setParent(self)
        self.library_path = Path(library_path)
        self.poll_interval = poll_interval
        self.folders: list[str] = []  # what the running watcher watches
        self.states: list = []

    def start(self, folders: list[str]) -> None:
        """Watch the library's folders (restarts when the set changed; nothing to watch stops it)."""
        folders = sorted(folders)
        if self.running() and folders == self.folders:
            return
        self.stop_current()
        self.folders = folders
        if folders:
            self._submit(watch_job(self.library_path, self.poll_interval), "watch")

    def stop_current(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the watcher and join its thread (the observers stop within a tick)."""
        self.stop_current()
        return self.runner.shutdown(timeout_ms)

    def _on_event(self, ev) -> None:
        if ev.kind == "changes":
            self.changesReady.emit(ev.changed)
        if ev.folders != self.states:
            self.states = list(ev.folders)
            self.statesChanged.emit(self.states)

    def _on_failed(self, msg: str) -> None:
        super()._on_failed(f"Watching folders stopped: {msg}")
