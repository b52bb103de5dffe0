"""The window's search model: loaded on a reader thread after the first paint, switched on request.

:class:`ModelHost` is the one place that knows which model is in use, whether one is loading, and what
happens when a load fails.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from photosearch.gui.jobs import load_model_job
from photosearch.gui.workers import Task, TaskRunner
from photosearch.paths import AppPaths

log = logging.getLogger(__name__)


class ModelHost(QObject):
    """Holds the current model; ``load`` replaces it in the background."""

    loading = Signal(str)  # name being loaded
    progress = Signal(object)  # a message from the loader (e.g. "building the starter model")
    ready = Signal(str)  # the model called name is in use
    failed = Signal(str, str)  # name, one line for the user

    def __init__(self, paths: AppPaths, readers: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.paths = paths
        self.readers = readers
        self.model = None
        self.name: str | None = None
        self.is_loading = False
        self._task: Task | None = None  # the newest load; older ones finishing late are ignored

    def set(self, model, name: str) -> None:
        """Use an already loaded model."""
        self._task = None
        self.model, self.name, self.is_loading = model, name, False
        self.ready.emit(name)

    def device_type(self) -> str:
        return getattr(getattr(self.model, "device", None), "type", "") if self.model is not None else ""

    def load(self, name: str | None, device: str) -> None:
        """Load ``name`` (None: the store's active model) on a reader thread; the current model is dropped."""
        if name:
            self.name = name
        self.model = None
        self.is_loading = True
        task = Task(load_model_job(self.paths, self.name, device), "load-model")
        task.progress.connect(self.progress)
        task.succeeded.connect(lambda out, t=task: self._on_loaded(out, t))
        task.failed.connect(lambda msg, t=task: self._on_failed(msg, t))
        self._task = task
        self.loading.emit(self.name or "")
        self.readers.submit(task)

    def _on_loaded(self, out, task: Task) -> None:
        if task is self._task:
            name, model = out
            self.set(model, name)

    def _on_failed(self, msg: str, task: Task) -> None:
        if task is self._task:
            self._task = None
            self.is_loading = False
            self.failed.emit(self.name or "", msg)
