"""The facets panel: the sections of gui/facets/rows.py as a tree with counts, refreshed with every search
answer (the counts are made on the search thread, ``SearchOutcome.facets``). A click on a value says so by
``picked(row)``; the search line is the one home of those filters, so the row shows ticked while the
line filters by it and a second click takes it out again."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem

from photosearch.gui.facets.rows import FacetRow, facet_rows

ROW = Qt.ItemDataRole.UserRole + 1  # a value row's FacetRow
SECTION = Qt.ItemDataRole.UserRole + 2  # a section title's key
OPEN_AT_START = {"Places", "Years", "Kinds", "People", "Has text"}


class FacetsPanel(QTreeWidget):
    picked = Signal(object)  # the FacetRow clicked: filter by it, or stop

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.setIndentation(12)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setToolTip("Click a value to show only its photos; click it again to show all")
        self.setMinimumHeight(140)
        self.rows: list[FacetRow] = []
        self._open: dict[str, bool] = {}  # key -> expanded, kept across refreshes
        self.itemClicked.connect(self._on_click)
        self.itemExpanded.connect(lambda it: self._remember(it, True))
        self.itemCollapsed.connect(lambda it: self._remember(it, False))

    def show_counts(self, facets: dict | None, reading=None, has_text: bool = False) -> None:
        """Show ``facets`` (Library.facets); rows the line (``reading``) or the Has text filter use are ticked."""
        self.rows = facet_rows(facets)
        bar = self.verticalScrollBar().value()
        self.setUpdatesEnabled(False)
        self.clear()
        for section in self.rows:
            top = QTreeWidgetItem([section.label.upper(), ""])
            f = top.font(0)
            f.setBold(True)
            top.setFont(0, f)
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            top.setData(0, SECTION, section.key)
            self.addTopLevelItem(top)
            self._add(top, section.children, reading, has_text)
            top.setExpanded(self._open.get(section.key, section.label in OPEN_AT_START))
        self.verticalScrollBar().setValue(bar)
        self.setUpdatesEnabled(True)

    def _add(self, parent: QTreeWidgetItem, rows, reading, has_text: bool) -> None:
        for r in rows:
            it = QTreeWidgetItem([r.label, f"{r.count:,}"])
            it.setData(0, ROW, r)
            it.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            on = has_text if r.kind == "has_text" else r.active(reading)
            it.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)  # ticked by the line, not a click
            it.setToolTip(0, f"{r.label}: {r.count:,} photo{'s' if r.count != 1 else ''}")
            parent.addChild(it)
            if r.children:
                self._add(it, r.children, reading, has_text)
                it.setExpanded(self._open.get(r.key, False))

    def items(self):
        """Every value row as (item, FacetRow), depth first (for tests and keyboard users alike)."""
        stack = [self.topLevelItem(i) for i in range(self.topLevelItemCount())][::-1]
        while stack:
            it = stack.pop()
            row = it.data(0, ROW)
            if row is not None:
                yield it, row
            stack.extend(it.child(i) for i in range(it.childCount() - 1, -1, -1))

    def find(self, kind: str, label: str):
        """The first row of ``kind`` shown as ``label`` (None: not listed)."""
        return next((it for it, r in self.items() if r.kind == kind and r.label == label), None)

    def _remember(self, it: QTreeWidgetItem, expanded: bool) -> None:
        row = it.data(0, ROW)
        self._open[row.key if row is not None else it.data(0, SECTION)] = expanded

    def keyPressEvent(self, e) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.currentItem() is not None:
            self._on_click(self.currentItem())
        else:
            super().keyPressEvent(e)

    def _on_click(self, it: QTreeWidgetItem, _col: int = 0) -> None:
        row = it.data(0, ROW)
        if row is None:  # a section title: open or close it
            it.setExpanded(not it.isExpanded())
            return
        self.picked.emit(row)
