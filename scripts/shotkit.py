"""What the one-shot screenshot scripts share: ``--out``, Qt's offscreen platform, and a throw-away
``PHOTOSEARCH_HOME`` that is removed afterwards (``python scripts/screenshot_faces.py``, ``screenshot_text.py``)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO, REPO / "tests", REPO / "scripts"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))


def offscreen_main(prefix: str, run: Callable[[Path, Path], int]) -> int:
    """Parse ``--out`` (default docs/), render offscreen with ``run(out, work)`` in a fresh home under ``work``."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "docs"))
    args = ap.parse_args()
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["PHOTOSEARCH_HOME"] = str(work / "home")
    try:
        return run(Path(args.out), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
