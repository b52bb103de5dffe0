"""The results area: a one-line summary above either the thumbnail grid or the empty state.

:class:`ResultsPane` shows a search answer (keeping the selection and scroll position when the same search
is refreshed) or the empty state the window picked; it says what the user did by signals.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QItemSelectionModel, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QStackedWidget, QStyle, QVBoxLayout,
                               QWidget)

from photosearch.gui.base.theme import muted

from photosearch.gui.search.emptystate import EmptyState

from photosearch.gui.search.grid import ResultsView, ThumbDelegate
from photosearch.gui.search.resultrows import browse_summary, summary, with_markers
from photosearch.gui.search.resultsmodel import ResultsModel
from photosearch.gui.search.states import EmptyText


class ResultsPane(QWidget):
    """Summary label and sort choice + (empty state | results grid) over a :class:`ResultsModel`. The grid
    shows the good matches, then a full-width divider row and the weaker results (gui/search/resultrows.py)."""

    sortChanged = Signal(str)  # "relevance" or "date"

    def __init__(self, results: ResultsModel, thumb_size: int, app_icon: QIcon, parent: QWidget | None = None):
        super().__init__(parent)
        self.results = results
        self.app_icon = app_icon
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        head = QHBoxLayout()
        self.label = QLabel()
        muted(self.label)
        # A long summary must not widen the results pane (small windows keep their side panels whole).
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        head.addWidget(self.label, 1)
        self.sort = QComboBox()
        self.sort.addItem("Best match first", "relevance")
        self.sort.addItem("Newest first", "date")
        self.sort.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sort.setMinimumContentsLength(8)
        self.sort.setToolTip("Order of the good matches (the weaker ones stay after the divider, best first)")
        self.sort.currentIndexChanged.connect(lambda _i: self.sortChanged.emit(self.sort.currentData()))
        head.addWidget(self.sort)
        lay.addLayout(head)
        self.stack = QStackedWidget()
        self.empty = EmptyState()
        self.view = ResultsView(thumb_size)
        self.view.setModel(results)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.view)
        lay.addWidget(self.stack, 1)

    def grid_min_width(self, columns: int = 2) -> int:
        """Room for ``columns`` thumbnails at the chosen size, and the scroll bar."""
        cell = self.view.thumb_size + 2 * ThumbDelegate.PAD + 4
        return columns * cell + self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent) + 4

    def current_path(self) -> str | None:
        return self.results.path_at(self.view.currentIndex())

    def show_outcome(self, outcome) -> None:
        """Fill the grid with a search answer; a refresh (``keep_selection``) keeps selection and scroll."""
        req, q = outcome.request, outcome.query
        selected = self.current_path() if req.keep_selection else None
        scroll = self.view.verticalScrollBar().value() if req.keep_selection else 0
        browsing = outcome.browsing
        self.results.set_hits(with_markers(outcome.hits, q.sort, browsing), outcome.infos)
        what = (f"“{q.text}”" if q.text else f"photos like {os.path.basename(q.like)}" if q.like
                else "your feedback")
        n = len(outcome.hits)
        if browsing and q.filters.active and outcome.reading is not None and outcome.reading.chips:
            facets = outcome.facets or {}
            total = facets.get("total", n) if n >= q.top_k else n  # the grid holds the newest top_k
            line = browse_summary(total, outcome.reading.people, facets.get("taken"))
        else:
            line = summary(outcome.hits, what, browsing) + (f" · {outcome.seconds * 1000:.0f} ms" if n
                                                            and not browsing else "")
        self.label.setText(line)
        # The order applies to the good matches only: with none, "Newest first" would change nothing.
        self.sort.setVisible(not browsing and any(h.relevant for h in outcome.hits))
        row = self.results.row_of(selected) if selected else None
        if row is not None:
            self.view.setCurrentIndex(self.results.index(row))
            self.view.verticalScrollBar().setValue(scroll)
        elif n:
            self.view.scrollToTop()

    def show_grid(self) -> None:
        self.stack.setCurrentWidget(self.view)

    def show_empty(self, text: EmptyText) -> None:
        """Show an empty state (see :func:`photosearch.gui.search.states.empty_state`)."""
        self.stack.setCurrentWidget(self.empty)
        self.label.setText("")
        pix = {"warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
               "info": QStyle.StandardPixmap.SP_MessageBoxInformation}.get(text.icon)
        icon = self.style().standardIcon(pix) if pix is not None else self.app_icon
        self.empty.set_state(text.key, text.title, text.body, icon, text.button)

    def show_query_error(self, message: str) -> None:
        """A query the library cannot read (half-typed): a quiet note, no results."""
        self.results.clear()
        self.stack.setCurrentWidget(self.empty)
        self.label.setText(f"⚠ {message}")
        self.empty.set_state("query-error", "Finish the query", f"{message}\n\nCombine ideas with + and -, e.g. "
                             "“snow + mountains - people”.", self.app_icon)

    def focus_grid(self) -> None:
        """Move the keyboard into the grid, on the first result when none is current."""
        if not self.results.rowCount():
            return
        cur = self.view.currentIndex()
        # Select it too: focusing the view makes the first row current without selecting it, and the
        # delegate highlights selected rows only.
        self.view.selectionModel().setCurrentIndex(cur if cur.isValid() and self.results.path_at(cur) else self.results.index(self.results.first_photo_row()),
                                                   QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.setFocus()
