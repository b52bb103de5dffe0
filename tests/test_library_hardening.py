"""Hardening of the library (issue #10): odd names, unreadable and unmounted folders, concurrent changes,
skip records that expire, foreign files, read-only libraries, two indexers. Real files, no mocks."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import pytest
from libhelpers import write_jpeg

from photosearch.library import Library


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
        paths = {h.path for h in lib.search(tiny, "anything", top_k=10)}
        assert os.fsdecode(raw) in paths
        assert {os.fsencode(p) for p in paths} >= {raw}  # the real bytes come back
        assert lib.photo_info(os.fsdecode(raw))["width"] == 96
        assert lib.run_index(tiny).unchanged == 4  # and the next run finds it unchanged
        hit = lib.search(tiny, None, like=os.fsdecode(raw), top_k=1)[0]
        assert os.fsencode(hit.path) == raw and hit.score > 0.99
        lib.remove_folder(root)
        assert lib.status()["photos"] == 0


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
            assert lib.status()["photos"] == 4
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
        assert lib.status()["photos"] == 3 and lib.status()["missing_folders"] == [str(root)]
        assert "empty" in lib.offline_folders()[str(root)]
        # The same folder name on another device than recorded (another drive mounted there): offline too.
        root.rmdir()
        moved.rename(root)
        lib.conn.execute("UPDATE folders SET device = ?", (dev + 1,))
        rep = lib.run_index(tiny)
        assert rep.removed == 0 and rep.missing_folders == [str(root)]
        assert "device" in lib.offline_folders()[str(root)]
        # Back on its device: indexed as usual, nothing redone.
        lib.conn.execute("UPDATE folders SET device = ?", (dev,))
        rep = lib.run_index(tiny)
        assert (rep.unchanged, rep.indexed, rep.missing_folders) == (3, 0, [])


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
        assert lib.search(tiny, "anything", top_k=20) == []


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
