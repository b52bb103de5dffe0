"""The one search thread: :class:`SearchService` owns a library connection and runs only the newest pending
:class:`SearchRequest`, so typing fast never queues stale searches; answers come back as :class:`SearchOutcome`.

The typed line is read here, not on the GUI thread (``Library.read_search``, as the command line reads it): the
outcome carries the reading (the search bar shows its chips), the query actually run (the words left, the
filters the line added) and the facet counts of the photos those filters keep (``Library.facets``)."""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from photosearch.library.query import Query

log = logging.getLogger(__name__)


@dataclass
class SearchRequest:
    """One search the window asked for: the core :class:`~photosearch.library.query.Query`, and how to show the
    answer. ``id`` is set by :meth:`SearchService.submit`; answers and failures carry the request back."""

    query: Query = field(default_factory=Query)
    keep_selection: bool = False  # a refresh of the same search (indexing went on): keep selection and scroll
    read_line: bool = True  # query.text is the typed line: read places, dates, ... from it (library/lineparse.py)
    count: bool = True  # also count the facets of the photos the filters keep (the sidebar shows them)
    id: int = 0


@dataclass
class SearchOutcome:
    """The answer to a :class:`SearchRequest`."""

    request: SearchRequest
    hits: list  # SearchHit, best first
    infos: dict = field(default_factory=dict)  # path -> library photo_info dict
    seconds: float = 0.0
    note: str | None = None  # no hits: which filter emptied the search (Library.why_empty)
    query: Query | None = None  # the query run: the words left of the line, its filters added (None: request's)
    reading: object = None  # how the line was read (a lineparse.ParsedLine), None when it was not read
    facets: dict | None = None  # Library.facets of the photos the filters keep (None: not counted)

    def __post_init__(self):
        if self.query is None:
            self.query = self.request.query

    @property
    def browsing(self) -> bool:
        return self.query.browsing


class SearchService(QThread):
    """The one reader thread: owns a Library connection, runs only the newest pending request."""

    results = Signal(object)  # SearchOutcome
    failed = Signal(object, object)  # the SearchRequest, the exception (QueryError: the text itself is wrong)

    def __init__(self, library_path: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.library_path = Path(library_path)
        self._queue: queue.Queue = queue.Queue()
        self._model = None
        self._next_id = 0
        self._closed = False

    @property
    def last_id(self) -> int:
        """The id of the newest request submitted (0: none yet); a request's answer carries its id back."""
        return self._next_id

    def set_model(self, model) -> None:
        self._model = model

    def submit(self, req: SearchRequest) -> int:
        """Queue ``req`` (only the newest queued request runs) and return its id; after :meth:`stop` nothing
        runs and the id is 0."""
        if self._closed:
            return 0
        self._next_id += 1
        req.id = self._next_id
        self._queue.put(req)
        if not self.isRunning():
            self.start()
        return req.id

    def stop(self, timeout_ms: int = -1) -> bool:
        """Stop for good: the running search finishes, queued ones are dropped, and the thread is joined
        for up to ``timeout_ms`` (-1: as long as it takes). Returns whether the thread has ended."""
        self._closed = True
        self._queue.put(None)
        return self.wait() if timeout_ms < 0 else self.wait(timeout_ms)

    def run(self) -> None:
        lib = None
        try:
            while True:
                req = self._queue.get()
                stop = req is None
                try:  # only the newest request matters
                    while True:
                        req = self._queue.get_nowait()
                        stop = stop or req is None
                except queue.Empty:
                    pass
                if stop:
                    return
                model = self._model
                if model is None:
                    from photosearch.errors import ModelError

                    self.failed.emit(req, ModelError("the search model is not loaded yet"))
                    continue
                try:
                    if lib is None:
                        from photosearch.library import Library

                        lib = Library.open(self.library_path)
                    outcome = self._answer(lib, model, req)
                except Exception as e:  # reported to the UI, which decides how loud
                    log.debug("search failed", exc_info=True)
                    self.failed.emit(req, e)
                    continue
                self.results.emit(outcome)
        finally:
            if lib is not None:
                lib.close()

    @staticmethod
    def _answer(lib, model, req: SearchRequest) -> SearchOutcome:
        t0 = time.perf_counter()
        q = req.query
        reading = None
        if req.read_line:
            text, filters, reading = lib.read_search(q.text, q.filters)
            q = replace(q, text=text, filters=filters)
        hits = lib.search(model, q)
        note = lib.why_empty(model, q.filters) if not hits and q.filters.active else None
        # details for the first screens, in one query; the rest load on selection
        infos = lib.photo_infos([h.path for h in hits[:200]])
        out = SearchOutcome(req, hits, infos, time.perf_counter() - t0, note, q, reading)
        if req.count:
            try:
                out.facets = lib.facets(model, q.filters)
            except Exception:  # the counts are a help: the answer stands without them
                log.warning("facet counts failed", exc_info=True)
        return out
