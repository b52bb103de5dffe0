"""The empty-state texts as a pure function, and the search service's request/exception round trip."""

from __future__ import annotations

import pytest

from photosearch.gui.search.states import Situation, empty_state

pytestmark = pytest.mark.gui


def test_empty_state_follows_the_situation():
    assert empty_state(Situation()).key == "no-folders"
    assert empty_state(Situation(folders=1, model_loading=True)).key == "loading"
    none = empty_state(Situation(folders=1))
    assert none.key == "no-model" and none.icon == "warning" and none.button == "Open settings…"
    ready = Situation(folders=2, photos=1234, model_ready=True)
    assert empty_state(ready).key == "ready" and "1,234 photos indexed in 2 folders" in empty_state(ready).body
    assert empty_state(Situation(folders=1, model_ready=True, query="cat")).key == "searching"
    answered = Situation(folders=1, photos=9, model_ready=True, query="cat", outcome=True, min_score=0.25)
    text = empty_state(answered)
    assert text.key == "no-results" and "cut-off (0.25) for “cat” among 9 photos" in text.body
    assert empty_state(Situation(folders=1, model_ready=True, query="cat", outcome=True, indexing=True)).key \
        == "no-results-yet"
    assert empty_state(Situation(folders=1, model_ready=True, query="cat", outcome=True, results=3)) is None
    idx = empty_state(Situation(folders=1, model_ready=True, indexing=True, index_done=5, index_total=50))
    assert idx.key == "indexing" and idx.body.startswith("5 of 50 photos so far.")


def test_search_failures_carry_the_request_and_the_exception(qtbot, tiny_loaded, tmp_path):
    from photosearch.gui.search.service import SearchRequest, SearchService
    from photosearch.library.query import Query
    from photosearch.library import Library
    from photosearch.library.search import QueryError

    Library.open(tmp_path / "lib.db").close()
    service = SearchService(tmp_path / "lib.db")
    service.set_model(tiny_loaded)
    try:
        with qtbot.waitSignal(service.failed, timeout=30_000) as blocker:
            rid = service.submit(SearchRequest(Query("2*"), keep_selection=True))
        req, exc = blocker.args
        assert req.id == rid and req.keep_selection
        assert isinstance(exc, QueryError)
        with qtbot.waitSignal(service.results, timeout=30_000) as blocker:
            rid2 = service.submit(SearchRequest(Query("a red circle")))
        assert blocker.args[0].request.id == rid2 != rid and blocker.args[0].hits == []
    finally:
        service.stop()
