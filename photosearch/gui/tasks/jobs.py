"""Jobs for worker threads: small functions of a :class:`~photosearch.gui.tasks.workers.Task` that drive the core.

No widgets in here (workers never touch them). Each job opens what it needs itself and returns plain data;
the heavy imports (torch through the model store) happen inside the job, on the worker thread.
"""

from __future__ import annotations

from pathlib import Path

from photosearch.gui.tasks.workers import Task
from photosearch.paths import AppPaths


def _backend_setting(paths: AppPaths) -> str:
    """The Settings' CPU runtime, read when the job is made (on the GUI thread), not in the worker."""
    from photosearch.gui.base.settings import Settings

    return Settings(paths).backend


def _needs_export(paths: AppPaths, model, backend: str) -> bool:
    """Whether ``auto`` (the default) would first export the image tower to ONNX and measure it (13 s for the
    starter here, more on a busy machine), which a first launch should not wait for. A backend the user chose
    (``onnx``) is attached before the model is ready, as asked."""
    if backend != "auto" or getattr(model, "checkpoint_folder", None) is None \
            or getattr(getattr(model, "device", None), "type", "cpu") != "cpu":
        return False
    from photosearch.model.onnx_backend import GRAPH_FILE, tower_folder

    return not (tower_folder(paths.onnx_cache, model, "image") / GRAPH_FILE).is_file()


def load_model_job(paths: AppPaths, name: str | None, device: str, backend: str | None = None):
    """Load ``name``, or the store's active model (falling back to the last one that worked, with the reason
    reported as progress), on the CPU ``backend`` (auto/torch/onnx; None: the Settings' choice, read here on
    the caller's thread): returns ``(name, model, deferred)``. When ONNX Runtime cannot run the model it stays
    on torch (photosearch/session.py). When the backend would first have to export the model's graphs, the
    model is returned on torch at once and ``deferred`` names the backend for :func:`deferred_backend_job`
    (else None): search and indexing start without waiting for the export."""
    backend = backend or _backend_setting(paths)

    def job(task: Task):
        from photosearch.session import attach, load_model

        loaded = load_model(paths, name, device=device, backend=None, progress=task.report, on_note=task.report)
        if _needs_export(paths, loaded.model, backend):
            return loaded.name, loaded.model, backend
        attach(paths, loaded.model, backend, strict=False, progress=task.report, note=task.report)
        return loaded.name, loaded.model, None
    return job


def deferred_backend_job(paths: AppPaths, model, backend: str):
    """Put a model already in use on ``backend`` without disturbing it: the graphs are exported (and, with
    ``auto``, measured against torch) on a private copy loaded from its folder while the model in use goes on
    indexing and searching with torch; then the model in use takes the exported graphs (no export, no measuring
    left to do)."""
    def job(task: Task):
        from photosearch.model.checkpoint import load_checkpoint
        from photosearch.session import attach

        copy = load_checkpoint(model.checkpoint_folder, "cpu")
        attach(paths, copy, backend, strict=False, progress=task.report, note=task.report)
        del copy
        attach(paths, model, backend, strict=False, note=task.report)
    return job


def serving_model_job(paths: AppPaths, library_path: Path | None, target, in_use, device: str,
                      backend: str | None = None):
    """The model to search with while ``target`` indexes the library (photosearch/session.py): ``in_use``
    when it serves, a stored model (e.g. a retired starter build) loaded here on the CPU ``backend`` like
    :func:`load_model_job`, or None (``target`` serves)."""
    backend = backend or _backend_setting(paths)

    def job(task: Task):
        if library_path is None or not Path(library_path).is_file():
            return None
        from photosearch.library import Library
        from photosearch.session import stand_in

        with Library.open(library_path) as lib:
            return stand_in(paths, lib, target, device=device, in_use=in_use, backend=backend,
                            strict_backend=False, backend_progress=task.report, on_note=task.report)
    return job


def finish_transition_job(paths: AppPaths, library_path: Path, target_id: str, serving_id: str | None):
    """After an index run: drop retired builds' vectors the target now covers; returns whether the target
    has caught up with ``serving_id`` (then it serves search itself)."""
    def job(_task: Task):
        from photosearch.library import Library, transition
        from photosearch.model.store import ModelStore
        from photosearch.session import caught_up

        with Library.open(library_path) as lib:
            transition.finish(lib, ModelStore(paths), target_id)
            return caught_up(lib, target_id, serving_id)
    return job


