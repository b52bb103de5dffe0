"""The window's message strip: errors and notes show here, never as a crash or a blocking dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton


class Banner(QFrame):
    """A dismissable message strip: errors show here, never as a crash or a blocking dialog."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long path has nowhere to wrap and a long message is tall: neither may set the window's minimum
        # size (the whole text stays in the tooltip and in the log).
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(1)
        self.label.setMaximumHeight(self.label.fontMetrics().lineSpacing() * 3 + 4)  # at most three lines
        lay.addWidget(self.label, 1)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(close)
        self.kind = ""
        self.topic = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error", topic: str = "") -> None:
        """Show ``text``; ``topic`` names what it is about, so that :meth:`clear` can take it back when that
        is settled (e.g. "model" once a model works)."""
        bg, fg, border = {"error": ("#fde8e8", "#7f1d1d", "#f5b5b5"),
                          "info": ("#e6f0ff", "#1e3a8a", "#b6ccf5")}.get(kind, ("#eee", "#222", "#ccc"))
        self.setStyleSheet(f"QFrame#banner {{ background: {bg}; border: 1px solid {border}; border-radius: 6px; }}"
                           f" QFrame#banner QLabel, QFrame#banner QToolButton {{ color: {fg}; }}")
        self.kind = kind
        self.topic = topic
        self.label.setText(text)
        self.label.setToolTip(text)
        self.setToolTip(text)
        self.show()

    def clear(self, topic: str) -> None:
        """Hide the message if it is about ``topic``."""
        if self.topic == topic:
            self.hide()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
