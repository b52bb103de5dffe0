"""Searching from the window: :class:`Searcher` turns what the search bar asks for, with the sidebar's filters
and the settings' cut-off, into a :class:`~photosearch.gui.search.service.SearchRequest` on the one search thread,
and puts the newest answer (matched by request id) into the results pane, its reading of the line into the bar's
chips and its facet counts into the sidebar. The search line is the one home of the place, date, colour, camera,
kind and person filters: a facet click or "Show photos" of a person writes them into it (``lineparse.token``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from photosearch.gui.base.settings import Settings
from photosearch.gui.library.sidebar import FolderSidebar
from photosearch.gui.search.results import ResultsPane
from photosearch.gui.search.searchbar import SearchBar
from photosearch.gui.search.service import SearchRequest, SearchService
from photosearch.library.lineparse import token
from photosearch.library.query import Query


def is_query_error(e: BaseException) -> bool:
    """Whether the query text itself is wrong (half-typed "2*"): a quiet note rather than an error."""
    from photosearch.library.search import QueryError

    return isinstance(e, QueryError)


class Searcher(QObject):
    """Owns the search thread, the id of the search the grid waits for and the answer shown."""

    answered = Signal(object)  # the SearchOutcome now shown (also when it found nothing)
    failed = Signal(object)  # the exception of the newest search (a QueryError is shown as a note already)
    cleared = Signal()  # nothing to search for: the results were emptied

    def __init__(self, library_path: Path, bar: SearchBar, sidebar: FolderSidebar, settings: Settings,
                 pane: ResultsPane, parent: QObject | None = None):
        super().__init__(parent)
        self.bar, self.sidebar, self.settings, self.pane = bar, sidebar, settings, pane
        self.service = SearchService(library_path, self)
        self.service.results.connect(self._on_results)
        self.service.failed.connect(self._on_failed)
        bar.typing.connect(self._on_typing)
        sidebar.facetPicked.connect(self.pick)
        self.model = None
        self.last_outcome = None  # the answer shown now (None: no search, or it failed)
        self.searched_once = False
        self._waiting_for: int | None = None  # id of the request whose answer the grid waits for
        self.more: list[str] = []  # photos marked more like this / less like this, in order (chips)
        self.less: list[str] = []
        self.sort = "relevance"  # or "date"

    def set_model(self, model) -> None:
        self.model = model
        self.service.set_model(model)

    def request(self, keep_selection: bool = False) -> SearchRequest:
        """The search the bar, the filters and the settings describe now."""
        f = self.sidebar.filters()
        query = self.bar.query() or None
        like = self.bar.like_path
        # Each search finds its own cut (good matches, then weaker ones); a minimum score set in Settings is
        # an advanced override for typed queries.
        cut = self.settings.min_score if query and not like and self.settings.min_score > 0 else None
        return SearchRequest(Query.of(query, like=like, folder=f.folder, after=f.after, before=f.before,
                                      min_score=cut, more=self.more, less=self.less, sort=self.sort, top_k=1000,
                                      include_undated=f.include_undated, has_text=f.has_text),
                             keep_selection=keep_selection, read_line=not like)

    # -- the line's filters -------------------------------------------------------------------------
    def pick(self, row) -> None:
        """A facet value clicked (a gui/facets/rows.py ``FacetRow``): filter by it (its chip is added to the
        line), or, when the line shown filters by it already, stop (its chip is undone)."""
        from photosearch.meta.facets import fold

        shown = self.last_outcome.reading if self.last_outcome is not None else None
        line = self.bar.query()
        if shown is not None and shown.line.strip() == line and row.active(shown):
            i = next(i for i, c in enumerate(shown.chips) if c.kind == row.kind and fold(c.value) in row.matches)
            self.bar.set_line(shown.without(i))
        else:
            self.bar.set_line(f"{line} {token(row.kind, row.value)}")

    def show_person(self, name: str) -> None:
        """Browse a person: only the line ``person:"Name"`` (their photos, newest first)."""
        self.clear_feedback()
        self.bar.set_line(token("person", name))

    # -- feedback ---------------------------------------------------------------------------------
    def add_feedback(self, path: str, sign: int) -> None:
        """Mark ``path`` more like this (+1) or less like this (-1); marking it again the other way moves it."""
        for lst in (self.more, self.less):
            if path in lst:
                lst.remove(path)
        (self.more if sign > 0 else self.less).append(path)
        self.bar.set_feedback(self.more, self.less)

    def remove_feedback(self, path: str) -> None:
        for lst in (self.more, self.less):
            if path in lst:
                lst.remove(path)
        self.bar.set_feedback(self.more, self.less)

    def clear_feedback(self) -> None:
        self.more.clear()
        self.less.clear()
        self.bar.set_feedback(self.more, self.less)

    def run(self, keep_selection: bool = False) -> None:
        """Search now (``keep_selection``: a refresh of the same search); without a model it waits."""
        self.bar.stop()
        if not self.bar.active() and not self.more:
            # An empty search box shows the library, newest first.
            self.less.clear()
            self.bar.set_feedback(self.more, self.less)
            if self.model is None:
                self._waiting_for = None
                self.pane.results.clear()
                self.last_outcome = None
                self.bar.reading.show_reading(None)
                self.cleared.emit()
                return
        if self.model is None:
            return  # the window runs it when the model is ready
        self.searched_once = True
        self._waiting_for = self.service.submit(self.request(keep_selection))

    def _on_typing(self) -> None:
        """Typing starts a new search: an answer still due for the old one (e.g. the library while the box was
        empty) would only flash by."""
        self._waiting_for = None

    def stop(self, timeout_ms: int = -1) -> bool:
        return self.service.stop(timeout_ms)

    def _on_results(self, outcome) -> None:
        if outcome.request.id != self._waiting_for:
            return  # a newer search was asked for since
        self.last_outcome = outcome
        self.pane.show_outcome(outcome)
        self.bar.reading.show_reading(outcome.reading)
        self.sidebar.show_facets(outcome)
        self.answered.emit(outcome)

    def _on_failed(self, req: SearchRequest, exc: BaseException) -> None:
        if req.id != self._waiting_for:
            return
        if is_query_error(exc):
            self.last_outcome = None
            self.bar.reading.show_reading(None)  # the line was not read: no chips of an older one
            self.pane.show_query_error(str(exc))
        self.failed.emit(exc)
