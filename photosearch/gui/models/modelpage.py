"""The Settings dialog's model page: the catalog with what each model is good at, its size and whether it is
on disk, and Download (with progress and cancel), Use and Fine-tune… for the selected model.

The download runs the core generator :func:`photosearch.model.download.download_model` in a
:class:`~photosearch.gui.tasks.workers.Task`; closing the dialog cancels it (the next download resumes).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QVBoxLayout)

from photosearch.gui.base.theme import muted
from photosearch.gui.tasks.jobs import download_model_job, list_models_job
from photosearch.gui.tasks.workers import Task, TaskRunner
from photosearch.humanize import format_size
from photosearch.paths import AppPaths


def model_label(m: dict) -> str:
    """A model's line in the list: name, whether it is on disk (works offline), size, and if it is active."""
    tag = "offline" if m.get("offline_ready") else "needs download"
    size = m.get("size_bytes") or 0
    size_txt = f"   {'~' if m.get('size_estimate') else ''}{format_size(size)}" if size else ""
    return f"{m['name']}   [{tag}]{size_txt}" + ("   ✓ active" if m.get("active") else "")


def model_details(m: dict) -> str:
    """What the page says about the selected model: purpose, quality (with its source), cost, languages."""
    parts = [m.get("description") or ""]
    if m.get("quality"):
        parts.append(f"Quality: {m['quality']}" + (f" ({m['quality_source']})" if m.get("quality_source") else ""))
    if m.get("cpu"):
        parts.append(f"Speed: {m['cpu']}")
    langs = ", ".join(m.get("languages") or [])
    parts.append(f"{m.get('embed_dim')}-d vectors, {m.get('family')}" + (f", languages: {langs}" if langs else ""))
    if not m.get("offline_ready"):
        parts.append("Not on disk: download it before using it.")
    return "\n".join(p for p in parts if p)


class ModelPage(QGroupBox):
    """The model list with its actions. ``useRequested``/``finetuneRequested`` carry the model's name."""

    useRequested = Signal(str)
    finetuneRequested = Signal(str)
    downloaded = Signal(str)

    def __init__(self, paths: AppPaths, runner: TaskRunner, want: str | None = None, parent=None):
        super().__init__("Search model", parent)
        self.paths, self.runner, self.want = paths, runner, want
        self.models: list[dict] = []
        self.download_task: Task | None = None
        lay = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setMinimumHeight(130)
        self.list.addItem("Loading the model list…")
        self.list.currentRowChanged.connect(self._on_row)
        self.list.itemClicked.connect(self._on_clicked)
        self.touched = False  # the user picked a row (not Qt making the first row current on focus)
        self._row = -1
        lay.addWidget(self.list)
        self.details = QLabel()
        self.details.setWordWrap(True)
        muted(self.details)
        lay.addWidget(self.details)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        lay.addWidget(self.progress)
        row = QHBoxLayout()
        self.download_btn = QPushButton("Download")
        self.download_btn.clicked.connect(self.download)
        self.cancel_btn = QPushButton("Cancel download")
        self.cancel_btn.clicked.connect(self.cancel_download)
        self.use_btn = QPushButton("Use")
        self.use_btn.clicked.connect(lambda: self._emit(self.useRequested))
        self.finetune_btn = QPushButton("Fine-tune…")
        self.finetune_btn.setToolTip("Open the fine-tuning dialog with this model as the base")
        self.finetune_btn.clicked.connect(lambda: self._emit(self.finetuneRequested))
        for b in (self.download_btn, self.cancel_btn, self.use_btn, self.finetune_btn):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self._sync_buttons()
        self.refresh()

    # -- list -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        t = Task(list_models_job(self.paths), "list-models")
        t.returned.connect(self._on_models)
        t.failed.connect(lambda msg: self.details.setText(f"Error: {msg}"))
        self.runner.submit(t)

    def _on_models(self, models: list[dict]) -> None:
        keep = self.selected() or self.want or next((m["name"] for m in models if m.get("active")), None)
        self.models = models
        self.list.blockSignals(True)
        self.list.clear()
        for m in models:
            it = QListWidgetItem(model_label(m))
            it.setData(Qt.ItemDataRole.UserRole, m["name"])
            it.setToolTip(m.get("description") or "")
            self.list.addItem(it)
            if m["name"] == keep:
                self.list.setCurrentItem(it)
        if keep not in {m["name"] for m in models}:
            self.list.setCurrentRow(-1)  # the model in use is not listed (a checkpoint folder): select nothing
        self.list.blockSignals(False)
        self._on_row(self.list.currentRow())

    def selected(self) -> str | None:
        it = self.list.currentItem()
        return (it.data(Qt.ItemDataRole.UserRole) or None) if it is not None and self.models else None

    def selected_info(self) -> dict | None:
        name = self.selected()
        return next((m for m in self.models if m["name"] == name), None)

    def listed(self, name: str | None) -> bool:
        return any(m["name"] == name for m in self.models)

    def _on_clicked(self, _item) -> None:
        self.touched = True

    def _on_row(self, row: int) -> None:
        if self._row >= 0 and row != self._row:
            self.touched = True  # moved from one row to another (keys); from none to the first is Qt's focus
        self._row = row
        m = self.selected_info()
        self.details.setText(model_details(m) if m else "")
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        m = self.selected_info()
        busy = self.download_task is not None
        on_disk = bool(m and m.get("offline_ready"))
        downloadable = bool(m and not on_disk and m.get("family") == "hf_clip" and m.get("source"))
        self.download_btn.setEnabled(downloadable and not busy)
        self.cancel_btn.setVisible(busy)
        self.use_btn.setEnabled(on_disk and bool(m.get("searchable", True)))
        self.finetune_btn.setEnabled(on_disk)

    def _emit(self, signal) -> None:
        name = self.selected()
        if name:
            signal.emit(name)

    # -- download -------------------------------------------------------------------------------
    def download(self) -> None:
        name = self.selected()
        if not name or self.download_task is not None:
            return
        task = Task(download_model_job(self.paths, name), f"download-{name}")
        task.progress.connect(self._on_progress)
        task.returned.connect(lambda ev, n=name: self._on_download_done(n, ev))
        task.failed.connect(lambda msg, n=name: self._on_download_failed(n, msg))
        self.download_task = task
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.details.setText(f"Downloading {name}…")
        self._sync_buttons()
        self.runner.submit(task)

    def cancel_download(self) -> None:
        if self.download_task is not None:
            self.download_task.cancel()

    def _on_progress(self, ev) -> None:
        if ev.total_bytes:
            scale = max(1, ev.total_bytes // 1_000_000)  # QProgressBar holds ints
            self.progress.setRange(0, int(ev.total_bytes // scale))
            self.progress.setValue(int(ev.done_bytes // scale))
            self.progress.setFormat(f"{format_size(ev.done_bytes)} of {format_size(ev.total_bytes)}")
        if ev.message:
            self.details.setText(ev.message)

    def _on_download_done(self, name: str, ev) -> None:
        self.download_task = None
        self.progress.setVisible(False)
        self._sync_buttons()
        if ev is not None and ev.phase == "cancelled":
            self.details.setText(f"Download of {name} cancelled; Download again resumes it.")
            return
        self.downloaded.emit(name)
        self.refresh()

    def _on_download_failed(self, name: str, msg: str) -> None:
        self.download_task = None
        self.progress.setVisible(False)
        self.details.setText(f"Download of {name} failed: {msg}")
        self._sync_buttons()
