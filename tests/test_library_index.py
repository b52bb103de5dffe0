"""Indexing: formats, hostile files, incremental re-runs, moves, model switches, missing folders, cancel."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from libhelpers import write_formats, write_hostile, write_jpeg

from photosearch.library import Library
from photosearch.library.query import Query


def _lib(tmp_path) -> Library:
    return Library.open(tmp_path / "lib.db")


def _rows(lib, sql, args=()):
    return lib.conn.execute(sql, args).fetchall()


def _seqs(lib, model_id):
    return dict(_rows(lib, "SELECT p.path, e.seq FROM embeddings e JOIN photos p ON p.id = e.photo_id "
                           "WHERE e.model_id = ?", (model_id,)))


def test_every_format_indexed_with_metadata(tmp_path, tiny):
    files = write_formats(tmp_path / "pics")
    write_jpeg(tmp_path / "pics" / "dated.jpg", 30, exif_date="2021:07:14 10:20:30")
    with _lib(tmp_path) as lib:
        rep = lib.run_index(tiny, [tmp_path / "pics"])
        assert rep.skipped == []
        assert rep.indexed == len(files) + 1
        assert lib.status().models == {tiny.config.model_id: len(files) + 1}
        rot = lib.photo_info(files["rotated"])
        assert (rot["width"], rot["height"]) == (60, 120)  # EXIF orientation 6 applied
        assert lib.photo_info(tmp_path / "pics" / "dated.jpg")["taken_at"] == "2021-07-14T10:20:30"
        assert lib.photo_info(files["upper"])["format"] == "JPEG"
        # Vectors are stored as float16 BLOBs of the model's dimension, unit length.
        blob = _rows(lib, "SELECT vector FROM embeddings LIMIT 1")[0][0]
        v = np.frombuffer(blob, "<f2")
        assert v.shape == (tiny.config.embed_dim,) and abs(float(np.linalg.norm(v.astype(np.float32))) - 1) < 1e-2


def test_hostile_files_are_skipped_with_reasons(tmp_path, tiny):
    good = tmp_path / "pics"
    good.mkdir()
    write_jpeg(good / "ok.jpg", 1)
    bad = write_hostile(good / "bad")
    with _lib(tmp_path) as lib:
        rep = lib.run_index(tiny, [good], batch_size=2)
        reasons = {Path(s["path"]).name: s["reason"] for s in rep.skipped}
        assert rep.indexed == 1
        assert set(reasons) == {p.name for p in bad.values()}
        assert "truncated" in reasons["truncated.jpg"]
        assert "too large" in reasons["bomb.png"]
        assert "not an image" in reasons["text.jpg"]
        assert {Path(s["path"]).name for s in lib.status().skipped} == set(reasons)
        # Unchanged bad files are not retried; a repaired one is indexed and leaves the skip list.
        again = lib.run_index(tiny)
        assert again.skipped == [] and again.indexed == 0 and again.unchanged == 1
        write_jpeg(bad["text"], 5)
        fixed = lib.run_index(tiny)
        assert fixed.indexed == 1
        assert "text.jpg" not in {Path(s["path"]).name for s in lib.skipped()}


def test_walk_skips_hidden_system_and_stays_inside(tmp_path, tiny):
    root = tmp_path / "pics"
    (root / "sub").mkdir(parents=True)
    write_jpeg(root / "a.jpg", 1)
    write_jpeg(root / "sub" / "b.JPG", 2)
    (root / ".hidden").mkdir()
    write_jpeg(root / ".hidden" / "h.jpg", 3)
    (root / "@eaDir").mkdir()
    write_jpeg(root / "@eaDir" / "thumb.jpg", 4)
    outside = tmp_path / "outside"
    outside.mkdir()
    write_jpeg(outside / "o.jpg", 5)
    (root / "loop").symlink_to(root)  # a loop
    (root / "sub" / "up").symlink_to(root / "sub")
    (root / "away").symlink_to(outside)  # leaves the library folder
    (root / "away.jpg").symlink_to(outside / "o.jpg")
    (root / "notes.txt").write_text("not an image")
    with _lib(tmp_path) as lib:
        rep = lib.run_index(tiny, [root])
        paths = {Path(p).name for (p,) in _rows(lib, "SELECT path FROM photos")}
    assert paths == {"a.jpg", "b.JPG"}
    assert rep.indexed == 2


def test_incremental_changes_moves_and_deletions(tmp_path, tiny):
    root = tmp_path / "pics"
    root.mkdir()
    for i in range(6):
        write_jpeg(root / f"p{i}.jpg", i)
    with _lib(tmp_path) as lib:
        mid = tiny.config.model_id
        assert lib.run_index(tiny, [root], batch_size=4).indexed == 6
        before = _seqs(lib, mid)
        rep = lib.run_index(tiny)
        assert (rep.indexed, rep.unchanged, rep.moved, rep.removed) == (0, 6, 0, 0)

        (root / "new").mkdir()
        os.rename(root / "p0.jpg", root / "new" / "renamed.jpg")  # moved + renamed
        (root / "p1.jpg").unlink()  # deleted
        write_jpeg(root / "p2.jpg", 99)  # content changed
        st = (root / "p3.jpg").stat()
        os.utime(root / "p3.jpg", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # touched only
        write_jpeg(root / "p9.jpg", 9)  # added
        rep = lib.run_index(tiny)
        assert (rep.indexed, rep.unchanged, rep.moved, rep.removed) == (2, 3, 1, 1)
        after = _seqs(lib, mid)
        moved = str(root / "new" / "renamed.jpg")
        assert after[moved] == before[str(root / "p0.jpg")]  # the vector was kept, not re-encoded
        assert after[str(root / "p3.jpg")] == before[str(root / "p3.jpg")]
        assert after[str(root / "p2.jpg")] != before[str(root / "p2.jpg")]
        assert str(root / "p1.jpg") not in after
        assert len(after) == 6 == _rows(lib, "SELECT count(*) FROM photos")[0][0]
        hits = lib.search(tiny, Query.of(like=moved, top_k=1))
        assert hits[0].path == moved


def test_model_switch_keeps_vectors_apart_and_indexes_only_what_is_missing(tmp_path, tiny):
    from helpers import tiny_model

    other = tiny_model(tmp_path / "m2", seed=1, name="tiny2")
    root = tmp_path / "pics"
    root.mkdir()
    for i in range(4):
        write_jpeg(root / f"p{i}.jpg", i)
    with _lib(tmp_path) as lib:
        lib.run_index(tiny, [root])
        write_jpeg(root / "p4.jpg", 4)
        rep = lib.run_index(other)
        assert rep.indexed == 5 and rep.unchanged == 0
        assert lib.status().models == {"tiny": 4, "tiny2": 5}
        rep = lib.run_index(tiny)  # only the photo the first model lacks
        assert rep.indexed == 1 and rep.unchanged == 4
        # Each model searches its own vectors: an example photo is its own best match in both spaces.
        for m in (tiny, other):
            assert lib.search(m, Query.of(like=root / "p2.jpg", top_k=1))[0].path == str(root / "p2.jpg")
        a = np.frombuffer(_rows(lib, "SELECT vector FROM embeddings e JOIN photos p ON p.id = e.photo_id "
                                     "WHERE p.path = ? ORDER BY model_id", (str(root / "p0.jpg"),))[0][0], "<f2")
        b = np.frombuffer(_rows(lib, "SELECT vector FROM embeddings e JOIN photos p ON p.id = e.photo_id "
                                     "WHERE p.path = ? ORDER BY model_id", (str(root / "p0.jpg"),))[1][0], "<f2")
        assert not np.allclose(a, b)


def test_missing_folder_keeps_its_photos(tmp_path, tiny):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write_jpeg(a / "x.jpg", 1)
    write_jpeg(b / "y.jpg", 2)
    with _lib(tmp_path) as lib:
        lib.run_index(tiny, [a, b])
        shutil.move(str(b), str(tmp_path / "unmounted"))
        rep = lib.run_index(tiny)
        assert rep.removed == 0 and rep.missing_folders == [str(b)]
        assert lib.status().photos == 2 and lib.status().missing_folders == [str(b)]
        shutil.move(str(tmp_path / "unmounted"), str(b))
        rep = lib.run_index(tiny)
        assert (rep.indexed, rep.unchanged, rep.removed) == (0, 2, 0)
        lib.remove_folder(b)
        assert lib.folders() == [str(a)] and lib.status().photos == 1


def test_events_and_cancel_keep_finished_work(tmp_path, tiny):
    root = tmp_path / "pics"
    root.mkdir()
    for i in range(12):
        write_jpeg(root / f"p{i:02d}.jpg", i)
    cancel = threading.Event()
    with _lib(tmp_path) as lib:
        events = []
        for ev in lib.index(tiny, [root], batch_size=4, workers=2, cancel=cancel):
            events.append(ev)
            if ev.phase == "embed" and ev.done >= 4:
                cancel.set()
        assert events[0].phase == "scan" and events[-1].phase == "done"
        rep = events[-1].report
        assert rep.cancelled and rep.indexed == 4  # the batch before the cancel, nothing after it
        embeds = [e for e in events if e.phase == "embed"]
        assert all(e.total == 12 for e in embeds) and embeds[0].rate > 0
        kept = lib.status().photos
        assert kept == rep.indexed
        rest = lib.run_index(tiny)
        assert rest.indexed == 12 - kept and rest.unchanged == kept


def test_no_folders_and_bad_arguments(tmp_path, tiny):
    from photosearch.errors import LibraryError

    with _lib(tmp_path) as lib:
        with pytest.raises(LibraryError, match="no folders"):
            lib.run_index(tiny)
        with pytest.raises(LibraryError, match="not a folder"):
            lib.add_folder(tmp_path / "nope")
        with pytest.raises(LibraryError, match="not a library folder"):
            lib.remove_folder(tmp_path)


def test_vanished_file_is_reported_not_fatal(tmp_path, tiny):
    from photosearch.library import index as idx
    from photosearch.library.index import _prepare
    from photosearch.library.plan import Job

    root = tmp_path / "pics"
    root.mkdir()
    p = write_jpeg(root / "gone.jpg", 1)
    job = Job(str(p), str(root), 1, 1, None, True)
    p.unlink()
    r = _prepare(job, 64, tiny.eval_transform())
    assert r.skip.startswith("vanished")
    assert idx.default_workers() >= 1


def test_concurrent_reader_sees_commits(tmp_path, tiny):
    root = tmp_path / "pics"
    root.mkdir()
    for i in range(3):
        write_jpeg(root / f"p{i}.jpg", i)
    with _lib(tmp_path) as writer, _lib(tmp_path) as reader:
        writer.run_index(tiny, [root])
        assert len(reader.search(tiny, Query.of("anything", top_k=10))) == 3
        write_jpeg(root / "p3.jpg", 3)
        writer.run_index(tiny)
        assert len(reader.search(tiny, Query.of("anything", top_k=10))) == 4  # appended incrementally
        (root / "p0.jpg").unlink()
        writer.run_index(tiny)
        hits = reader.search(tiny, Query.of("anything", top_k=10))
        assert len(hits) == 3 and str(root / "p0.jpg") not in {h.path for h in hits}


def test_wal_mode_and_schema(tmp_path):
    with _lib(tmp_path) as lib:
        assert _rows(lib, "PRAGMA journal_mode")[0][0] == "wal"
        assert dict(_rows(lib, "SELECT key, value FROM meta"))["app"] == "photosearch-library"
    conn = sqlite3.connect(tmp_path / "lib.db")
    from photosearch.library.db import SCHEMA_VERSION

    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    conn.close()


def test_photo_that_turns_bad_leaves_search(tmp_path, tiny):
    root = tmp_path / "pics"
    root.mkdir()
    write_jpeg(root / "a.jpg", 1)
    write_jpeg(root / "b.jpg", 2)
    with _lib(tmp_path) as lib:
        lib.run_index(tiny, [root])
        assert len(lib.search(tiny, Query.of("x", top_k=5))) == 2
        (root / "b.jpg").write_bytes((root / "b.jpg").read_bytes()[:300])  # damaged in place
        rep = lib.run_index(tiny)
        assert [Path(s["path"]).name for s in rep.skipped] == ["b.jpg"]
        assert [Path(h.path).name for h in lib.search(tiny, Query.of("x", top_k=5))] == ["a.jpg"]
        assert lib.photo_info(root / "b.jpg") is None
