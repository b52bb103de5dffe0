"""Numbers for people: durations and sizes, as the CLI and the window show them (no Qt, no heavy imports)."""

from __future__ import annotations


def format_duration(s: float | None, unknown: str = "--:--") -> str:
    """Seconds as M:SS or H:MM:SS; ``unknown`` for None, NaN, infinite or negative values."""
    if s is None or s != s or s in (float("inf"), float("-inf")) or s < 0:
        return unknown
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def format_size(n: int | None, unknown: str = "—") -> str:
    """Bytes as B/KB/MB/GB (powers of 1024), one decimal above bytes."""
    if n is None:
        return unknown
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)
