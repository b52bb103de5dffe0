"""The application core: what one running PhotoSearch knows and decides, without Qt.

A :class:`Session` owns the paths, the model store, the library's location, the model in use and the model
whose vectors stand in for it while it indexes the library (:mod:`photosearch.library.transition`). Loading a
model (the active one with its fallback, on a CPU backend) and finding the stand-in have one home here,
:func:`load_model` and :func:`stand_in`; the command line's ``Context`` and the window's model jobs call them.
What the window does when a model is ready, fails or takes over search is decided here too
(:func:`on_model_ready`, :func:`on_model_failed`), as plain values the window only shows.

Threading: loading runs on whatever thread calls it (a worker in the window); :class:`Session` itself is
plain state, read and changed on one thread (the window's GUI thread, or the command's only thread).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from photosearch.errors import ModelError
from photosearch.paths import AppPaths

Progress = Callable[[str], None]
# What building a model from a config that cannot work raises (input_size 0, a wrong type...), besides ours.
BUILD_ERRORS = (RuntimeError, TypeError, ValueError, KeyError, AttributeError)


@dataclass
class Loaded:
    """A model :func:`load_model` loaded: its name, the model, and a note for the user (why the active model
    was not the one that loaded), if any."""

    name: str
    model: object
    note: str | None = None


def load_model(paths: AppPaths, name: str | None = None, *, device: str = "auto", backend: str | None = None,
               strict_backend: bool = True, progress: Progress | None = None,
               backend_progress: Progress | None = None, on_note: Progress | None = None) -> Loaded:
    """Load ``name`` (a store name or a model folder), or the store's active model falling back to the last
    one that worked (the reason in :attr:`Loaded.note`), then put it on the CPU ``backend`` (None: torch as
    built; see :func:`attach`). ``progress`` hears of builds and downloads, ``backend_progress`` of a first
    ONNX export; ``on_note`` gets :attr:`Loaded.note` as soon as it is known. A model whose config cannot be
    built is one :class:`ModelError`."""
    from photosearch.model.store import ModelStore

    store = ModelStore(paths)
    try:
        if name:
            loaded = Loaded(name, store.load(name, device=device, progress=progress))
        else:
            active = store.load_active(device=device, progress=progress)
            loaded = Loaded(active.name, active.model, active.fallback_reason)
    except BUILD_ERRORS as e:
        raise ModelError(f"the model {name or '(active)'} could not be built from its configuration: {e}") from e
    if loaded.note and on_note is not None:
        on_note(loaded.note)
    attach(paths, loaded.model, backend, strict=strict_backend, progress=backend_progress, note=on_note)
    return loaded


def attach(paths: AppPaths, model, backend: str | None, *, strict: bool = True, progress: Progress | None = None,
           note: Progress | None = None) -> None:
    """Run ``model``'s encoders on the CPU ``backend`` (auto/torch/onnx; None: leave it as it is).
    ``strict``: ``onnx`` that cannot run is an error (the command line); otherwise torch stays (the window,
    which must keep working). ``note``: one line when a damaged cached graph is exported again."""
    if not backend:
        return
    from photosearch.model.onnx_backend import attach_backend, attach_or_keep_torch

    (attach_backend if strict else attach_or_keep_torch)(model, backend, paths.onnx_cache, progress, note)


def stand_in(paths: AppPaths, lib, target, *, device: str = "auto", in_use=None, backend: str | None = None,
             strict_backend: bool = True, backend_progress: Progress | None = None, on_note: Progress | None = None):
    """The model whose vectors search ``lib`` while ``target`` indexes it (None: ``target`` serves): ``in_use``
    when it is that model, else one loaded from the store and put on ``backend`` like :func:`load_model`."""
    from photosearch.library import transition
    from photosearch.model.store import ModelStore

    serving = transition.load_serving(lib, ModelStore(paths), target, device, in_use=in_use)
    if serving is not None and serving is not in_use:
        attach(paths, serving, backend, strict=strict_backend, progress=backend_progress, note=on_note)
    return serving


def stand_in_note(serving, target) -> str:
    """One line while ``serving``'s vectors stand in for ``target``'s."""
    from photosearch.library import transition

    return transition.serving_note(serving, target)


def caught_up(lib, target_id: str, serving_id: str | None) -> bool:
    """Whether ``target_id`` has as many vectors in ``lib`` as the stand-in ``serving_id`` (None: nothing
    stands in), so it can serve search itself."""
    if serving_id is None:
        return True
    counts = lib.models()
    return counts.get(target_id, 0) >= counts.get(serving_id, 0)


# -- what the window shows and does when the model changes ------------------------------------------------
@dataclass(frozen=True)
class ModelReady:
    """What follows a model becoming ready: ``transition``, the info line while a stand-in serves (None:
    clear it); ``start_indexing``: index the library with the new model; ``rerun_search``: search again."""

    transition: str | None
    start_indexing: bool
    rerun_search: bool = True


@dataclass(frozen=True)
class ModelFailed:
    """What follows a failed load: ``message`` for the user; ``start_indexing``: the model still in use goes
    on indexing the folders."""

    message: str
    start_indexing: bool


def on_model_ready(name: str, serving_name: str | None, *, index_pending: bool, has_folders: bool) -> ModelReady:
    """``name`` loaded; ``serving_name``: the model whose vectors stand in while it indexes (None: none)."""
    transition = None
    if serving_name is not None:
        transition = (f"Indexing your photos with {name}. Until that is done, search uses the vectors of "
                      f"{serving_name} that are already there.")
    return ModelReady(transition, start_indexing=index_pending or has_folders)


def on_model_failed(name: str, error: str, in_use: str | None, *, has_folders: bool) -> ModelFailed:
    """Loading ``name`` failed with ``error``; ``in_use``: the model still in use (None: none)."""
    if in_use is None:
        return ModelFailed(f"Could not load the model {name}: {error}", start_indexing=False)
    return ModelFailed(f"Could not load the model {name}: {error}. Still using {in_use}.", start_indexing=has_folders)


def index_on_open(has_folders: bool, model_ready: bool, indexing: bool) -> bool:
    """Whether the library's folders, known once its first status is read, start an index run: when a model
    is ready (its ready-time decision came before the folders were known) and nothing runs or waits."""
    return has_folders and model_ready and not indexing


def on_model_promoted(name: str) -> str:
    """The status line once ``name``'s own vectors serve search (the stand-in is gone)."""
    return f"Search now uses {name}"


