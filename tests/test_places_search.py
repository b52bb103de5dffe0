"""Places, dates, cameras, colours and kinds as filters and facets of a real (tiny-model) library, and the
command line: search --place/--color/--explain-query, info, places."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from helpers import cli_env
from metahelpers import solid, write_photo

from photosearch.library import Library
from photosearch.library.query import Filters, Query

TODAY = date(2026, 12, 2)
# name -> (lat, lon, date taken, make, model, colour or None)
PHOTOS = {
    "lisbon-summer.jpg": (38.7139, -9.1394, "2026:07:10 12:00:00", "Apple", "iPhone 12", (200, 20, 25)),
    "lisbon-winter.jpg": (38.7169, -9.1399, "2026:01:15 12:00:00", "Apple", "iPhone 12", (25, 60, 210)),
    "sydney-january.jpg": (-33.8568, 151.2153, "2026:01:15 12:00:00", "Canon", "Canon EOS 5D", (200, 20, 25)),
    "paris-2019.jpg": (48.8566, 2.3522, "2019:05:01 09:00:00", "Canon", "Canon EOS 5D", (40, 160, 50)),
    "nowhere.jpg": (None, None, "2019:05:02 09:00:00", None, None, (128, 128, 128)),
}


@pytest.fixture
def lib(tmp_path, tiny):
    pics = tmp_path / "pics"
    for i, (name, (lat, lon, when, make, model, rgb)) in enumerate(PHOTOS.items()):
        write_photo(pics / name, seed=i, pixels=solid(rgb) if rgb else None, lat=lat, lon=lon, date=when,
                    make=make, model=model)
    with Library.open(tmp_path / "lib.db") as lib:
        assert lib.run_index(tiny, [pics]).indexed == len(PHOTOS)
        yield lib


def _names(hits) -> set[str]:
    return {Path(h.path).name for h in hits}


def _search(lib, model, line=None, filters=None, today=TODAY):
    parsed = lib.read_line(line, today=today) if line else None
    f = parsed.filters(filters) if parsed else (filters or Filters())
    return _names(lib.search(model, Query(parsed.text if parsed else None, filters=f, top_k=50)))


def test_a_typed_place_and_a_facet_click_give_the_same_photos(lib, tiny):
    typed = _search(lib, tiny, "in Lisbon")
    clicked = _search(lib, tiny, filters=Filters(places=("Lisbon",)))
    assert typed == clicked == {"lisbon-summer.jpg", "lisbon-winter.jpg"}
    assert _search(lib, tiny, filters=Filters(places=("Portugal",))) == typed  # a country holds its cities
    assert _search(lib, tiny, filters=Filters(places=("Lisbon, Spain",))) == set()


def test_words_and_place_together(lib, tiny):
    hits = lib.search(tiny, Query("a photo", filters=lib.read_line("a photo in Lisbon").filters(), top_k=50))
    assert _names(hits) == {"lisbon-summer.jpg", "lisbon-winter.jpg"}


def test_seasons_follow_the_hemisphere(lib, tiny):
    # "last summer" on 2 Dec 2026: June-August 2026 in Lisbon, December 2025 - February 2026 in Sydney.
    assert _search(lib, tiny, "last summer") == {"lisbon-summer.jpg", "sydney-january.jpg"}
    # December 2025 - February 2026 in the north; June-August 2026 in the south (Sydney's January is summer).
    assert _search(lib, tiny, "last winter") == {"lisbon-winter.jpg"}
    assert _search(lib, tiny, "this winter", today=date(2026, 1, 20)) == {"lisbon-winter.jpg"}


def test_camera_colour_and_date_filters(lib, tiny):
    assert _search(lib, tiny, "iphone") == {"lisbon-summer.jpg", "lisbon-winter.jpg"}
    assert _search(lib, tiny, "red") == {"lisbon-summer.jpg", "sydney-january.jpg"}
    assert _search(lib, tiny, "red iphone") == {"lisbon-summer.jpg"}
    assert _search(lib, tiny, "2019") == {"paris-2019.jpg", "nowhere.jpg"}
    assert _search(lib, tiny, "black and white") == {"nowhere.jpg"}
    assert _search(lib, tiny, filters=Filters(kinds=("photo",))) == set(PHOTOS)


def test_why_empty_names_the_meta_filter(lib, tiny):
    f = Filters(places=("Lisbon",), cameras=("Canon",))
    assert lib.search(tiny, Query("x", filters=f)) == []
    assert lib.why_empty(tiny, f) == "no photo passes all the filters together (in Lisbon, taken with Canon)"
    assert lib.why_empty(tiny, Filters(colors=("purple",))) == "no photos in purple"


def test_facets_count_what_the_filters_leave(lib, tiny):
    f = lib.facets(tiny)
    assert f["total"] == 5
    countries = {c["name"]: c["count"] for c in f["places"]}
    assert countries == {"Portugal": 2, "Australia": 1, "France": 1}
    lisbon = [c for c in f["places"] if c["name"] == "Portugal"][0]["regions"][0]["cities"]
    assert lisbon == [{"name": "Lisbon", "count": 2}]
    assert f["cameras"] == {"Apple iPhone 12": 2, "Canon EOS 5D": 2}
    assert f["colours"]["red"] == 2 and f["colours"]["blue"] == 1 and f["colours"]["black and white"] == 1
    assert [(y["year"], y["count"]) for y in f["years"]] == [(2026, 3), (2019, 2)]
    assert f["years"][0]["months"] == [{"month": 1, "count": 2}, {"month": 7, "count": 1}]
    narrowed = lib.facets(tiny, Filters(cameras=("Canon",)))
    assert narrowed["total"] == 2 and {c["name"] for c in narrowed["places"]} == {"Australia", "France"}
    assert lib.places() == f["places"]
    assert f["taken"] == ["2019-05-01", "2026-07-10"] and f["raw"] == 0 and f["people"] == {}
    assert lib.facets(tiny, Filters(places=("Lisbon",)))["taken"] == ["2026-01-15", "2026-07-10"]


def test_read_search_is_the_one_reading_of_a_line(lib, tiny):
    text, f, parsed = lib.read_search("red car in Lisbon", Filters(folder="/x"))
    assert text == "car" and f.places == ("Lisbon",) and f.colors == ("red",) and f.folder == "/x"
    assert [c.kind for c in parsed.chips] == ["colour", "place"]
    assert lib.read_search("red car in Lisbon", literal=True) == ("red car in Lisbon", Filters(), None)
    assert lib.read_search("rose garden")[1] == Filters()  # "rose" is no town here: words only


# -- the command line -------------------------------------------------------------------------------------
def _run(home, *args):
    return subprocess.run([sys.executable, "-m", "photosearch", *map(str, args)], env=cli_env(home),
                          capture_output=True, text=True, timeout=300)


def test_cli_search_places_info(lib, tiny, tmp_path, home):
    from photosearch.model.checkpoint import save_checkpoint

    model = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    db = tmp_path / "cli.db"  # indexed by the command line, with the saved model
    r = _run(home, "--library", db, "index", tmp_path / "pics", "--model", model, "--no-text", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["indexed"] == len(PHOTOS), r.stderr
    base = ["--library", db, "search"]
    r = _run(home, *base, "a photo in Lisbon", "--model", model, "--json")
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert isinstance(hits, list), r.stderr
    assert {Path(h["path"]).name for h in hits} == {"lisbon-summer.jpg", "lisbon-winter.jpg"}, r.stderr
    r = _run(home, *base, "a photo in Lisbon", "--model", model, "--json", "--explain-query")
    out = json.loads(r.stdout)
    assert out["query"]["text"] == "a photo" and out["query"]["filters"]["places"] == ["Lisbon"]
    assert [p["kind"] for p in out["query"]["parts"]] == ["text", "place"] and len(out["hits"]) == 2
    r = _run(home, *base, "--place", "Sydney", "--color", "red", "--model", model, "--json")
    assert [Path(h["path"]).name for h in json.loads(r.stdout)] == ["sydney-january.jpg"]
    r = _run(home, *base, "x", "--color", "plaid", "--model", model)
    assert r.returncode == 2 and "not a colour" in r.stderr
    r = _run(home, *base, "red in Lisbon", "--model", model)
    assert r.returncode == 0 and "read as: colour red · place Lisbon" in r.stderr

    r = _run(home, "--library", db, "places", "--json")
    assert r.returncode == 0, r.stderr
    assert {c["name"] for c in json.loads(r.stdout)} == {"Portugal", "Australia", "France"}

    photo = tmp_path / "pics" / "sydney-january.jpg"
    r = _run(home, "--library", db, "info", photo, tmp_path / "missing.jpg", "--json")
    assert r.returncode == 1
    info, missing = json.loads(r.stdout)
    assert info["place"]["city"] == "Sydney" and info["model"] == "Canon EOS 5D" and info["colours"] == ["red"]
    assert info["taken_at"] == "2026-01-15T12:00:00" and info["library"]["format"] == "JPEG"
    assert missing["error"] == "no such file"
