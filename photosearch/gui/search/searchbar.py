"""The search bar: the query box, the "like this photo" chip, the thumbnail-size slider and the buttons for
Settings and Fine-tune; under them, how the typed line was read (gui/search/chips.py's ``ReadingRow``). It decides *when* to search (debounced typing, Enter, a dropped image) and says so by
``searchRequested``; the window decides *what* to search with the filters and the model."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSlider, QStyle, QToolButton, QVBoxLayout, QWidget

from photosearch.gui.base.desktop import dropped_paths
from photosearch.gui.base.settings import THUMB_MAX, THUMB_MIN
from photosearch.gui.base.theme import icon
from photosearch.gui.search.chips import ReadingRow, chip
from photosearch.imageio import is_image_name

DEBOUNCE_MS = 250  # results as you type, without a search per keystroke
TEXT_HINT = "Describe a photo — e.g. “a dog on the beach” — or drop an image here"
LIKE_HINT = "Searching by example — type to search by words instead"


def _tool_button(icon_name: str, text: str, tip: str = "") -> QToolButton:
    b = QToolButton()
    b.setIcon(icon(icon_name))
    b.setText(text)
    b.setToolTip(tip)
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    return b


class SearchBox(QLineEdit):
    """The query line. Dropping an image file on it searches by example."""

    imageDropped = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText("Describe a photo — e.g. “a dog on the beach” — or drop an image here")
        self.setClearButtonEnabled(True)
        self.setMinimumHeight(34)
        f = self.font()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.setFont(f)
        self.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.setAcceptDrops(True)

    def _image(self, mime) -> str | None:
        for p in dropped_paths(mime):
            if os.path.isfile(p) and is_image_name(p):
                return p
        return None

    def dragEnterEvent(self, e):
        if self._image(e.mimeData()):
            e.acceptProposedAction()
        else:
            super().dragEnterEvent(e)

    def dragMoveEvent(self, e):
        if self._image(e.mimeData()):
            e.acceptProposedAction()
        else:
            super().dragMoveEvent(e)

    def dropEvent(self, e):
        p = self._image(e.mimeData())
        if p:
            e.acceptProposedAction()
            self.imageDropped.emit(p)
        else:
            super().dropEvent(e)


class SearchBar(QWidget):
    """Query text or an example image, the zoom slider, Settings and Fine-tune."""

    searchRequested = Signal()  # the query or the example changed (typing is debounced), or Enter
    likeRequested = Signal(str)  # an image was dropped on the box: search by example
    clearRequested = Signal()  # the example chip was clicked
    typing = Signal()  # the query text was edited (a search follows after the debounce)
    feedbackRemoved = Signal(str)  # a more-like / less-like chip was clicked (its photo's path)
    intoResults = Signal()  # Down in the query box: move into the results
    zoomChanged = Signal(int)
    settingsRequested = Signal()
    finetuneRequested = Signal()

    def __init__(self, thumb_size: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.like_path: str | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        lay = QHBoxLayout()
        lay.setSpacing(8)
        outer.addLayout(lay)
        self.reading = ReadingRow()  # the chips of the line as the last answer read it
        self.reading.lineChanged.connect(self.set_line)
        outer.addWidget(self.reading)
        self.search_box = SearchBox()
        self.search_box.textEdited.connect(self._on_text_edited)
        self.search_box.returnPressed.connect(self.request_now)
        self.search_box.imageDropped.connect(self.likeRequested)
        lay.addWidget(self.search_box, 1)
        self.like_chip = QToolButton()
        self.like_chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.like_chip.setToolTip("Searching by example image — click to clear")
        self.like_chip.clicked.connect(self.clearRequested)
        self.like_chip.hide()
        lay.addWidget(self.like_chip)
        self.feedback_row = QHBoxLayout()  # one removable chip per photo marked more-like / less-like
        self.feedback_row.setSpacing(4)
        lay.addLayout(self.feedback_row)
        self.feedback_chips: dict[str, QToolButton] = {}
        zoom_icon = QLabel()
        zoom_icon.setPixmap(icon("zoom").pixmap(16, 16))
        lay.addWidget(zoom_icon)
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(THUMB_MIN, THUMB_MAX)
        self.zoom.setSingleStep(16)
        self.zoom.setPageStep(32)
        self.zoom.setFixedWidth(110)
        self.zoom.setToolTip("Thumbnail size (Ctrl + wheel, Ctrl+= / Ctrl+-)")
        self.zoom.setValue(thumb_size)
        self.zoom.valueChanged.connect(self.zoomChanged)
        lay.addWidget(self.zoom)
        self.settings_btn = _tool_button("settings", "Settings")
        self.settings_btn.clicked.connect(self.settingsRequested)
        lay.addWidget(self.settings_btn)
        self.finetune_btn = _tool_button("finetune", "Fine-tune", "Fine-tune a model on Flickr8k")
        self.finetune_btn.clicked.connect(self.finetuneRequested)
        lay.addWidget(self.finetune_btn)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.searchRequested)
        QShortcut(QKeySequence(Qt.Key.Key_Down), self.search_box, activated=self.intoResults.emit,
                  context=Qt.ShortcutContext.WidgetShortcut)

    def set_line(self, line: str) -> None:
        """Put ``line`` in the box (a chip removed, a facet picked) and search now."""
        self.set_like(None)
        self.search_box.setText(line.strip())
        self.request_now()

    def query(self) -> str:
        return self.search_box.text().strip()

    def active(self) -> bool:
        """Whether there is anything to search for (typed words or an example image)."""
        return bool(self.query() or self.like_path)

    def schedule(self) -> None:
        """Search soon (after the debounce), e.g. when a filter changed; with the box empty too, where the
        search shows the library (newest first) through the filters."""
        self._debounce.start()

    def request_now(self) -> None:
        self._debounce.stop()
        self.searchRequested.emit()

    def stop(self) -> None:
        """Drop a debounced search that has not started."""
        self._debounce.stop()

    def _on_text_edited(self, _text: str) -> None:
        self.typing.emit()
        if self.like_path:
            self.set_like(None)
        self._debounce.start()

    def set_like(self, path: str | None, chip_icon: QIcon | None = None) -> None:
        """Search by the example image ``path`` (None: back to words); the chip shows it."""
        self.like_path = path
        if path:
            self.like_chip.setText(f"Like: {os.path.basename(path)}  ✕")
            self.like_chip.setIcon(chip_icon if chip_icon is not None
                                   else self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))
            self.search_box.setPlaceholderText(LIKE_HINT)
            self.like_chip.show()
        else:
            self.like_chip.hide()
            self.search_box.setPlaceholderText(TEXT_HINT)

    def set_feedback(self, more: list[str], less: list[str]) -> None:
        """Show one chip per marked photo: "+ name ✕" (more like it) or "− name ✕" (less like it)."""
        for old in self.feedback_chips.values():
            self.feedback_row.removeWidget(old)
            old.deleteLater()
        self.feedback_chips = {}
        for sign, paths in (("+", more), ("−", less)):
            for p in paths:
                what = "more" if sign == "+" else "less"
                c = chip(f"{sign} {os.path.basename(p)}", f"Finding photos {what} like {p} — click to remove",
                         f"feedback-{what}")
                c.clicked.connect(lambda _c=False, path=p: self.feedbackRemoved.emit(path))
                self.feedback_row.addWidget(c)
                self.feedback_chips[p] = c

    def clear(self) -> None:
        """Empty the query and drop the example (no search is requested)."""
        self._debounce.stop()
        self.search_box.clear()
        self.set_like(None)

    def focus(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()
