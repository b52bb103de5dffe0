"""Hardening of the library (issue #10): odd names, unreadable and unmounted folders, concurrent changes,
skip records that expire, foreign files, read-only libraries, two indexers. Real files, no mocks."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import pytest
from libhelpers import write_jpeg

from photosearch.library import Library, Query


def _lib(tmp_path) -> Library:
    return Library.open(tmp_path / "lib.db")


def test_non_utf8_file_name_is_indexed_and_kept_losslessly(tmp_path, tiny):
    """#10.1: a Latin-1 name used to stop indexing for good (UnicodeEncodeError in the photo INSERT)."""
    root = tmp_path / "pics"
    root.mkdir()
    for i in range(3):
        write_jpeg(root / f"p{i}.jpg", i)
    raw = os.fsencode(root) + b"/caf\xe9.jpg"  # Latin-1 e-acute: not valid UTF-8
    write_jpeg(Path(os.fsdecode(raw)), 9)
    with _lib(tmp_path) as lib:
        rep = lib.run_index(tiny, [root])
        assert rep.indexed == 4 and rep.skipped == []
        paths = {h.path for h in lib.search(tiny, Query.of("anything", top_k=10))}
        assert os.fsdecode(raw) in paths
        assert {os.fsencode(p) for p in paths} >= {raw}  # the real bytes come back
        assert lib.photo_info(os.fsdecode(raw))["width"] == 96
        assert lib.run_index(tiny).unchanged == 4  # and the next run finds it unchanged
        hit = lib.search(tiny, Query.of(None, like=os.fsdecode(raw), top_k=1))[0]
        assert os.fsencode(hit.path) == raw and hit.score > 0.99
        lib.remove_folder(root)
        assert lib.status().photos == 0


@contextlib.contextmanager
def _unreadable(folder: Path):
    """``folder`` cannot be listed inside the block: chmod 000, and as root (whom permissions do not stop)
    the process also runs as ``nobody`` (effective ids, restored after). Skips where neither is possible."""
    mode = folder.stat().st_mode
    os.chmod(folder, 0)
    as_root = os.geteuid() == 0
    try:
        if as_root:
            os.setegid(65534)
            os.seteuid(65534)
        try:
            os.listdir(folder)
        except PermissionError:
            pass
        else:
            pytest.skip("cannot make a folder unreadable here")
        yield
    finally:
        if as_root:
            os.seteuid(0)
            os.setegid(0)
        os.chmod(folder, mode)


def _shared_tree(tmp_path_factory) -> Path:
    """A folder ``nobody`` can reach (pytest's own tmp folders are private to their owner)."""
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="photosearch-test-"))
    d.chmod(0o755)
    return d


