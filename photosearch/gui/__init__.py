"""The PySide6 desktop app. The only part of PhotoSearch that imports Qt.

Start-up discipline: nothing here imports torch/timm/transformers at module import time; the model loads in
a worker thread after the window is on screen (see :mod:`photosearch.gui.app.launcher`).
"""

from photosearch.gui.base.compat import guard_none_refcount as _guard

_guard()  # before any widget exists; see compat.py
