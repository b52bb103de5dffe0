"""Fine-tuning on Flickr8k: data, base model and hyperparameters; live loss and Recall@K charts; a
before/after table and "use this model" at the end. Training runs in the core's generator in a worker."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox,
                               QSplitter, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from photosearch.gui.base.settings import Settings
from photosearch.gui.base.widgets import muted
from photosearch.gui.finetune.charts import LineChart
from photosearch.gui.tasks.jobs import list_models_job as _list_models
from photosearch.humanize import format_duration
from photosearch.gui.tasks.workers import Task, TaskRunner
from photosearch.paths import AppPaths
from photosearch.train.estimate import FLICKR8K_SPLITS, estimate_cpu
from photosearch.train.options import TrainOptions
from photosearch.train.state import can_resume, load_run_options

KS = ("R@1", "R@5", "R@10")


def _train_job(opts_kwargs: dict, paths: AppPaths, resume: bool):
    def job(task: Task):
        from photosearch.train import train

        from photosearch.train import load_run_options, merge_options

        # On resume the stored run's options fill in, by the same rule as the command line.
        stored = load_run_options(paths, opts_kwargs.get("name")) if resume else None
        opts = merge_options(stored, opts_kwargs)
        return (yield from train(opts, paths, resume=resume, cancel=task.cancel_event))  # the TrainResult
    return job


def _devices_job(_task: Task) -> list[str]:
    from photosearch.device import available_devices

    return available_devices()


def _count_job(data_dir: str, captions: str | None = None):
    def job(_task: Task):
        from photosearch.train import load_captions

        data = load_captions(data_dir, captions)
        val = data.split("val") or data.split("test")
        return data_dir, len(data.split("train")), len(val)
    return job


def plain_status(ev) -> str | None:
    """A training event in words for people who do not train models every day (None: keep the last)."""
    phase, done, total = ev.phase, ev.done, ev.total
    if phase == "data":
        return "Reading the photo descriptions…"
    if phase == "model":
        return "Loading the model to start from…"
    if phase == "resume":
        return f"Continuing the interrupted run from epoch {ev.epoch}…"
    if phase == "cache":
        return (f"Looking at every photo once ({done:,} of {total:,}); later epochs reuse what it sees"
                if done else f"Looking at every photo once ({total:,} photos); later epochs reuse what it sees")
    if phase == "zero_shot":
        return f"Measuring how well the model finds photos before training ({total:,} test photos)…"
    if phase == "eval":
        return f"Measuring how well it finds photos now: {done:,} of {total:,}"
    if phase == "note":
        return ev.message
    if ev.kind == "eval" and ev.metrics:
        t2i = ev.metrics.get("text_to_image", {})
        when = "Before training" if ev.epoch == 0 else f"After epoch {ev.epoch}"
        return (f"{when}: the right photo comes first for {t2i.get('R@1', 0):.0f}% of descriptions and is "
                f"in the top 10 for {t2i.get('R@10', 0):.0f}%")
    return None


def _download_job(dest: Path, urls: dict):
    def job(task: Task):
        from photosearch.train import download_flickr8k

        return str(download_flickr8k(dest, progress=lambda d, t: task.report((d, t)), cancel=task.cancel_event,
                                     **urls))
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
        self.result = None
        self.before: dict | None = None
        self.after: dict | None = None
        self._t0 = 0.0
        self._freeze_touched = False  # the user chose; device changes no longer move the default
        self.auto_device: str | None = None  # what "auto" resolves to, once probed off the GUI thread
        self.data_counts: tuple[int, int] | None = None  # (train, val) images of the chosen data set
        self._resume_name: str | None = None  # the run whose options the form was last filled from
        self.resize(1060, 700)
        outer = QHBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(split)
        split.addWidget(self._build_form())
        split.addWidget(self._build_live())
        split.setStretchFactor(1, 1)
        split.setSizes([380, 680])
        t = Task(_list_models(paths))
        t.returned.connect(self._on_models)
        self.runner.submit(t)
        t = Task(_devices_job)
        t.returned.connect(self._on_devices)
        self.runner.submit(t)
        self.data_edit.editingFinished.connect(self._probe_data)
        self._update_estimate()
        self._update_resume()

    # -- layout ---------------------------------------------------------------------------------
    def _build_form(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 0, 6, 0)
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
        self.download_btn = QPushButton("Download Flickr8k (~1 GB)")
        self.download_btn.clicked.connect(self.start_download)
        row2.addWidget(self.download_btn)
        self.download_bar = QProgressBar()
        self.download_bar.hide()
        row2.addWidget(self.download_bar, 1)
        dl.addLayout(row2)
        lay.addWidget(data)

        hp = QGroupBox("Model")
        form = QFormLayout(hp)
        self.base = QComboBox()
        self.base.setEditable(True)  # a checkpoint folder path works too
        self.base.addItem("starter", "starter")
        form.addRow("Base model", self.base)
        self.name_edit = QLineEdit(f"flickr8k-{datetime.now():%Y%m%d-%H%M}")
        self.name_edit.textChanged.connect(self._update_resume)
        form.addRow("New model name", self.name_edit)
        d = TrainOptions.defaults()
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100)
        self.epochs.setValue(int(d["epochs"]))
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
        lay.addWidget(hp)

        self.advanced_btn = QToolButton()
        self.advanced_btn.setText("Advanced")
        self.advanced_btn.setCheckable(True)
        self.advanced_btn.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_btn.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_btn.setAutoRaise(True)
        self.advanced_btn.toggled.connect(self._toggle_advanced)
        lay.addWidget(self.advanced_btn)
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
        lay.addWidget(self.advanced)
        for sig in (self.epochs.valueChanged, self.max_images.valueChanged, self.freeze.toggled):
            sig.connect(self._update_estimate)

        brow = QHBoxLayout()
        self.start_btn = QPushButton("Start training")
        self.start_btn.setDefault(True)
        self.start_btn.clicked.connect(lambda: self.start())
        self.resume_btn = QPushButton("Resume")
        self.resume_btn.setEnabled(False)
        self.resume_btn.setToolTip("Continue the last cancelled run of this model name")
        self.resume_btn.clicked.connect(lambda: self.start(resume=True))
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.cancel)
        brow.addWidget(self.start_btn)
        brow.addWidget(self.resume_btn)
        brow.addWidget(self.cancel_btn)
        lay.addLayout(brow)
        lay.addStretch(1)
        return w

    def _build_live(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(6, 0, 0, 0)
        self.status = QLabel("Choose the data and press Start. Training keeps checkpoints: a cancelled run can "
                             "be resumed.")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(12)
        lay.addWidget(self.progress)
        self.rate = QLabel(" ")
        muted(self.rate)
        lay.addWidget(self.rate)
        self.loss_chart = LineChart("Training loss", "step")
        lay.addWidget(self.loss_chart, 3)
        self.recall_chart = LineChart("Text → image recall on validation (%)", "epoch", y_min=0)
        lay.addWidget(self.recall_chart, 3)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Recall", "Before", "After", "Change"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setFixedHeight((self.fontMetrics().height() + 8) * 6 + self.fontMetrics().height() + 14)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lay.addWidget(self.table)
        urow = QHBoxLayout()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        urow.addWidget(self.result_label, 1)
        self.use_btn = QPushButton("Use this model")
        self.use_btn.setEnabled(False)
        self.use_btn.setToolTip("Make it the active model; the library is re-indexed in the background for it")
        self.use_btn.clicked.connect(self._use)
        urow.addWidget(self.use_btn)
        lay.addLayout(urow)
        return w

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
            self._probe_data()

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
        self._update_estimate()

    def _probe_data(self) -> None:
        folder = self.data_edit.text().strip()
        if folder and Path(folder).is_dir():
            t = Task(_count_job(folder))
            t.returned.connect(self._on_counts)
            self.runner.submit(t)

    def _on_counts(self, res) -> None:
        folder, n_train, n_val = res
        if folder == self.data_edit.text().strip():
            self.data_counts = (n_train, n_val)
            self._update_estimate()

    def _update_estimate(self, *_args) -> None:
        """The expected duration, shown before Start, from throughput measured on a CPU."""
        if self.effective_device() != "cpu":
            self.estimate.setText("On a graphics card this takes a fraction of the processor time "
                                  "(no measured estimate for this card yet).")
            return
        n_train, n_val = self.data_counts or FLICKR8K_SPLITS
        cap = self.max_images.value()
        if cap:
            n_train, n_val = min(n_train, cap), min(n_val, cap)
        est = estimate_cpu(n_train, n_val, self.epochs.value(), self.freeze.isChecked())
        what = "" if self.data_counts else " (Flickr8k)"
        text = f"Expected time on this computer's processor{what}: about {format_duration(est.seconds)}"
        if est.first_pass:
            text += f" (a first look at every photo, then about {format_duration(est.per_epoch)} per epoch)."
        else:
            text += f" (about {format_duration(est.per_epoch)} per epoch). Training only the heads is far faster."
        self.estimate.setText(text)

    def _update_resume(self, *_args) -> None:
        """Resume is offered only when an interrupted run of this name has a saved state; the form then shows
        that run's settings, so what you see is what continues."""
        name = self.name_edit.text().strip()
        ok = not self.running() and can_resume(self.paths, name)
        self.resume_btn.setEnabled(ok)
        if ok and name != self._resume_name:
            self._resume_name = name
            stored = load_run_options(self.paths, name)
            if stored is not None:
                self._fill_form(stored)

    def _fill_form(self, o: TrainOptions) -> None:
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

    # -- download -------------------------------------------------------------------------------
    def start_download(self) -> None:
        if self.task is not None and not self.task.done:
            return
        dest = self.paths.downloads / "flickr8k"
        self.download_bar.show()
        self.download_bar.setRange(0, 0)
        self.download_btn.setEnabled(False)
        self.start_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.status.setText(f"Downloading Flickr8k into {dest}…")
        t = Task(_download_job(dest, self.download_urls), "download")
        t.progress.connect(self._on_download_progress)
        t.returned.connect(self._on_downloaded)
        t.failed.connect(self._on_failed)
        t.finished.connect(self._idle)
        self.task = self.runner.submit(t)

    def _on_download_progress(self, p) -> None:
        done, total = p
        if total:
            self.download_bar.setRange(0, 1000)
            self.download_bar.setValue(int(1000 * done / total))
            self.rate.setText(f"{done / 1e6:.0f} of {total / 1e6:.0f} MB")
        else:
            self.rate.setText(f"{done / 1e6:.0f} MB")

    def _on_downloaded(self, path: str) -> None:
        self.data_edit.setText(path)
        self._probe_data()
        self.downloaded.emit(path)
        self.status.setText("Flickr8k is ready. Press Start to fine-tune.")

    # -- training -------------------------------------------------------------------------------
    def options(self) -> dict:
        return dict(data_dir=self.data_edit.text().strip(), base=self.base_model(),
                    name=self.name_edit.text().strip() or None, epochs=self.epochs.value(),
                    batch_size=self.batch.value(), head_lr=self.head_lr.value(), image_lr=self.image_lr.value(),
                    text_lr=self.text_lr.value(), weight_decay=self.wd.value(),
                    freeze_encoders=self.freeze.isChecked(), device=self.device.currentText(),
                    max_images=self.max_images.value() or None)

    def start(self, resume: bool = False, **overrides) -> None:
        if self.task is not None and not self.task.done:
            return
        opts = {**self.options(), **overrides}
        if not opts["data_dir"]:
            self._on_failed("choose a Flickr8k folder first, or download it")
            return
        self.loss_chart.clear()
        self.recall_chart.clear()
        self.table.setRowCount(0)
        self.result = None
        self.before = self.after = None
        self.use_btn.setEnabled(False)
        self.result_label.setText("")
        self.start_btn.setEnabled(False)
        self.resume_btn.setEnabled(False)
        self.download_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.progress.setRange(0, 0)
        self.status.setText("Resuming…" if resume else "Preparing…")
        self._t0 = time.monotonic()
        t = Task(_train_job(opts, self.paths, resume), "train")
        t.progress.connect(self._on_event)
        t.returned.connect(self._on_done)
        t.failed.connect(self._on_failed)
        t.finished.connect(self._idle)
        self.task = self.runner.submit(t)

    def cancel(self) -> None:
        if self.task is not None and not self.task.done:
            self.task.cancel()
            self.cancel_btn.setEnabled(False)
            self.status.setText("Stopping after the current step… the checkpoint is kept")

    def running(self) -> bool:
        return self.task is not None and not self.task.done

    def _idle(self) -> None:
        self.start_btn.setEnabled(True)
        self.download_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        self.download_bar.hide()
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        self._update_resume()

    def _on_event(self, ev) -> None:
        kind = ev.kind
        text = plain_status(ev)
        if text:
            self.status.setText(text)
        if ev.total_steps:
            self.progress.setRange(0, ev.total_steps)
            self.progress.setValue(ev.step)
        if kind == "step" and ev.loss is not None:
            self.loss_chart.add_point("loss", ev.step, ev.loss)
            parts = [f"epoch {ev.epoch}/{ev.total_epochs}", f"step {ev.step:,}/{ev.total_steps:,}",
                     f"loss {ev.loss:.3f}"]
            if ev.images_per_second:
                parts.append(f"{ev.images_per_second:.1f} images/s")
            if ev.eta is not None:
                parts.append(f"about {format_duration(ev.eta)} left")
            self.rate.setText(" · ".join(parts))
        elif kind == "eval" and ev.metrics:
            t2i = ev.metrics.get("text_to_image", {})
            for k in KS:
                if k in t2i:
                    self.recall_chart.add_point(k, ev.epoch, t2i[k])
            if ev.epoch == 0 and self.before is None:
                self.before = ev.metrics
            self.after = ev.metrics

    def _on_done(self, res) -> None:
        self.result = res
        if res is None:
            self.trainingFinished.emit(None)
            return
        hist = list(res.history or [])
        if self.before is None and hist and isinstance(hist[0], dict) and hist[0].get("epoch") == 0:
            self.before = hist[0].get("val") or hist[0].get("metrics")
        self.after = res.val or self.after
        self._fill_table()
        secs = time.monotonic() - self._t0
        if res.cancelled:
            self.status.setText(f"Cancelled after {format_duration(secs)}. Resume continues from the last checkpoint.")
            self._update_resume()
        else:
            self.status.setText(f"Finished in {format_duration(secs)}: model “{res.model}” saved "
                                f"(best epoch {res.best_epoch}).")
            self.progress.setValue(self.progress.maximum())
        self.result_label.setText(f"Model “{res.model}” — {res.path}")
        self.use_btn.setEnabled(not res.cancelled or bool(res.path))
        self.trainingFinished.emit(res)

    def _fill_table(self) -> None:
        rows = []
        for direction, label in (("text_to_image", "text → image"), ("image_to_text", "image → text")):
            for k in KS:
                b = (self.before or {}).get(direction, {}).get(k)
                a = (self.after or {}).get(direction, {}).get(k)
                if a is None and b is None:
                    continue
                rows.append((f"{label} {k}", b, a))
        self.table.setRowCount(len(rows))
        for r, (name, b, a) in enumerate(rows):
            vals = [name, "—" if b is None else f"{b:.1f}%", "—" if a is None else f"{a:.1f}%",
                    "—" if a is None or b is None else f"{a - b:+.1f}"]
            for c, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if c:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, it)

    def _on_failed(self, msg: str) -> None:
        self.status.setText(f"⚠ {msg}")
        self._update_resume()
        self.trainingFailed.emit(msg)

    def _use(self) -> None:
        if self.result is not None:
            self.useModel.emit(self.result.model)
            self.use_btn.setEnabled(False)
            self.use_btn.setText("In use ✓")

    def closeEvent(self, e) -> None:
        self.runner.shutdown()
        super().closeEvent(e)

    def done(self, r: int) -> None:
        self.runner.shutdown()
        super().done(r)