def test_unreadable_sub_folder_keeps_its_photos_and_is_reported(tmp_path, tmp_path_factory, tiny):
    """#10.2: a sub-folder that cannot be listed used to count as deleted (its photos removed, no warning)."""
    import shutil

    base = _shared_tree(tmp_path_factory)
    try:
        root = base / "pics"
        (root / "sub").mkdir(parents=True)
        write_jpeg(root / "top.jpg", 1)
        for i in range(3):
            write_jpeg(root / "sub" / f"s{i}.jpg", i + 2)
        for p in [base, root, root / "sub", *root.rglob("*.jpg")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        db = base / "lib.db"
        with Library.open(db) as lib:
            assert lib.run_index(tiny, [root]).indexed == 4
            for p in base.iterdir():  # the library's files: writable by nobody while it indexes
                os.chown(p, 65534, 65534) if os.geteuid() == 0 else None
            with _unreadable(root / "sub"):
                rep = lib.run_index(tiny)
            assert rep.removed == 0 and rep.unreadable_folders == [str(root / "sub")]
            assert lib.status().photos == 4
            rep = lib.run_index(tiny)  # readable again: nothing to redo
            assert (rep.indexed, rep.unchanged, rep.unreadable_folders) == (0, 4, [])
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_empty_mount_point_or_other_device_keeps_photos_offline(tmp_path, tiny):
    """#10.3: an unmounted drive whose (now empty) mount point is still there used to lose every photo."""
    root = tmp_path / "drive"
    root.mkdir()
    for i in range(3):
        write_jpeg(root / f"p{i}.jpg", i)
    with _lib(tmp_path) as lib:
        lib.run_index(tiny, [root])
        dev = lib.conn.execute("SELECT device FROM folders").fetchone()[0]
        assert dev == os.stat(root).st_dev  # recorded at index time
        moved = tmp_path / "elsewhere"
        root.rename(moved)
        root.mkdir()  # the empty mount point
        rep = lib.run_index(tiny)
        assert rep.removed == 0 and rep.missing_folders == [str(root)]
        assert lib.status().photos == 3 and lib.status().missing_folders == [str(root)]
        assert "empty" in lib.offline_folders()[str(root)]
        # The same folder name on another device than recorded, holding other photos (another drive mounted
        # there): offline too.
        for i in range(3):
            write_jpeg(root / f"p{i}.jpg", 50 + i)
        lib.conn.execute("UPDATE folders SET device = ?", (dev + 1,))
        rep = lib.run_index(tiny)
        assert rep.removed == 0 and rep.indexed == 0 and rep.missing_folders == [str(root)]
        assert "device" in lib.offline_folders()[str(root)]
        # Its own drive back (on the recorded device): indexed as usual, nothing redone.
        for p in root.iterdir():
            p.unlink()
        root.rmdir()
        moved.rename(root)
        lib.conn.execute("UPDATE folders SET device = ?", (dev,))
        rep = lib.run_index(tiny)
        assert (rep.unchanged, rep.indexed, rep.missing_folders) == (3, 0, [])


def test_a_folder_back_on_another_device_number_is_recognised_by_its_content(tmp_path, tiny):
    """#24.6: a drive that came back under another st_dev (another USB port, another mount order) stayed
    offline for good; only remove + add got out, re-embedding everything. (The real remount is in
    test_mounts.py; here the recorded number changes, as it does for the library after a replug.)"""
    root = tmp_path / "drive"
    root.mkdir()
    for i in range(3):
        write_jpeg(root / f"p{i}.jpg", i)
    with _lib(tmp_path) as lib:
        assert lib.run_index(tiny, [root]).indexed == 3
        dev = lib.conn.execute("SELECT device FROM folders").fetchone()[0]
        lib.conn.execute("UPDATE folders SET device = ?", (dev + 7,))  # indexed while on another number
        assert lib.offline_folders() == {}
        (root / "p0.jpg").unlink()  # and what changed meanwhile is indexed as usual
        write_jpeg(root / "new.jpg", 20)
        rep = lib.run_index(tiny)
        assert (rep.indexed, rep.unchanged, rep.removed, rep.missing_folders) == (1, 2, 1, [])
        assert lib.conn.execute("SELECT device FROM folders").fetchone()[0] == dev  # the new number recorded


def test_folder_removed_during_indexing_leaves_no_orphans(tmp_path, tiny):
    """#10.4: photos committed after `folders remove` stayed searchable under no folder."""
    root = tmp_path / "pics"
    root.mkdir()
    for i in range(12):
        write_jpeg(root / f"p{i:02d}.jpg", i)
    with _lib(tmp_path) as lib, _lib(tmp_path) as other:
        events = lib.index(tiny, [root], batch_size=2, workers=1)
        for ev in events:
            if ev.phase == "embed":
                break
        other.remove_folder(root)  # another window or `photosearch folders remove`
        list(events)
        assert lib.folders() == []
        assert lib.conn.execute("SELECT count(*) FROM photos").fetchone()[0] == 0
        assert lib.conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0
        assert lib.search(tiny, Query.of("anything", top_k=20)) == []


def test_skips_not_the_files_fault_are_retried(tmp_path, tiny):
    """#10.5: a broken model config blamed every good photo as damaged, never retried with a good model."""
    import copy

    root = tmp_path / "pics"
    root.mkdir()
    for i in range(3):
        write_jpeg(root / f"p{i}.jpg", i)
    (root / "bad.jpg").write_text("not a picture")
    broken = copy.copy(tiny)
    broken.eval_transform = lambda: (lambda img: 1 / 0)  # the model's preprocessing fails, not the files
    with _lib(tmp_path) as lib:
        rep = lib.run_index(broken, [root])
        assert rep.indexed == 0 and len(rep.skipped) == 4
        faults = dict(lib.conn.execute("SELECT path, file_fault FROM skipped"))
        assert faults[str(root / "bad.jpg")] == 1 and faults[str(root / "p0.jpg")] == 0
        rep = lib.run_index(tiny)  # the good photos are retried; the bad file is not
        assert rep.indexed == 3 and rep.skipped == []
        assert [s["path"] for s in lib.skipped()] == [str(root / "bad.jpg")]


def test_bad_file_is_retried_when_the_model_changes(tmp_path, tiny):
    from helpers import tiny_model

    root = tmp_path / "pics"
    root.mkdir()
    write_jpeg(root / "p.jpg", 1)
    (root / "bad.jpg").write_text("not a picture")
    with _lib(tmp_path) as lib:
        assert len(lib.run_index(tiny, [root]).skipped) == 1
        assert lib.run_index(tiny).skipped == []  # unchanged, same model: not retried
        other = tiny_model(tmp_path, seed=1, name="tiny-other")
        assert other.config.model_id != tiny.config.model_id
        assert len(lib.run_index(other).skipped) == 1  # another model: tried again


def test_foreign_sqlite_files_are_refused_unchanged(tmp_path):
    """#10.6: a foreign file with a `meta` table was switched to WAL before being refused; an empty SQLite
    file with another program's application_id became a library."""
    from photosearch.errors import LibraryError

    with_meta = tmp_path / "other.db"
    c = sqlite3.connect(with_meta)
    c.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    c.execute("INSERT INTO meta VALUES ('app', 'someone-else')")
    c.commit()
    c.close()
    app_only = tmp_path / "app.db"
    c = sqlite3.connect(app_only)
    c.execute("PRAGMA application_id = 1234")
    c.execute("PRAGMA user_version = 1")  # writes the header
    c.commit()
    c.close()
    for f in (with_meta, app_only):
        before = f.read_bytes()
        with pytest.raises(LibraryError, match="another program"):
            Library.open(f)
        assert f.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(f.name)) == [f.name]


