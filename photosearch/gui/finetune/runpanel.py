"""The fine-tuning dialog's live side: the status in plain words, the progress bar and line, the loss and recall
charts, the before/after table and "Use this model". It draws what a :class:`~photosearch.train.runstate.RunState`
says about each event."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from photosearch.gui.base.theme import muted
from photosearch.gui.finetune.charts import LineChart
from photosearch.humanize import format_size
from photosearch.train.runstate import RunState, Update, comparison_cells


class RunPanel(QWidget):
    """``useRequested`` asks to make the finished run's model the active one."""

    useRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
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
        self.table = self._table()
        lay.addWidget(self.table)
        urow = QHBoxLayout()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        urow.addWidget(self.result_label, 1)
        self.use_btn = QPushButton("Use this model")
        self.use_btn.setEnabled(False)
        self.use_btn.setToolTip("Make it the active model; the library is re-indexed in the background for it")
        self.use_btn.clicked.connect(self.useRequested)
        urow.addWidget(self.use_btn)
        lay.addLayout(urow)

    def _table(self) -> QTableWidget:
        table = QTableWidget(0, 4)
        table.setHorizontalHeaderLabels(["Recall", "Before", "After", "Change"])
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        line = self.fontMetrics().height()
        table.verticalHeader().setDefaultSectionSize(line + 8)
        table.setFixedHeight((line + 8) * 6 + line + 14)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        return table

    def reset(self, resume: bool) -> None:
        """A new run starts: empty charts and table, a busy bar."""
        self.loss_chart.clear()
        self.recall_chart.clear()
        self.table.setRowCount(0)
        self.use_btn.setEnabled(False)
        self.result_label.setText("")
        self.progress.setRange(0, 0)
        self.status.setText("Resuming…" if resume else "Preparing…")

    def idle(self) -> None:
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)

    def show_update(self, up: Update) -> None:
        if up.status:
            self.status.setText(up.status)
        if up.steps:
            self.progress.setRange(0, up.steps[1])
            self.progress.setValue(up.steps[0])
        if up.loss is not None:
            self.loss_chart.add_point("loss", *up.loss)
        if up.rate:
            self.rate.setText(up.rate)
        for k, epoch, value in up.recall:
            self.recall_chart.add_point(k, epoch, value)

    def show_comparison(self, state: RunState) -> None:
        rows = state.comparison()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, v in enumerate(comparison_cells(row)):
                it = QTableWidgetItem(v)
                if c:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, it)

    def show_download(self, done: int, total: int) -> None:
        self.rate.setText(f"{format_size(done)} of {format_size(total)}" if total else format_size(done))

    def mark_used(self) -> None:
        self.use_btn.setEnabled(False)
        self.use_btn.setText("In use ✓")
