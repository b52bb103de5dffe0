"""The library database: schema, migrations, and opening a file safely.

One SQLite file (WAL mode) holds the folders, one row per photo, the vectors of every model that indexed
it (float16 BLOBs, keyed by the model's ``config.model_id``) and the files that could not be indexed.

Crash safety comes from SQLite itself: every change the indexer makes is one transaction per embedding batch,
so a killed process leaves the last committed batch and nothing half-written. ``synchronous=NORMAL`` in WAL
mode can lose the last transactions on power loss but never corrupts the file.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import sqlite_utils

from photosearch.errors import LibraryError

APP_MARKER = "photosearch-library"  # meta['app']: tells our databases from any other SQLite file
SCHEMA_VERSION = 2
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 15_000  # another PhotoSearch process may hold the write lock for one batch

# Each entry upgrades the schema from version i to i + 1. Append, never edit a released entry.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE folders (path TEXT PRIMARY KEY, added_at REAL NOT NULL)",
        """CREATE TABLE photos (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            folder TEXT NOT NULL,          -- the library folder it was found under
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            hash TEXT NOT NULL,            -- content hash (see scan.content_hash): finds moved files
            width INTEGER,                 -- original size, after EXIF rotation
            height INTEGER,
            format TEXT,                   -- JPEG, PNG, ... as Pillow names it
            taken_at TEXT,                 -- ISO 8601 from EXIF, NULL if unknown
            indexed_at REAL NOT NULL
        )""",
        "CREATE INDEX photos_folder ON photos(folder)",
        "CREATE INDEX photos_hash ON photos(hash)",
        "CREATE INDEX photos_taken ON photos(taken_at)",
        """CREATE TABLE models (
            model_id TEXT PRIMARY KEY,
            dim INTEGER NOT NULL,
            dtype TEXT NOT NULL,           -- numpy dtype of the BLOBs ('<f2')
            first_used REAL NOT NULL
        )""",
        """CREATE TABLE embeddings (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: search caches load rows with seq > last seen
            photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL REFERENCES models(model_id),
            vector BLOB NOT NULL,
            indexed_at REAL NOT NULL,
            UNIQUE (model_id, photo_id)  -- also the covering index for 'which photos have vectors'
        )""",
        "CREATE INDEX embeddings_model ON embeddings(model_id, seq)",
        "CREATE INDEX embeddings_photo ON embeddings(photo_id)",  # ON DELETE CASCADE would scan without it
        """CREATE TABLE skipped (
            path TEXT PRIMARY KEY,
            folder TEXT NOT NULL,
            size INTEGER,
            mtime_ns INTEGER,              -- unchanged bad files are not retried on every run
            reason TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        # Search caches append new rows incrementally; any deletion invalidates them instead.
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('vector_deletions', '0')",
        """CREATE TRIGGER embeddings_deleted AFTER DELETE ON embeddings BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vector_deletions';
        END""",
    ],
    # 2: words read in each photo (library/textindex.py), searchable with FTS5.
    [
        """CREATE TABLE photo_text (
            photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
            hash TEXT NOT NULL,            -- photos.hash when read: changed content is read again
            engine TEXT NOT NULL,          -- OcrSettings.engine_id(): other models/settings read again
            text TEXT NOT NULL,            -- the lines joined by newlines; '' = no text found
            lines TEXT NOT NULL,           -- JSON [{"text", "confidence", "box": [[x, y] x4]}], original pixels
            error TEXT,                    -- why the photo could not be read (then text is '')
            read_at REAL NOT NULL
        )""",
        """CREATE VIRTUAL TABLE photo_text_fts USING fts5(text, content='photo_text', content_rowid='photo_id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
        """CREATE TRIGGER photo_text_ai AFTER INSERT ON photo_text BEGIN
            INSERT INTO photo_text_fts (rowid, text) VALUES (new.photo_id, new.text);
        END""",
        """CREATE TRIGGER photo_text_ad AFTER DELETE ON photo_text BEGIN
            INSERT INTO photo_text_fts (photo_text_fts, rowid, text) VALUES ('delete', old.photo_id, old.text);
        END""",
        """CREATE TRIGGER photo_text_au AFTER UPDATE ON photo_text BEGIN
            INSERT INTO photo_text_fts (photo_text_fts, rowid, text) VALUES ('delete', old.photo_id, old.text);
            INSERT INTO photo_text_fts (rowid, text) VALUES (new.photo_id, new.text);
        END""",
    ],
]
assert len(MIGRATIONS) == SCHEMA_VERSION


def _looks_like_sqlite(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(16) == SQLITE_HEADER


def connect(path: str | Path, create: bool = True) -> sqlite3.Connection:
    """Open (or create) a library database and bring its schema up to date.

    Raises :class:`LibraryError` for a file that is not SQLite, a SQLite file that is not a PhotoSearch
    library, a library from a newer PhotoSearch, a damaged file or a folder that cannot be written.
    """
    path = Path(path).expanduser()
    try:
        exists = path.exists()
        if exists and path.is_dir():
            raise LibraryError(f"{path} is a folder, not a library database")
        if exists and path.stat().st_size > 0 and not _looks_like_sqlite(path):
            raise LibraryError(f"{path} is not a PhotoSearch library (not a SQLite database)")
        if not exists:
            if not create:
                raise LibraryError(f"no library at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LibraryError(f"cannot open the library {path}: {e.strerror or e}") from None
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is exactly one transaction.
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as e:
        raise LibraryError(f"cannot open the library {path}: {e}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        tables = set(sqlite_utils.Database(conn).table_names())
        if tables and "meta" not in tables:
            raise LibraryError(f"{path} is a SQLite database of another program, not a PhotoSearch library")
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        _migrate(conn, path, fresh=not tables)
    except LibraryError:
        conn.close()
        raise
    except sqlite3.DatabaseError as e:
        conn.close()
        if "readonly" in str(e) or "read-only" in str(e) or "unable to open" in str(e):
            raise LibraryError(f"cannot write the library {path} (read-only file or folder?): {e}") from None
        raise LibraryError(f"the library {path} is damaged or unreadable: {e}") from None
    return conn


def _migrate(conn: sqlite3.Connection, path: Path, fresh: bool) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if fresh:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('app', ?)", (APP_MARKER,))
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', '0')")
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (str(time.time()),))
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
    indexer's one-transaction-per-batch (the crash-safety unit)."""
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