def test_library_path_that_is_not_a_regular_file(tmp_path):
    """#10.6: `--library /dev/null` created /dev/null-journal."""
    from photosearch.errors import LibraryError

    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    with pytest.raises(LibraryError, match="not a regular file"):
        Library.open(fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.db"]
    if os.path.exists("/dev/null"):
        with pytest.raises(LibraryError, match="not a regular file"):
            Library.open("/dev/null")
        assert not os.path.exists("/dev/null-journal") and not os.path.exists("/dev/null-wal")


def test_our_library_is_marked_with_an_application_id(tmp_path):
    from photosearch.library.db import APPLICATION_ID

    with _lib(tmp_path):
        pass
    head = (tmp_path / "lib.db").read_bytes()[:100]
    assert int.from_bytes(head[68:72], "big") == APPLICATION_ID


def test_large_panorama_within_the_documented_limit_is_decoded(tmp_path):
    """#10.9: Pillow's 89.5 MP default refused a 108 MP panorama although 200 MP is documented."""
    from PIL import Image

    from photosearch.imageio import MAX_PIXELS, load_image

    p = tmp_path / "pano.png"
    Image.new("1", (12000, 9000), 1).save(p)  # 108 MP, a few kB on disk
    img, meta = load_image(p, min_side=224)
    assert (meta.width, meta.height) == (12000, 9000) and MAX_PIXELS == 200_000_000
    assert min(img.size) >= 224 and max(img.size) < 12000  # decoded, then shrunk at once


def test_batch_size_is_bounded_by_memory():
    """#10.8: --batch-size 100000 peaked at 8.9 GB."""
    from photosearch.library.index import MAX_BATCH, bounded_batch_size

    assert bounded_batch_size(32, 224, available=8 * 1024**3) == 32
    assert bounded_batch_size(100_000, 224, available=64 * 1024**3) == MAX_BATCH
    one = 3 * 224 * 224 * 4
    assert bounded_batch_size(100_000, 224, available=1024**3) == 1024**3 // 4 // (3 * one)
    assert bounded_batch_size(100_000, 224, available=0) == 1


def test_end_of_time_date_filter_is_not_an_overflow(tmp_path, tiny):
    """#10.10: `--before 9999-12-31` raised OverflowError."""
    root = tmp_path / "pics"
    root.mkdir()
    write_jpeg(root / "a.jpg", 1, exif_date="2020:01:01 00:00:00")
    with _lib(tmp_path) as lib:
        lib.run_index(tiny, [root])
        assert len(lib.search(tiny, Query.of("x", before="9999-12-31"))) == 1
        assert len(lib.search(tiny, Query.of("x", after="9999-12-31"))) == 0


def test_like_file_that_never_existed_or_is_a_fifo(tmp_path, tiny):
    """#10.7 and #10.10: `--like FIFO` hung forever; a missing file was 'vanished during indexing'."""
    import threading

    from photosearch.library.search import QueryError

    root = tmp_path / "pics"
    root.mkdir()
    write_jpeg(root / "a.jpg", 1)
    fifo = tmp_path / "fifo.jpg"
    os.mkfifo(fifo)
    with _lib(tmp_path) as lib:
        lib.run_index(tiny, [root])
        with pytest.raises(QueryError, match="no such file"):
            lib.search(tiny, Query.of(like=tmp_path / "never.jpg"))
        out = {}

        def attempt():
            try:
                lib.search(tiny, Query.of(like=fifo))
            except QueryError as e:
                out["error"] = str(e)

        t = threading.Thread(target=attempt, daemon=True)
        t.start()
        t.join(20)
        if t.is_alive():  # unblock the open() so the thread ends
            with open(fifo, "wb"):
                pass
            t.join(5)
            pytest.fail("search --like on a FIFO blocked")
        assert "not a regular file" in out["error"]


def test_read_only_library_is_searched_without_writing(tmp_path, tmp_path_factory, tiny):
    """#10.11: a library on a read-only mount could not even be searched. A folder and file the process may
    not write stand in for the mount (as root: run as ``nobody`` meanwhile, as permissions do not stop root)."""
    import shutil

    root = tmp_path / "pics"
    root.mkdir()
    write_jpeg(root / "a.jpg", 1)
    base = _shared_tree(tmp_path_factory)
    try:
        libdir = base / "libdir"
        libdir.mkdir()
        with Library.open(libdir / "lib.db") as lib:
            lib.run_index(tiny, [root])
        assert sorted(p.name for p in libdir.iterdir()) == ["lib.db"]  # closed cleanly: no -wal/-shm
        before = (libdir / "lib.db").read_bytes()
        (libdir / "lib.db").chmod(0o444)
        libdir.chmod(0o555)
        as_root = os.geteuid() == 0
        try:
            if as_root:
                os.setegid(65534)
                os.seteuid(65534)
            with Library.open(libdir / "lib.db", read_only=True) as lib:
                assert [h.path for h in lib.search(tiny, Query.of("x"))] == [str(root / "a.jpg")]
                assert lib.status().photos == 1
        finally:
            if as_root:
                os.seteuid(0)
                os.setegid(0)
        assert sorted(p.name for p in libdir.iterdir()) == ["lib.db"]  # nothing created beside it
        assert (libdir / "lib.db").read_bytes() == before
    finally:
        for p in (base / "libdir", base / "libdir" / "lib.db"):
            if p.exists():
                p.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_second_indexer_gets_a_clear_message(tmp_path, tiny):
    """#10.12: two indexers on one library each embedded every photo."""
    from photosearch.errors import LibraryError

    root = tmp_path / "pics"
    root.mkdir()
    for i in range(4):
        write_jpeg(root / f"p{i}.jpg", i)
    with _lib(tmp_path) as a, _lib(tmp_path) as b:
        first = a.index(tiny, [root], batch_size=1, workers=1)
        next(first)
        with pytest.raises(LibraryError, match="another PhotoSearch is indexing"):
            b.run_index(tiny)
        rest = list(first)
        assert rest[-1].report.indexed == 4
        assert b.run_index(tiny).unchanged == 4  # the lock is gone with the first run


_PROBE = """
import fcntl, os, sys
from photosearch.library.query import Query
fd = os.open(sys.argv[1], os.O_RDWR)
try:  # SQLite's SHARED lock range: PENDING_BYTE + 2, 510 bytes (os_unix.c)
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000000 + 2)
    print("free")
except OSError:
    print("held")
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX locks")
def test_an_index_run_keeps_the_sqlite_locks_of_other_connections(tmp_path, tiny):
    """The index lock was a flock on the library file itself: closing its descriptor dropped every POSIX lock
    this process held on the file, so another process could take SQLite's exclusive lock under a reader."""
    import subprocess
    import sys

    root = tmp_path / "pics"
    root.mkdir()
    write_jpeg(root / "a.jpg", 1)

    def others_see() -> str:
        return subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "lib.db")], capture_output=True,
                              text=True, check=True).stdout.strip()

    with _lib(tmp_path) as reader, _lib(tmp_path) as writer:
        assert reader.conn.execute("SELECT count(*) FROM photos").fetchone()[0] == 0
        assert others_see() == "held"  # the reader's connection holds SQLite's shared lock
        assert writer.run_index(tiny, [root]).indexed == 1
        assert others_see() == "held"
        assert reader.conn.execute("SELECT count(*) FROM photos").fetchone()[0] == 1



