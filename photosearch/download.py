"""One streaming HTTP download, for every file the app fetches (hub models, the Flickr8k data set).

:func:`stream` is a generator: it yields ``(done_bytes, total_bytes | None)`` as bytes arrive and returns
the finished path, so the model download (progress events) and the data set download (a callback) drive
the same code. What it guarantees, whatever the server does:

- **Resume**: bytes already in ``part`` are kept and continued with an HTTP Range request; a server that
  ignores the range starts the file again, one that answers 416 to a stale part gets a fresh request.
- **Bounds**: never more than the expected size (a hub's declared size) or ``max_bytes`` (a cap for small
  files); a Content-Length over either is refused before a byte is written. The disk keeps
  ``Limits.keep_free`` bytes free, checked as bytes arrive, not only before.
- **Time**: connecting and each read wait at most ``Limits.stall_s``; a transfer slower than
  ``Limits.min_rate`` bytes/s over ``Limits.stall_s`` (a server dripping one byte every few seconds) stops.
  ``PHOTOSEARCH_DOWNLOAD_STALL_S`` / ``PHOTOSEARCH_DOWNLOAD_MIN_RATE`` override both.
- **Verify**: size, then sha256 (or a caller's ``check``); a file that does not verify is removed.
- **Cancel**: checked between chunks; raises :class:`Cancelled` with the part kept for the next resume.

Every failure is a :class:`DownloadError` with one line; a partial file is kept when resuming can help.
Only http(s) is spoken, redirects included (``file://`` and others are refused).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from photosearch.errors import Cancelled, DownloadError

CHUNK = 1 << 16
NAME_MAX = 255  # bytes in one file name on the usual filesystems (ext4, APFS, NTFS)


@dataclass(frozen=True)
class Limits:
    stall_s: float = 60.0  # connect/read wait, and the window the transfer rate is measured over
    min_rate: float = 1024.0  # bytes/s over stall_s below which a transfer is abandoned
    keep_free: int = 64 * 1024**2  # bytes the disk keeps free while downloading

    @classmethod
    def from_env(cls, **kw) -> Limits:
        env = {"stall_s": os.environ.get("PHOTOSEARCH_DOWNLOAD_STALL_S"),
               "min_rate": os.environ.get("PHOTOSEARCH_DOWNLOAD_MIN_RATE")}
        for k, v in env.items():
            try:
                if v is not None and float(v) > 0:
                    kw.setdefault(k, float(v))
            except ValueError:
                pass
        return cls(**kw)


def free_bytes(path: Path) -> int:
    """Free space on the filesystem that holds (or would hold) ``path``."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def check_name(name: str) -> None:
    """Refuse a file name the disk cannot hold (with room for a ``.incomplete`` suffix)."""
    for part in Path(name).parts:
        if len(part.encode("utf-8", "surrogateescape")) + len(".incomplete") > NAME_MAX:
            raise DownloadError(f"refusing a file name of {len(part)} characters ({part[:40]}…): "
                                f"file names are at most {NAME_MAX - len('.incomplete')} here")


