"""Chips in the search bar: one look for every removable part of a search (a photo marked more / less like it,
a place, date, colour, camera, kind or person read from the typed line), and :class:`ReadingRow`, which shows
how the line was read: a chip per recognised part, the words left to rank by, and any note. Nothing typed is
hidden: removing a chip gives the line without it (``ParsedLine.without``) and the search runs again."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from photosearch.gui.base.theme import muted


def chip(text: str, tip: str, name: str) -> QToolButton:
    """A removable chip: ``text`` then ✕; the caller connects ``clicked``."""
    b = QToolButton()
    b.setText(f"{text}  ✕")
    b.setToolTip(tip)
    b.setObjectName(name)
    return b


class ReadingRow(QWidget):
    """"Read as:" + a chip per part of the line that filters + the words that rank (hidden when nothing was
    recognised and there is no note)."""

    lineChanged = Signal(str)  # a chip was removed: the line without it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.reading = None  # the ParsedLine shown
        self.chips: list[QToolButton] = []
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.title = QLabel("Read as:")
        muted(self.title)
        lay.addWidget(self.title)
        self.row = QHBoxLayout()
        self.row.setSpacing(4)
        lay.addLayout(self.row)
        self.words = QLabel()
        self.words.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        muted(self.words)
        lay.addWidget(self.words, 1)
        self.hide()

    def show_reading(self, reading) -> None:
        """Show ``reading`` (a ParsedLine; None: no line was read)."""
        for c in self.chips:
            self.row.removeWidget(c)
            c.deleteLater()
        self.chips = []
        self.reading = reading
        if reading is None or not (reading.chips or reading.notes):
            self.hide()
            return
        for i, part in enumerate(reading.chips):
            c = chip(f"{part.kind}: {part.label or part.value}",
                     f"“{part.source}” read as a {part.kind} — click to undo (its words become search words)",
                     f"part-{part.kind}")
            c.clicked.connect(lambda _c=False, i=i: self.remove(i))
            self.row.addWidget(c)
            self.chips.append(c)
        words = f"words: “{reading.text}”" if reading.text else "no words: newest first"
        self.words.setText("  ·  ".join([words, *reading.notes]))
        self.words.setToolTip(self.words.text())
        self.show()

    def remove(self, i: int) -> None:
        """Undo chip ``i``: the line without it is asked for."""
        if self.reading is not None and 0 <= i < len(self.reading.chips):
            self.lineChanged.emit(self.reading.without(i))
