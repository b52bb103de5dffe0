"""The library database: schema, migrations, and opening a file safely.

One SQLite file (WAL mode) holds the folders, one row per photo, the vectors of every model that indexed
it (float16 BLOBs, keyed by the model's ``config.model_id``) and the files that could not be indexed.

Crash safety comes from SQLite itself: every change the indexer makes is one transaction per embedding batch,
so a killed process leaves the last committed batch and nothing half-written. ``synchronous=NORMAL`` in WAL
mode can lose the last transactions on power loss but never corrupts the file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from photosearch.errors import LibraryError
from photosearch.library.migrations import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)

APP_MARKER = "photosearch-library"  # meta['app']: tells our databases from any other SQLite file
APPLICATION_ID = 0x50685363  # 'PhSc' in the SQLite header (offset 68): ours, readable without opening the file
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 15_000  # another PhotoSearch process may hold the write lock for one batch


class _Connection(sqlite3.Connection):
    """A library connection; a Python subclass so it can be weakly referenced (see :func:`_header`)."""


# POSIX locks belong to a process and a file, not to a descriptor: closing *any* descriptor of the library
# file drops the locks every connection of this process holds on it (SQLite's "how to corrupt" §2.2).
# SQLite defers its own closes for that reason; so do we: a descriptor opened to read the header while our
# connections have the file open is parked until they are gone.
_LIVE: dict[tuple[int, int], "weakref.WeakSet[_Connection]"] = {}
_PARKED: dict[tuple[int, int], int] = {}
_FILES_LOCK = threading.Lock()


_OPENING = [0]  # connections being opened right now (not yet in _LIVE): no header descriptor is closed then


def _open_tracked(*args, path: Path, **kw) -> sqlite3.Connection:
    """``sqlite3.connect`` for a library file, registered in ``_LIVE`` before it can take any lock."""
    with _FILES_LOCK:
        _OPENING[0] += 1
    try:
        conn = sqlite3.connect(*args, factory=_Connection, **kw)
        try:
            st = os.stat(path)
        except OSError:
            return conn  # nothing there to read a header of
        with _FILES_LOCK:
            _LIVE.setdefault((st.st_dev, st.st_ino), weakref.WeakSet()).add(conn)
        return conn
    finally:
        with _FILES_LOCK:
            _OPENING[0] -= 1


def _header(path: Path, st: os.stat_result) -> bytes:
    key = (st.st_dev, st.st_ino)
    with _FILES_LOCK:
        for k in [k for k in _PARKED if not _LIVE.get(k) and not _OPENING[0]]:
            os.close(_PARKED.pop(k))
            _LIVE.pop(k, None)
        fd = _PARKED.pop(key, None)
        if fd is None:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            return os.pread(fd, 100, 0)
        finally:
            if _LIVE.get(key) or _OPENING[0]:
                _PARKED[key] = fd
            else:
                os.close(fd)


def check_identity(path: Path) -> None:
    """Refuse, without changing a byte, a file that is not a PhotoSearch library: not a regular file, not
    SQLite, another program's ``application_id``, or tables without our ``meta`` marker (read-only look)."""
    st = path.stat()
    if stat.S_ISDIR(st.st_mode):
        raise LibraryError(f"{path} is a folder, not a library database")
    if not stat.S_ISREG(st.st_mode):
        raise LibraryError(f"{path} is not a regular file, so it cannot be a library database")
    if st.st_size == 0:
        return  # an empty file: a new library
    head = _header(path, st)
    if head[:16] != SQLITE_HEADER:
        raise LibraryError(f"{path} is not a PhotoSearch library (not a SQLite database)")
    app_id = int.from_bytes(head[68:72], "big") if len(head) >= 72 else 0
    if app_id == APPLICATION_ID:
        return
    if app_id != 0:
        raise LibraryError(f"{path} is a SQLite database of another program, not a PhotoSearch library")
    # No application id (a library from before it was set, or a foreign file): look inside, read-only.
    try:
        ro = _open_tracked(f"{path.resolve().as_uri()}?mode=ro", path=path, uri=True,
                           timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error:
        return  # decided by the full open, which reports its own error
    try:
        tables = {r[0] for r in ro.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        app = None
        if "meta" in tables:
            row = ro.execute("SELECT value FROM meta WHERE key = 'app'").fetchone()
            app = row[0] if row else None
    except sqlite3.Error:
        return
    finally:
        ro.close()
    if tables and app != APP_MARKER:
        raise LibraryError(f"{path} is a SQLite database of another program, not a PhotoSearch library")


def _error_text(path: Path, e: sqlite3.Error) -> str:
    msg = str(e)
    if "full" in msg:
        return f"cannot write the library {path}: the disk is full"
    if "readonly" in msg or "read-only" in msg or "unable to open" in msg:
        return f"cannot write the library {path} (read-only file or folder?): {msg}"
    if "disk I/O" in msg:
        return f"cannot write the library {path}: disk I/O error (disk full, or a failing drive?)"
    return f"the library {path} is damaged or unreadable: {msg}"


def _remove_new(path: Path) -> None:
    """Remove what a failed creation left (an empty lib.db and its journals), never a file with data."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            if p == path and p.stat().st_size > 0:
                continue
            p.unlink()
        except OSError:
            pass


def connect(path: str | Path, create: bool = True, read_only: bool = False) -> sqlite3.Connection:
    """Open (or create) a library database and bring its schema up to date.

    ``read_only`` opens an existing library for reading only (search, status): nothing is written, not even
    beside it, so a library on a read-only mount can be searched.

    Raises :class:`LibraryError` for a file that is not SQLite, a SQLite file that is not a PhotoSearch
    library, a library from a newer PhotoSearch, a damaged file or a folder that cannot be written. A file
    that is not ours is refused before anything in it is changed.
    """
    path = Path(path).expanduser()
    # One thread of this process at a time sets a library up (journal mode, schema): two first opens at once
    # made SQLite fail the switch to WAL ("database is locked", even "disk I/O error"), and the loser then
    # removed the file the winner had just created.
    with _setup_lock(path):
        return _connect(path, create, read_only)


_SETUP_LOCKS: dict[str, threading.Lock] = {}


def _setup_lock(path: Path) -> threading.Lock:
    with _FILES_LOCK:
        return _SETUP_LOCKS.setdefault(os.path.abspath(path), threading.Lock())


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL; another process opening the same new library at the same moment can make the switch
    fail at once (SQLite does not wait for that lock), so it is retried for the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _connect(path: Path, create: bool, read_only: bool) -> sqlite3.Connection:
    from photosearch.library.queries import read_text

    try:
        exists = path.exists()
        if exists:
            check_identity(path)
        elif not create or read_only:
            raise LibraryError(f"no library at {path}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LibraryError(f"cannot open the library {path}: {e.strerror or e}") from None
    if read_only:
        return _connect_read_only(path)
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is exactly one transaction.
        conn = _open_tracked(str(path), path=path, isolation_level=None, check_same_thread=False,
                             timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as e:
        raise LibraryError(f"cannot open the library {path}: {e}") from None
    conn.text_factory = read_text  # paths that are not valid UTF-8 come back as Python's escaped names
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        tables = set(database(conn).table_names())
        if tables and "meta" not in tables:
            raise LibraryError(f"{path} is a SQLite database of another program, not a PhotoSearch library")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        _migrate(conn, path, fresh=not tables)
    except LibraryError:
        conn.close()
        raise
    except sqlite3.DatabaseError as e:
        conn.close()
        if not exists:
            _remove_new(path)
        raise LibraryError(_error_text(path, e)) from None
    return conn


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """mode=ro; immutable=1 where SQLite cannot open its shared-memory file beside the library (a read-only
    folder or mount: nobody can be writing there then)."""
    from photosearch.library.queries import read_text

    last: Exception | None = None
    for query in ("mode=ro", "mode=ro&immutable=1"):
        try:
            conn = _open_tracked(f"{path.resolve().as_uri()}?{query}", path=path, uri=True, isolation_level=None,
                                 check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as e:
            last = e
            continue
        conn.text_factory = read_text
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta"))
        except sqlite3.Error as e:
            conn.close()
            last = e
            continue
        if meta.get("app") != APP_MARKER:
            conn.close()
            raise LibraryError(f"{path} is a SQLite database of another program, not a PhotoSearch library")
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            conn.close()
            raise LibraryError(f"{path} is in another library format; open it once with write access "
                               "(photosearch status) to bring it up to date")
        return conn
    raise LibraryError(f"cannot read the library {path}: {last}")


def _migrate(conn: sqlite3.Connection, path: Path, fresh: bool) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if fresh:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('app', ?)", (APP_MARKER,))
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', '0')")
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (str(time.time()),))
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        if meta.get("app") != APP_MARKER:
            raise LibraryError(f"{path} is a SQLite database of another program, not a PhotoSearch library")
        try:
            version = int(meta.get("schema_version", "0"))
        except ValueError:
            raise LibraryError(f"{path}: damaged library (bad schema version)") from None
        if version > SCHEMA_VERSION:
            raise LibraryError(f"{path} was written by a newer PhotoSearch (library format {version}, this "
                               f"version reads up to {SCHEMA_VERSION}); update PhotoSearch")
        if version < SCHEMA_VERSION and not fresh:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # our own file: mark it as ours
        for v in range(version, SCHEMA_VERSION):
            for stmt in MIGRATIONS[v]:
                conn.execute(stmt)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(v + 1),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def database(conn: sqlite3.Connection) -> sqlite_utils.Database:
    """sqlite-utils' view of a library connection, for introspection and read-side helpers. Writes stay on
    explicit ``Tx`` transactions: sqlite-utils' own write helpers commit on their own, which would split the
    indexer's one-transaction-per-batch (the crash-safety unit). Imported here, not at the top: it costs
    0.2-0.4 s, and a search only reads (cli/fast_path.py)."""
    import sqlite_utils

    return sqlite_utils.Database(conn)


class Tx:
    """``with Tx(conn):`` one write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


class IndexLock:
    """``with IndexLock(path):`` one indexer per library at a time, across processes: an exclusive ``flock`` on
    ``<library>.lock`` beside it. A second indexer gets a clear :class:`LibraryError` instead of embedding every
    photo again.

    Not on the library file itself: SQLite's locks are POSIX (fcntl) locks, and closing *any* descriptor of a
    file drops all of a process's POSIX locks on it, so closing our descriptor would silently release the read
    locks every open connection holds (SQLite's "how to corrupt" §2.2)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> "IndexLock":
        import os

        try:
            import fcntl
        except ImportError:  # Windows: SQLite's locking alone (the second run redoes work, loses nothing)
            return self
        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
            except OSError as e:  # a folder we may not create files in (the library itself is writable):
                # SQLite's own locking keeps the data safe; only a second indexer's double work is not stopped
                log.info("no index lock for %s: %s", self.path, e)
                return self
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise LibraryError(f"another PhotoSearch is indexing the library {self.path} right now; wait for "
                                   "it to finish (its photos are searchable as they are committed)") from None
            try:  # the holder before us removes the file before unlocking: make sure ours is still the one
                same = os.path.samestat(os.fstat(fd), os.stat(self.lock_path))
            except OSError:
                same = False
            if same:
                self._fd = fd
                return self
            os.close(fd)

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            import os

            try:
                os.unlink(self.lock_path)  # before unlocking, so nobody locks a file that is going away
            except OSError:
                pass
            os.close(self._fd)  # releases the flock
            self._fd = None
