"""The library's metadata as columns in memory: filter masks (place, camera, colour, kind, the southern
hemisphere for seasons) and facet counts (places country -> region -> city, years -> months, cameras,
colours, kinds, has text) for any set of photos, in numpy.

The columns are loaded once per library and process and reloaded when the ``facet_changes`` count moves
(queries.facet_stamp, a cheap signature query: ``photo_meta`` or ``photo_text`` changed, or a pair), as search.py
keeps its vector matrix. Strings are stored as codes into small tables, so
a filter matches the few distinct names in Python and then the photos in one ``np.isin``.
"""

from __future__ import annotations

import sqlite3
import threading
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from photosearch.library.queries import facet_stamp
from photosearch.meta import colours


def fold(s: str) -> str:
    """Case and accents folded ("Zürich" -> "zurich"), as typed names are compared."""
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).casefold().strip()


@dataclass
class MetaColumns:
    ids: np.ndarray  # photo ids, sorted (int64)
    place: np.ndarray  # code into places (-1: none)
    camera: np.ndarray  # code into cameras (-1: unknown)
    kind: np.ndarray  # code into kinds
    colour_bits: np.ndarray  # int64
    south: np.ndarray  # bool: taken at a negative latitude
    text: np.ndarray  # bool: words were read in it (library/textindex.py)
    places: list[tuple[str | None, str | None, str | None]] = field(default_factory=list)  # (country, region, city)
    cameras: list[str] = field(default_factory=list)  # "make model" as written
    kinds: list[str] = field(default_factory=list)
    signature: tuple = ()

    def rows(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into the columns, present) for photo ``ids``."""
        ids = np.asarray(ids, np.int64)
        if not len(self.ids):
            return np.zeros(len(ids), np.int64), np.zeros(len(ids), bool)
        idx = np.searchsorted(self.ids, ids).clip(0, len(self.ids) - 1)
        return idx, self.ids[idx] == ids

    def _codes(self, column: np.ndarray, ids: np.ndarray) -> np.ndarray:
        idx, present = self.rows(ids)
        return np.where(present, column[idx], -1)

    # -- filters ---------------------------------------------------------------------------------------
    def place_codes(self, name: str) -> list[int]:
        """Places matching ``name``: a city, region, country or country code; "Lisbon, Portugal" needs both."""
        parts = [fold(p) for p in name.split(",") if p.strip()]
        out = []
        for i, (country, region, city) in enumerate(self.places):
            levels = {fold(x) for x in (country, region, city) if x}
            if parts and all(p in levels for p in parts):
                out.append(i)
        return out

    def camera_codes(self, word: str) -> list[int]:
        """Cameras with a word starting as ``word``: "iphone" is "Apple iPhone 12", "phone" is not."""
        w = fold(word)
        return [i for i, c in enumerate(self.cameras) if w and f" {w}" in f" {fold(c)}"]

    def mask(self, ids: np.ndarray, places=(), cameras=(), colors=(), kinds=()) -> np.ndarray | None:
        """Which of ``ids`` pass: any of the places, any of the cameras, all of the colours, any of the kinds."""
        m = None

        def both(x):
            return x if m is None else m & x
        if places:
            m = both(np.isin(self._codes(self.place, ids), [c for p in places for c in self.place_codes(p)]))
        if cameras:
            m = both(np.isin(self._codes(self.camera, ids), [c for w in cameras for c in self.camera_codes(w)]))
        if colors:
            need = 0
            for c in colors:
                need |= colours.bit(colours.canonical(c) or c)
            idx, present = self.rows(ids)
            m = both(present & (self.colour_bits[idx] & need == need))
        if kinds:
            codes = [i for i, k in enumerate(self.kinds) if k in {fold(x).rstrip("s") for x in kinds}]
            m = both(np.isin(self._codes(self.kind, ids), codes))
        return m

    def counts_by_filter(self, ids: np.ndarray, f) -> dict[str, int]:
        """For ``why_empty``: each metadata filter of ``f`` (a Filters) in words -> photos of ``ids`` it keeps."""
        out = {}
        for label, kw in ((f"in {' or '.join(f.places)}", {"places": f.places}),
                          (f"taken with {' or '.join(f.cameras)}", {"cameras": f.cameras}),
                          (f"in {' and '.join(f.colors)}", {"colors": f.colors}),
                          (f"of kind {' or '.join(f.kinds)}", {"kinds": f.kinds})):
            if next(iter(kw.values())):
                out[label] = int(self.mask(ids, **kw).sum())
        return out

    def south_mask(self, ids: np.ndarray) -> np.ndarray:
        idx, present = self.rows(ids)
        return present & self.south[idx]

    # -- facets ----------------------------------------------------------------------------------------
    def counts(self, ids: np.ndarray) -> dict:
        """Places (country -> region -> city), cameras, colours and kinds of the photos ``ids``, with counts."""
        idx, present = self.rows(ids)
        idx = idx[present]
        return {"places": self._place_tree(self.place[idx]), "cameras": _named(self.camera[idx], self.cameras),
                "colours": {n: int(c) for n, c in zip(colours.NAMES, _bit_counts(self.colour_bits[idx])) if c},
                "kinds": _named(self.kind[idx], self.kinds), "has_text": int(np.count_nonzero(self.text[idx]))}

    def _place_tree(self, codes: np.ndarray) -> list[dict]:
        n = np.bincount(codes[codes >= 0], minlength=len(self.places))
        tree: dict = {}
        for i in np.flatnonzero(n):
            country, region, city = self.places[i]
            c = tree.setdefault(country, {"name": country, "count": 0, "regions": {}})
            c["count"] += int(n[i])
            r = c["regions"].setdefault(region, {"name": region, "count": 0, "cities": []})
            r["count"] += int(n[i])
            r["cities"].append({"name": city, "count": int(n[i])})
        out = sorted(tree.values(), key=lambda c: (-c["count"], c["name"] or ""))
        for c in out:
            c["regions"] = sorted(c["regions"].values(), key=lambda r: (-r["count"], r["name"] or ""))
            for r in c["regions"]:
                r["cities"].sort(key=lambda x: (-x["count"], x["name"] or ""))
        return out


def season_mask(vi, f, south: np.ndarray) -> np.ndarray:
    """Rows of the vector index ``vi`` taken within ``f``'s dates (a Filters): its southern range
    (``after_south``/``before_south``, a season) for photos taken south of the equator, else after/before."""
    from photosearch.library.search import parse_date

    def dates(after, before):
        m = vi.filter_mask(parse_date(after) if after else None, parse_date(before, end=True) if before else None,
                           None, f.include_undated)
        return np.ones(len(vi), bool) if m is None else m

    return np.where(south, dates(f.after_south, f.before_south), dates(f.after, f.before))


def timeline(taken: np.ndarray) -> list[dict]:
    """Years (newest first) -> months with counts, from datetime64 dates (NaT: undated, left out)."""
    t = taken[~np.isnat(taken)]
    if not len(t):
        return []
    months = t.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    lo = int(months.min())
    n = np.bincount(months - lo)
    keys = np.flatnonzero(n)
    years: dict[int, dict] = {}
    for k, c in zip((keys + lo).tolist(), n[keys].tolist()):
        y, m = 1970 + k // 12, k % 12 + 1
        e = years.setdefault(y, {"year": y, "count": 0, "months": []})
        e["count"] += c
        e["months"].append({"month": m, "count": c})
    return sorted(years.values(), key=lambda e: -e["year"])


def _named(codes: np.ndarray, names: list[str]) -> dict[str, int]:
    n = np.bincount(codes[codes >= 0], minlength=len(names))
    return {names[i]: int(n[i]) for i in np.argsort(-n, kind="stable") if n[i]}


def _bit_counts(bits: np.ndarray) -> list[int]:
    return [int(np.count_nonzero(bits & (1 << i))) for i in range(len(colours.NAMES))]


def _codes_of(values: list, table: list) -> np.ndarray:
    index = {}
    out = np.empty(len(values), np.int64)
    for j, v in enumerate(values):
        if v is None:
            out[j] = -1
            continue
        code = index.get(v)
        if code is None:
            code = index[v] = len(table)
            table.append(v)
        out[j] = code
    return out


def load(conn: sqlite3.Connection, signature: tuple = ()) -> MetaColumns:
    rows = conn.execute("SELECT m.photo_id, country, region, city, make, model, kind, colour_bits, lat, "
                        "t.text IS NOT NULL AND t.text != '' FROM photo_meta m "
                        "LEFT JOIN photo_text t ON t.photo_id = m.photo_id ORDER BY m.photo_id").fetchall()
    places: list = []
    cameras: list = []
    kinds: list = []
    place_values = [(r[1], r[2], r[3]) if r[1] or r[3] else None for r in rows]
    camera_values = [camera_name(r[4], r[5]) for r in rows]
    return MetaColumns(
        ids=np.fromiter((r[0] for r in rows), np.int64, len(rows)),
        place=_codes_of(place_values, places), camera=_codes_of(camera_values, cameras),
        kind=_codes_of([r[6] for r in rows], kinds),
        colour_bits=np.fromiter((r[7] or 0 for r in rows), np.int64, len(rows)),
        south=np.fromiter((r[8] is not None and r[8] < 0 for r in rows), bool, len(rows)),
        text=np.fromiter((bool(r[9]) for r in rows), bool, len(rows)),
        places=places, cameras=cameras, kinds=kinds, signature=signature)


def camera_name(make: str | None, model: str | None) -> str | None:
    """"Apple" + "iPhone 12" -> "Apple iPhone 12"; "Canon" + "Canon EOS 5D" -> "Canon EOS 5D"."""
    if not model:
        return make or None
    if make and not fold(model).startswith(fold(make).split()[0]):
        return f"{make} {model}"
    return model


_CACHE: dict[str, MetaColumns] = {}
_LOCK = threading.Lock()


def columns(conn: sqlite3.Connection, db_key: str) -> MetaColumns:
    """The library's columns, reloaded when ``photo_meta`` changed since they were loaded."""
    sig = facet_stamp(conn)
    with _LOCK:
        cols = _CACHE.get(db_key)
        if cols is None or cols.signature != sig:
            cols = _CACHE[db_key] = load(conn, sig)
        return cols


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
