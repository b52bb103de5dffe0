"""Log files and crash reports.

Everything PhotoSearch logs goes to one rotating file in ``AppPaths.logs`` (the platform's log folder, or
``$PHOTOSEARCH_HOME/logs``): a desktop app has no terminal to read, so the file is what a user can send in.
An uncaught exception (main thread or any other thread) writes a readable ``crash-YYYYmmdd-HHMMSS.txt`` next
to it, with versions, the traceback and the last log lines, and tells the front end where it is through a
``show(path, summary)`` callback (the GUI passes one that opens a message box). Native crashes (a segfault in
torch or Qt) cannot run Python code; :mod:`faulthandler` dumps their Python stacks to ``fatal.log``.

No Qt here: this module is imported by the CLI too.
"""

from __future__ import annotations

import datetime as _dt
import faulthandler
import logging
import logging.handlers
import os
import platform
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Callable

LOG_FILE = "photosearch.log"
FATAL_FILE = "fatal.log"
MAX_BYTES = 1_000_000  # per file; with BACKUP_COUNT old files the folder stays under ~6 MB
BACKUP_COUNT = 5
TAIL_LINES = 60  # log lines copied into a crash report
_FORMAT = "%(asctime)s %(levelname)-7s [%(process)d %(threadName)s] %(name)s: %(message)s"

log = logging.getLogger("photosearch")

# show(path_of_report, one_line_summary): called after a crash report is written. It may be called from a
# worker thread (threading.excepthook): a GUI must hand it to its main thread itself.
ShowCrash = Callable[[Path, str], None]

_lock = threading.RLock()
_state: dict = {"show": None, "prev_sys": None, "prev_thread": None, "fatal_file": None}


def log_dir() -> Path:
    """The folder holding the log files and crash reports (may not exist yet)."""
    from photosearch.paths import app_paths

    return app_paths().logs


def _writable_dir(preferred: Path) -> Path:
    """``preferred``, created; if that fails (read-only home, odd permissions), a folder in the temp dir."""
    for d in (preferred, Path(tempfile.gettempdir()) / "photosearch-logs"):
        try:
            d.mkdir(parents=True, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            continue
    return preferred


def _our_handler(root: logging.Logger) -> logging.handlers.RotatingFileHandler | None:
    for h in root.handlers:
        if getattr(h, "_photosearch_file", False):
            return h  # type: ignore[return-value]
    return None


def setup_logging(console: bool = False, level: int | str = logging.INFO, *, max_bytes: int = MAX_BYTES,
                  backups: int = BACKUP_COUNT) -> Path:
    """Send logging (ours and the libraries') to the rotating log file; return the file's path.

    Idempotent: calling it again keeps one file handler (re-targeted if ``$PHOTOSEARCH_HOME`` moved) and at
    most one console handler. ``console`` adds a stderr handler at ``level`` (for ``--debug`` style runs).
    Never raises for an unwritable log folder: it falls back to the temp folder, then to no file at all.
    """
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
        if not isinstance(level, int):
            level = logging.INFO
    path = _writable_dir(log_dir()) / LOG_FILE
    root = logging.getLogger()
    with _lock:
        old = _our_handler(root)
        if old is not None and Path(old.baseFilename) != path.resolve():
            root.removeHandler(old)
            old.close()
            old = None
        if old is None:
            try:
                fh = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                                          encoding="utf-8")
            except OSError:
                fh = None
            if fh is not None:
                fh._photosearch_file = True  # type: ignore[attr-defined]
                fh.setFormatter(logging.Formatter(_FORMAT))
                root.addHandler(fh)
        else:
            old.maxBytes, old.backupCount = max_bytes, backups
        con = next((h for h in root.handlers if getattr(h, "_photosearch_console", False)), None)
        if console and con is None:
            con = logging.StreamHandler(sys.stderr)
            con._photosearch_console = True  # type: ignore[attr-defined]
            con.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            root.addHandler(con)
        elif not console and con is not None:
            root.removeHandler(con)
        if con is not None:
            con.setLevel(level)
        root.setLevel(level)
        logging.captureWarnings(True)  # warnings.warn from torch/transformers land in the file too
        adopt_library_loggers()
    return path


def adopt_library_loggers() -> None:
    """transformers and huggingface_hub give their loggers their own stderr handlers (transformers also turns
    propagation off): their warnings, e.g. a retry line per failed download attempt, would skip our log file
    and break the command line's one-line errors. Route them through the root logger instead. Called by
    setup_logging and again once transformers is imported (it re-applies its defaults lazily)."""
    for name in ("transformers", "huggingface_hub"):
        lg = logging.getLogger(name)
        lg.propagate = True
        for h in list(lg.handlers):
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
                lg.removeHandler(h)
    if "transformers" in sys.modules:
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_default_handler()
            hf_logging.enable_propagation()
        except (ImportError, AttributeError):
            pass


