"""Measures the app's windows on the screen this process has, for ``test_gui_screen_fit.py``; it is run in a
subprocess because an offscreen screen's size is fixed when the QApplication starts
(``QT_QPA_PLATFORM=offscreen:configfile=screen.json``). Prints one JSON object of rectangles
``[x, y, width, height]`` in screen coordinates."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication


def on_screen(w) -> list[int]:
    tl = w.mapToGlobal(QPoint(0, 0))
    return [tl.x(), tl.y(), w.width(), w.height()]


def frame(w) -> list[int]:
    r = w.frameGeometry()
    return [r.x(), r.y(), r.width(), r.height()]


def squeezed(w) -> bool:
    """Smaller than its layout's minimum: its widgets would overlap."""
    hint = w.minimumSizeHint()
    return w.width() < hint.width() or w.height() < hint.height()


def main() -> None:
    from photosearch.gui.app.window import MainWindow
    from photosearch.gui.base.settings import Settings
    from photosearch.paths import app_paths

    app = QApplication(sys.argv[:1])
    paths = app_paths().ensure()
    out: dict = {"screen": None}
    avail = app.primaryScreen().availableGeometry()
    out["screen"] = [avail.x(), avail.y(), avail.width(), avail.height()]

    # A window saved on a larger screen, far from the origin: restored, it must come back onto this one.
    if "restored" in sys.argv:
        old = Settings(paths)
        probe = MainWindow(paths, old, autoload=False)
        probe.setGeometry(1700, 1000, 1800, 1100)
        old.geometry = probe.saveGeometry()
        old.sync()
        probe.close()
    settings = Settings(paths)
    win = MainWindow(paths, settings, autoload=False)
    win.show()
    win.index_bar.show()  # as while indexing: the Pause/Cancel bar above the status bar
    app.processEvents()
    out["window"] = frame(win)
    out["window_squeezed"] = squeezed(win)
    out["status_bar"] = on_screen(win.statusBar())
    out["index_bar"] = on_screen(win.index_bar)
    out["pause"] = on_screen(win.index_bar.pause_btn)

    win.open_settings()
    dlg = win.dialogs.open["settings"]
    app.processEvents()
    out["settings"] = frame(dlg)
    out["settings_ok"] = on_screen(dlg.buttons)
    out["settings_pages"] = []
    for i in range(dlg.pages.count()):
        dlg.pages.setCurrentIndex(i)
        app.processEvents()
        page = dlg.pages.widget(i)
        out["settings_pages"].append({"name": dlg.pages.tabText(i), "squeezed": squeezed(page) or squeezed(dlg)})

    win.open_finetune()
    ft = win.dialogs.open["finetune"]
    app.processEvents()
    out["finetune"] = frame(ft)
    out["finetune_squeezed"] = squeezed(ft)
    win.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
