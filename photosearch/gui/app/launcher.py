"""``photosearch-gui`` (and a bare ``photosearch``): show the window first, load the model after.

``PHOTOSEARCH_STARTUP_PROBE=paint`` prints one JSON line at the first paint of the window and quits;
``=ready`` waits for the model too. ``scripts/measure_startup.py`` uses it to time start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

_T0 = time.time()
PROBE_ENV = "PHOTOSEARCH_STARTUP_PROBE"


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="photosearch-gui", description="PhotoSearch desktop app")
    p.add_argument("--model", help="model to use for this session (store name or checkpoint folder)")
    p.add_argument("--library", help="library database file")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="compute device")
    args, _qt_args = p.parse_known_args(argv)
    return args


def make_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from photosearch import APP_ID, APP_NAME
    from photosearch.gui.base.resources import app_icon

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME] + list(argv or []))
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    return app


class _Probe:
    """Reports the first paint of the window (and optionally model readiness), then quits."""

    def __init__(self, app, win, mode: str):
        from PySide6.QtCore import QObject, QEvent, QTimer

        self.app, self.win, self.mode, self.out = app, win, mode, {}
        probe = self

        class Filter(QObject):
            def eventFilter(self, obj, ev):
                if ev.type() == QEvent.Type.Paint and "first_paint_s" not in probe.out:
                    probe.out["first_paint_s"] = round(time.time() - _T0, 3)
                    probe.out["first_paint_epoch"] = time.time()
                    probe.out["heavy_modules_at_paint"] = sorted(
                        m for m in ("torch", "timm", "transformers") if m in sys.modules)
                    if probe.mode == "paint":
                        QTimer.singleShot(0, probe.finish)
                return False

        self.filter = Filter()
        win.installEventFilter(self.filter)
        if mode == "ready":
            win.models.ready.connect(lambda _n: self._ready())
            win.models.failed.connect(lambda *_a: self._ready())

    def _ready(self):
        self.out["model_ready_s"] = round(time.time() - _T0, 3)
        self.finish()

    def finish(self):
        print(json.dumps(self.out), flush=True)
        self.win.close()
        self.app.quit()


def _show_crash(app, path, summary: str) -> None:
    """Tell the user an unexpected error happened and where its report is (may be called from any thread:
    the message box is queued onto the GUI thread)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    QTimer.singleShot(0, app, lambda: QMessageBox.critical(
        None, "PhotoSearch: unexpected error",
        f"{summary}\n\nA crash report was saved to:\n{path}\n\nPlease attach it to a bug report."))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parse(argv)
    app = make_app([])
    from photosearch.gui.app.window import MainWindow
    from photosearch.gui.base.settings import Settings
    from photosearch.paths import app_paths

    try:
        paths = app_paths().ensure()
    except OSError as e:
        print(f"photosearch: error: cannot create the data folders: {e}", file=sys.stderr)
        return 1
    from photosearch.logs import install_excepthook, setup_logging

    setup_logging()
    install_excepthook(show=lambda path, summary: _show_crash(app, path, summary))
    settings = Settings(paths)
    from photosearch.gui.base.theme import apply_theme

    apply_theme(app, settings.theme)
    if args.device:
        settings.device = args.device
    win = MainWindow(paths, settings, model_name=args.model, library_path=args.library)
    win.reader_wait_ms = 1500
    mode = os.environ.get(PROBE_ENV, "")
    _probe = _Probe(app, win, mode) if mode in ("paint", "ready") else None  # alive until exit: owns the filter
    win.show()
    rc = int(app.exec())
    if not win.clean_shutdown:
        # Only a read-only model load is still running (e.g. inside ``import torch``); settings are saved
        # and the library writer has stopped, so leaving now loses nothing.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
