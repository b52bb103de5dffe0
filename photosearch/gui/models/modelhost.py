"""The window's search model: loaded on a reader thread after the first paint, switched on request.

:class:`ModelHost` is the one place that knows which model is in use, whether one is loading, and what
happens when a load fails: the model in use stays in use until another one has loaded, so choosing a model
that cannot load (e.g. one that needs a download while offline) never leaves the window without one.

A new model indexes the library in the background; until its vectors are complete, search keeps using the
vectors that are there (:mod:`photosearch.library.transition`): ``model`` is the one that indexes,
``searching`` the one searches use, ``serving`` the stand-in while there is one (``promote`` ends it). That
state is the core :class:`~photosearch.session.Session`'s; this class runs its loads on reader threads and
says by signals what changed.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from photosearch.gui.base.settings import Settings
from photosearch.gui.tasks.jobs import finish_transition_job, load_model_job, serving_model_job
from photosearch.gui.tasks.workers import Task, TaskRunner
from photosearch.paths import AppPaths
from photosearch.session import Session

log = logging.getLogger(__name__)


class ModelHost(QObject):
    """Holds the current model; ``load`` replaces it in the background."""

    loading = Signal(str)  # name being loaded
    progress = Signal(object)  # a message from the loader (e.g. "building the starter model")
    ready = Signal(str)  # the model called name is in use
    failed = Signal(str, str)  # the name that failed, one line for the user (``name`` is still in use, if any)

    promoted = Signal(str)  # the model that indexed serves search itself now (the stand-in is gone)

    def __init__(self, paths: AppPaths, readers: TaskRunner, settings: Settings, parent: QObject | None = None,
                 library_path=None):
        super().__init__(parent)
        self.paths = paths
        self.library_path = library_path
        self.session = Session(paths, library_path)
        self.readers = readers
        self.settings = settings
        self._chosen: str | None = None  # a model the user chose: saved as the choice once it has loaded
        self.is_loading = False
        self.last_progress: object | None = None  # the newest load's latest message, until a model is ready
        self._task: Task | None = None  # the newest load; older ones finishing late are ignored
        self.progress.connect(self._remember_progress)

    @property
    def model(self):
        return self.session.model

    @property
    def name(self) -> str | None:
        return self.session.name

    @name.setter
    def name(self, name: str | None) -> None:
        self.session.name = name

    @property
    def serving(self):
        """A model whose vectors stand in while ``model`` indexes the library (None: none)."""
        return self.session.serving

    @property
    def searching(self):
        """The model searches use: the stand-in while there is one, else ``model``."""
        return self.session.searching

    def _remember_progress(self, msg: object) -> None:
        self.last_progress = msg

    def set(self, model, name: str, serving=None) -> None:
        """Use an already loaded model (``serving``: a stand-in for search until :meth:`promote`)."""
        self._task = None
        self.last_progress = None
        self.is_loading = False
        self.session.use(model, name, serving)
        self.ready.emit(name)

    def finish_indexing(self, writer: TaskRunner) -> None:
        """An index run with ``model`` ended: drop what it supersedes and, once it has caught up with the
        stand-in, let it serve search (:meth:`promote`). Runs on ``writer`` (it may delete vectors)."""
        if self.model is None or self.library_path is None:
            return
        model = self.model
        sid = self.serving.config.model_id if self.serving is not None else None
        task = Task(finish_transition_job(self.paths, self.library_path, model.config.model_id, sid), "transition")
        task.returned.connect(lambda caught_up: self.promote(model) if caught_up else None)
        task.failed.connect(lambda msg: log.warning("finishing the model change: %s", msg))
        writer.submit(task)

    def promote(self, model) -> None:
        """``model`` (still the one in use) serves search itself from now on."""
        if self.session.promote(model):
            self.promoted.emit(self.name or "")

    def device_type(self) -> str:
        return getattr(getattr(self.model, "device", None), "type", "") if self.model is not None else ""

    def load(self, name: str | None, device: str) -> None:
        """Load ``name`` (None: the current name, else the store's active model) on a reader thread. The
        model in use (if any) stays until the new one is ready."""
        target = name or self.name
        self.is_loading = True
        self.last_progress = None
        task = Task(load_model_job(self.paths, target, device), "load-model")
        task.progress.connect(self.progress)
        task.returned.connect(lambda out, t=task: self._on_loaded(out, t))
        task.failed.connect(lambda msg, t=task, n=target: self._on_failed(n, msg, t))
        self._task = task
        self.loading.emit(target or "")
        self.readers.submit(task)

    def choose(self, name: str) -> None:
        """The user picked ``name``: load it, and make it the saved choice (settings and the store's active
        model) only once it works."""
        self._chosen = name
        self.load(name, self.settings.device)

    def _remember_choice(self, name: str) -> None:
        self._chosen = None
        self.settings.model = name
        try:
            from photosearch.model.store import ModelStore

            ModelStore(self.paths).set_active(name)
        except Exception as e:  # noqa: BLE001 - a name the store does not know still loads by path
            log.debug("set_active(%s): %s", name, e)

    def _on_loaded(self, out, task: Task) -> None:
        if task is not self._task:
            return
        name, model = out
        # Which vectors search uses while the new model indexes: found (and loaded) on a reader thread.
        follow = Task(serving_model_job(self.paths, self.library_path, model, self.searching, self.settings.device),
                      "serving-model")
        follow.returned.connect(lambda serving, t=follow: self._on_serving(name, model, serving, t))
        follow.failed.connect(lambda msg, t=follow: (log.warning("no stand-in model: %s", msg),
                                                     self._on_serving(name, model, None, t)))
        self._task = follow
        self.readers.submit(follow)

    def _on_serving(self, name: str, model, serving, task: Task) -> None:
        if task is self._task:
            if name == self._chosen:
                self._remember_choice(name)
            self.set(model, name, serving)

    def _on_failed(self, name: str | None, msg: str, task: Task) -> None:
        if task is self._task:
            self._task = None
            self._chosen = None
            self.is_loading = False
            self.last_progress = None
            if self.model is None:
                self.name = name  # nothing in use: remember what was asked for (Settings shows it)
            self.failed.emit(name or "", msg)
