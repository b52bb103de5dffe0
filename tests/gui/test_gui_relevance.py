"""The window's relevance features: the divider before weaker results, "nothing clearly matches", feedback
chips, browsing with month headers, identical files grouped, and which filter emptied a search."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea

from photosearch.gui.search.explainview import WORKING_HEATMAP
from photosearch.gui.search.resultrows import DIVIDER_TEXT, Marker, month_of, summary, with_markers
from photosearch.library.search import SearchHit
from driver import Driver

WAIT = 60_000


def _hits(flags, dates=None):
    dates = dates or [None] * len(flags)
    return [SearchHit(f"/p/{i}.jpg", 1.0 - i / 10, f, d) for i, (f, d) in enumerate(zip(flags, dates))]


def test_rows_put_a_divider_between_good_and_weaker_results():
    rows = with_markers(_hits([True, True, False, False]))
    assert [getattr(r, "kind", "hit") for r in rows] == ["hit", "hit", "divider", "hit", "hit"]
    assert rows[2].text == DIVIDER_TEXT
    assert not any(isinstance(r, Marker) for r in with_markers(_hits([False, False])))  # none good: no divider
    assert not any(isinstance(r, Marker) for r in with_markers(_hits([True, True])))
    by_date = with_markers(_hits([True, True, True, False], ["2024-03-02", "2024-03-01", "2023-12-24", None]),
                           sort="date")
    assert [r.text for r in by_date if isinstance(r, Marker)] == ["March 2024", "December 2023", DIVIDER_TEXT]
    assert month_of(None) == "Undated"
    assert summary(_hits([False]), "“a horse”").startswith("Nothing clearly matches “a horse” — closest photos:")
    assert summary(_hits([True, False]), "“x”") == "1 good match for “x” · 1 weaker after the divider"



def _pane(qtbot):
    from PySide6.QtGui import QIcon

    from photosearch.gui.search.results import ResultsPane
    from photosearch.gui.search.resultsmodel import ResultsModel

    pane = ResultsPane(ResultsModel(loader=None), 96, QIcon())
    qtbot.addWidget(pane)
    pane.resize(720, 900)
    pane.show()
    pane.show_grid()
    return pane


def _outcome(hits, sort="relevance"):
    from photosearch.gui.search.service import SearchOutcome, SearchRequest
    from photosearch.library.query import Query

    return SearchOutcome(SearchRequest(Query.of("flowers", sort=sort)), hits)


@pytest.mark.gui
def test_month_headers_and_the_divider_are_full_width_rows_between_the_photos(qtbot, qtmodeltester):
    """Issue 20, item 8: section rows span the grid, the photos before them end above and those after them
    start below (they used to be photo-sized tiles in the flow, like missing photos)."""
    pane = _pane(qtbot)
    dates = ["2024-03-02", "2024-03-01", "2023-12-24", "2023-12-20", None, None, None]
    pane.show_outcome(_outcome(_hits([True] * 4 + [False] * 3, dates), sort="date"))
    model, view = pane.results, pane.view
    qtmodeltester.check(model)
    view.doItemsLayout()
    qtbot.waitUntil(lambda: view.visualRect(model.index(model.rowCount() - 1)).isValid())
    rows = [model.index(r) for r in range(model.rowCount())]
    markers = [i for i in rows if model.marker_at(i) is not None]
    assert [model.marker_at(i).text for i in markers] == ["March 2024", "December 2023", DIVIDER_TEXT]
    width = view.viewport().width()
    for m in markers:
        rect = view.visualRect(m)
        assert rect.width() >= width - 8, (rect, width)
        for i in rows:
            if i.row() < m.row():
                assert view.visualRect(i).bottom() <= rect.top(), (i.row(), m.row())
            elif i.row() > m.row():
                assert view.visualRect(i).top() >= rect.bottom(), (i.row(), m.row())
    assert not (model.flags(markers[0]) & Qt.ItemFlag.ItemIsSelectable)


@pytest.mark.gui
def test_the_sort_choice_shows_only_when_there_are_good_matches_to_order(qtbot):
    """"Newest first" orders the good matches; with none it would change nothing, so it is not offered."""
    pane = _pane(qtbot)
    pane.show_outcome(_outcome(_hits([True, False])))
    assert pane.sort.isVisibleTo(pane)
    pane.show_outcome(_outcome(_hits([False, False])))
    assert not pane.sort.isVisibleTo(pane)


def _index(qtbot, win, folder, timeout=WAIT):
    with qtbot.waitSignal(win.indexer.finished, timeout=timeout):
        win.add_folder(str(folder))


def _search(qtbot, win, text):
    return Driver(qtbot, win).type_query(text, enter=True)


@pytest.mark.slow
def test_good_matches_then_a_divider_then_weaker_ones(qtbot, make_window, starter_model, photo_dir):
    win = make_window(starter_model, model_name="starter")
    drv = Driver(qtbot, win)
    _index(qtbot, win, photo_dir, timeout=180_000)
    out = _search(qtbot, win, "a cat")
    good = [h for h in out.hits if h.relevant]
    assert good and os.path.basename(good[0].path) == "chelsea.jpg" and len(good) < len(out.hits)
    row = len(good)
    marker = win.results.marker_at(win.results.index(row))
    assert marker is not None and marker.text == "Other results (weaker)"
    assert not (win.results.flags(win.results.index(row)) & Qt.ItemFlag.ItemIsSelectable)
    assert win.results.path_at(win.results.index(row + 1)) == out.hits[row].path  # nothing is hidden
    assert drv.summary().startswith(f"{len(good)} good match")


def test_feedback_chips_refine_and_are_removable(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    _index(qtbot, win, small_photos)
    out = _search(qtbot, win, "a round shape")
    first = out.hits[0].path
    drv.grid.setFocus()
    drv.grid.setCurrentIndex(win.results.index(0))
    with drv.wait_search() as blocker:
        qtbot.keyClick(drv.grid, Qt.Key.Key_Minus)  # less like this one
    assert blocker.args[0].request.query.less == (first,) and first not in win.results.paths()
    chip = win.search_bar.feedback_chips[first]
    assert chip.text().startswith("− ") and chip.isVisibleTo(win)
    second = win.results.paths()[0]
    drv.grid.setCurrentIndex(win.results.index(0))
    with drv.wait_search() as blocker:
        qtbot.keyClick(drv.grid, Qt.Key.Key_Plus)  # more like this one
    assert blocker.args[0].request.query.more == (second,)
    assert win.search_bar.feedback_chips[second].text().startswith("+ ")
    with drv.wait_search() as blocker:
        qtbot.mouseClick(win.search_bar.feedback_chips[first], Qt.MouseButton.LeftButton)  # remove the chip
    assert blocker.args[0].request.query.less == () and first in win.results.paths()
    assert set(win.search_bar.feedback_chips) == {second}
    with drv.wait_search():
        win.clear_search()
    assert win.search_bar.feedback_chips == {}


def test_browsing_sorts_by_month_and_groups_copies(qtbot, make_window, tiny_loaded, small_photos):
    for name in ("copy-a.jpg", "copy-b.jpg"):
        shutil.copy(next(small_photos.glob("00-*.jpg")), small_photos / name)
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    _index(qtbot, win, small_photos)
    qtbot.waitUntil(lambda: win.results.total() > 0 and win.last_outcome is not None
                    and win.last_outcome.browsing, timeout=WAIT)
    rows = [win.results.hit(i) for i in range(win.results.rowCount())]
    assert isinstance(rows[0], Marker) and rows[0].kind == "month"  # newest first, under month headers
    photos = win.results.hits()
    assert len(photos) == 8  # 8 photos plus two identical copies of one: 8 results
    grouped = [h for h in photos if h.copies]
    assert len(grouped) == 1 and len(grouped[0].copies) == 2
    assert "3 copies" in win.results.data(win.results.index(win.results.row_of(grouped[0].path)),
                                          Qt.ItemDataRole.ToolTipRole)
    # typed search sorted by date: the sort choice goes with the request
    _search(qtbot, win, "a round shape")
    with drv.wait_search() as blocker:
        win.results_pane.sort.setCurrentIndex(win.results_pane.sort.findData("date"))
    assert blocker.args[0].request.query.sort == "date"


def test_a_filter_that_empties_the_search_is_named(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    _index(qtbot, win, small_photos)
    _search(qtbot, win, "a round shape")
    with drv.wait_search() as blocker:
        win.sidebar.after_date.setDate(win.sidebar.after_date.date().addYears(30))
        win.sidebar.after_check.setChecked(True)
    assert blocker.args[0].hits == []
    assert drv.empty.key == "no-results" and "no photos taken on or after" in drv.empty.body.text()
    assert "no date taken" in drv.empty.body.text()
    with drv.wait_search() as blocker:
        win.sidebar.undated_check.setChecked(True)
    assert blocker.args[0].request.query.filters.include_undated and blocker.args[0].hits  # the undated photos come back


def test_the_preview_explains_a_hit_with_a_heat_map_toggle(qtbot, make_window, tiny_loaded, small_photos):
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    _index(qtbot, win, small_photos)
    _search(qtbot, win, "a round shape")
    drv.grid.setCurrentIndex(win.results.index(0))
    why = win.preview.why
    assert why.heatmap_check.isEnabled()
    qtbot.waitUntil(lambda: why.explanation is not None, timeout=WAIT)
    assert why.explanation.concepts == []  # the tiny model has no classifier to name concepts
    assert win.preview.image.overlay is None
    assert why.explanation.score == win.results.score_at(win.results.index(0))  # the hit's own score
    assert why.status.isHidden()
    why.heatmap_check.setChecked(True)  # ~40 crops: a line says so while they are scored, off the GUI thread
    assert why.status.isVisible() and why.status.text() == WORKING_HEATMAP
    qtbot.waitUntil(lambda: win.preview.image.overlay is not None, timeout=WAIT)
    assert why.status.isHidden()
    assert len(win.preview.image.overlay) == 6
    why.heatmap_check.setChecked(False)
    assert win.preview.image.overlay is None
    drv.grid.setCurrentIndex(win.results.index(1))  # another photo: no stale overlay or explanation
    assert win.preview.image.overlay is None and why.path == win.results.path_at(win.results.index(1))


@pytest.mark.parametrize("size", [(900, 600), (1366, 768)])
def test_why_this_photo_stays_reachable_in_a_small_window(qtbot, make_window, tiny_loaded, small_photos, size):
    """Issue 20.9: at 900 x 600 the concepts and the heat map must not vanish: the pane scrolls to them."""
    from photosearch.explain import Explanation

    win = make_window(tiny_loaded)
    win.resize(*size)
    drv = Driver(qtbot, win)
    _index(qtbot, win, small_photos)
    _search(qtbot, win, "a red circle")
    path = drv.select(0)
    why = win.preview.why
    qtbot.waitUntil(lambda: why.explanation is not None, timeout=WAIT)
    seen = [{"label": f"a long concept name {i}", "weight": 0.3 - i / 20} for i in range(5)]  # as the starter's
    why._on_explained((path, why.query, Explanation(0.9, seen, [[0.1] * 6] * 6)))
    why.heatmap_check.setChecked(True)
    qtbot.waitUntil(lambda: win.preview.image.overlay is not None, timeout=WAIT)
    scroll = win.preview.findChild(QScrollArea)
    for w in (why.concepts, why.heatmap_check, win.preview.image):
        scroll.ensureWidgetVisible(w)
        assert w.isVisible() and not w.visibleRegion().isEmpty(), (size, w)
    assert win.preview.image.height() >= 120 and "a long concept name 0" in why.concepts.text()
