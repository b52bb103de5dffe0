"""Opening library files: new, ours, foreign, corrupt, newer, and folder bookkeeping."""

from __future__ import annotations

import sqlite3

import pytest

from photosearch.errors import LibraryError
from photosearch.library import Library
from photosearch.library.query import Query


def test_create_reopen_and_folders(tmp_path):
    (tmp_path / "pics").mkdir()
    db = tmp_path / "sub" / "lib.db"
    with Library.open(db) as lib:
        stored = lib.add_folder(tmp_path / "pics" / ".." / "pics")
        assert stored == str(tmp_path / "pics")
        lib.add_folder(str(tmp_path / "pics") + "/")  # same folder again: no duplicate
    with Library.open(db, create=False) as lib:
        assert lib.folders() == [str(tmp_path / "pics")]
        assert lib.status().to_dict() == {"library": str(db), "photos": 0, "models": {}, "folders": [str(tmp_path / "pics")],
                                "missing_folders": [], "skipped": [],
                                "text": {"enabled": True, "read": 0, "with_text": 0},
                                "faces": {"enabled": False, "scanned": 0, "failed": 0, "faces": 0, "usable": 0,
                                          "people": 0, "named": 0}}
    with pytest.raises(LibraryError, match="no library"):
        Library.open(tmp_path / "absent.db", create=False)


def test_not_sqlite_is_a_clear_error(tmp_path):
    p = tmp_path / "lib.db"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 200)
    with pytest.raises(LibraryError, match="not a SQLite database"):
        Library.open(p)
    assert p.read_bytes().startswith(b"\x89PNG")  # never overwritten


def test_foreign_sqlite_is_refused(tmp_path):
    p = tmp_path / "other.db"
    c = sqlite3.connect(p)
    c.execute("CREATE TABLE photos (x)")
    c.commit()
    c.close()
    with pytest.raises(LibraryError, match="another program"):
        Library.open(p)
    c = sqlite3.connect(p)
    c.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    c.execute("INSERT INTO meta VALUES ('app', 'something-else')")
    c.commit()
    c.close()
    with pytest.raises(LibraryError, match="another program"):
        Library.open(p)


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "lib.db"
    Library.open(p).close()
    c = sqlite3.connect(p)
    c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    c.commit()
    c.close()
    with pytest.raises(LibraryError, match="newer PhotoSearch"):
        Library.open(p)


def test_corrupt_file_is_an_error_not_a_crash(tmp_path, tiny):
    from libhelpers import write_jpeg

    (tmp_path / "pics").mkdir()
    for i in range(3):
        write_jpeg(tmp_path / "pics" / f"{i}.jpg", i)
    p = tmp_path / "lib.db"
    with Library.open(p) as lib:
        lib.run_index(tiny, [tmp_path / "pics"])
    data = bytearray(p.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # keep the header, destroy every page
    p.write_bytes(bytes(data))
    for wal in (tmp_path / "lib.db-wal", tmp_path / "lib.db-shm"):
        wal.unlink(missing_ok=True)
    with pytest.raises(LibraryError):
        lib = Library.open(p)
        lib.search(tiny, Query.of("anything"))


def test_folder_path_is_a_directory(tmp_path):
    with pytest.raises(LibraryError, match="is a folder"):
        Library.open(tmp_path)
