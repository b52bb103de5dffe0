"""One typed line, read into parts: places and cameras only when the library has them, dates, colours,
people from an injected list, prefixes, quotes; no word dropped."""

from __future__ import annotations

from datetime import date

import pytest

from photosearch.library.lineparse import Vocabulary, parse_line, token
from photosearch.library.query import Filters

TODAY = date(2026, 12, 2)
VOCAB = Vocabulary.build(places=[("Portugal", "Lisbon", "Lisbon"), ("France", "Provence-Alpes-Côte d'Azur", "Nice"),
                                 ("United States", "New York", "New York City"), ("Spain", "Catalonia", "Barcelona")],
                         cameras=["Apple iPhone 12", "Canon EOS 5D", "Google Pixel 7"], names=["Anna", "Jo Smith"])


def _kinds(p):
    return [(x.kind, x.value) for x in p.parts]


def _words(s: str) -> list[str]:
    return s.replace('"', " ").split()


@pytest.mark.parametrize("line", [
    "Anna in Lisbon last summer red car", "rose garden", "a nice view in Nice", "photos from 2019 with my iPhone",
    "black and white portrait of Jo Smith", "cat + snow - indoor", 'text:"wifi" beach place:Lisbon',
    "screenshots between May and July 2022", '"in Lisbon" tram', "may flowers", "date:\"last christmas\" tree"])
def test_no_word_is_dropped(line):
    p = parse_line(line, VOCAB, TODAY)
    assert _words(" ".join(x.source for x in p.parts)) == _words(line)


def test_the_full_line():
    p = parse_line("Anna in Lisbon last summer red car", VOCAB, TODAY)
    assert _kinds(p) == [("person", "Anna"), ("place", "Lisbon"), ("date", "2026-06-01..2026-08-31"),
                         ("colour", "red"), ("text", "car")]
    assert p.text == "car" and p.people == ("Anna",)
    assert [c.source for c in p.chips] == ["Anna", "in Lisbon", "last summer", "red"]
    f = p.filters()
    assert (f.places, f.colors, f.after, f.before) == (("Lisbon",), ("red",), "2026-06-01", "2026-08-31")
    assert f.persons == ("Anna",)  # the people index's filter (library/library.py _persons_mask)
    assert (f.after_south, f.before_south) == ("2025-12-01", "2026-02-28")  # the southern summer before


def test_only_what_the_library_has():
    assert parse_line("rose garden", VOCAB, TODAY).chips == []
    assert parse_line("in Paris", VOCAB, TODAY).chips == []  # no photo from Paris
    assert _kinds(parse_line("a nice view", VOCAB, TODAY)) == [("text", "a nice view")]  # lowercase, no "in"
    assert _kinds(parse_line("a view of Nice", VOCAB, TODAY))[-1] == ("place", "Nice")
    assert _kinds(parse_line("in barcelona", VOCAB, TODAY)) == [("place", "Barcelona")]
    assert parse_line("Anna in Lisbon", Vocabulary(), TODAY).chips == []  # empty library: all words


def test_multi_word_names_and_cameras():
    p = parse_line("new york city at night with my iphone 12", VOCAB, TODAY)
    assert ("camera", "iPhone 12") in _kinds(p)
    p = parse_line("in New York City at night", VOCAB, TODAY)
    assert _kinds(p)[0] == ("place", "New York City")
    assert ("camera", "Pixel") in _kinds(parse_line("pixel sunset", VOCAB, TODAY))
    # "apple" is a fruit unless it follows "with"/"on" or camera:
    assert parse_line("apple pie", VOCAB, TODAY).chips == []
    assert _kinds(parse_line("shot on Apple", VOCAB, TODAY))[-1] == ("camera", "Apple")


def test_dates_colours_kinds():
    p = parse_line("screenshots between May and July 2022", VOCAB, TODAY)
    assert _kinds(p) == [("kind", "screenshot"), ("date", "2022-05-01..2022-07-31")]
    assert p.text is None
    assert _kinds(parse_line("may flowers", VOCAB, TODAY)) == [("text", "may flowers")]
    assert _kinds(parse_line("flowers in may", VOCAB, TODAY))[-1] == ("date", "2026-05-01..2026-05-31")
    p = parse_line("b&w street in the 90s", VOCAB, TODAY)
    assert _kinds(p) == [("colour", "black and white"), ("text", "street"), ("date", "1990-01-01..1999-12-31")]


def test_prefixes_and_quotes():
    p = parse_line('place:"New York" camera:canon color:Gray date:"last christmas" person:Bob kind:panoramas', VOCAB,
                   TODAY)
    assert _kinds(p) == [("place", "New York"), ("camera", "Canon"), ("colour", "grey"),
                         ("date", "2025-12-24..2025-12-26"), ("person", "Bob"), ("kind", "panorama")]
    p = parse_line('"in Lisbon" tram', VOCAB, TODAY)
    assert p.chips == [] and p.text == '"in Lisbon" tram'
    p = parse_line("date:soonish beach", VOCAB, TODAY)
    assert p.chips == [] and p.text == "soonish beach" and "not a date" in p.notes[0]


def test_undo_a_chip_reads_its_words_as_words():
    p = parse_line("rose in Lisbon", VOCAB, TODAY)
    assert [c.kind for c in p.chips] == ["place"]
    undone = parse_line(p.without(0), VOCAB, TODAY)
    assert undone.chips == [] and undone.text == 'rose "in Lisbon"'


def test_operators_and_text_clauses_stay_words():
    p = parse_line('cat + snow - indoor text:"wifi" in Lisbon', VOCAB, TODAY)
    assert p.text == 'cat + snow - indoor text:"wifi"'
    assert p.values("place") == ("Lisbon",)


def test_filters_merge_with_given_ones():
    base = Filters(places=("Porto",), after="2026-07-01", colors=("blue",))
    f = parse_line("in Lisbon last summer red", VOCAB, TODAY).filters(base)
    assert f.places == ("Porto", "Lisbon") and f.colors == ("blue", "red")
    assert (f.after, f.before) == ("2026-07-01", "2026-08-31")  # both bounds hold
    assert parse_line("car", VOCAB, TODAY).filters(base) == base


def test_a_prefixed_chip_undone_leaves_the_line_and_token_writes_what_parses_back():
    line = f'tram {token("place", "Lisbon, Portugal")} {token("colour", "red")} {token("date", "March 2026")}'
    assert line == 'tram place:"Lisbon, Portugal" color:red date:"March 2026"'
    p = parse_line(line, VOCAB, TODAY)
    assert [(c.kind, c.value) for c in p.chips] == [("place", "Lisbon, Portugal"), ("colour", "red"),
                                                   ("date", "2026-03-01..2026-03-31")]
    assert p.without(0) == 'tram color:red date:"March 2026"'  # a forced reading never meant words: dropped
    assert parse_line(p.without(0), VOCAB, TODAY).text == "tram"
    with pytest.raises(ValueError):
        token("text", "x")


def test_kind_raw_is_the_raw_file_type():
    f = parse_line("kind:raw kind:screenshot", VOCAB, TODAY).filters()
    assert f.types == ("raw",) and f.kinds == ("screenshot",)
