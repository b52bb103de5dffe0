"""Fine-tuning on Flickr8k: the form (:class:`~photosearch.gui.finetune.form.FineTuneForm`) beside the live
run (:class:`~photosearch.gui.finetune.runpanel.RunPanel`). The dialog runs the download and the core's
training generator in a worker and hands each event to a Qt-free
:class:`~photosearch.train.runstate.RunState`, whose answer the panel draws."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QSplitter, QWidget

from photosearch.gui.base.screen import fit_window
from photosearch.gui.base.settings import Settings
from photosearch.gui.finetune.form import FineTuneForm, window_words
from photosearch.gui.finetune.runpanel import RunPanel
from photosearch.gui.tasks.workers import Task, TaskRunner
from photosearch.humanize import format_duration, format_size
from photosearch.paths import AppPaths
from photosearch.train.download import DISK_NEEDED
from photosearch.train.runstate import RunState


def _train_job(opts_kwargs: dict, paths: AppPaths, resume: bool):
    def job(task: Task):
        from photosearch.train import load_run_options, merge_options, train

        # On resume the stored run's options fill in, by the same rule as the command line.
        stored = load_run_options(paths, opts_kwargs.get("name")) if resume else None
        opts = merge_options(stored, opts_kwargs)
        return (yield from train(opts, paths, resume=resume, cancel=task.cancel_event))  # the TrainResult
    return job


def _download_job(dest: Path, urls: dict):
    def job(task: Task):
        from photosearch.train import download_flickr8k

        return str(download_flickr8k(dest, progress=lambda d, t: task.report((d, t)), cancel=task.cancel_event,
                                     **urls))
    return job


class FineTuneDialog(QDialog):
    useModel = Signal(str)
    trainingFinished = Signal(object)  # TrainResult, or None on failure
    trainingFailed = Signal(str)
    downloaded = Signal(str)  # the ready data folder

    def __init__(self, parent: QWidget | None, paths: AppPaths, settings: Settings | None = None,
                 download_urls: dict | None = None):
        super().__init__(parent)
        self.setWindowTitle("Fine-tune on Flickr8k — PhotoSearch")
        self.paths = paths
        self.download_urls = dict(download_urls or {})  # images_url/captions_url overrides (mirrors, tests)
        self.settings = settings
        self.runner = TaskRunner(1, self)
        self.task: Task | None = None
        self.state = RunState()
        self._t0 = 0.0
        fit_window(self, QSize(1060, 700))
        self.form = FineTuneForm(paths, settings, self.runner, self.running)
        self.form.startRequested.connect(lambda resume: self.start(resume=resume))
        self.form.cancelRequested.connect(self.cancel)
        self.form.downloadRequested.connect(self.start_download)
        self.panel = RunPanel()
        self.panel.useRequested.connect(self._use)
        outer = QHBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(split)
        split.addWidget(self.form)
        split.addWidget(self.panel)
        split.setStretchFactor(1, 1)
        split.setSizes([380, 680])

    @property
    def result(self):
        """The last run's TrainResult (None before one ended)."""
        return self.state.result

    def running(self) -> bool:
        return self.task is not None and not self.task.done

    def _run(self, task: Task, on_progress, on_ok) -> None:
        task.progress.connect(on_progress)
        task.returned.connect(on_ok)
        task.failed.connect(self._on_failed)
        task.finished.connect(self._idle)
        self.task = self.runner.submit(task)

    # -- download -------------------------------------------------------------------------------
    def start_download(self) -> None:
        """Ask where (the app's downloads folder by default), say the space it needs and has, then fetch."""
        if self.running():
            return
        self.paths.downloads.mkdir(parents=True, exist_ok=True)
        folder = QFileDialog.getExistingDirectory(
            self, f"Download Flickr8k into… (needs about {format_size(DISK_NEEDED)})", str(self.paths.downloads))
        if not folder:
            return
        dest = Path(folder) / "flickr8k"
        free = shutil.disk_usage(folder).free
        space = f"needs about {format_size(DISK_NEEDED)}, {format_size(free)} free"
        if free < DISK_NEEDED:
            self._on_failed(f"Flickr8k {space} in {folder}: choose a folder on a disk with more room")
            return
        self.form.set_busy(True, downloading=True)
        self.panel.status.setText(f"Downloading Flickr8k into {dest} ({space})…")
        self._run(Task(_download_job(dest, self.download_urls), "download"), self._on_download_progress,
                  self._on_downloaded)

    def _on_download_progress(self, p) -> None:
        self.form.show_download(*p)
        self.panel.show_download(*p)

    def _on_downloaded(self, path: str) -> None:
        self.form.data_edit.setText(path)
        self.form.probe_data()
        self.downloaded.emit(path)
        self.panel.status.setText("Flickr8k is ready. Press Start to fine-tune.")

    # -- training -------------------------------------------------------------------------------
    def start(self, resume: bool = False, **overrides) -> None:
        if self.running():
            return
        opts = {**self.form.options(), **overrides}
        if not opts["data_dir"]:
            self._on_failed("choose a Flickr8k folder first, or download it")
            return
        self.state = RunState()
        self.panel.reset(resume)
        self.form.set_busy(True)
        self._t0 = time.monotonic()
        self._run(Task(_train_job(opts, self.paths, resume), "train"), self._on_event, self._on_done)

    def cancel(self) -> None:
        if self.running():
            self.task.cancel()
            self.form.cancel_btn.setEnabled(False)
            self.panel.status.setText("Stopping after the current step… the checkpoint is kept")

    def _idle(self) -> None:
        self.form.set_busy(False)
        self.panel.idle()

    def _on_event(self, ev) -> None:
        self.panel.show_update(self.state.on_event(ev))

    def _on_done(self, res) -> None:
        self.state.finish(res)
        if res is None:
            self.trainingFinished.emit(None)
            return
        self.panel.show_comparison(self.state)
        secs = time.monotonic() - self._t0
        if res.cancelled:
            self.panel.status.setText(f"Cancelled after {format_duration(secs)}. Resume continues from the last "
                                      "checkpoint.")
            self.form.update_resume()
        else:
            self.panel.status.setText(f"Finished in {format_duration(secs)}: model “{res.model}” saved "
                                      f"(best epoch {res.best_epoch}).")
            self.panel.progress.setValue(self.panel.progress.maximum())
        self.panel.result_label.setText(f"Model “{res.model}” — {res.path}")
        self.panel.use_btn.setEnabled(not res.cancelled or bool(res.path))
        self.trainingFinished.emit(res)

    def _on_failed(self, msg: str) -> None:
        msg = window_words(msg)
        self.panel.status.setText(f"⚠ {msg}")
        self.form.update_resume()
        self.trainingFailed.emit(msg)

    def _use(self) -> None:
        if self.result is not None:
            self.useModel.emit(self.result.model)
            self.panel.mark_used()

    def closeEvent(self, e) -> None:
        self.runner.shutdown()
        super().closeEvent(e)

    def done(self, r: int) -> None:
        self.runner.shutdown()
        super().done(r)
