"""The fine-tuning dialog's form: the Flickr8k folder (or its download), the base model and the new name, epochs
and heads-only with the expected duration, the advanced hyperparameters, and Start / Resume / Cancel.

It knows which device training will use (probed off the GUI thread), offers Resume only for a run that can
continue (and then shows that run's settings), and says what it would train by :meth:`FineTuneForm.options`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget)

from photosearch.gui.base.settings import Settings
from photosearch.gui.base.theme import muted
from photosearch.gui.tasks.jobs import devices_job, list_models_job
from photosearch.gui.tasks.workers import Task, TaskRunner
from photosearch.paths import AppPaths
from photosearch.train.options import TrainOptions
from photosearch.train.runstate import estimate_line
from photosearch.train.state import can_resume, load_run_options


# The training core speaks the command line's language ("lower --batch-size"); the window names its own
# controls instead. Each label is this form's own (tests/gui/test_gui_finetune_words.py checks they exist).
FLAG_CONTROLS = {"--batch-size": "Batch size", "--name": "New model name", "--epochs": "Epochs",
                 "--max-images": "Images per split", "--head-lr": "Head learning rate",
                 "--image-lr": "Image encoder LR", "--text-lr": "Text encoder LR", "--weight-decay": "Weight decay",
                 "--device": "Device", "--base": "Base model", "--data": "Choose…",
                 "--freeze-encoders": "Train only the projection heads (fast)"}
_PHRASES = (("add --resume to continue it", "press “Resume” to continue it"),
            ("resume with --resume --name ", "press “Resume” to continue "), ("resume with --resume", "press “Resume”"),
            ("pass --captions FILE if it lives elsewhere", "put it in the folder chosen with “Choose…”"))


def window_words(msg: str) -> str:
    """A training error as the window says it: its controls' names, not command-line flags."""
    import re

    for cli, own in _PHRASES:
        msg = msg.replace(cli, own)
    return re.sub(r"--[a-z][a-z-]*", lambda m: f"“{FLAG_CONTROLS[m.group()]}”" if m.group() in FLAG_CONTROLS
                  else m.group(), msg)


def _count_job(data_dir: str, captions: str | None = None):
    def job(_task: Task):
        from photosearch.train import load_captions

        data = load_captions(data_dir, captions)
        val = data.split("val") or data.split("test")
        return data_dir, len(data.split("train")), len(val)
    return job


class SciSpin(QDoubleSpinBox):
    """A learning-rate box that shows 1e-04 rather than 0.0001."""

    def __init__(self, value: float):
        super().__init__()
        self.setDecimals(8)
        self.setRange(0.0, 1.0)
        self.setSingleStep(value / 2 if value else 1e-4)
        self.setValue(value)

    def textFromValue(self, v: float) -> str:
        return f"{v:.0e}" if v else "0"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        from PySide6.QtGui import QValidator

        try:
            float(text)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            return QValidator.State.Intermediate, text, pos


