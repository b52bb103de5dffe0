"""The search line read in the window (issue 22, items 4-5; issue 21, item 3; issue 23, item 5): chips for the
places, dates, colours, cameras, kinds and people the line names, each removable; the facets sidebar with counts
that follow the search, whose clicks filter as the typed words do; a person's photos from the People panel."""

from __future__ import annotations

import os

import pytest
from driver import Driver, deliver_posted_events
from metahelpers import solid, write_photo
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui

# name -> (lat, lon, date taken, make, model, colour)
PHOTOS = {
    "lisbon-summer.jpg": (38.7139, -9.1394, "2026:07:10 12:00:00", "Apple", "iPhone 12", (200, 20, 25)),
    "lisbon-winter.jpg": (38.7169, -9.1399, "2026:01:15 12:00:00", "Apple", "iPhone 12", (25, 60, 210)),
    "sydney-january.jpg": (-33.8568, 151.2153, "2026:01:15 12:00:00", "Canon", "Canon EOS 5D", (200, 20, 25)),
    "paris-2019.jpg": (48.8566, 2.3522, "2019:05:01 09:00:00", "Canon", "Canon EOS 5D", (40, 160, 50)),
}


@pytest.fixture
def meta_photos(tmp_path):
    d = tmp_path / "trips"
    for i, (name, (lat, lon, when, make, model, rgb)) in enumerate(PHOTOS.items()):
        write_photo(d / name, seed=i, pixels=solid(rgb), lat=lat, lon=lon, date=when, make=make, model=model)
    return d


def _names(drv) -> list[str]:
    return sorted(drv.result_names())


def _loaded(qtbot, make_window, tiny_loaded, meta_photos, size=(1366, 768)):
    win = make_window(tiny_loaded)
    win.resize(*size)
    drv = Driver(qtbot, win)
    drv.add_folder(meta_photos)
    qtbot.waitUntil(lambda: win.sidebar.facets.find("place", "Portugal") is not None, timeout=60_000)
    return win, drv


def test_the_line_is_read_into_chips_and_removing_one_runs_the_search_again(qtbot, make_window, tiny_loaded,
                                                                             meta_photos):
    win, drv = _loaded(qtbot, make_window, tiny_loaded, meta_photos)
    row = win.search_bar.reading
    out = drv.type_query("red in Lisbon")
    assert [(c.kind, c.value) for c in out.reading.chips] == [("colour", "red"), ("place", "Lisbon")]
    assert row.isVisible() and [c.text() for c in row.chips] == ["colour: red  ✕", "place: Lisbon  ✕"]
    assert out.query.text is None and "no words" in row.words.text()  # nothing left to rank by: newest first
    assert _names(drv) == ["lisbon-summer.jpg"]

    with drv.wait_search() as blocker:
        row.chips[0].click()  # undo "red": its word is a search word now, the place stays
    assert drv.search_box.text() == '"red" in Lisbon'
    assert [c.kind for c in blocker.args[0].reading.chips] == ["place"] and blocker.args[0].query.text == '"red"'
    assert _names(drv) == ["lisbon-summer.jpg", "lisbon-winter.jpg"]
    assert "words: “\"red\"”" in row.words.text()

    out = drv.type_query("rose")  # no town called Rose here: a word, no chip, every photo ranked
    assert out.reading.chips == [] and not row.isVisible() and _names(drv) == sorted(PHOTOS)
    out = drv.type_query("camera:canon date:2019")  # prefixes force a reading
    assert [c.kind for c in out.reading.chips] == ["camera", "date"] and _names(drv) == ["paris-2019.jpg"]
    out = drv.type_query("kind:screenshot")  # a filter that leaves nothing says so
    assert drv.result_names() == [] and out.note and "screenshot" in out.note
    drv.type_query("red in Lisbon")
    assert row.isVisible()
    drv.search_box.clear()
    with qtbot.waitSignal(win.searcher.failed, timeout=60_000):  # half-typed: no chips of the older line stay
        qtbot.keyClicks(drv.search_box, "red 2*")
    assert not row.isVisible() and drv.summary().startswith("⚠")


