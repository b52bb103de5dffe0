"""The settings dialog, in pages: Model (the catalog), Search (device, runtime, batch size, cut-off, text in photos,
appearance), Folders (add, remove, re-index) and Storage (where things are, the thumbnail cache)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QHBoxLayout, QLabel, QListWidget, QPushButton, QSizePolicy, QSpinBox, QTabWidget,
                               QVBoxLayout, QWidget)

from photosearch.gui.base.screen import fit_window
from photosearch.gui.base.settings import Settings
from photosearch.gui.models.modelpage import ModelPage, model_label  # noqa: F401 - model_label: its old home
from photosearch.gui.tasks.jobs import devices_job, dir_size_job
from photosearch.humanize import format_size
from photosearch.library.relevance import GOOD
from photosearch.gui.tasks.workers import Task, TaskRunner
from photosearch.paths import AppPaths


class SettingsDialog(QDialog):
    """Settings: model, device, batch size, minimum score, appearance, folders, storage, caches."""

    modelChosen = Signal(str)
    finetuneRequested = Signal(str)  # open the fine-tuning dialog with this base model
    reindexRequested = Signal()
    addFolderRequested = Signal()
    removeFolderRequested = Signal(str)
    cacheCleared = Signal()
    searchSettingsChanged = Signal()
    readTextChanged = Signal(bool)  # the library's text pass switched on/off
    deviceChanged = Signal(str)  # the compute device, when the model stays the same: the model reloads on it
    backendChanged = Signal(str)  # the encoders' CPU runtime (auto/torch/onnx): the model reloads on it

    def __init__(self, parent: QWidget | None, paths: AppPaths, settings: Settings, current_model: str | None = None,
                 thumbs=None, folders: list[str] | None = None, read_text: bool = True, select: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("PhotoSearch Settings")
        self.paths, self.settings, self.thumbs = paths, settings, thumbs
        self.current_model = current_model
        self.runner = TaskRunner(2, self)
        lay = QVBoxLayout(self)
        # Pages, so that each stays short: the dialog fits a 1280x720 screen with its buttons on it.
        self.pages = QTabWidget()
        self.model_page = ModelPage(paths, self.runner, want=select or current_model or settings.model)
        self.model_page.useRequested.connect(self._use)
        self.model_page.finetuneRequested.connect(self._finetune)
        self.model_list = self.model_page.list  # the page's parts, as tests and callers know them
        self.model_desc = self.model_page.details
        self.pages.addTab(self.model_page, "Model")
        self.pages.addTab(self._search_page(settings, read_text), "Search")
        self.pages.addTab(self._folders_page(folders or []), "Folders")
        self.pages.addTab(self._storage_page(paths, settings), "Storage")
        lay.addWidget(self.pages, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept_and_close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.buttons = buttons
        fit_window(self, QSize(640, 520))

        self._submit(devices_job, self._on_devices)
        self._submit(dir_size_job(paths.thumbnails), self._on_cache_size)

    def _search_page(self, settings: Settings, read_text: bool) -> QWidget:
        """How the model runs and how search behaves: device, CPU runtime, batch size, cut-off, text, theme."""
        page = QWidget()
        form = QFormLayout(page)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.device = QComboBox()
        self.device.addItem("Automatic (best available)", "auto")
        self.device.setCurrentIndex(0)
        form.addRow("Device", self.device)
        self.backend = QComboBox()
        for key, label in (("auto", "Automatic (ONNX Runtime where it measures faster)"),
                           ("onnx", "ONNX Runtime"), ("torch", "PyTorch (reference)")):
            self.backend.addItem(label, key)
        self.backend.setCurrentIndex(max(0, self.backend.findData(settings.backend)))
        self.backend.setToolTip("How the search model runs on the CPU. ONNX Runtime is exported once per model; "
                                "if it cannot run a model, PyTorch is used.")
        form.addRow("CPU runtime", self.backend)
        self.batch = QSpinBox()
        self.batch.setRange(1, 512)
        self.batch.setValue(settings.batch_size)
        self.batch.setToolTip("Photos per batch while indexing; larger is faster on a GPU, uses more memory")
        form.addRow("Batch size", self.batch)
        self.min_score = QDoubleSpinBox()
        self.min_score.setRange(0.0, 1.0)
        self.min_score.setSingleStep(0.05)
        self.min_score.setDecimals(2)
        self.min_score.setValue(settings.min_score)
        self.min_score.setSpecialValueText("automatic (per search)")
        self.min_score.setToolTip(
            "Advanced: typed searches hide results scoring below this. The score is the one each result shows, "
            "from 0 to 1: how well the photo matches, from what it shows and the words read in it together; "
            f"{GOOD:.2f} and above is a good match. Automatic: every result, the good matches first and the "
            "weaker ones after a divider.")
        form.addRow("Minimum score (override)", self.min_score)
        self.theme = QComboBox()
        for key, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.theme.addItem(label, key)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        form.addRow("Appearance", self.theme)
        self.read_text = QCheckBox("Read the words in photos (signs, receipts, screenshots) to search them")
        self.read_text.setChecked(read_text)
        self._read_text_was = read_text
        self.read_text.setToolTip("Offline text recognition after indexing, in the background; about a second "
                                  "per photo with text on a laptop CPU")
        form.addRow("Text in photos", self.read_text)
        return page

    def _folders_page(self, folders: list[str]) -> QWidget:
        page = QWidget()
        fl = QVBoxLayout(page)
        self.folder_list = QListWidget()
        for f in folders:
            self.folder_list.addItem(f)
        fl.addWidget(self.folder_list, 1)
        row = QHBoxLayout()
        add = QPushButton("Add…")
        add.clicked.connect(self.addFolderRequested)
        add.clicked.connect(self.accept_and_close)
        rem = QPushButton("Remove")
        rem.clicked.connect(self._remove_folder)
        reindex = QPushButton("Re-index now")
        reindex.setToolTip("Look again for new, changed and removed photos in every folder")
        reindex.clicked.connect(self.reindexRequested)
        row.addWidget(add)
        row.addWidget(rem)
        row.addStretch(1)
        row.addWidget(reindex)
        fl.addLayout(row)
        return page

    def _storage_page(self, paths: AppPaths, settings: Settings) -> QWidget:
        """Where the library, models, thumbnails and settings live, and the thumbnail cache."""
        page = QWidget()
        outer = QVBoxLayout(page)
        sl = QFormLayout()
        sl.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for label, path in (("Library", paths.library_db), ("Models", paths.models),
                            ("Thumbnails", paths.thumbnails), ("Settings", settings.file)):
            w = QWidget()
            h = QHBoxLayout(w)
            h.setContentsMargins(0, 0, 0, 0)
            lab = QLabel(str(path))
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setWordWrap(True)
            lab.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long paths wrap
            h.addWidget(lab, 1)
            btn = QPushButton("Open")
            target = path if path.is_dir() else path.parent
            btn.clicked.connect(lambda _c=False, t=target: QDesktopServices.openUrl(QUrl.fromLocalFile(str(t))))
            h.addWidget(btn)
            sl.addRow(label, w)
        outer.addLayout(sl)
        crow = QHBoxLayout()
        self.cache_label = QLabel("Thumbnail cache: …")
        crow.addWidget(self.cache_label, 1)
        self.clear_btn = QPushButton("Clear thumbnail cache")
        self.clear_btn.clicked.connect(self.clear_cache)
        crow.addWidget(self.clear_btn)
        outer.addLayout(crow)
        outer.addStretch(1)
        return page

    def _submit(self, fn, on_ok) -> Task:
        t = Task(fn)
        t.returned.connect(on_ok)
        t.failed.connect(lambda msg: self.model_desc.setText(f"Error: {msg}"))
        return self.runner.submit(t)

    @property
    def models(self) -> list[dict]:
        return self.model_page.models

    def _use(self, name: str) -> None:
        self.accept_and_close()  # the selected model (name) is emitted as modelChosen

    def _finetune(self, name: str) -> None:
        self.finetuneRequested.emit(name)
        self.accept_and_close()

    def _on_devices(self, devs: list[str]) -> None:
        names = {"cuda": "CUDA GPU", "mps": "Apple GPU (MPS)", "cpu": "CPU"}
        for d in devs:
            self.device.addItem(names.get(d, d), d)
        i = self.device.findData(self.settings.device)
        self.device.setCurrentIndex(max(0, i))

    def _on_cache_size(self, n: int) -> None:
        self.cache_label.setText(f"Thumbnail cache: {format_size(n)}")

    def selected_model(self) -> str | None:
        return self.model_page.selected()

    def clear_cache(self) -> None:
        n = self.thumbs.clear_cache() if self.thumbs is not None else 0
        self.cache_label.setText(f"Thumbnail cache: cleared ({n} files)")
        self.cacheCleared.emit()

    def _remove_folder(self) -> None:
        it = self.folder_list.currentItem()
        if it is not None:
            self.removeFolderRequested.emit(it.text())
            self.folder_list.takeItem(self.folder_list.row(it))

    def accept_and_close(self) -> None:
        self.settings.batch_size = self.batch.value()
        theme = self.theme.currentData()
        if theme != self.settings.theme:
            from PySide6.QtWidgets import QApplication

            from photosearch.gui.base.theme import apply_theme

            self.settings.theme = theme
            apply_theme(QApplication.instance(), theme)  # "system" takes effect at the next start
        if self.read_text.isChecked() != self._read_text_was:
            self.readTextChanged.emit(self.read_text.isChecked())
        changed_cut = abs(self.min_score.value() - self.settings.min_score) > 1e-9
        self.settings.min_score = self.min_score.value()
        if changed_cut:
            self.searchSettingsChanged.emit()
        backend = self.backend.currentData()
        if backend != self.settings.backend:
            self.settings.backend = backend
            self.backendChanged.emit(backend)
        dev = self.device.currentData()
        device_changed = dev != self.settings.device
        self.settings.device = dev
        info = self.model_page.selected_info()
        name = info["name"] if info and info.get("offline_ready") else None  # not on disk: download first
        page = self.model_page
        if name and name != self.current_model and (page.touched or page.listed(self.current_model)):
            # (a model in use that is not listed, e.g. a checkpoint folder, is switched only by a real choice)
            self.modelChosen.emit(name)  # loads on the new device too
        elif device_changed:
            self.deviceChanged.emit(dev)
        self.accept()

    def done(self, r: int) -> None:
        self.model_page.cancel_download()  # a partial download resumes next time
        self.runner.shutdown()
        super().done(r)
