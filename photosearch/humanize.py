"""Words for people: durations, sizes and OS errors, as the CLI and the window show them (no Qt, no heavy imports)."""

from __future__ import annotations


def format_duration(s: float | None, unknown: str = "--:--") -> str:
    """Seconds as M:SS or H:MM:SS; ``unknown`` for None, NaN, infinite or negative values."""
    if s is None or s != s or s in (float("inf"), float("-inf")) or s < 0:
        return unknown
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def fixed(x: float, places: int = 3) -> str:
    """``x`` with ``places`` decimals, never "-0.000": a value that rounds to zero prints without a sign."""
    text = f"{float(x):.{places}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_size(n: int | None, unknown: str = "—") -> str:
    """Bytes as B/KB/MB/GB/TB in decimal units (1 MB = 1,000,000 bytes, as disks, downloads and the README
    count them), three figures: "1.5 KB", "58.1 MB", "609 MB". The one size format of the CLI and the window."""
    if n is None:
        return unknown
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if round(size, 1) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" or round(size, 1) >= 100 else f"{size:.1f} {unit}"
        size /= 1000
    return str(n)


_ERRNO_WORDS = {  # errno name -> plain words (names: the numbers differ between systems)
    "ENOENT": "not found", "EACCES": "permission denied", "EPERM": "not permitted", "ENOSPC": "the disk is full",
    "EROFS": "the disk is read-only", "EISDIR": "is a folder, not a file", "ENOTDIR": "not a folder",
    "EEXIST": "already exists", "EIO": "the disk could not be read (input/output error)",
    "ENAMETOOLONG": "the name is too long", "EMFILE": "too many files open", "ENOTEMPTY": "the folder is not empty",
    "ECONNREFUSED": "the server refused the connection", "ECONNRESET": "the connection broke off",
    "ENETUNREACH": "no network connection", "EHOSTUNREACH": "the server cannot be reached",
    "ETIMEDOUT": "no answer for too long", "EXDEV": "cannot move between drives", "EBUSY": "in use",
}


def os_error_text(e: BaseException) -> str:
    """An operating-system or network error in plain words, without "[Errno -2]" codes: what the CLI and the
    window show. A URLError is described by its reason; the file it concerns, when known, is named."""
    import errno
    import re
    import socket

    reason = getattr(e, "reason", None)
    if isinstance(reason, BaseException):  # urllib's URLError wraps the real failure
        return os_error_text(reason)
    if isinstance(e, socket.gaierror):
        return "no internet connection (the server's name could not be looked up)"
    if isinstance(e, TimeoutError) or "timed out" in str(e):
        return "no answer for too long"
    code = getattr(e, "errno", None)
    words = _ERRNO_WORDS.get(errno.errorcode.get(code, "")) if isinstance(code, int) else None
    if words is None:
        text = getattr(e, "strerror", None) or str(e) or type(e).__name__
        words = re.sub(r"\[(Errno|WinError) -?\d+\]\s*", "", str(text)).strip(" :") or type(e).__name__
    name = getattr(e, "filename", None)
    return f"{name}: {words}" if name else words
