"""Render the README screenshots: the main window with results (light and dark), the first-run empty state,
and the fine-tuning dialog after a short real training run; ``--only-facets``: the search line read into chips
with the facets sidebar (docs/chips-facets.png), on the sample photos given places, dates and cameras.

    python scripts/screenshots.py [--out docs] [--offscreen] [--only-facets]

Runs under Xvfb (started here when there is no $DISPLAY and Xvfb is installed; --offscreen uses Qt's
offscreen platform instead). Uses the real starter model on the sample photos from tests/helpers.py; the
model store is kept in .photosearch-home/screenshots so later runs skip building it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def start_xvfb() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY") or not shutil.which("Xvfb"):
        return None
    for n in range(99, 120):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1440x920x24", "-nolisten", "tcp"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(100):
                if Path(f"/tmp/.X11-unix/X{n}").exists():
                    break
                time.sleep(0.05)
            os.environ["DISPLAY"] = f":{n}"
            return proc
    return None


def wait_until(app, cond, timeout: float = 120.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if cond():
            return True
        time.sleep(0.01)
    return False


def search_and_select_first(app, win, query: str) -> None:
    """Type ``query`` as a person would, select the first result, and wait for the thumbnails on screen and
    the preview's image."""
    found = []
    win.searcher.answered.connect(lambda o: found.append(o))
    win.search_bar.search_box.setText(query)
    win.run_search()
    wait_until(app, lambda: bool(found), 60)
    win.results_pane.view.setFocus()
    win.results_pane.view.setCurrentIndex(win.results.index(0))
    shown = win.results.paths()[:24]
    wait_until(app, lambda: all(win.results.pixmaps.get(p) is not None or p in win.results.pixmaps.failed
                                for p in shown), 60)
    wait_until(app, lambda: win.preview.image.pixmap() is not None, 30)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "docs"))
    ap.add_argument("--offscreen", action="store_true")
    ap.add_argument("--skip-finetune", action="store_true")
    ap.add_argument("--only-relevance", action="store_true", help="only the divider and explanation shots")
    ap.add_argument("--only-facets", action="store_true", help="only the chips and facets shot")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not args.child:
        # Qt aborts the process when a platform plugin fails; the child renders, this parent owns Xvfb.
        xvfb = start_xvfb()
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "xcb" if env.get("DISPLAY") else "offscreen")
        try:
            return subprocess.call([sys.executable, __file__, "--child", *sys.argv[1:]], env=env)
        finally:
            if xvfb is not None:
                xvfb.terminate()
                xvfb.wait(10)
    store_home = REPO / ".photosearch-home" / "screenshots"
    work = Path(tempfile.mkdtemp(prefix="ps-shots-"))
    os.environ["PHOTOSEARCH_HOME"] = str(work / "home")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return run(out, store_home, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def relevance_shots(app, win, out: Path) -> int:
    """The divider between good and weaker matches, and the preview explaining a hit with its heat map."""
    def search(text: str):
        found = []
        win.searcher.answered.connect(lambda o: found.append(o))
        win.search_bar.search_box.setText(text)
        win.run_search()
        wait_until(app, lambda: bool(found), 60)
        shown = win.results.paths()[:24]
        wait_until(app, lambda: all(win.results.pixmaps.get(p) is not None or p in win.results.pixmaps.failed
                                    for p in shown), 60)

    search("a cup of coffee")
    win.results_pane.view.setFocus()
    win.results_pane.view.setCurrentIndex(win.results.index(0))
    wait_until(app, lambda: win.preview.image.pixmap() is not None and win.preview.why.explanation is not None, 60)
    wait_until(app, lambda: False, 0.3)
    win.grab().save(str(out / "relevance-divider.png"))
    print("wrote", out / "relevance-divider.png", flush=True)
    search("a rocket")
    row = next(i for i in range(win.results.rowCount()) if (win.results.path_at(win.results.index(i)) or "")
               .endswith("rocket.jpg"))
    win.results_pane.view.setCurrentIndex(win.results.index(row))
    win.preview.why.heatmap_check.setChecked(True)
    wait_until(app, lambda: win.preview.image.overlay is not None and win.preview.image.pixmap() is not None, 120)
    wait_until(app, lambda: False, 0.3)
    win.grab().save(str(out / "explain.png"))
    print("wrote", out / "explain.png", flush=True)
    return 0


# Where and when the sample photos were "taken" for the facets shot: (lat, lon, EXIF date, make, model).
GEO = [(38.7139, -9.1394, "2026:07:10 12:00:00", "Apple", "iPhone 12"),  # Lisbon
       (41.1496, -8.6110, "2025:08:02 18:30:00", "Apple", "iPhone 12"),  # Porto
       (48.8566, 2.3522, "2019:05:01 09:00:00", "Canon", "Canon EOS 5D"),  # Paris
       (-33.8568, 151.2153, "2026:01:15 12:00:00", "Canon", "Canon EOS 5D"),  # Sydney
       (35.0116, 135.7681, "2024:04:03 10:00:00", "Google", "Pixel 7"),  # Kyoto
       (38.7223, -9.1393, "2024:12:24 20:00:00", "Google", "Pixel 7")]  # Lisbon again


def geotag(photos: Path) -> None:
    """Write each sample photo again with a place, a date and a camera from GEO (cycling)."""
    import numpy as np
    from metahelpers import write_photo
    from PIL import Image

    for i, p in enumerate(sorted(photos.glob("*.jpg"))):
        lat, lon, when, make, model = GEO[i % len(GEO)]
        pixels = np.asarray(Image.open(p).convert("RGB"))
        write_photo(p, pixels=pixels, lat=lat, lon=lon, date=when, make=make, model=model)


def facets_shot(app, win, out: Path) -> int:
    """The line "flowers in Portugal" read into a chip and words, with the facets sidebar, at 1366x768."""
    win.resize(1366, 768)
    found = []
    win.searcher.answered.connect(lambda o: found.append(o))
    win.search_bar.search_box.setText("flowers in Portugal")
    win.run_search()
    wait_until(app, lambda: bool(found), 60)
    facets = win.sidebar.facets
    for kind, label in (("place", "Portugal"), ("date", "2026")):
        item = facets.find(kind, label)
        if item is not None:
            item.setExpanded(True)
    shown = win.results.paths()[:24]
    wait_until(app, lambda: all(win.results.pixmaps.get(p) is not None or p in win.results.pixmaps.failed
                                for p in shown), 60)
    wait_until(app, lambda: False, 0.3)
    from PIL import Image

    path = out / "chips-facets.png"
    win.grab().save(str(path))
    # 256 colours keep the docs page light (~140 KB instead of ~480 KB); the text stays sharp
    Image.open(path).convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(path, optimize=True)
    print("wrote", path, flush=True)
    return 0


def run(out: Path, store_home: Path, work: Path, args) -> int:
    from PySide6.QtWidgets import QApplication

    from helpers import real_photos
    from photosearch.gui.app.launcher import make_app
    from photosearch.gui.app.window import MainWindow
    from photosearch.gui.base.settings import Settings
    from photosearch.gui.base.theme import apply_scheme
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths

    app = make_app([])
    app.setStyle("Fusion")
    apply_scheme(app, "light")
    paths = app_paths().ensure()
    photos = work / "Pictures"
    real_photos(photos)
    if args.only_facets:
        geotag(photos)
    print("loading the starter model…", flush=True)
    model = ModelStore(app_paths(store_home)).load("starter", device="cpu")

    win = MainWindow(paths, Settings(paths), model=model, model_name="starter", autoload=False)
    win.resize(1360, 860)
    win.show()
    wait_until(app, lambda: win.isVisible() and win.results_pane.empty.key == "no-folders", 10)
    wait_until(app, lambda: False, 0.3)
    win.grab().save(str(out / "empty-state.png"))
    print("wrote", out / "empty-state.png", flush=True)

    done = []
    win.indexer.finished.connect(lambda ev: done.append(ev))
    win.add_folder(str(photos))
    wait_until(app, lambda: bool(done), 300)
    if args.only_relevance:
        return relevance_shots(app, win, out)
    if args.only_facets:
        return facets_shot(app, win, out)
    search_and_select_first(app, win, "a yellow flower")
    wait_until(app, lambda: False, 0.3)
    win.grab().save(str(out / "main-window.png"))
    print("wrote", out / "main-window.png", flush=True)
    apply_scheme(app, "dark")
    wait_until(app, lambda: False, 0.5)
    win.grab().save(str(out / "main-window-dark.png"))
    print("wrote", out / "main-window-dark.png", flush=True)
    apply_scheme(app, "light")

    from photosearch.gui.app.dialogs import SettingsDialog

    sd = SettingsDialog(win, paths, win.settings, current_model="starter", thumbs=win.thumbs, folders=win.folders())
    sd.show()
    wait_until(app, lambda: bool(sd.models) and sd.device.count() > 1, 60)
    wait_until(app, lambda: False, 0.3)
    sd.grab().save(str(out / "settings.png"))
    print("wrote", out / "settings.png", flush=True)
    sd.reject()

    if not args.skip_finetune:
        try:
            from photosearch.train.synthetic import make_shapes_dataset
        except ImportError:
            print("training core not available: no fine-tune screenshot", flush=True)
        else:
            from photosearch.gui.finetune.dialog import FineTuneDialog

            data = make_shapes_dataset(work / "shapes", n_images=120, size=96)
            # The dialog trains from the starter copied from the screenshot store (not rebuilt).
            paths.models.mkdir(parents=True, exist_ok=True)
            src = app_paths(store_home).models / "starter"
            if not (paths.models / "starter").exists():
                shutil.copytree(src, paths.models / "starter")
            dlg = FineTuneDialog(win, paths, win.settings)
            dlg.resize(1120, 760)
            dlg.data_edit.setText(str(data))
            dlg.name_edit.setText("shapes-demo")
            dlg.epochs.setValue(4)
            dlg.batch.setValue(16)
            dlg.freeze.setChecked(True)
            dlg.head_lr.setValue(1e-2)
            dlg.show()
            finished = []
            dlg.trainingFinished.connect(lambda r: finished.append(r))
            dlg.trainingFailed.connect(lambda m: finished.append(m))
            dlg.start()
            wait_until(app, lambda: bool(finished), 600)
            wait_until(app, lambda: False, 0.3)
            dlg.grab().save(str(out / "finetune.png"))
            print("wrote", out / "finetune.png", "result:", finished[:1], flush=True)
            dlg.close()
    win.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
