"""The core Query: one value built alike by the window and the command line (library/query.py)."""

from photosearch.library.query import Filters, Query


def test_of_routes_filter_fields_and_normalises_values():
    q = Query.of("a cat", after="2020-01-01", types=["jpg"], more=["/x/a.jpg"], top_k=5)
    assert q.filters == Filters(after="2020-01-01", types=("jpg",))
    assert q.more == ("/x/a.jpg",) and q.top_k == 5 and q.text == "a cat"
    assert hash(q) == hash(Query.of("a cat", after="2020-01-01", types=("jpg",), more=("/x/a.jpg",), top_k=5))


def test_blank_text_is_no_text_and_browsing_needs_nothing_to_rank_by():
    assert Query("   ").text is None and Query("   ").browsing
    assert not Query(more=("/a.jpg",)).browsing and not Query(like="/a.jpg").browsing
    assert not Query("dog").browsing and Query("dog").typed


def test_active_filters():
    assert not Filters().active and not Filters(include_undated=True).active
    assert Filters(has_text=True).active and Filters(types=["png"]).active and Filters(folder="/p").active