class Session:
    """One running PhotoSearch: paths, model store, library location, and the model in use with its stand-in.

    ``model`` is the model that indexes; ``serving`` the one whose vectors search uses until ``model`` has
    caught up (:meth:`promote` ends that); ``searching`` the one searches use."""

    def __init__(self, paths: AppPaths, library_path: str | Path | None = None):
        self.paths = paths
        self.library_path = Path(library_path).expanduser() if library_path else paths.library_db
        self.model = None
        self.name: str | None = None
        self.serving = None

    def store(self):
        from photosearch.model.store import ModelStore

        return ModelStore(self.paths)

    def open_library(self, **kw):
        from photosearch.library import Library

        return Library.open(self.library_path, **kw)

    @property
    def searching(self):
        """The model searches use: the stand-in while there is one, else ``model``."""
        return self.serving if self.serving is not None else self.model

    def use(self, model, name: str, serving=None) -> None:
        """Use ``model`` (already loaded); ``serving``: a stand-in for search until :meth:`promote`."""
        self.model, self.name = model, name
        self.serving = serving if serving is not model else None

    def promote(self, model) -> bool:
        """``model`` (still the one in use) serves search itself from now on; False when nothing changed."""
        if model is self.model and self.serving is not None:
            self.serving = None
            return True
        return False

    def model_ready(self, *, index_pending: bool, has_folders: bool) -> ModelReady:
        return on_model_ready(self.name or "", self.serving.config.name if self.serving is not None else None,
                              index_pending=index_pending, has_folders=has_folders)

    def model_failed(self, name: str, error: str, *, has_folders: bool) -> ModelFailed:
        return on_model_failed(name, error, self.name if self.model is not None else None, has_folders=has_folders)