# -- crash reports ------------------------------------------------------------------------------------
def _versions() -> list[tuple[str, str]]:
    from photosearch import __version__

    rows = [("PhotoSearch", __version__),
            ("Python", f"{platform.python_version()} ({platform.python_implementation()}) {sys.executable}"),
            ("Platform", platform.platform()),
            ("Frozen bundle", "yes" if getattr(sys, "frozen", False) else "no")]
    # Only what is already loaded: importing torch inside a crash handler could crash again.
    for mod, label in (("torch", "torch"), ("transformers", "transformers"), ("timm", "timm"),
                       ("PySide6", "PySide6"), ("numpy", "numpy"), ("PIL", "Pillow")):
        m = sys.modules.get(mod)
        if m is not None:
            rows.append((label, str(getattr(m, "__version__", "?"))))
    return rows


def _log_tail(n: int = TAIL_LINES) -> list[str]:
    h = _our_handler(logging.getLogger())
    if h is None:
        return []
    try:
        h.flush()
        with open(h.baseFilename, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()[-n:]
    except OSError:
        return []


def summary_line(exc: BaseException) -> str:
    """One line for a message box: ``ValueError: the message`` (first line only, capped)."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    s = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return s if len(s) <= 300 else s[:297] + "..."


def write_crash_report(exc_type, exc: BaseException, tb, thread: str | None = None) -> Path:
    """Write a crash report for this exception and return its path (never raises for I/O problems)."""
    now = _dt.datetime.now()
    lines = [f"PhotoSearch crash report, {now.isoformat(timespec='seconds')}", ""]
    lines += [f"{k + ':':<15}{v}" for k, v in _versions()]
    lines += [f"{'Thread:':<15}{thread or threading.current_thread().name}",
              f"{'Command line:':<15}{' '.join(sys.argv)}", "", "Traceback", "---------"]
    lines += "".join(traceback.format_exception(exc_type, exc, tb)).rstrip().splitlines()
    tail = _log_tail()
    lines += ["", f"Last {len(tail)} log lines", "-----------------"] + tail
    text = "\n".join(lines) + "\n"
    folder = _writable_dir(log_dir())
    stamp = now.strftime("%Y%m%d-%H%M%S")
    for i in range(1, 100):
        path = folder / (f"crash-{stamp}.txt" if i == 1 else f"crash-{stamp}-{i}.txt")
        try:
            with open(path, "x", encoding="utf-8") as f:  # "x": two crashes in one second keep both
                f.write(text)
            return path
        except FileExistsError:
            continue
        except OSError:
            folder = Path(tempfile.gettempdir())
    return path


def crash_reports() -> list[Path]:
    """Crash reports in the log folder, newest first."""
    d = log_dir()
    return sorted(d.glob("crash-*.txt"), key=lambda p: p.stat().st_mtime, reverse=True) if d.is_dir() else []


def _report(exc_type, exc, tb, thread: str | None) -> Path | None:
    try:
        log.critical("uncaught exception in thread %s", thread or threading.current_thread().name,
                     exc_info=(exc_type, exc, tb))
        path = write_crash_report(exc_type, exc, tb, thread)
        log.critical("crash report written to %s", path)
    except Exception:  # noqa: BLE001 - a failing crash handler must not hide the original error
        return None
    show = _state["show"]
    if show is not None:
        try:
            show(path, summary_line(exc))
        except Exception:
            log.exception("the crash dialog failed")
    return path


def _sys_hook(exc_type, exc, tb):
    if not issubclass(exc_type, KeyboardInterrupt):
        _report(exc_type, exc, tb, None)
    prev = _state["prev_sys"] or sys.__excepthook__
    if sys.stderr is not None:  # a windowed (console=False) bundle has no stderr
        prev(exc_type, exc, tb)


def _thread_hook(args: threading.ExceptHookArgs):
    if args.exc_type is not SystemExit:
        _report(args.exc_type, args.exc_value, args.exc_traceback,
                args.thread.name if args.thread is not None else None)
    prev = _state["prev_thread"] or threading.__excepthook__
    if sys.stderr is not None:
        prev(args)


def install_excepthook(show: ShowCrash | None = None) -> None:
    """Write a crash report for every uncaught exception (main thread and other threads), then call
    ``show(report_path, summary)``. Installing again only replaces ``show``. Also enables faulthandler into
    ``fatal.log`` for native crashes."""
    with _lock:
        _state["show"] = show
        if sys.excepthook is not _sys_hook:
            _state["prev_sys"] = sys.excepthook
            sys.excepthook = _sys_hook
        if threading.excepthook is not _thread_hook:
            _state["prev_thread"] = threading.excepthook
            threading.excepthook = _thread_hook
        if _state["fatal_file"] is None:
            try:
                f = open(_writable_dir(log_dir()) / FATAL_FILE, "a", encoding="utf-8")  # open for the process's life
                faulthandler.enable(file=f)
                _state["fatal_file"] = f
            except (OSError, ValueError, RuntimeError):
                pass


def uninstall_excepthook() -> None:
    """Restore the hooks that were there before :func:`install_excepthook` (tests, embedding)."""
    with _lock:
        if sys.excepthook is _sys_hook:
            sys.excepthook = _state["prev_sys"] or sys.__excepthook__
        if threading.excepthook is _thread_hook:
            threading.excepthook = _state["prev_thread"] or threading.__excepthook__
        _state.update(show=None, prev_sys=None, prev_thread=None)
        f = _state["fatal_file"]
        if f is not None:
            faulthandler.disable()
            f.close()
            _state["fatal_file"] = None
