"""The results area's empty state: what to do next, not just "nothing here" (the texts: :mod:`.states`)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from photosearch.gui.base.theme import muted


class EmptyState(QWidget):
    """A centred icon, title, explanation and optional action: what to do next, not just "nothing here"."""

    actionTriggered = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.key = ""
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        self.icon = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.icon)
        self.title = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.5)
        f.setBold(True)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.body = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.body.setWordWrap(True)
        self.body.setMaximumWidth(520)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        muted(self.body)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.body)
        row.addStretch(1)
        lay.addLayout(row)
        brow = QHBoxLayout()
        brow.addStretch(1)
        self.button = QPushButton()
        self.button.setMinimumHeight(32)
        self.button.clicked.connect(lambda: self.actionTriggered.emit(self.key))
        brow.addWidget(self.button)
        brow.addStretch(1)
        lay.addSpacing(6)
        lay.addLayout(brow)
        lay.addStretch(3)

    def set_state(self, key: str, title: str, body: str, icon=None, button: str | None = None) -> None:
        self.key = key
        self.title.setText(title)
        self.body.setText(body)
        if icon is not None and not icon.isNull():
            self.icon.setPixmap(icon.pixmap(72, 72))
            self.icon.show()
        else:
            self.icon.hide()
        self.button.setVisible(bool(button))
        self.button.setText(button or "")
