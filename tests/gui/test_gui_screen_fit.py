"""The window, Settings and Fine-tune fit a 1366×768 and a 1280×720 screen (issue 20, item 6): every window lies
on the screen, the status bar and the indexing bar's Pause are visible, Settings' OK/Cancel are on screen and
no window is squeezed below its layout's minimum (its widgets would overlap)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize

from helpers import cli_env
from photosearch.gui.base.screen import fitted

pytestmark = pytest.mark.gui
PROBE = Path(__file__).with_name("screen_probe.py")


def test_fitted_shrinks_to_the_screen_and_brings_a_window_back_onto_it():
    avail = QRect(0, 0, 1366, 768)
    r = fitted(QRect(0, 0, 1320, 820), avail, QSize(16, 40))
    assert avail.contains(r.adjusted(-8, -32, 8, 8)) and r.width() == 1320 and r.height() == 728
    far = fitted(QRect(1700, 1000, 900, 600), avail, QSize(16, 40))  # saved on a larger screen
    assert avail.contains(far.adjusted(-8, -32, 8, 8)) and far.size() == QSize(900, 600)
    assert fitted(QRect(100, 100, 640, 480), avail, QSize(16, 40)) == QRect(100, 100, 640, 480)  # fits: unchanged


def _probe(tmp_path: Path, width: int, height: int, *args: str) -> dict:
    cfg = tmp_path / "screen.json"
    cfg.write_text(json.dumps({"screens": [{"name": "probe", "x": 0, "y": 0, "width": width, "height": height,
                                            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = cli_env(tmp_path / "home")
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={cfg}"
    env["PYTHONPATH"] = os.pathsep.join([str(PROBE.parents[1]), env["PYTHONPATH"]])
    r = subprocess.run([sys.executable, str(PROBE), *args], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _inside(screen: list[int], rect: list[int]) -> bool:
    sx, sy, sw, sh = screen
    x, y, w, h = rect
    return sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh


@pytest.mark.parametrize("width,height", [(1366, 768), (1280, 720)])
def test_every_window_fits_the_screen(tmp_path, width, height):
    out = _probe(tmp_path, width, height)
    screen = out["screen"]
    assert screen == [0, 0, width, height]
    for part in ("window", "status_bar", "index_bar", "pause", "settings", "settings_ok", "finetune"):
        assert _inside(screen, out[part]), (part, out[part], screen)
    assert not out["window_squeezed"] and not out["finetune_squeezed"]
    assert [p["name"] for p in out["settings_pages"]] == ["Model", "Search", "Folders", "Storage"]
    assert not any(p["squeezed"] for p in out["settings_pages"]), out["settings_pages"]


def test_a_window_saved_on_a_larger_screen_is_restored_onto_this_one(tmp_path):
    out = _probe(tmp_path, 1280, 720, "restored")
    assert _inside(out["screen"], out["window"]), out
    assert _inside(out["screen"], out["status_bar"]), out
