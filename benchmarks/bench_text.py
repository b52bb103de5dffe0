"""Text in photos: accuracy, ranking and speed of the text pass (RapidOCR, offline).

    python benchmarks/bench_text.py             # full run (~5-8 minutes on 2 busy cores)
    python benchmarks/bench_text.py --quick     # fewer photos, no settings sweep
    python benchmarks/bench_text.py --false-readings   # only 5. below (~2 minutes)

The set (built in a temporary folder):
- Photos with text from pip packages: skimage's scanned ``page``, matplotlib's ``logo2`` (stylised word).
- Rendered signs, labels and receipts (DejaVu fonts from matplotlib), photographed-looking: perspective,
  blur, uneven and low light, sensor noise, JPEG; some held sideways or upside down (tests/texthelpers.py).
- Photos without text: skimage/matplotlib/sklearn sample photos, Debian's mate-backgrounds when installed,
  and featureless frames (blank, gradient, noise) - the distractors every library has.

Measured:
1. Word recall: words of >= 4 letters in the ground truth found (case and accents folded) in what was read.
   Done for a few detector settings (RapidOCR's defaults vs the chosen ones; decode size) with their speed.
2. Ranking: one library (starter model + text pass); for each ground-truth word of >= 4 letters, the search
   for that word must put a photo holding it first.
3. Throughput of the text pass (photos/s) on camera-sized photos without text and with text.
4. Visual indexing rate alone vs while a text pass runs at the same time (same library, another thread),
   measured side by side in one run, alternating, median of the repeats. In the product the text pass runs
   after the visual pass (Library.index(text=True)), so this is the worst case (e.g. a second process).
5. False readings: lines read on ~50 real photos without text (per 100 photos, target <= 1), and the word
   recall on the page and sign/label/receipt sets beside it, so a stricter filter cannot hide lost text.
Prints a table and, last, one JSON line. The machine may be shared: compare numbers within one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from photosearch.library.query import Query

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

SHOPS = ["Trattoria Rossi", "Bakery Müller", "Hotel Bellevue", "Pharmacy", "Bookshop Kafka", "Café Lumière",
         "Garage Schmidt", "Florist Daisy", "Butcher Jensen", "Cinema Paradiso", "Museum Entrance",
         "Library Closed", "Station Street", "Harbour Master", "Dentist Nowak", "Laundry Express"]
SIGN_LINES = ["Open daily 8-22", "WIFI: sunflower42", "Platform 9 Departures", "No parking", "Exit only",
              "Fresh bread", "Opening hours", "Please ring bell", "Emergency exit", "Ticket office",
              "Welcome friends", "Closed on Monday", "Toilets upstairs", "Happy hour 17-19"]
ITEMS = ["Espresso", "Cappuccino", "Croissant", "Mineral water", "Tomato soup", "Lasagne", "Tiramisu",
         "Orange juice", "Sparkling wine", "Chocolate cake", "Green salad", "Pancakes", "Sandwich", "Lemonade",
         "Crème brûlée", "Gnocchi", "Bruschetta", "Risotto", "Apple strudel", "Goulash"]
LABELS = [["Strawberry Jam", "Homemade 2024"], ["Olive Oil", "Extra Virgin"], ["Basil", "Organic Herbs"],
          ["Paprika", "Smoked Spice"], ["Honey", "Wildflower"], ["Vinegar", "Balsamic Modena"],
          ["Lentils", "Dried Pulses"], ["Coffee Beans", "Dark Roast"], ["Oatmeal", "Wholegrain"],
          ["Peppermint Tea", "Loose Leaf"], ["Marmalade", "Seville Orange"], ["Chilli Sauce", "Extra Hot"]]
FONTS = ["DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansMono.ttf",
         "DejaVuSans-Oblique.ttf"]
PAGE_TEXT = """Region-based segmentation Let us first determine markers of the coins and the background. These
markers are pixels that we can label unambiguously as either object or background. Here, the markers are found
at the two extreme parts of the histogram of grey values: markers = np.zeros_like(coins)"""


def words_of(text: str, min_len: int = 4) -> set[str]:
    from photosearch.library.textindex import fold

    return {w for w in re.findall(r"[^\W\d_]+", fold(text)) if len(w) >= min_len}


def build_text_set(dest: Path, n_each: int, size=(1024, 768)) -> list[tuple[Path, str, str]]:
    """(path, ground truth, kind) for photos with text."""
    from PIL import Image
    from texthelpers import card, photograph

    import matplotlib
    import skimage.data

    dest.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    out = []
    p = dest / "skimage-page.png"
    Image.fromarray(skimage.data.page()).save(p)
    out.append((p, PAGE_TEXT, "pip"))
    p = dest / "matplotlib-logo2.png"
    shutil.copy(Path(matplotlib.get_data_path()) / "sample_data" / "logo2.png", p)
    out.append((p, "matplotlib", "pip"))

    def shot(lines, i, kind, **card_kw):
        hard = i % 4  # 0: easy ... 3: dim, blurred, strongly tilted, low JPEG quality
        rot = [0, 0, 90, 180, 0, 270][i % 6]
        img = photograph(card(lines, fontname=FONTS[i % len(FONTS)], **card_kw), seed=1000 + i, out_size=size,
                         tilt=0.04 + 0.04 * hard, blur=0.5 + 0.4 * hard, light=1.0 - 0.2 * hard, rotate=rot,
                         quality=85 - 12 * hard)
        p = dest / f"{kind}{i:02d}.jpg"
        img.save(p, quality=90)
        out.append((p, " ".join(lines), kind))

    for i in range(n_each):
        lines = [SHOPS[i % len(SHOPS)], SIGN_LINES[i % len(SIGN_LINES)]]
        bg = tuple(int(v) for v in rng.integers(180, 255, 3))
        shot(lines, i, "sign", size=56, bg=bg, fg=(20, 20, 40))
    for i in range(n_each):
        shot(LABELS[i % len(LABELS)], i, "label", size=50, bg=(255, 250, 235), fg=(90, 20, 20))
    for i in range(n_each):
        items = [ITEMS[(3 * i + k) % len(ITEMS)] for k in range(4)]
        prices = rng.integers(150, 1500, len(items)) / 100
        lines = [SHOPS[(i + 5) % len(SHOPS)], *[f"{it}  {pr:.2f}" for it, pr in zip(items, prices)],
                 f"TOTAL  {prices.sum():.2f}"]
        shot(lines, i, "receipt", size=34, bg=(250, 250, 246), fg=(40, 40, 40))
    return out


def build_plain_set(dest: Path, include_featureless: bool = True) -> list[Path]:
    from PIL import Image

    from helpers import real_photos

    dest.mkdir(parents=True, exist_ok=True)
    paths = [p for p, _ in real_photos(dest) if "page" not in p.name]
    if include_featureless:
        h, w = 768, 1024
        Image.new("RGB", (w, h), (128, 128, 128)).save(dest / "blank.jpg")
        g = np.tile(np.linspace(0, 255, w, dtype=np.uint8), (h, 1))
        Image.fromarray(np.dstack([g, g[::-1], g])).save(dest / "gradient.jpg")
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(dest / "noise.jpg")
        paths += [dest / "blank.jpg", dest / "gradient.jpg", dest / "noise.jpg"]
    return paths


PLASMA = Path("/usr/share/wallpapers")  # plasma-workspace-wallpapers: KDE's photographic wallpapers
# Photos that do hold text (looked at): a name tag ("COMDR HOPPER"), boats' plates ("To carry 4").
HAS_TEXT = {"page", "grace_hopper", "EveningGlow"}


def build_textfree_set(dest: Path, n: int = 50) -> list[Path]:
    """Real photos without text: the sample photos (no page), Debian's mate nature backgrounds and KDE's
    photographic wallpapers when installed, then centre crops of the same photos (a closer view reads
    differently) until there are ``n``."""
    from PIL import Image

    from helpers import real_photos

    dest.mkdir(parents=True, exist_ok=True)
    paths = [p for p, _ in real_photos(dest) if p.stem not in HAS_TEXT]
    if PLASMA.is_dir():
        for d in sorted(PLASMA.iterdir()):
            imgs = sorted((d / "contents" / "images").glob("*.jpg"))
            big = [q for q in imgs if q.name.startswith("1920x")] or imgs[-1:]
            if big and d.name not in HAS_TEXT:
                q = dest / f"plasma-{d.name}.jpg"
                if not q.exists():
                    shutil.copy(big[0], q)
                paths.append(q)
    base = list(paths)
    for src in base:
        if len(paths) >= n:
            break
        img = Image.open(src).convert("RGB")
        w, h = img.size
        q = dest / f"crop-{src.stem}.jpg"
        img.crop((w // 4, h // 4, w - w // 4, h - h // 4)).save(q, quality=90)
        paths.append(q)
    return paths[:n]


def false_readings(engine, paths: list[Path]) -> dict:
    """Lines read on photos without text, and how long it took."""
    found, t0 = [], time.perf_counter()
    for p in paths:
        lines = engine.read_file(p)
        found += [(p.name, ln.text, ln.confidence) for ln in lines]
    return {"photos": len(paths), "lines": len(found), "per_100": round(100 * len(found) / max(len(paths), 1), 1),
            "photos_with_any": len({f[0] for f in found}), "seconds_per_photo":
            round((time.perf_counter() - t0) / max(len(paths), 1), 2), "readings": found}


def main_false_readings(tmp: Path) -> int:
    from photosearch.ocr import OcrEngine

    engine = OcrEngine()
    plain = build_textfree_set(tmp / "textfree")
    fr = false_readings(engine, plain)
    items = build_text_set(tmp / "text", 4)
    r, spp, misses = recall({"chosen": engine}, items)["chosen"]
    rows = [("text-free real photos", str(fr["photos"])),
            ("false readings per 100 photos",
             f"{fr['per_100']} ({fr['lines']} lines on {fr['photos_with_any']} photos)"),
            ("  read", "; ".join(f"{n}: {t!r} {c:.2f}" for n, t, c in fr["readings"]) or "-"),
            (f"word recall, page + {len(items) - 2} signs/labels/receipts", f"{100 * r:.1f} % ({spp:.2f} s/photo)"),
            ("  missed", "; ".join(f"{n}: {', '.join(w)}" for n, w in misses) or "-")]
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    print(json.dumps({"bench": "text-false-readings", "engine": engine.engine_id, "textfree_photos": fr["photos"],
                      "false_per_100": fr["per_100"], "false_lines": fr["lines"], "readings": fr["readings"],
                      "word_recall": round(r, 4), "text_photos": len(items)}, ensure_ascii=False))
    return 0


def recall(engines: dict, items) -> dict:
    """Per engine: (word recall, seconds per photo, misses). Engines take turns photo by photo, so a busy
    machine slows them alike."""
    stats = {name: {"found": 0, "total": 0, "seconds": 0.0, "misses": []} for name in engines}
    for p, truth, _ in items:
        want = words_of(truth)
        for name, e in engines.items():
            t0 = time.perf_counter()
            got = words_of(" ".join(ln.text for ln in e.read_file(p)))
            st = stats[name]
            st["seconds"] += time.perf_counter() - t0
            st["found"] += len(want & got)
            st["total"] += len(want)
            if want - got:
                st["misses"].append((p.name, sorted(want - got)))
    return {n: (st["found"] / max(st["total"], 1), st["seconds"] / max(len(items), 1), st["misses"])
            for n, st in stats.items()}


def far_shots(items, dest: Path, n: int, size=(4000, 3000), frac: float = 0.3) -> list[tuple[Path, str, str]]:
    """12 MP scenes with the photographed text at ``frac`` of the frame's width: small text in a big photo."""
    from PIL import Image

    dest.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    out = []
    for i, (p, truth, kind) in enumerate([it for it in items if it[2] != "pip"][:n]):
        W, H = size
        base = rng.uniform(70, 150, 3)
        bg = Image.fromarray((base[None, None, :] + rng.normal(0, 10, (H // 4, W // 4, 3))).clip(0, 255)
                             .astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
        shot = Image.open(p).convert("RGB")
        w = int(frac * W)
        shot = shot.resize((w, int(w * shot.height / shot.width)), Image.Resampling.BICUBIC)
        bg.paste(shot, (int(rng.uniform(0.05, 0.9 - frac) * W), int(rng.uniform(0.05, 0.5) * H)))
        q = dest / f"far-{p.stem}.jpg"
        bg.save(q, quality=88)
        out.append((q, truth, kind))
    return out


def camera_copies(srcs: list[Path], dest: Path, n: int, size=(4000, 3000)) -> list[Path]:
    """Camera-sized JPEGs (12 MP) made from ``srcs``."""
    from PIL import Image

    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        s = srcs[i % len(srcs)]
        img = Image.open(s).convert("RGB")
        img = img.resize(size if img.width >= img.height else size[::-1], Image.Resampling.BICUBIC)
        p = dest / f"cam{i:03d}.jpg"
        img.save(p, quality=88)
        out.append(p)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--false-readings", action="store_true", help="only the false-readings measurement (5.)")
    args = ap.parse_args()

    from photosearch.library import Library
    from photosearch.library import textindex as ti
    from photosearch.ocr import OcrEngine, OcrSettings

    tmp = Path(tempfile.mkdtemp(prefix="bench-text-"))
    home = tmp / "home"
    os.environ["PHOTOSEARCH_HOME"] = str(home)
    if args.false_readings:
        try:
            return main_false_readings(tmp)
        finally:
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    res: dict = {"machine": f"{platform.machine()} {os.cpu_count()} cpus (shared: compare within this run)"}
    rows = []
    try:
        n_each = 4 if args.quick else 12
        text_items = build_text_set(tmp / "text", n_each)
        plain = build_plain_set(tmp / "plain")
        res["set"] = {"with_text": len(text_items), "without_text": len(plain),
                      "words_ge4": sum(len(words_of(t)) for _, t, _ in text_items)}

        # 1. word recall for a few settings, engines taking turns per photo ------------------------------
        d = OcrSettings()
        configs = {f"chosen (max_side={d.max_side})": d}
        if not args.quick:
            configs["rapidocr det. defaults (thresh .3, box .5, unclip 1.6)"] = OcrSettings(
                thresh=0.3, box_thresh=0.5, unclip_ratio=1.6)
            for m in (1024, 1600, 2400):
                if m != d.max_side:
                    configs[f"max_side={m}"] = OcrSettings(max_side=m)
        chosen = next(iter(configs))
        engines = {name: OcrEngine(s) for name, s in configs.items()}
        for e in engines.values():
            e.read_file(text_items[0][0])  # load the models outside the timing
        nf = 6 if args.quick else 12
        far = far_shots(text_items, tmp / "far", nf, frac=0.3)
        farther = far_shots(text_items, tmp / "farther", nf, frac=0.15)
        res["recall"] = {}
        for set_name, items in (("frame-filling text, 1024x768", text_items),
                                ("12 MP photos, text at 30% of the width", far),
                                ("12 MP photos, text at 15% of the width", farther)):
            got = recall(engines, items)
            res["recall"][set_name] = {n: {"word_recall": round(r, 4), "s_per_photo": round(spp, 3)}
                                       for n, (r, spp, _) in got.items()}
            res.setdefault("misses", {})[set_name] = got[chosen][2][:12]
            rows.append((f"word recall (>=4 letters), {set_name}", ""))
            for n, (r, spp, _) in got.items():
                rows.append((f"  {n}", f"{100 * r:.1f} %  ({spp:.2f} s/photo)"))
        by_kind = {k: recall({chosen: engines[chosen]}, [it for it in text_items if it[2] == k])[chosen][0]
                   for k in ("pip", "sign", "label", "receipt")}
        res["recall_by_kind"] = {k: round(v, 4) for k, v in by_kind.items()}
        rows.append(("  chosen, by kind", ", ".join(f"{k} {100 * v:.0f} %" for k, v in by_kind.items())))
        for e in engines.values():
            e.close()

        # 2. ranking: the searched word's photo first ------------------------------------------------------
        from photosearch.model.store import ModelStore
        from photosearch.paths import app_paths

        model = ModelStore(app_paths(home)).load("starter", device="cpu")
        engine = OcrEngine()  # foreground priority: measures what the CPU can do on a shared machine
        lib_dir = tmp / "lib"
        lib_dir.mkdir()
        for p, _, _ in text_items:
            shutil.copy(p, lib_dir / p.name)
        for p in plain:
            shutil.copy(p, lib_dir / ("plain-" + p.name))
        truth = {str(lib_dir / p.name): words_of(t) for p, t, _ in text_items}
        with Library.open(tmp / "rank.db") as lib:
            t0 = time.perf_counter()
            evs = list(lib.index(model, [str(lib_dir)], text=True, ocr=engine))
            rep = evs[-1].text_report
            read_as_text = [Path(r[0]).name for r in lib.conn.execute(
                "SELECT p.path FROM photo_text t JOIN photos p ON p.id = t.photo_id WHERE t.text != ''")]
            res["plain_photos_with_text_read"] = {n: ti.stored_lines(lib.conn, str(lib_dir / n))
                                                  for n in read_as_text if n.startswith("plain-")}
            res["library_text_pass"] = {"photos": rep.read, "with_text": rep.with_text,
                                        "false_text_photos": rep.with_text - len(text_items),
                                        "seconds": round(time.perf_counter() - t0, 1)}
            queries = sorted({w for ws in truth.values() for w in ws})
            first = 0
            failures = []
            for w in queries:
                hits = lib.search(model, Query.of(w, top_k=5))
                ok = bool(hits) and w in truth.get(hits[0].path, set())
                first += ok
                if not ok:
                    failures.append(w)
            res["ranking"] = {"queries": len(queries), "first": first,
                              "first_rate": round(first / max(len(queries), 1), 4), "failed": failures[:15]}
            rows.append(("photos read as having text", f"{rep.with_text} (of which {len(text_items)} have text)"))
            rows.append(("searched word's photo ranked first", f"{first}/{len(queries)} = "
                                                                 f"{100 * first / max(len(queries), 1):.1f} %"))
            # FTS latency is measured at scale in 3b.

        # 3. throughput on camera-sized photos ------------------------------------------------------------
        n_cam = 6 if args.quick else 12
        cam_plain = camera_copies([p for p in plain if p.suffix == ".jpg"][:n_cam], tmp / "cam-plain", n_cam)
        cam_text = camera_copies([p for p, _, k in text_items if k != "pip"][:n_cam], tmp / "cam-text", n_cam)
        # Side by side: the two sets take turns photo by photo (decode + detect [+ classify + recognise]).
        spent = {"without text": [], "with text": []}
        for a, b in zip(cam_plain, cam_text):
            for name, p in (("without text", a), ("with text", b)):
                t0 = time.perf_counter()
                engine.read_file(p)
                spent[name].append(time.perf_counter() - t0)
        for name, ts in spent.items():
            rate = len(ts) / sum(ts)
            res[f"text_pass_ips_{name.replace(' ', '_')}"] = round(rate, 3)
            rows.append((f"text pass, 12 MP photos {name}", f"{rate:.2f} photos/s (median "
                                                            f"{statistics.median(ts):.2f} s/photo)"))
        # 3b. FTS word search over 100k photos' text ---------------------------------------------------------
        res["fts"] = fts_latency(tmp / "fts.db", 100_000)
        for k, label in (("all_ids", "all matches"), ("top50_snippets", "top 50 + snippets")):
            f = res["fts"][k]
            rows.append((f"FTS query, 100k photos, {label}: p50 / p95", f"{f['p50_ms']:.2f} / {f['p95_ms']:.2f} ms"))

        # 4. visual indexing alone vs with a text pass running beside it --------------------------------------
        vis_photos = camera_copies([p for p in plain if p.suffix == ".jpg"], tmp / "vis", 16 if args.quick else 32)
        bg_engine = OcrEngine(background=True)  # what Library.read_text uses: nice 19 threads on Linux
        alone, beside = [], []
        reps = 2 if args.quick else 3
        for r in range(reps):
            for mode in (("alone", "beside") if r % 2 == 0 else ("beside", "alone")):
                db = tmp / f"vis-{r}-{mode}.db"
                stop = threading.Event()
                th = None
                if mode == "beside":
                    textdb = tmp / f"vis-text-{r}.db"
                    with Library.open(textdb) as tl:
                        tl.run_index(model, [str(cam_text[0].parent)])

                    def text_loop(path=textdb):
                        with Library.open(path) as tl2:
                            while not stop.is_set():
                                list(tl2.read_text(bg_engine, cancel=stop))
                                tl2.conn.execute("DELETE FROM photo_text")  # read them again

                    th = threading.Thread(target=text_loop, daemon=True)
                    th.start()
                    time.sleep(1.0)  # the text pass is up to speed
                with Library.open(db) as lib:
                    rep = lib.run_index(model, [str(vis_photos[0].parent)])
                stop.set()
                if th is not None:
                    th.join()
                (alone if mode == "alone" else beside).append(rep.images_per_second)
        a, b = statistics.median(alone), statistics.median(beside)
        res["visual_ips_alone"], res["visual_ips_with_text_pass"] = round(a, 2), round(b, 2)
        res["visual_ratio_concurrent"] = round(b / a, 3)
        rows.append(("visual index alone (12 MP)", f"{a:.2f} img/s"))
        rows.append(("visual index with a text pass beside it", f"{b:.2f} img/s = {b / a:.2f}x"))
        rows.append(("visual index, text pass after it (product)", "1.00x (they do not overlap)"))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)

    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k.ljust(w)}  {v}")
    print(json.dumps(res, ensure_ascii=False))
    return 0


def fts_latency(db: Path, n: int) -> dict:
    """n photos' worth of text rows (a vocabulary with Zipf-like frequencies; 1 in 5 photos has text), then
    word, prefix and phrase queries through textindex.text_matches."""
    from photosearch.library import db as _db
    from photosearch.library import textindex as ti

    rng = np.random.default_rng(0)
    vocab = [f"w{i}x" for i in range(20000)] + ["wifi", "receipt", "platform", "rossi", "espresso"]
    conn = _db.connect(db)
    t0 = time.perf_counter()
    with _db.Tx(conn):
        conn.executemany("INSERT INTO photos (id, path, folder, size, mtime_ns, hash, indexed_at) VALUES "
                         "(?, ?, '/f', 1, 1, 'h', 0)", ((i, f"/f/{i}.jpg") for i in range(1, n + 1)))
        rows = []
        for i in range(1, n + 1):
            if i % 5:
                text = ""
            else:
                k = int(rng.integers(3, 40))
                idx = np.minimum(rng.zipf(1.3, k), len(vocab)) - 1
                text = " ".join(vocab[j] for j in idx)
            rows.append((i, "h", "e", text, "[]", None, 0.0))
        conn.executemany("INSERT INTO photo_text VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    build = time.perf_counter() - t0
    qs = ['"wifi"*', '"receipt"*', '"w17x"', '"w1234x"', '"w2"*', '"ross"*', '"w3x w4x"', '"platform"* AND "rossi"*',
          '"w1x"']  # w1x and w2* are in most photos with text (Zipf): the worst case
    # A typed query takes every match (ids only; the visual score orders them): match_ids(all).
    # text:"..." ranks by BM25 and shows snippets: text_matches(top 50).
    out = {"photos": n, "insert_s": round(build, 2)}
    for name, fn in (("all_ids", lambda q: ti.match_ids(conn, q)), ("top50_snippets",
                                                                      lambda q: ti.text_matches(conn, q, 50))):
        times, per_q = [], {}
        for _ in range(5):
            for q in qs:
                t = time.perf_counter()
                got = fn(q)
                ms = (time.perf_counter() - t) * 1000
                times.append(ms)
                per_q[q] = (len(got), round(min(ms, per_q.get(q, (0, 1e9))[1]), 3))
        times.sort()
        out[name] = {"p50_ms": round(times[len(times) // 2], 3), "p95_ms": round(times[int(len(times) * 0.95)], 3),
                     "max_ms": round(times[-1], 3), "per_query_matches_ms": per_q}
    conn.close()
    return out


if __name__ == "__main__":
    sys.exit(main())
