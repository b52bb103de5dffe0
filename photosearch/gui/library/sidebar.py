"""The folder sidebar: the library's folders (add, remove, update the index), the search filters and the
facets (gui/facets/: counts by place, year, camera, colour, kind, text, person; a click filters), in a scroll
area so that a short screen scrolls the sidebar rather than squeezing it.

It shows the library's folder list, whose only home is the library database: adding checks the folder, adding
and removing run on the library's writer thread, and ``refresh()`` reads the library's status (photo count, folders, sub-folders with photos,
skipped files) on a reader thread and hands it on by ``statusLoaded``. What the user asks for that is not
its own job (indexing, a file dialog) goes out by signals. ``filters()`` gives the current filter choice as
a plain value for the search request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QFrame, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QScrollArea, QStyle, QVBoxLayout, QWidget)

from photosearch.gui.base.theme import muted
from photosearch.gui.facets.panel import FacetsPanel
from photosearch.gui.tasks.jobs import add_folder_job, remove_folder_job, status_job
from photosearch.gui.tasks.workers import Task, TaskRunner


@dataclass(frozen=True)
class Filters:
    """What the sidebar restricts a search to. Dates are ISO days and both bounds include their day
    (the library's end bound for a bare date covers that whole day)."""

    folder: str | None = None
    after: str | None = None  # taken on or after this day
    before: str | None = None  # taken on or before this day
    include_undated: bool = False  # date filters keep photos without a date taken
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

    addRequested = Signal()  # the Add button: the window asks for a folder
    removeRequested = Signal(str)  # the Remove button, with the selected folder
    reindexRequested = Signal()
    filtersChanged = Signal()
    facetPicked = Signal(object)  # a facet value was clicked (its FacetRow): the search line filters by it
    statusLoaded = Signal(object)  # the library's LibraryStatus (also after a folder was removed)
    failed = Signal(str)  # one line for the user

    def __init__(self, library_path: Path | None = None, readers: TaskRunner | None = None,
                 writer: TaskRunner | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.library_path, self.readers, self.writer = library_path, readers, writer
        self.setMinimumWidth(150)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)
        self.layout().addWidget(scroll)
        self.body = QWidget()
        scroll.setWidget(self.body)
        lay = QVBoxLayout(self.body)
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
        self.folder_filter.setToolTip("Only photos in this folder (sub-folders included)")
        self.folder_filter.addItem("All folders", "")  # "" not None: see ResultsModel.path_at
        self._photo_folders: list[str] = []  # folders holding photos, from the library (see set_photo_folders)
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
            # The date under its check box: both keep their whole text in a narrow sidebar.
            lay.addWidget(chk)
            lay.addWidget(de)
        self.undated_check = QCheckBox("Undated too")
        self.undated_check.setToolTip("Include undated photos: the date filters also keep photos that have no date taken")
        self.undated_check.toggled.connect(lambda _v: self.filtersChanged.emit())
        lay.addWidget(self.undated_check)
        self.text_check = QCheckBox("Has text")
        self.text_check.setToolTip("Only photos in which words were read (signs, receipts, screenshots…)")
        self.text_check.toggled.connect(lambda _v: self.filtersChanged.emit())
        lay.addWidget(self.text_check)
        lay.addSpacing(10)

        lay.addWidget(_section_title("BROWSE"))
        self.facets = FacetsPanel()
        self.facets.setFrameShape(QFrame.Shape.NoFrame)
        self.facets.picked.connect(self._on_facet)
        lay.addWidget(self.facets, 2)

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
        self._rebuild_filter()
        return True

    def remove_folder(self, path: str) -> None:
        for i in range(self.folder_list.count()):
            if self.folder_list.item(i).data(Qt.ItemDataRole.UserRole) == path:
                self.folder_list.takeItem(i)
                break
        self._rebuild_filter()

    def set_folder_states(self, states: list) -> None:
        """Show how each folder is kept fresh: offline folders greyed with why (their photos stay
        searchable), polled ones say so in their tooltip."""
        by_path = {s.folder: s for s in states}
        for i in range(self.folder_list.count()):
            item = self.folder_list.item(i)
            path = item.data(Qt.ItemDataRole.UserRole)
            st = by_path.get(path)
            name = os.path.basename(path) or path
            tip = path
            if st is not None and st.mode == "offline":
                item.setText(f"{name} (offline)")
                tip += f"\nOffline: {st.reason}. Its photos stay searchable; it is indexed again when it is back."
                item.setForeground(self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
            else:
                item.setText(name)
                item.setData(Qt.ItemDataRole.ForegroundRole, None)
                if st is not None and st.mode == "polling":
                    tip += f"\nChecked for changes every few seconds: {st.reason}"
                elif st is not None:
                    tip += "\nWatched: new photos appear by themselves"
            item.setToolTip(tip)

    def set_photo_folders(self, folders: list[str]) -> None:
        """Offer these folders (the library's folders with photos, sub-folders included) as filters."""
        if sorted(folders) != self._photo_folders:
            self._photo_folders = sorted(folders)
            self._rebuild_filter()

    def _rebuild_filter(self) -> None:
        """All folders, then each library folder followed by its sub-folders, indented; the choice is kept
        while its folder is still offered."""
        chosen = self.folder_filter.currentData() or ""
        roots = sorted(self.folders())
        self.folder_filter.blockSignals(True)
        self.folder_filter.clear()
        self.folder_filter.addItem("All folders", "")  # "" not None: see ResultsModel.path_at
        for root in roots:
            self.folder_filter.addItem(os.path.basename(root) or root, root)
            self.folder_filter.setItemData(self.folder_filter.count() - 1, root, Qt.ItemDataRole.ToolTipRole)
            for sub in self._photo_folders:
                if sub != root and sub.startswith(root.rstrip(os.sep) + os.sep):
                    depth = os.path.relpath(sub, root).count(os.sep) + 1
                    self.folder_filter.addItem("    " * depth + os.path.basename(sub), sub)
                    self.folder_filter.setItemData(self.folder_filter.count() - 1, sub,
                                                   Qt.ItemDataRole.ToolTipRole)
        i = self.folder_filter.findData(chosen)
        self.folder_filter.setCurrentIndex(max(0, i))
        self.folder_filter.blockSignals(False)
        if i < 0:
            self.filtersChanged.emit()  # the chosen folder went away: the search widens

    def add(self, path: str) -> str | None:
        """Add a folder of photos to the library (on the writer thread; it is listed when ``statusLoaded``
        follows): its resolved path, or None (and ``failed``) when it is not a folder."""
        p = Path(path).expanduser()
        if not p.is_dir():
            self.failed.emit(f"Not a folder: {path}")
            return None
        resolved = str(p.resolve())
        task = Task(add_folder_job(self.library_path, resolved), "add-folder")
        task.failed.connect(self.failed)
        task.returned.connect(self.apply_status)
        self.writer.submit(task)
        return resolved

    def remove(self, path: str) -> None:
        """Forget a folder and its photos (unlisted now; removed on the writer thread, ``statusLoaded``
        follows)."""
        self.remove_folder(path)
        task = Task(remove_folder_job(self.library_path, path), "remove-folder")
        task.failed.connect(self.failed)
        task.returned.connect(self.apply_status)
        self.writer.submit(task)

    def refresh(self) -> None:
        """Read the library's status on a reader thread (``statusLoaded`` or ``failed`` follows)."""
        task = Task(status_job(self.library_path), "status")
        task.returned.connect(self.apply_status)
        task.failed.connect(lambda msg: self.failed.emit(f"Cannot open the library: {msg}"))
        self.readers.submit(task)

    def apply_status(self, st) -> None:
        """List the library's folders (a :class:`~photosearch.library.LibraryStatus`: the library database is
        the folder list's only home) and hand the status on."""
        for f in set(self.folders()) - set(st.folders):
            self.remove_folder(f)
        for f in st.folders:
            self.add_folder(f)
        self.set_photo_folders(st.photo_folders or [])
        self.statusLoaded.emit(st)

    def _remove_selected(self) -> None:
        item = self.folder_list.currentItem()
        if item is not None:
            self.removeRequested.emit(item.data(Qt.ItemDataRole.UserRole))

    # -- filters ------------------------------------------------------------------------------
    def show_facets(self, outcome) -> None:
        """The counts of a search answer (a SearchOutcome), ticking what its line and the filters use."""
        if outcome.facets is not None:
            self.facets.show_counts(outcome.facets, outcome.reading, self.text_check.isChecked())

    def _on_facet(self, row) -> None:
        if row.kind == "has_text":
            self.text_check.toggle()  # the Has text filter's one home is its check box
        else:
            self.facetPicked.emit(row)

    def filters(self) -> Filters:
        # Bare days: the library makes a "before" day inclusive itself (parse_date(..., end=True)).
        return Filters(folder=self.folder_filter.currentData() or None,
                       after=self.after_date.date().toString("yyyy-MM-dd") if self.after_check.isChecked() else None,
                       before=(self.before_date.date().toString("yyyy-MM-dd") if self.before_check.isChecked()
                               else None), include_undated=self.undated_check.isChecked(),
                       has_text=self.text_check.isChecked())
