"""Render docs/text-match.png: a search whose words are printed in a photo (the "T" badge, the recognised
text highlighted in the preview, the text boxes drawn over the photo).

    python scripts/screenshot_text.py [--out docs]

Qt's offscreen platform; the starter model on the sample photos from tests/helpers.py plus rendered,
photographed-looking signs and receipts (tests/texthelpers.py).
"""

from __future__ import annotations

from pathlib import Path

from shotkit import REPO, offscreen_main


def main() -> int:
    return offscreen_main("ps-text-shot-", lambda out, work: run(out, REPO / ".photosearch-home" / "screenshots", work))


def run(out: Path, store_home: Path, work: Path) -> int:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QEnterEvent
    from PySide6.QtWidgets import QApplication

    from helpers import real_photos
    from photosearch.gui.app.launcher import make_app
    from photosearch.gui.app.window import MainWindow
    from photosearch.gui.base.settings import Settings
    from photosearch.gui.base.theme import apply_scheme
    from photosearch.model.store import ModelStore
    from photosearch.paths import app_paths
    from screenshots import search_and_select_first, wait_until
    from texthelpers import card, photograph, sign

    app = make_app([])
    app.setStyle("Fusion")
    apply_scheme(app, "light")
    paths = app_paths().ensure()
    photos = work / "Pictures"
    real_photos(photos)
    sign(seed=3, out_size=(1024, 768)).save(photos / "IMG_2041.jpg", quality=88)
    photograph(card(["Trattoria Rossi", "Espresso  2.50", "Tiramisu  6.00", "Wifi: sunflower42", "TOTAL  8.50"],
                    size=38, fontname="DejaVuSansMono.ttf", bg=(250, 250, 246)), seed=11,
               out_size=(768, 1024)).save(photos / "IMG_2042.jpg", quality=88)
    photograph(card(["Platform 9", "Departures"], size=60, fg=(240, 240, 240), bg=(20, 40, 110)), seed=2,
               out_size=(1024, 768)).save(photos / "IMG_2043.jpg", quality=88)
    model = ModelStore(app_paths(store_home)).load("starter", device="cpu")
    win = MainWindow(paths, Settings(paths), model=model, model_name="starter", autoload=False)
    win.resize(1360, 860)
    win.show()
    done = []
    win.text_pass.finished.connect(lambda ev: done.append(ev))
    win.add_folder(str(photos))
    wait_until(app, lambda: bool(done), 900)
    search_and_select_first(app, win, "wifi")
    image = win.preview.image
    wait_until(app, lambda: win.preview.text_panel.isVisible(), 30)
    QApplication.sendEvent(image, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    wait_until(app, lambda: False, 0.3)
    out.mkdir(parents=True, exist_ok=True)
    win.grab().save(str(out / "text-match.png"))
    print("wrote", out / "text-match.png", flush=True)
    win.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
