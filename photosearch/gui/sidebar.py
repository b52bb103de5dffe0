"""The folder sidebar: the library's folders (add, remove, update the index) and the search filters.

It owns its widgets and says what the user asked for by signals; the window does the work. ``filters()``
gives the current filter choice as a plain value for the search request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QFrame, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QStyle, QVBoxLayout, QWidget)

from photosearch.gui.widgets import muted


@dataclass(frozen=True)
class Filters:
    """What the sidebar restricts a search to. Dates are ISO days and both bounds include their day
    (the library's end bound for a bare date covers that whole day)."""

    folder: str | None = None
    after: str | None = None  # taken on or after this day
    before: str | None = None  # taken on or before this day
    has_text: bool = False  # only photos in which text was read


def _section_title(text: str) -> QLabel:
    title = QLabel(text)
    f = title.font()
    f.setBold(True)
    f.setPointSizeF(f.pointSizeF() * 0.85)
    title.setFont(f)
    muted(title)
    return title


class FolderSidebar(QWidget):
    """Folders list with Add/Remove/Update index, and the filters (folder, taken after/before)."""

    addRequested = Signal()
    removeRequested = Signal(str)  # folder path
    reindexRequested = Signal()
    filtersChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(190)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(6)
        lay.addWidget(_section_title("FOLDERS"))
        self.folder_list = QListWidget()
        self.folder_list.setToolTip("Folders to index — drop a folder on the window to add it")
        self.folder_list.setFrameShape(QFrame.Shape.NoFrame)
        self.folder_list.setMinimumHeight(80)
        lay.addWidget(self.folder_list, 1)
        row = QHBoxLayout()
        st = self.style()
        self.add_btn = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_FileDialogNewFolder), "Add…")
        self.add_btn.setToolTip("Add a folder to index (Ctrl+O)")
        self.add_btn.clicked.connect(self.addRequested)
        self.remove_btn = QPushButton("Remove")
        self.remove_btn.clicked.connect(self._remove_selected)
        self.remove_btn.setEnabled(False)
        self.folder_list.currentRowChanged.connect(lambda r: self.remove_btn.setEnabled(r >= 0))
        row.addWidget(self.add_btn)
        row.addWidget(self.remove_btn)
        lay.addLayout(row)
        self.reindex_btn = QPushButton(st.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "Update index")
        self.reindex_btn.setToolTip("Look for new, changed and removed photos")
        self.reindex_btn.clicked.connect(self.reindexRequested)
        lay.addWidget(self.reindex_btn)
        lay.addSpacing(10)

        lay.addWidget(_section_title("FILTERS"))
        self.folder_filter = QComboBox()
        self.folder_filter.addItem("All folders", "")  # "" not None: see ResultsModel.path_at
        self.folder_filter.currentIndexChanged.connect(lambda _i: self.filtersChanged.emit())
        lay.addWidget(self.folder_filter)
        today = QDate.currentDate()
        self.after_check = QCheckBox("Taken after")
        self.after_check.setToolTip("Photos taken on or after this day")
        self.after_date = QDateEdit(today.addYears(-1))
        self.before_check = QCheckBox("Taken before")
        self.before_check.setToolTip("Photos taken on or before this day")
        self.before_date = QDateEdit(today)
        for chk, de in ((self.after_check, self.after_date), (self.before_check, self.before_date)):
            de.setCalendarPopup(True)
            de.setDisplayFormat("yyyy-MM-dd")
            de.setEnabled(False)
            chk.toggled.connect(de.setEnabled)
            chk.toggled.connect(lambda _v: self.filtersChanged.emit())
            de.dateChanged.connect(lambda _d: self.filtersChanged.emit())
            r = QHBoxLayout()
            r.addWidget(chk)
            r.addWidget(de, 1)
            lay.addLayout(r)
        self.text_check = QCheckBox("Has text")
        self.text_check.setToolTip("Only photos in which words were read (signs, receipts, screenshots…)")
        self.text_check.toggled.connect(lambda _v: self.filtersChanged.emit())
        lay.addWidget(self.text_check)
        lay.addStretch(1)

    # -- folders ------------------------------------------------------------------------------
    def folders(self) -> list[str]:
        return [self.folder_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.folder_list.count())]

    def add_folder(self, path: str) -> bool:
        """List ``path`` (and offer it as a filter); False when it is listed already."""
        if path in self.folders():
            return False
        name = os.path.basename(path) or path
        item = QListWidgetItem(self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon), name)
        item.setData(Qt.ItemDataRole.UserRole, path)
        item.setToolTip(path)
        self.folder_list.addItem(item)
        self.folder_filter.addItem(name, path)
        return True

    def remove_folder(self, path: str) -> None:
        for i in range(self.folder_list.count()):
            if self.folder_list.item(i).data(Qt.ItemDataRole.UserRole) == path:
                self.folder_list.takeItem(i)
                break
        i = self.folder_filter.findData(path)
        if i > 0:
            self.folder_filter.removeItem(i)

    def _remove_selected(self) -> None:
        item = self.folder_list.currentItem()
        if item is not None:
            self.removeRequested.emit(item.data(Qt.ItemDataRole.UserRole))

    # -- filters ------------------------------------------------------------------------------
    def filters(self) -> Filters:
        # Bare days: the library makes a "before" day inclusive itself (parse_date(..., end=True)).
        return Filters(folder=self.folder_filter.currentData() or None,
                       after=self.after_date.date().toString("yyyy-MM-dd") if self.after_check.isChecked() else None,
                       before=(self.before_date.date().toString("yyyy-MM-dd") if self.before_check.isChecked()
                               else None),
                       has_text=self.text_check.isChecked())
