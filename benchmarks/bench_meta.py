"""Where, when and what (issue 22), measured: places from GPS written into real photos, geocoding speed,
the dates table, colour queries with and without the colour facet, and what the metadata pass costs.

- places: 60 real photos (tests/helpers.py real_photos, reused) get GPS EXIF written with Pillow at known
  points (capitals, small towns, borders, coasts, islands, the open sea, both hemispheres) and are read back
  as ``photosearch info`` reads any file: city right (target >= 90%), country right on land (target 100%),
  sea points with no place;
- geocoding: 100k points near real places and 100k anywhere on Earth, vectorised (target < 2 s), and the
  one-off data load;
- dates: tests/test_dates.py's table, every phrase right;
- colour: the evaluation set's test half (benchmarks/evalset.py), colour queries ranked by the model alone
  vs. restricted by the colour facet the query line names (library/lineparse.py), R@1/R@5;
- cost: indexing the same photos with the metadata pass and without it (img/s ratio, target >= 0.95).

    python benchmarks/bench_meta.py [--model starter] [--skip colour,cost]

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

# (where, lat, lon, accepted city names, ISO country code or None for the sea, kind)
POINTS = [
    ("Lisbon", 38.7223, -9.1393, ["Lisbon"], "PT", "capital"),
    ("Madrid", 40.4168, -3.7038, ["Madrid"], "ES", "capital"),
    ("Paris", 48.8566, 2.3522, ["Paris"], "FR", "capital"),
    ("London", 51.5074, -0.1278, ["London"], "GB", "capital"),
    ("Berlin", 52.5200, 13.4050, ["Berlin"], "DE", "capital"),
    ("Rome", 41.9028, 12.4964, ["Rome"], "IT", "capital"),
    ("Vienna", 48.2082, 16.3738, ["Vienna"], "AT", "capital"),
    ("Warsaw", 52.2297, 21.0122, ["Warsaw"], "PL", "capital"),
    ("Oslo", 59.9139, 10.7522, ["Oslo"], "NO", "capital"),
    ("Helsinki", 60.1699, 24.9384, ["Helsinki"], "FI", "capital"),
    ("Athens", 37.9838, 23.7275, ["Athens"], "GR", "capital"),
    ("Cairo", 30.0444, 31.2357, ["Cairo"], "EG", "capital"),
    ("Nairobi", -1.2921, 36.8219, ["Nairobi"], "KE", "capital"),
    ("Buenos Aires", -34.6037, -58.3816, ["Buenos Aires"], "AR", "capital"),
    ("Santiago", -33.4489, -70.6693, ["Santiago"], "CL", "capital"),
    ("Lima", -12.0464, -77.0428, ["Lima"], "PE", "capital"),
    ("Mexico City", 19.4326, -99.1332, ["Mexico City"], "MX", "capital"),
    ("Ottawa", 45.4215, -75.6972, ["Ottawa"], "CA", "capital"),
    ("Washington", 38.8951, -77.0364, ["Washington", "Washington, D.C."], "US", "capital"),
    ("Tokyo", 35.6895, 139.6917, ["Tokyo"], "JP", "capital"),
    ("Seoul", 37.5665, 126.9780, ["Seoul"], "KR", "capital"),
    ("Beijing", 39.9042, 116.4074, ["Beijing"], "CN", "capital"),
    ("New Delhi", 28.6139, 77.2090, ["New Delhi", "Delhi"], "IN", "capital"),
    ("Canberra", -35.2809, 149.1300, ["Canberra"], "AU", "capital"),
    ("Wellington", -41.2865, 174.7762, ["Wellington"], "NZ", "capital"),
    ("Reykjavik", 64.1466, -21.9426, ["Reykjavik"], "IS", "capital"),
    ("Bangkok", 13.7563, 100.5018, ["Bangkok"], "TH", "capital"),
    ("Obidos", 39.3606, -9.1571, ["Obidos"], "PT", "small town"),
    ("Rothenburg", 49.3772, 10.1789, ["Rothenburg ob der Tauber"], "DE", "small town"),
    ("Giethoorn", 52.7400, 6.0770, ["Giethoorn"], "NL", "small town"),
    ("Colmar", 48.0794, 7.3585, ["Colmar"], "FR", "small town"),
    ("Sintra", 38.8029, -9.3817, ["Sintra"], "PT", "small town"),
    ("Zermatt", 46.0207, 7.7491, ["Zermatt"], "CH", "small town"),
    ("Positano", 40.6281, 14.4850, ["Positano"], "IT", "small town"),
    ("Cooperstown", 42.7006, -74.9243, ["Cooperstown"], "US", "small town"),
    ("Alice Springs", -23.6980, 133.8807, ["Alice Springs"], "AU", "small town"),
    ("Queenstown", -45.0312, 168.6626, ["Queenstown"], "NZ", "small town"),
    ("Strasbourg", 48.5734, 7.7521, ["Strasbourg"], "FR", "border"),
    ("Kehl", 48.5720, 7.8150, ["Kehl"], "DE", "border"),
    ("Geneva", 46.2044, 6.1432, ["Geneva", "Geneve"], "CH", "border"),
    ("El Paso", 31.7619, -106.4850, ["El Paso"], "US", "border"),
    ("Ciudad Juarez", 31.6904, -106.4245, ["Ciudad Juarez"], "MX", "border"),
    ("Tijuana", 32.5149, -117.0382, ["Tijuana"], "MX", "border"),
    ("Basel", 47.5596, 7.5886, ["Basel"], "CH", "border"),
    ("Narva", 59.3772, 28.1903, ["Narva"], "EE", "border"),
    ("Nice", 43.7102, 7.2620, ["Nice"], "FR", "coast"),
    ("Brighton", 50.8225, -0.1372, ["Brighton"], "GB", "coast"),
    ("Rio de Janeiro", -22.9068, -43.1729, ["Rio de Janeiro"], "BR", "coast"),
    ("Sydney", -33.8688, 151.2093, ["Sydney"], "AU", "coast"),
    ("Valparaiso", -33.0472, -71.6127, ["Valparaiso"], "CL", "coast"),
    ("Cape Town", -33.9249, 18.4241, ["Cape Town"], "ZA", "coast"),
    ("Funchal", 32.6669, -16.9241, ["Funchal"], "PT", "island"),
    ("Palma", 39.5696, 2.6502, ["Palma", "Palma de Mallorca"], "ES", "island"),
    ("Honolulu", 21.3069, -157.8583, ["Honolulu"], "US", "island"),
    ("Hobart", -42.8821, 147.3272, ["Hobart"], "AU", "island"),
    ("Ponta Delgada", 37.7412, -25.6756, ["Ponta Delgada"], "PT", "island"),
    ("Victoria", -4.6191, 55.4513, ["Victoria"], "SC", "island"),
    ("North Atlantic", 35.0, -40.0, [], None, "sea"),
    ("South Pacific", -20.0, -130.0, [], None, "sea"),
    ("Indian Ocean", -30.0, 80.0, [], None, "sea"),
]


def _fold(s: str | None) -> str:
    s = unicodedata.normalize("NFKD", s or "")
    return "".join(c for c in s if not unicodedata.combining(c)).casefold()


def bench_places(work: Path) -> dict:
    from helpers import real_photos
    from metahelpers import exif_for
    from PIL import Image

    from photosearch.meta.record import read_file

    photos = [p for p, _ in real_photos(work / "real")]
    rows, city_ok, country_ok, land, sea_ok, sea = [], 0, 0, 0, 0, 0
    for k, (where, lat, lon, cities, cc, kind) in enumerate(POINTS):
        dest = work / "gps" / f"{k:02d}-{where.replace(' ', '_')}.jpg"
        dest.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(photos[k % len(photos)]) as img:
            img.convert("RGB").save(dest, "JPEG", quality=90, exif=exif_for(lat=lat, lon=lon, make="Bench").tobytes())
        d = read_file(str(dest))
        got = d["place"] or {}
        if cc is None:
            sea += 1
            sea_ok += not got
            ok_city = ok_country = not got
        else:
            land += 1
            ok_city = _fold(got.get("city")) in {_fold(c) for c in cities}
            ok_country = got.get("country_code") == cc
            city_ok += ok_city
            country_ok += ok_country
        rows.append((kind, where, got.get("city"), got.get("country_code"), ok_city, ok_country))
    return {"points": len(POINTS), "land": land, "city_right_pct": round(100 * city_ok / land, 1),
            "country_right_pct": round(100 * country_ok / land, 1), "sea_no_place": f"{sea_ok}/{sea}",
            "misses": [r[:4] for r in rows if not (r[4] and r[5])]}


def bench_geocode(n: int = 100_000) -> dict:
    from photosearch.meta import places

    t0 = time.perf_counter()
    g = places.Geocoder()  # a fresh one: the data load a process pays once
    load = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    # Near real places (as photos are): a random GeoNames place, moved up to ~5 km.
    pick = rng.integers(0, g.size, n)
    xyz = g.tree.data[pick]
    lat = np.degrees(np.arcsin(xyz[:, 2])) + rng.uniform(-0.05, 0.05, n)
    lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0])) + rng.uniform(-0.05, 0.05, n)
    out = {"load_s": round(load, 2)}
    for name, (la, lo) in (("near_places", (lat, lon)), ("anywhere", (rng.uniform(-60, 75, n),
                                                                       rng.uniform(-180, 180, n)))):
        t, c = time.perf_counter(), time.process_time()
        pick_, dist = g.nearest(la, lo)
        names = list(zip(*g.names(pick_)))
        out[f"{name}_s"] = round(time.perf_counter() - t, 3)
        out[f"{name}_cpu_s"] = round(time.process_time() - c, 3)  # the machine is shared: CPU time too
        out[f"{name}_with_place_pct"] = round(100 * float(np.mean(pick_ >= 0)), 1)
        assert len(names) == n
    out["n"] = n
    return out


def bench_facets(work: Path, n: int = 100_000) -> dict:
    """Facet counts (places, cameras, colours, kinds, years/months, has text) of 100k synthetic photo rows:
    the first load of the columns, then a count with the columns cached (what a sidebar refresh costs)."""
    from photosearch.library import db
    from photosearch.meta import facets
    from photosearch.meta.places import geocoder

    rng = np.random.default_rng(1)
    g = geocoder()
    conn = db.connect(work / "facets.db")
    cities = rng.integers(0, g.size, 400)[rng.integers(0, 400, n)]
    cams = ["Apple iPhone 12", "Canon EOS 5D", "Google Pixel 7", "Sony A7 III", None]
    taken = (np.datetime64("2005-01-01") + rng.integers(0, 7000, n).astype("timedelta64[D]")).astype(str)
    with db.Tx(conn):
        conn.executemany("INSERT INTO photos (id, path, folder, size, mtime_ns, hash, taken_at, indexed_at) "
                         "VALUES (?, ?, '/p', 1, 1, ?, ?, 0)",
                         [(i + 1, f"/p/{i}.jpg", f"h{i}", taken[i]) for i in range(n)])
        conn.executemany("INSERT INTO photo_meta (photo_id, hash, lat, make, model, kind, colours, colour_bits, "
                         "country_code, country, region, city, place_km, read_at) "
                         "VALUES (?, '', 1, ?, ?, 'photo', '', ?, ?, ?, ?, ?, 1, 0)",
                         [(i + 1, None, cams[i % 5], int(rng.integers(0, 4096)), g.code[c], g.country[c],
                           g.region[c], g.city[c]) for i, c in enumerate(cities.tolist())])
        conn.executemany("INSERT INTO photo_text (photo_id, hash, engine, text, lines, read_at) "
                         "VALUES (?, '', 'x', 'word', '[]', 0)", [(i + 1,) for i in range(0, n, 7)])
    ids = np.arange(1, n + 1, dtype=np.int64)
    t_taken = taken.astype("datetime64[s]")
    t = time.perf_counter()
    facets.columns(conn, "bench")
    first = time.perf_counter() - t
    times = []
    for _ in range(5):
        t = time.perf_counter()
        cols = facets.columns(conn, "bench")
        out = cols.counts(ids)
        out["years"] = facets.timeline(t_taken)
        times.append(time.perf_counter() - t)
    conn.close()
    return {"photos": n, "first_load_ms": round(first * 1000, 1), "counts_ms": round(min(times) * 1000, 1),
            "countries": len(out["places"]), "years": len(out["years"])}


def bench_dates() -> dict:
    from test_dates import SOUTH, TABLE, TODAY

    from photosearch.meta.dates import parse

    wrong = []
    for phrase, want in TABLE.items():
        r = parse(phrase, today=TODAY)
        if r is None or (r.start.isoformat(), r.end.isoformat()) != want:
            wrong.append(phrase)
    for phrase, want in SOUTH.items():
        r = parse(phrase, today=TODAY)
        if r is None or (r.south_start.isoformat(), r.south_end.isoformat()) != want:
            wrong.append(f"{phrase} (south)")
    return {"phrases": len(TABLE) + len(SOUTH), "right": len(TABLE) + len(SOUTH) - len(wrong), "wrong": wrong}


def bench_colour(work: Path, model, half: str = "test") -> dict:
    """Colour queries of the test half: the model's ranking alone vs. the same ranking among the photos with
    the colour the line names (what the colour chip does)."""
    import evalset as ev
    import torch
    from PIL import Image

    from photosearch.library.lineparse import parse_line
    from photosearch.meta import colours

    test = ev.assemble(work / "evalset").split(half)
    ids = sorted(test.photos)
    if not ids:
        return {"skipped": "no evaluation photos installed"}
    imgs = [Image.open(test.photos[i]).convert("RGB") for i in ids]
    with torch.no_grad():
        iv = torch.cat([model.embed_pil(imgs[k:k + 16]) for k in range(0, len(imgs), 16)]).numpy()
    bits = np.array([colours.dominant(im)[1] for im in imgs])
    rows = []
    for q in test.queries:
        if q["category"] != "colour" or not q["relevant"]:
            continue
        parsed = parse_line(q["text"])
        need = 0
        for c in parsed.values("colour"):
            need |= colours.bit(c)
        with torch.no_grad():
            s = iv @ model.embed_texts([q["text"]]).numpy()[0]
        rel = [ids.index(i) for i in q["relevant"]]
        plain = int((s > s[rel].max()).sum())
        keep = (bits & need) == need
        sf = np.where(keep, s, -np.inf)
        faceted = int((sf > sf[rel].max()).sum()) if np.isfinite(sf[rel].max()) else len(ids)
        rows.append({"query": q["text"], "colours": list(parsed.values("colour")), "rank_plain": plain,
                     "rank_facet": faceted, "relevant_with_colour": int(keep[rel].sum()), "relevant": len(rel)})

    def recall(key, k, sel=None):
        rs = [r for r in rows if sel is None or sel(r)]
        return round(100 * sum(r[key] < k for r in rs) / max(1, len(rs)), 1)

    named = lambda r: r["colours"] and r["colours"][0] in ("red", "blue", "black and white")  # noqa: E731
    return {"queries": len(rows), "photos": len(ids),
            "R@1_plain": recall("rank_plain", 1), "R@1_facet": recall("rank_facet", 1),
            "R@5_plain": recall("rank_plain", 5), "R@5_facet": recall("rank_facet", 5),
            "red_blue_bw_queries": sum(bool(named(r)) for r in rows),
            "red_blue_bw_R@5_plain": recall("rank_plain", 5, named), "red_blue_bw_R@5_facet": recall("rank_facet", 5,
                                                                                                     named),
            "rows": rows}


def bench_cost(work: Path, model, repeats: int = 2) -> dict:
    """The same photos indexed from scratch with the metadata pass and without it (alternating runs)."""
    from helpers import real_photos

    import photosearch.library.index as index_mod
    from photosearch.library import Library
    from photosearch.library.search import clear_cache

    src = [p for p, _ in real_photos(work / "real")]
    pics = work / "cost"
    pics.mkdir(parents=True, exist_ok=True)
    for k in range(60):
        shutil.copy(src[k % len(src)], pics / f"{k:03d}{src[k % len(src)].suffix}")
        with open(pics / f"{k:03d}{src[k % len(src)].suffix}", "ab") as f:
            f.write(bytes([k]))  # distinct content: no copies folded
    real_describe = index_mod.describe
    rates = {"with": [], "without": []}
    for r in range(repeats):
        for mode in ("without", "with"):
            index_mod.describe = real_describe if mode == "with" else (lambda *a, **k: None)
            db = work / f"cost-{mode}-{r}.db"
            clear_cache()
            with Library.open(db) as lib:
                rep = lib.run_index(model, [pics], workers=2)
            rates[mode].append(rep.images_per_second)
    index_mod.describe = real_describe
    w, wo = max(rates["with"]), max(rates["without"])
    return {"photos": 60, "img_s_with": w, "img_s_without": wo, "ratio": round(w / wo, 3), "runs": rates}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="starter")
    ap.add_argument("--skip", default="", help="comma-separated: places,geocode,facets,dates,colour,cost")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    out: dict = {"date": date.today().isoformat()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "dates" not in skip:
            out["dates"] = bench_dates()
        if "places" not in skip:
            out["places"] = bench_places(work)
        if "geocode" not in skip:
            out["geocode"] = bench_geocode()
        if "facets" not in skip:
            out["facets"] = bench_facets(work)
        model = None
        if not {"colour", "cost"} <= skip:
            from photosearch.model.store import ModelStore
            from photosearch.paths import app_paths

            model = ModelStore(app_paths()).load(args.model, device="cpu")
        if "colour" not in skip:
            out["colour"] = bench_colour(work, model)
            out["colour_tune_half"] = bench_colour(work, model, "tune")
        if "cost" not in skip:
            out["cost"] = bench_cost(work, model)
    _table(out)
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _table(out: dict) -> None:
    d, p, g, c, k, f = (out.get(x, {}) for x in ("dates", "places", "geocode", "colour", "cost", "facets"))
    lines = ["| measure | result | target |", "|---|---|---|"]
    if d:
        lines.append(f"| date phrases right | {d['right']}/{d['phrases']} | all |")
    if p:
        lines += [f"| city right (land, {p['land']} points) | {p['city_right_pct']}% | >= 90% |",
                  f"| country right (land) | {p['country_right_pct']}% | 100% |",
                  f"| sea points with no place | {p['sea_no_place']} | all |"]
    if g:
        lines += [f"| geocode {g['n']:,} points near places | {g['near_places_s']} s | < 2 s |",
                  f"| geocode {g['n']:,} points anywhere | {g['anywhere_s']} s | < 2 s |",
                  f"| geocoder data load (once per process) | {g['load_s']} s | |"]
    if f:
        lines += [f"| facet counts, {f['photos']:,} photos (columns cached) | {f['counts_ms']} ms | < 100 ms |",
                  f"| facet columns first load | {f['first_load_ms']} ms | |"]
    if c and "queries" in c:
        lines += [f"| colour queries R@5 plain / with colour facet ({c['queries']} q, {c['photos']} photos) | "
                  f"{c['R@5_plain']}% / {c['R@5_facet']}% | |",
                  f"| red/blue/black-and-white R@5 plain / facet ({c['red_blue_bw_queries']} q) | "
                  f"{c['red_blue_bw_R@5_plain']}% / {c['red_blue_bw_R@5_facet']}% | |"]
    if k:
        lines.append(f"| indexing img/s with / without metadata | {k['img_s_with']} / {k['img_s_without']} "
                     f"(x{k['ratio']}) | >= 0.95x |")
    print("\n".join(lines))
    if p.get("misses"):
        print("place misses:", p["misses"])


if __name__ == "__main__":
    raise SystemExit(main())