class FineTuneForm(QWidget):
    """What to train and the buttons that start it; ``running`` (a callable) says whether a job runs now."""

    startRequested = Signal(bool)  # resume?
    cancelRequested = Signal()
    downloadRequested = Signal()

    def __init__(self, paths: AppPaths, settings: Settings | None, runner: TaskRunner, running, parent=None):
        super().__init__(parent)
        self.paths, self.settings, self.runner, self.running = paths, settings, runner, running
        self._freeze_touched = False  # the user chose; device changes no longer move the default
        self.auto_device: str | None = None  # what "auto" resolves to, once probed off the GUI thread
        self.data_counts: tuple[int, int] | None = None  # (train, val) images of the chosen data set
        self._resume_name: str | None = None  # the run whose options the form was last filled from
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 6, 0)
        lay.addWidget(self._data_box())
        lay.addWidget(self._model_box())
        lay.addWidget(self._advanced_toggle())
        lay.addWidget(self._advanced_box())
        lay.addLayout(self._buttons())
        lay.addStretch(1)
        for sig in (self.epochs.valueChanged, self.max_images.valueChanged, self.freeze.toggled):
            sig.connect(self.update_estimate)
        self.data_edit.editingFinished.connect(self.probe_data)
        self._submit(Task(list_models_job(paths)), self._on_models)
        self._submit(Task(devices_job), self._on_devices)
        self.update_estimate()
        self.update_resume()

    def _submit(self, task: Task, on_ok) -> None:
        task.returned.connect(on_ok)
        self.runner.submit(task)

    # -- layout ---------------------------------------------------------------------------------
    def _data_box(self) -> QGroupBox:
        data = QGroupBox("Data: Flickr8k")
        dl = QVBoxLayout(data)
        row = QHBoxLayout()
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText("Folder with Flicker8k_Dataset/ and captions")
        row.addWidget(self.data_edit, 1)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_data)
        row.addWidget(browse)
        dl.addLayout(row)
        row2 = QHBoxLayout()
        self.download_btn = QPushButton("Download Flickr8k (~1.1 GB)…")
        self.download_btn.setToolTip("Asks where to put it first; it needs about 2.3 GB while it unpacks")
        self.download_btn.clicked.connect(self.downloadRequested)
        row2.addWidget(self.download_btn)
        self.download_bar = QProgressBar()
        self.download_bar.hide()
        row2.addWidget(self.download_bar, 1)
        dl.addLayout(row2)
        return data

    def _model_box(self) -> QGroupBox:
        hp = QGroupBox("Model")
        form = QFormLayout(hp)
        self.base = QComboBox()
        self.base.setEditable(True)  # a checkpoint folder path works too
        self.base.addItem("starter", "starter")
        form.addRow("Base model", self.base)
        self.name_edit = QLineEdit(f"flickr8k-{datetime.now():%Y%m%d-%H%M}")
        self.name_edit.textChanged.connect(self.update_resume)
        form.addRow("New model name", self.name_edit)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100)
        self.epochs.setValue(int(TrainOptions.defaults()["epochs"]))
        form.addRow("Epochs", self.epochs)
        self.freeze = QCheckBox("Train only the projection heads (fast)")
        self.freeze.setToolTip("Keeps the image and text encoders as they are and trains only the small layers "
                               "on top: minutes instead of hours on a processor, most of the gain.")
        self.freeze.setChecked(True)  # until the device is known: the safe choice on a CPU
        self.freeze.clicked.connect(self._freeze_clicked)
        form.addRow("", self.freeze)
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        muted(self.estimate)
        form.addRow(self.estimate)
        return hp

    def _advanced_toggle(self) -> QToolButton:
        self.advanced_btn = QToolButton()
        self.advanced_btn.setText("Advanced")
        self.advanced_btn.setCheckable(True)
        self.advanced_btn.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_btn.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_btn.setAutoRaise(True)
        self.advanced_btn.toggled.connect(self._toggle_advanced)
        return self.advanced_btn

    def _advanced_box(self) -> QWidget:
        d = TrainOptions.defaults()
        self.advanced = QWidget()
        form = QFormLayout(self.advanced)
        form.setContentsMargins(12, 0, 0, 0)
        self.batch = QSpinBox()
        self.batch.setRange(2, 1024)
        self.batch.setValue(int(d["batch_size"]))
        form.addRow("Batch size", self.batch)
        self.head_lr = SciSpin(d["head_lr"])
        form.addRow("Head learning rate", self.head_lr)
        self.image_lr = SciSpin(d["image_lr"])
        form.addRow("Image encoder LR", self.image_lr)
        self.text_lr = SciSpin(d["text_lr"])
        form.addRow("Text encoder LR", self.text_lr)
        self.wd = SciSpin(d["weight_decay"])
        form.addRow("Weight decay", self.wd)
        self.max_images = QSpinBox()
        self.max_images.setRange(0, 100000)
        self.max_images.setSpecialValueText("all")
        self.max_images.setToolTip("Cap per split, for a quick trial run")
        form.addRow("Images per split", self.max_images)
        self.device = QComboBox()
        for dev in ("auto", "cpu", "cuda", "mps"):
            self.device.addItem(dev)
        if self.settings is not None:
            self.device.setCurrentText(self.settings.device)
        self.device.currentTextChanged.connect(self._device_changed)
        form.addRow("Device", self.device)
        self.advanced.setVisible(False)
        return self.advanced

    def _buttons(self) -> QHBoxLayout:
        brow = QHBoxLayout()
        self.start_btn = QPushButton("Start training")
        self.start_btn.setDefault(True)
        self.start_btn.clicked.connect(lambda: self.startRequested.emit(False))
        self.resume_btn = QPushButton("Resume")
        self.resume_btn.setEnabled(False)
        self.resume_btn.setToolTip("Continue the last cancelled run of this model name")
        self.resume_btn.clicked.connect(lambda: self.startRequested.emit(True))
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.cancelRequested)
        for b in (self.start_btn, self.resume_btn, self.cancel_btn):
            brow.addWidget(b)
        return brow

    def set_busy(self, busy: bool, downloading: bool = False) -> None:
        """While a job runs only Cancel works; afterwards Resume is offered again where it can continue."""
        self.start_btn.setEnabled(not busy)
        self.download_btn.setEnabled(not busy)
        self.cancel_btn.setEnabled(busy)
        if busy:
            self.resume_btn.setEnabled(False)
        if downloading:
            self.download_bar.show()
            self.download_bar.setRange(0, 0)
        elif not busy:
            self.download_bar.hide()
            self.update_resume()

    def show_download(self, done: int, total: int) -> None:
        if total:
            self.download_bar.setRange(0, 1000)
            self.download_bar.setValue(int(1000 * done / total))

    # -- the base model and the data --------------------------------------------------------------
    def _on_models(self, models: list[dict]) -> None:
        cur = self.base.currentText()
        self.base.clear()
        for m in models:
            self.base.addItem(m["name"] + ("" if m.get("offline_ready") else "  (needs download)"), m["name"])
        i = self.base.findData(cur)
        self.base.setCurrentIndex(max(0, i))

    def base_model(self) -> str:
        i = self.base.currentIndex()
        data = self.base.itemData(i) if i >= 0 else None
        text = self.base.currentText().strip()
        return data if data and self.base.itemText(i) == text else text

    def _choose_data(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Flickr8k folder", self.data_edit.text() or str(Path.home()))
        if d:
            self.data_edit.setText(d)
            self.probe_data()

    def probe_data(self) -> None:
        """Count the chosen data set's photos (off the GUI thread) for the estimate."""
        folder = self.data_edit.text().strip()
        if folder and Path(folder).is_dir():
            self._submit(Task(_count_job(folder)), self._on_counts)

    def _on_counts(self, res) -> None:
        folder, n_train, n_val = res
        if folder == self.data_edit.text().strip():
            self.data_counts = (n_train, n_val)
            self.update_estimate()

    # -- device, estimate, resume ---------------------------------------------------------------
    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_btn.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _on_devices(self, devices: list[str]) -> None:
        self.auto_device = devices[0] if devices else "cpu"
        self._device_changed()

    def effective_device(self) -> str:
        """The device kind training will use ("auto" counts as a CPU until the probe says otherwise)."""
        dev = self.device.currentText().split(":")[0]
        return (self.auto_device or "cpu") if dev == "auto" else dev

    def _freeze_clicked(self) -> None:
        self._freeze_touched = True

    def _device_changed(self, *_args) -> None:
        if not self._freeze_touched:  # the fast option is the default on a CPU, the full one on a GPU
            self.freeze.setChecked(self.effective_device() == "cpu")
        self.update_estimate()

    def update_estimate(self, *_args) -> None:
        self.estimate.setText(estimate_line(self.effective_device(), self.data_counts, self.max_images.value(),
                                            self.epochs.value(), self.freeze.isChecked()))

    def update_resume(self, *_args) -> None:
        """Resume is offered only when an interrupted run of this name has a saved state; the form then shows
        that run's settings, so what you see is what continues."""
        name = self.name_edit.text().strip()
        ok = not self.running() and can_resume(self.paths, name)
        self.resume_btn.setEnabled(ok)
        if ok and name != self._resume_name:
            self._resume_name = name
            stored = load_run_options(self.paths, name)
            if stored is not None:
                self._fill(stored)

    def _fill(self, o: TrainOptions) -> None:
        if not self.data_edit.text().strip():
            self.data_edit.setText(o.data_dir)
        i = self.base.findData(o.base)
        if i >= 0:
            self.base.setCurrentIndex(i)
        else:
            self.base.setEditText(o.base)
        self.epochs.setValue(o.epochs)
        self.batch.setValue(o.batch_size)
        self.head_lr.setValue(o.head_lr)
        self.image_lr.setValue(o.image_lr)
        self.text_lr.setValue(o.text_lr)
        self.wd.setValue(o.weight_decay)
        self.max_images.setValue(o.max_images or 0)
        self._freeze_touched = True
        self.freeze.setChecked(o.freeze_encoders)

    def options(self) -> dict:
        """The run the form describes, as TrainOptions keyword arguments."""
        return dict(data_dir=self.data_edit.text().strip(), base=self.base_model(),
                    name=self.name_edit.text().strip() or None, epochs=self.epochs.value(),
                    batch_size=self.batch.value(), head_lr=self.head_lr.value(), image_lr=self.image_lr.value(),
                    text_lr=self.text_lr.value(), weight_decay=self.wd.value(),
                    freeze_encoders=self.freeze.isChecked(), device=self.device.currentText(),
                    max_images=self.max_images.value() or None)