def test_unusable_model_config_is_one_clear_error_and_blames_no_photo(tmp_path, tiny):
    """#10.5, #10.10: with input_size 0 every good photo was recorded as damaged (or a raw exception)."""
    import copy

    from photosearch.errors import ModelError

    root = tmp_path / "pics"
    root.mkdir()
    write_jpeg(root / "a.jpg", 1)
    broken = copy.copy(tiny)
    broken.config = copy.deepcopy(tiny.config)
    broken.config.preprocess.input_size = 0
    with _lib(tmp_path) as lib:
        with pytest.raises(ModelError, match="unusable configuration"):
            lib.run_index(broken, [root])
        assert lib.skipped() == [] and lib.run_index(tiny, [root]).indexed == 1


def test_many_threads_opening_one_library_at_once(tmp_path):
    """Threads of the window opening a new library at once: SQLite failed the switch to WAL ('database is
    locked', 'disk I/O error'; seen as indexing stopping in a GUI test) and the loser removed the file. Also:
    a parked header descriptor (see above) closed twice closed SQLite's own ('Bad file descriptor')."""
    import threading

    errors = []

    def work(db, k):
        try:
            for _ in range(3):
                with Library.open(db) as lib:
                    lib.add_folder(tmp_path) if k % 2 == 0 else lib.status()
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            errors.append(repr(e))

    for trial in range(120):
        db = tmp_path / f"lib{trial}.db"
        threads = [threading.Thread(target=work, args=(db, k)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def _open_twice(db) -> str:
    try:
        for _ in range(2):
            with Library.open(db) as lib:
                lib.status()
        return ""
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        return repr(e)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_many_processes_opening_one_new_library_at_once(tmp_path):
    """Processes (the app, `photosearch watch`, a second app) opening a new library at once: the switch to WAL
    failed at once with 'database is locked' (SQLite does not wait for that lock)."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(4) as pool:
        errors = [e for trial in range(60) for e in pool.map(_open_twice, [tmp_path / f"lib{trial}.db"] * 4) if e]
    assert errors == []


def _has_setpriv() -> bool:
    import shutil

    return os.geteuid() == 0 and shutil.which("setpriv") is not None


@pytest.mark.skipif(not _has_setpriv(), reason="needs root and util-linux's setpriv to run a process with "
                                                "capabilities as another user (the real EACCES from readdir)")
def test_a_listing_that_fails_part_way_keeps_the_run_going(tmp_path_factory, tiny):
    """#24.7: a folder that opens but whose listing fails (readdir's EACCES on /proc/PID/map_files of a
    process holding capabilities the reader lacks) stopped the run with a raw "[Errno 13]", indexing nothing.
    The reader runs as ``nobody``, as a user would; the target process too, with one capability."""
    import json
    import shutil
    import subprocess
    import sys

    from helpers import cli_env

    from photosearch.model.checkpoint import save_checkpoint

    base = _shared_tree(tmp_path_factory)
    target = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               "--inh-caps=+sys_nice", "--ambient-caps=+sys_nice", "sleep", "120"])
    try:
        pics = base / "pics"
        pics.mkdir()
        for i in range(3):
            write_jpeg(pics / f"p{i}.jpg", i)
        ckpt = save_checkpoint(tiny, base / "ckpt")
        for p in [base, *base.rglob("*")]:
            os.chown(p, 65534, 65534)
        proc_dir = f"/proc/{target.pid}"
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        probe = subprocess.run(as_nobody + [sys.executable, "-c", f"import os; os.listdir('{proc_dir}/map_files')"],
                               capture_output=True, text=True)
        if "Errno 13" not in probe.stderr:
            pytest.skip(f"this kernel lists another process's map_files: {probe.stderr.strip()[-200:]}")
        out = subprocess.run(as_nobody + [sys.executable, "-m", "photosearch", "--library", str(base / "lib.db"),
                                          "index", "--model", str(ckpt), "--no-text", "--json", str(pics), proc_dir],
                             capture_output=True, text=True, env=cli_env(base / "home"), timeout=300)
        assert out.returncode == 0, out.stderr
        rep = json.loads(out.stdout)
        assert rep["indexed"] == 3
        assert f"{proc_dir}/map_files" in rep["unreadable_folders"]
    finally:
        target.kill()
        target.wait()
        shutil.rmtree(base, ignore_errors=True)