def test_facets_count_what_the_search_keeps_and_a_click_filters_as_the_typed_place(qtbot, make_window, tiny_loaded,
                                                                                   meta_photos):
    win, drv = _loaded(qtbot, make_window, tiny_loaded, meta_photos)
    facets = win.sidebar.facets
    counts = {r.label: r.count for _it, r in facets.items() if r.kind == "place" and "/" not in r.key[6:]}
    assert counts == {"Portugal": 2, "Australia": 1, "France": 1}
    assert {r.label: r.count for _it, r in facets.items() if r.kind == "date" and "/" not in r.key[5:]} == {
        "2026": 3, "2019": 1}
    assert {r.label: r.count for _it, r in facets.items() if r.kind == "camera"} == {"Apple iPhone 12": 2,
                                                                                     "Canon EOS 5D": 2}
    assert {r.label: r.count for _it, r in facets.items() if r.kind == "kind"} == {"photo": 4}

    typed = drv.type_query("in Lisbon")
    typed_names = _names(drv)
    assert typed_names == ["lisbon-summer.jpg", "lisbon-winter.jpg"]
    lisbon = facets.find("place", "Lisbon")
    assert lisbon.checkState(0) == Qt.CheckState.Checked  # the typed place ticks its row
    assert {r.label: r.count for _it, r in facets.items() if r.kind == "camera"} == {"Apple iPhone 12": 2}

    drv.clear_search()
    assert facets.find("place", "Lisbon").checkState(0) == Qt.CheckState.Unchecked
    with drv.wait_search() as blocker:
        facets.itemClicked.emit(facets.find("place", "Lisbon"), 0)
    clicked = blocker.args[0]
    assert _names(drv) == typed_names and clicked.query.filters.places == ("Lisbon, Portugal",)
    assert drv.search_box.text() == 'place:"Lisbon, Portugal"' and typed.query.filters.places == ("Lisbon",)
    assert [c.text() for c in win.search_bar.reading.chips] == ["place: Lisbon, Portugal  ✕"]
    assert facets.find("place", "Lisbon").checkState(0) == Qt.CheckState.Checked
    assert "Photos matching the filters, newest first · 2 photos · taken 15 Jan 2026 – 10 Jul 2026" == drv.summary()

    with drv.wait_search():  # a second click takes it out again: the line is empty, the library is back
        facets.itemClicked.emit(facets.find("place", "Lisbon"), 0)
    assert drv.search_box.text() == "" and _names(drv) == sorted(PHOTOS)

    with drv.wait_search():  # a year and a colour: two chips, both filters
        facets.itemClicked.emit(facets.find("date", "2026"), 0)
    with drv.wait_search():
        facets.itemClicked.emit(facets.find("colour", "red"), 0)
    assert drv.search_box.text() == "date:2026 color:red"
    assert _names(drv) == ["lisbon-summer.jpg", "sydney-january.jpg"]
    with drv.wait_search():  # the kind filter (issue 23, item 5)
        facets.itemClicked.emit(facets.find("kind", "photo"), 0)
    assert _names(drv) == ["lisbon-summer.jpg", "sydney-january.jpg"]
    assert [c.objectName() for c in win.search_bar.reading.chips] == ["part-date", "part-colour", "part-kind"]


