"""The facets sidebar's rows (gui/facets/rows.py, no Qt) from Library.facets, which row a reading of the line
ticks, and the named-people counts behind the People facet (faces/people.py), kept current when people change."""

from __future__ import annotations

from datetime import date

import numpy as np

from photosearch.gui.facets.rows import facet_rows
from photosearch.library.lineparse import Vocabulary, parse_line, token

FACETS = {"total": 5, "places": [{"name": "Portugal", "count": 3, "regions": [
    {"name": "Lisbon", "count": 2, "cities": [{"name": "Lisbon", "count": 2}]},
    {"name": None, "count": 1, "cities": [{"name": "Porto", "count": 1}]}]}],
    "years": [{"year": 2026, "count": 3, "months": [{"month": 1, "count": 2}, {"month": 7, "count": 1}]}],
    "cameras": {"Apple iPhone 12": 2}, "colours": {"red": 2}, "kinds": {"photo": 4, "screenshot": 1},
    "raw": 2, "has_text": 0, "people": {"Anna": 2}}
VOCAB = Vocabulary.build([("Portugal", "Lisbon", "Lisbon"), ("Portugal", None, "Porto")], ["Apple iPhone 12"],
                         ["Anna"])


def _section(rows, title):
    return next(r for r in rows if r.label == title)


def test_sections_rows_and_what_a_click_writes():
    rows = facet_rows(FACETS)
    assert [r.label for r in rows] == ["Places", "Years", "Cameras", "Colours", "Kinds", "People"]  # no text: no row
    portugal = _section(rows, "Places").children[0]
    assert (portugal.label, portugal.count, portugal.value) == ("Portugal", 3, "Portugal")
    region, porto = portugal.children  # a city without a region sits under its country
    assert (region.value, region.children[0].value, porto.value) == ("Lisbon, Portugal", "Lisbon, Portugal",
                                                                     "Porto, Portugal")
    year = _section(rows, "Years").children[0]
    assert (year.value, [m.value for m in year.children]) == ("2026", ["July 2026", "January 2026"])
    kinds = _section(rows, "Kinds").children
    assert [(k.label, k.value, k.count) for k in kinds] == [("photo", "photo", 4), ("screenshot", "screenshot", 1),
                                                           ("RAW", "raw", 2)]
    assert facet_rows(None) == [] and facet_rows({"total": 0}) == []


def test_a_row_is_ticked_by_its_typed_words_and_by_its_own_click():
    rows = facet_rows(FACETS)
    city = _section(rows, "Places").children[0].children[0].children[0]
    july = _section(rows, "Years").children[0].children[0]
    anna = _section(rows, "People").children[0]
    typed = parse_line("Anna in Lisbon in July 2026", VOCAB, date(2026, 12, 2))
    assert city.active(typed) and july.active(typed) and anna.active(typed)
    for row in (city, july, anna, _section(rows, "Kinds").children[2]):
        clicked = parse_line(token(row.kind, row.value), VOCAB, date(2026, 12, 2))
        assert row.active(clicked), row
    assert not city.active(parse_line("Porto", VOCAB)) and not city.active(None)


def test_named_counts_follow_names_and_faces(tmp_path):
    from photosearch.faces import people
    from photosearch.library import Library

    with Library.open(tmp_path / "lib.db") as lib:
        c = lib.conn
        c.executemany("INSERT INTO photos (id, path, folder, size, mtime_ns, hash, indexed_at) "
                      "VALUES (?, ?, '/p', 1, 1, ?, 0)", [(i, f"/p/{i}.jpg", f"h{i}") for i in range(1, 6)])
        c.executemany("INSERT INTO people (id, name, created_at) VALUES (?, ?, 0)", [(1, "Anna"), (2, None)])
        face = "INSERT INTO faces (photo_id, model, x, y, w, h, landmarks, score, quality, usable, embedding, " \
               "person_id) VALUES (?, 'm', 0, 0, 1, 1, '[]', 1, '{}', 1, x'00', ?)"
        c.executemany(face, [(1, 1), (2, 1), (2, 1), (3, 2), (4, 2)])
        ids = np.array([1, 2, 3, 4, 5])
        assert people.named_counts(c, ids, "k") == {"Anna": 2}  # two faces in photo 2: one photo
        assert people.named_counts(c, np.array([2, 3]), "k") == {"Anna": 1}
        people.name(c, 2, "Bo")
        assert people.named_counts(c, ids, "k") == {"Anna": 2, "Bo": 2}
        c.execute("UPDATE faces SET person_id = 2 WHERE photo_id = 1")  # a face moves to Bo
        assert people.named_counts(c, ids, "k") == {"Bo": 3, "Anna": 1}
        people.hide(c, 1)
        assert people.named_counts(c, ids, "k") == {"Bo": 3}