class _HttpOnly(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not newurl.lower().startswith(("http://", "https://")):
            raise DownloadError(f"refusing a redirect to {newurl.split(':', 1)[0]}:// ({_host(req.full_url)})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_HttpOnly)


def _host(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).netloc or url


def _open(url: str, have: int, headers: dict, limits: Limits):
    """(response, resuming?) for ``url`` from byte ``have``."""
    req = urllib.request.Request(url, headers={"User-Agent": "photosearch", "Accept-Encoding": "identity",
                                               **headers})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = _opener.open(req, timeout=limits.stall_s)
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 416 and have:  # the part already holds everything, or is stale: start again
            return None, False
        raise DownloadError(f"{_host(url)} answered HTTP {e.code} {e.reason} for {url.rsplit('/', 1)[-1]}") \
            from None
    except DownloadError:
        raise
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"cannot reach {_host(url)} ({reason}); check the network connection (offline?) "
                            f"and try again, a partial download is resumed") from None
    return resp, resp.status == 206


def _content_total(resp, have: int, resumed: bool) -> int | None:
    if resumed:
        rng = resp.headers.get("Content-Range") or ""
        tail = rng.rsplit("/", 1)[-1].strip()
        return int(tail) if tail.isdigit() else None
    length = resp.headers.get("Content-Length") or ""
    return int(length) if length.strip().isdigit() else None


def stream(url: str, dest: Path, *, part: Path | None = None, size: int | None = None,
           max_bytes: int | None = None, sha256: str | None = None, check: Callable[[Path], bool] | None = None,
           headers: dict | None = None, cancel: threading.Event | None = None,
           limits: Limits | None = None, chunk: int = CHUNK) -> Iterator[tuple[int, int | None]]:
    """Download ``url`` to ``dest`` through ``part`` (default ``dest.part``); see the module doc.
    ``size``: the expected size (checked, and never exceeded); ``max_bytes``: a cap when the size is not
    known in advance. Yields (done, total); returns ``dest``."""
    limits = limits or Limits.from_env()
    dest = Path(dest)
    part = Path(part) if part is not None else dest.with_name(dest.name + ".part")
    check_name(dest.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    if size is not None and have >= size:
        part.unlink()
        have = 0
    resp, resumed = _open(url, have, headers or {}, limits)
    if resp is None:
        part.unlink(missing_ok=True)
        have = 0
        resp, resumed = _open(url, 0, headers or {}, limits)
    with resp:
        if not resumed:
            have = 0
        total = _content_total(resp, have, resumed)
        bound = min(b for b in (size, max_bytes, float("inf")) if b is not None)
        if total is not None and total > bound:
            raise DownloadError(f"{dest.name}: the server offers {total:,} bytes where {int(bound):,} were "
                                f"expected; refused")
        if size is not None:
            total = size
        yield from _copy(resp, part, have, total, bound, limits, cancel, chunk, dest.name)
    _verify(part, dest.name, size if size is not None else total, sha256, check)
    os.replace(part, dest)
    return dest


def _copy(resp, part: Path, have: int, total, bound, limits: Limits, cancel, chunk: int, name: str):
    done = have
    yield done, total
    window = deque([(time.monotonic(), done)])  # (time, bytes) samples for the low-speed bound
    checked_free = done
    try:
        with open(part, "ab" if have else "wb") as out:
            while True:
                data = resp.read1(chunk)
                if not data:
                    break
                if done + len(data) > bound:
                    raise DownloadError(f"{name}: the server sent more than the {int(bound):,} bytes expected; "
                                        f"refused")
                out.write(data)
                done += len(data)
                if done - checked_free >= 8 * 1024**2 or checked_free == have:
                    checked_free = done
                    if free_bytes(part) < limits.keep_free:
                        out.close()
                        part.unlink(missing_ok=True)
                        raise DownloadError(f"{name}: the disk is nearly full (less than "
                                            f"{limits.keep_free // 1024**2} MB free); stopped and removed "
                                            f"the partial file")
                _check_rate(window, done, limits, name)
                yield done, total
                if cancel is not None and cancel.is_set():  # after a chunk is written: the part holds it
                    raise Cancelled("download cancelled; the next download resumes where this one stopped")
    except (DownloadError, Cancelled):
        raise
    except (OSError, TimeoutError, ValueError, http.client.HTTPException) as e:
        raise DownloadError(f"download of {name} broke off at {done:,} bytes ({_reason(e)}); run again to "
                            f"resume") from None
    if total is not None and done != total:
        raise DownloadError(f"download of {name} is incomplete: {done:,} of {total:,} bytes arrived; run "
                            f"again to resume")


def _check_rate(window: deque, done: int, limits: Limits, name: str) -> None:
    now = time.monotonic()
    window.append((now, done))
    while len(window) > 2 and now - window[1][0] >= limits.stall_s:
        window.popleft()  # keep one sample at least stall_s old
    t0, d0 = window[0]
    if now - t0 >= limits.stall_s and (done - d0) / (now - t0) < limits.min_rate:
        raise DownloadError(f"download of {name} stalled ({(done - d0) / (now - t0):.0f} bytes/s over "
                            f"{now - t0:.0f} s); run again to resume")


def _reason(e: BaseException) -> str:
    from photosearch.humanize import os_error_text

    if isinstance(e, TimeoutError) or "timed out" in str(e):
        return "no data for too long"
    return os_error_text(e)


def _verify(part: Path, name: str, size: int | None, sha256: str | None, check) -> None:
    if size is not None and part.stat().st_size != size:
        raise DownloadError(f"download of {name} is incomplete; run again to resume")
    ok, what = True, ""
    if sha256:
        from photosearch.fsutil import file_sha256

        got = file_sha256(part)
        ok, what = got.lower() == sha256.lower(), f" (sha256 {got[:12]}..., expected {sha256[:12]}...)"
    elif check is not None:
        ok = check(part)
    if not ok:
        part.unlink()
        raise DownloadError(f"{name} failed its checksum{what}; the file was removed, run again to fetch it "
                            f"anew")


def git_blob_id(path: Path) -> str:
    """The git blob sha1 of a file (how a hub names small files)."""
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
