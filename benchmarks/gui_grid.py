"""How smoothly the results grid scrolls through thousands of hits, and how fast thumbnails arrive.

    python benchmarks/gui_grid.py [--photos 3000]

Offscreen. Builds N small JPEGs, fills the real ResultsModel/ResultsView with N hits, then scrolls page by
page from top to bottom twice: "cold" (thumbnails being made in the background while scrolling) and "warm"
(all in the pixmap cache). Each frame is a synchronous repaint of the viewport. Prints a table and a final
JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=3000)
    args = ap.parse_args()
    from PIL import Image
    from PySide6.QtWidgets import QApplication

    from photosearch.gui.search.grid import ResultsView
    from photosearch.gui.search.resultsmodel import ResultsModel
    from photosearch.gui.search.thumbnails import THUMB_PIXELS, ThumbnailLoader
    from photosearch.library import SearchHit

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="ps-grid-"))
    try:
        src = tmp / "photos"
        src.mkdir()
        for i in range(args.photos):
            Image.new("RGB", (400, 300), ((i * 37) % 255, (i * 91) % 255, (i * 53) % 255)).save(
                src / f"{i:05d}.jpg", quality=80)
        loader = ThumbnailLoader(tmp / "thumbs")
        model = ResultsModel(loader)
        view = ResultsView(160)
        view.setModel(model)
        view.resize(1000, 760)
        view.show()
        hits = [SearchHit(str(src / f"{i:05d}.jpg"), 1 - i / (args.photos * 2)) for i in range(args.photos)]
        t0 = time.perf_counter()
        model.set_hits(hits)
        app.processEvents()
        fill_ms = (time.perf_counter() - t0) * 1000

        def scroll_pass() -> list[float]:
            frames = []
            bar = view.verticalScrollBar()
            bar.setValue(0)
            while True:
                t = time.perf_counter()
                bar.setValue(bar.value() + bar.pageStep())
                view.viewport().repaint()
                frames.append((time.perf_counter() - t) * 1000)
                app.processEvents()
                if bar.value() >= bar.maximum() and not model.canFetchMore():
                    break
            return frames

        t1 = time.perf_counter()
        cold = scroll_pass()
        cold_s = time.perf_counter() - t1
        # let the thumbnails of everything requested arrive, then scroll again with a warm cache
        t2 = time.perf_counter()
        while len(model.pixmaps._d) < min(args.photos, model.pixmaps.capacity) and time.perf_counter() - t2 < 300:
            for p in model.paths():
                model.thumbnail(p)
            app.processEvents()
            time.sleep(0.01)
        thumbs_s = time.perf_counter() - t2
        warm = scroll_pass()
        loader.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def stats(f):
        return {"frames": len(f), "median_ms": round(statistics.median(f), 2),
                "p95_ms": round(sorted(f)[int(0.95 * (len(f) - 1))], 2), "max_ms": round(max(f), 2)}

    c, w = stats(cold), stats(warm)
    print(f"{'pass':<6} {'frames':>7} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for name, s in (("cold", c), ("warm", w)):
        print(f"{name:<6} {s['frames']:>7} {s['median_ms']:>10} {s['p95_ms']:>8} {s['max_ms']:>8}")
    print(f"model filled with {args.photos} hits in {fill_ms:.1f} ms; cold scroll {cold_s:.2f} s; remaining "
          f"{THUMB_PIXELS}px thumbnails made in {thumbs_s:.1f} s")
    print(json.dumps({"photos": args.photos, "fill_ms": round(fill_ms, 1), "cold": c, "warm": w,
                      "thumbnails_s": round(thumbs_s, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
