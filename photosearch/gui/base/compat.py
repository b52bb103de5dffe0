"""Work-arounds for defects in the Qt binding we run on.

PySide6 6.12.0 on Python 3.11 drops a reference to ``None`` on every call of a method that returns
nothing (``QPainter.setPen``, ``QRect.moveCenter``...) and on every empty QVariant it converts, and one to
``True``/``False`` on every ``Signal.emit``. A grid paints thousands of such calls per second, so the count
reaches zero within minutes and CPython aborts ("none_dealloc: deallocating None", "bool_dealloc").
Python 3.12+ made these singletons immortal (PEP 683), which is the same cure applied here: when a leak is
measured at start-up, the singleton's count is raised so far that no session can exhaust it. They are
static objects that are never freed, so the count has no other use.

pyproject.toml excludes 6.12.0 (6.11.3 measured healthy: no leak per call or emit); this guard stays for
installs that end up with the broken release anyway.
"""

from __future__ import annotations

import sys

_PROBE_CALLS = 256
_applied: bool | None = None


def none_leak_per_call() -> float:
    """References to None lost per void call in this binding (0 when healthy)."""
    from PySide6.QtCore import QPoint, QRect

    r, c = QRect(0, 0, 4, 4), QPoint(1, 1)
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        r.moveCenter(c)
    return max(0.0, (before - sys.getrefcount(None)) / _PROBE_CALLS)


def bool_leak_per_emit() -> float:
    """References to True/False lost per signal emission (0 when healthy)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal(int)

    o = _Probe()
    before = sys.getrefcount(True) + sys.getrefcount(False)
    for i in range(_PROBE_CALLS):
        o.ping.emit(i)
    return max(0.0, (before - sys.getrefcount(True) - sys.getrefcount(False)) / _PROBE_CALLS)


def _immortalise(obj) -> None:
    import ctypes

    # ob_refcnt is the first Py_ssize_t of every object; 2**60 outlasts ~10^9 leaked references per second
    # for decades and stays far from overflow.
    ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 60


def guard_none_refcount() -> bool:
    """Apply the guard once if this binding leaks; returns whether it was needed."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if none_leak_per_call() > 0.5:
        _immortalise(None)
        _applied = True
    if bool_leak_per_emit() > 0.5:
        _immortalise(True)
        _immortalise(False)
        _applied = True
    return _applied
