"""What the window's search thread adds to every answer at 100,000 photos: reading the typed line against the
library's vocabulary (``Library.read_search``: places, cameras, people's names) and the facet counts of the photos
the filters keep (``Library.facets``: places, years, cameras, colours, kinds, RAW files, text, named people).

    python benchmarks/bench_search_line.py [--n 100000]

Synthetic rows (bench_library.fill_library's vectors, places from the GeoNames data, 5 cameras, 30 named people
with 40,000 faces); prints a table and one JSON line. Target: facets < 100 ms with the columns cached."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_library import fill_library

MODEL = SimpleNamespace(config=SimpleNamespace(model_id="bench-64", embed_dim=64, name="bench"))


def add_meta_and_faces(db: Path, n: int) -> None:
    from photosearch.library import Library
    from photosearch.meta.places import geocoder

    rng = np.random.default_rng(1)
    g = geocoder()
    cities = rng.integers(0, g.size, 400)[rng.integers(0, 400, n)]
    lisbon = int(np.flatnonzero(g.city[:-1] == "Lisbon")[0])
    cities[::50] = lisbon  # 2% in Lisbon
    cams = ["Apple iPhone 12", "Canon EOS 5D", "Google Pixel 7", "Sony A7 III", None]
    with Library.open(db) as lib:
        conn = lib.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO photo_meta (photo_id, hash, lat, make, model, kind, colours, colour_bits, "
                         "country_code, country, region, city, place_km, read_at) "
                         "VALUES (?, '', 1, ?, ?, 'photo', '', ?, ?, ?, ?, ?, 1, 0)",
                         [(i + 1, None, cams[i % 5], int(rng.integers(0, 4096)), g.code[c], g.country[c],
                           g.region[c], g.city[c]) for i, c in enumerate(cities.tolist())])
        conn.executemany("INSERT INTO people (id, name, created_at) VALUES (?, ?, 0)",
                         [(p, f"Person {p}") for p in range(1, 31)])
        emb = np.zeros(128, np.float32).tobytes()
        conn.executemany("INSERT INTO faces (photo_id, model, x, y, w, h, landmarks, score, quality, usable, "
                         "embedding, person_id) VALUES (?, 'b', 0, 0, 1, 1, '[]', 1, '{}', 1, ?, ?)",
                         [(int(rng.integers(1, n + 1)), emb, int(rng.integers(1, 31))) for _ in range(40_000)])
        conn.execute("COMMIT")


def best_ms(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(min(times) * 1000, 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    n = ap.parse_args().n
    from photosearch.faces.people import named_counts
    from photosearch.library import Library
    from photosearch.library.query import Filters

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "lib.db"
        fill_library(db, MODEL.config.model_id, 64, n)
        add_meta_and_faces(db, n)
        with Library.open(db) as lib:
            t = time.perf_counter()
            lib.facets(MODEL)
            first = round((time.perf_counter() - t) * 1000, 1)
            line = "red car in Lisbon last summer with Person 7"
            out = {"photos": n, "facets_first_ms": first,
                   "facets_ms": best_ms(lambda: lib.facets(MODEL)),
                   "facets_place_filter_ms": best_ms(lambda: lib.facets(MODEL, Filters(places=("Lisbon",)))),
                   "people_counts_ms": best_ms(lambda: named_counts(lib.conn, np.arange(1, n + 1), "bench")),
                   "read_line_ms": best_ms(lambda: lib.read_search(line))}
            _text, f, parsed = lib.read_search(line)
            out["read_as"] = [f"{p.kind}:{p.value}" for p in parsed.parts]
    rows = [("facet counts, first call (columns load)", out["facets_first_ms"], ""),
            ("facet counts, columns cached", out["facets_ms"], "< 100"),
            ("facet counts, in Lisbon", out["facets_place_filter_ms"], "< 100"),
            ("of which named people (30 people, 40k faces)", out["people_counts_ms"], ""),
            (f"read the line {line!r}", out["read_line_ms"], "")]
    print(f"{'measure':60} {'ms':>8}  target")
    for name, ms, target in rows:
        print(f"{name:60} {ms:8.1f}  {target}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