def download_model_job(paths: AppPaths, name: str):
    """Download a catalog model (or hub id) into the store: yields DownloadEvents and returns the last one
    (phase "done" or "cancelled"); cancellable."""
    def job(task: Task):
        from photosearch.model.download import download_model
        from photosearch.model.store import ModelStore

        last = None
        for last in download_model(ModelStore(paths), name, task.cancel_event):
            yield last
        return last
    return job


def index_job(library_path: Path, model, add: list[str], batch_size: int):
    """Add folders, then index every folder: yields the library's IndexEvents, returns its IndexReport."""
    def job(task: Task):
        from photosearch.library import Library

        lib = Library.open(library_path)
        try:
            for f in add:
                lib.add_folder(f)
            return (yield from lib.index(model, None, batch_size=batch_size, cancel=task.cancel_event))
        finally:
            lib.close()
    return job


def _status_after(library_path: Path, change=None):
    """A job that applies ``change(lib)`` (if any) on the library, then returns its status with ``photo_folders``."""
    def job(_task: Task):
        from photosearch.library import Library

        with Library.open(library_path) as lib:
            if change is not None:
                change(lib)
            return lib.status(photo_folders=True)
    return job


def status_job(library_path: Path):
    """The library's :class:`~photosearch.library.LibraryStatus` with its ``photo_folders`` (sub-folders too)."""
    return _status_after(library_path)


def add_folder_job(library_path: Path, folder: str):
    """Add a folder to the library (the folder list's one home); returns the library's status afterwards."""
    return _status_after(library_path, lambda lib: lib.add_folder(folder))


def remove_folder_job(library_path: Path, folder: str):
    """Remove a folder and its photos; returns the library's status afterwards."""
    return _status_after(library_path, lambda lib: lib.remove_folder(folder))


def photo_info_job(library_path: Path, path: str):
    """``(path, details)`` of one photo from the library (None when it is not there)."""
    def job(_task: Task):
        from photosearch.library import Library

        with Library.open(library_path) as lib:
            return path, lib.photo_info(path)
    return job


def list_models_job(paths: AppPaths):
    """The model store's models as dicts (name, family, offline_ready, active, ...)."""
    def job(_task: Task):
        from photosearch.model.store import ModelStore

        return [m.to_dict() for m in ModelStore(paths).list()]
    return job


def devices_job(_task: Task) -> list[str]:
    """Compute devices this machine offers."""
    from photosearch.device import available_devices

    return available_devices()


def dir_size_job(path: Path):
    """Bytes used by the files under ``path``."""
    def job(_task: Task):
        n = 0
        if path.is_dir():
            for p in path.rglob("*"):
                try:
                    n += p.stat().st_size if p.is_file() else 0
                except OSError:
                    pass
        return n
    return job


def text_job(library_path: Path, background: bool = True):
    """The library's text pass (reading the words in photos), when its setting is on: yields TextEvents and
    returns the TextReport; returns None at once when it is off. ``background``: OCR at low CPU priority."""
    def job(task: Task):
        from photosearch.library import Library
        from photosearch.library import textindex

        lib = Library.open(library_path)
        try:
            if not textindex.enabled(lib.conn):
                return None
            from photosearch.ocr import OcrEngine

            engine = OcrEngine(background=background)
            try:
                return (yield from lib.read_text(engine, cancel=task.cancel_event))
            finally:
                engine.close()
        finally:
            lib.close()
    return job


def set_text_pass_job(library_path: Path, on: bool):
    """Turn the library's text pass on or off; returns the library's status afterwards."""
    def job(_task: Task):
        from photosearch.library import Library
        from photosearch.library import textindex

        with Library.open(library_path) as lib:
            textindex.set_enabled(lib.conn, on)
            return lib.status()
    return job


def suggestion_job(_task: Task):
    """The catalog model worth suggesting here (a CatalogEntry), or None when the model hub cannot be reached
    (a bounded probe, see photosearch/model/recommend.py) or nothing fits this machine."""
    from photosearch.model.recommend import hub_reachable, recommend, this_machine

    return recommend(this_machine()) if hub_reachable() else None