@pytest.mark.parametrize("size", [(1366, 768), (1280, 720)])
def test_the_sidebar_with_facets_and_the_chips_fit_the_screen(qtbot, make_window, tiny_loaded, meta_photos, size):
    win, drv = _loaded(qtbot, make_window, tiny_loaded, meta_photos, size)
    drv.type_query("red in Lisbon 2026 camera:iphone kind:photo")
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size, timeout=5_000)
    deliver_posted_events()
    assert win.minimumSizeHint().width() <= size[0] and win.minimumSizeHint().height() <= size[1]
    side, body = win.sidebar, win.sidebar.body
    inside = win.rect()
    for w in (side, win.search_bar, *win.search_bar.reading.chips, win.search_bar.reading.words):
        r = w.rect().translated(w.mapTo(win, w.rect().topLeft()))
        assert w.isVisible() and inside.contains(r), (w, r, inside)
    parts = [body.layout().itemAt(i).widget() for i in range(body.layout().count())]
    parts = [w for w in parts if w is not None and w.isVisible()]
    assert side.facets in parts
    for w in parts:  # none squeezed below what it needs, none on top of another
        assert w.height() >= w.minimumSizeHint().height(), w
    for a, b in zip(parts, parts[1:]):
        assert a.geometry().bottom() < b.geometry().top(), (a, b)
    assert side.facets.height() >= 140 and side.facets.viewport().height() > 100
    assert side.folder_list.height() >= 80


def test_show_photos_of_a_person_browses_them_newest_first_with_their_dates(qtbot, make_window, tiny_loaded,
                                                                           dated_faces):
    from photosearch.faces import people
    from photosearch.library import Library

    with Library.open(dated_faces) as lib:
        big = max(people.list_people(lib.conn), key=lambda p: p["photos"])
        people.name(lib.conn, big["id"], "Eileen")
    win = make_window(tiny_loaded, library_path=dated_faces)
    win.resize(1366, 768)
    drv = Driver(qtbot, win)
    panel = win.people_panel
    panel.show()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=60_000)
    panel.view.setCurrentIndex(panel.model.index(1))  # Hopper is unnamed: nothing to filter by yet
    assert not panel.show_btn.isEnabled() and panel.show_photos() is None
    panel.view.setCurrentIndex(panel.model.index(0))
    assert panel.model.tiles[0].name == "Eileen" and panel.show_btn.isEnabled()
    with drv.wait_search() as blocker:
        panel.show_btn.click()
    out = blocker.args[0]
    assert drv.search_box.text() == "person:Eileen" and out.browsing and out.query.filters.persons == ("Eileen",)
    assert [c.text() for c in win.search_bar.reading.chips] == ["person: Eileen  ✕"]
    assert drv.result_names() == ["collins2.jpg", "collins1.jpg", "collins0.jpg"]  # newest first
    assert drv.summary() == "Photos of Eileen, newest first · 3 photos · taken 3 Mar 2020 – 5 Aug 2023"
    # The People facet lists her with the same count; clicking it takes the filter out again.
    eileen = win.sidebar.facets.find("person", "Eileen")
    assert eileen.text(1) == "3" and eileen.checkState(0) == Qt.CheckState.Checked
    with drv.wait_search():
        win.sidebar.facets.itemClicked.emit(eileen, 0)
    assert drv.search_box.text() == "" and len(drv.result_names()) == 5


@pytest.fixture
def dated_faces(tmp_path, tiny_loaded):
    """Three photos of Eileen Collins (2020, 2021, 2023) and two of Grace Hopper, faces grouped."""
    from facehelpers import astronaut, hopper, variant
    from PIL import Image

    from photosearch.faces.engine import FaceEngine
    from photosearch.library import Library

    pics = tmp_path / "pics"
    pics.mkdir()
    days = ["2020:03:03 10:00:00", "2021:06:01 10:00:00", "2023:08:05 10:00:00"]
    for s, day in enumerate(days):
        ex = Image.Exif()
        ex.get_ifd(0x8769)[0x9003] = day
        variant(astronaut(), 300 + s).save(pics / f"collins{s}.jpg", quality=88, exif=ex.tobytes())
    for s in range(2):
        variant(hopper(), 400 + s).save(pics / f"hopper{s}.jpg", quality=88)
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:
        lib.run_index(tiny_loaded, [str(pics)], faces=True, face_engine=FaceEngine())
    assert os.path.exists(db)
    return db
