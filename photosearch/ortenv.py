"""ONNX Runtime without telemetry: nothing sent, nothing written outside the app's folders.

The ONNX Runtime wheel (1.2x+) carries Microsoft's 1DS telemetry: on import it writes
``$XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime/{deviceid,onnxruntime.db}`` (``~/.cache`` when
unset) and its uploader looks up ``mobile.events.data.microsoft.com``. ``ORT_DISABLE_TELEMETRY=1`` in the
environment before the library loads stops both (measured on 1.32: no file, no connect); it is set when
the ``photosearch`` package is imported, before anything can import onnxruntime (rapidocr does too).
:func:`onnxruntime` also turns its telemetry events off before a session is made, for builds that read
only that switch.
"""

from __future__ import annotations

import os

ENV = "ORT_DISABLE_TELEMETRY"


def before_import() -> None:
    """Set the switch ONNX Runtime reads when it loads (a user's own setting is kept)."""
    os.environ.setdefault(ENV, "1")


def onnxruntime():
    """The ``onnxruntime`` module with telemetry off; use it instead of ``import onnxruntime``."""
    before_import()
    import onnxruntime as ort

    disable = getattr(ort, "disable_telemetry_events", None)
    if disable is not None:
        disable()
    return ort
