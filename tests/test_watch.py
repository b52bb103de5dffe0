"""The live library: real file-system events in temporary folders (no mocks of watchdog), a tiny model."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from helpers import cli_env, tiny_model
from libhelpers import write_jpeg
from watchhelpers import Watcher, paths_in

from photosearch.library import Library
from photosearch.library.watch import OFFLINE, POLLING, WATCHING, looks_complete


@pytest.fixture
def setup(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        write_jpeg(photos / f"p{i}.jpg", seed=i)
    lib_path = tmp_path / "lib.db"
    model = tiny_model(tmp_path)
    with Library.open(lib_path) as lib:
        lib.add_folder(photos)
    return photos, lib_path, model


def test_add_modify_delete_and_renames_are_indexed_in_batches(setup, tmp_path):
    photos, lib_path, model = setup
    w = Watcher(lib_path, model, None)
    try:
        start = w.next("folders")
        assert [s.mode for s in start.folders] == [WATCHING]
        first = w.next("batch")  # the catch-up run
        assert first.report.indexed == 3

        write_jpeg(photos / "new.jpg", seed=10)
        ev = w.next("batch", lambda e: e.report.indexed >= 1)
        assert ev.report.indexed == 1 and str(photos / "new.jpg") in paths_in(lib_path)

        write_jpeg(photos / "new.jpg", seed=11)  # changed content
        ev = w.next("batch", lambda e: e.report.indexed >= 1)
        assert ev.report.indexed == 1

        os.rename(photos / "p0.jpg", photos / "renamed.jpg")
        ev = w.next("batch", lambda e: e.report.moved >= 1)
        assert ev.report.indexed == 0, "a rename is a move: nothing is re-embedded"
        assert str(photos / "renamed.jpg") in paths_in(lib_path)

        (photos / "sub").mkdir()
        write_jpeg(photos / "sub" / "a.jpg", seed=12)
        w.next("batch", lambda e: str(photos / "sub" / "a.jpg") in paths_in(lib_path))
        os.rename(photos / "sub", photos / "moved-sub")
        ev = w.next("batch", lambda e: e.report.moved >= 1)
        assert ev.report.indexed == 0
        assert str(photos / "moved-sub" / "a.jpg") in paths_in(lib_path)

        (photos / "p1.jpg").unlink()
        ev = w.next("batch", lambda e: e.report.removed >= 1)
        assert str(photos / "p1.jpg") not in paths_in(lib_path)
    finally:
        w.stop()


def test_a_burst_of_files_is_a_few_batches_and_nothing_is_indexed_twice(setup):
    photos, lib_path, model = setup
    w = Watcher(lib_path, model, None, settle=0.5)
    try:
        w.next("batch")
        for i in range(40):
            write_jpeg(photos / f"burst{i:02d}.jpg", seed=100 + i)
        total, batches = 0, 0
        while total < 40:
            ev = w.next("batch")
            total += ev.report.indexed
            batches += 1
        assert total == 40 and batches <= 5
    finally:
        w.stop()


def test_a_slow_writer_is_indexed_once_complete_not_half_way(setup):
    photos, lib_path, model = setup
    w = Watcher(lib_path, model, None, settle=0.3, max_wait=20.0)
    try:
        w.next("batch")
        src = write_jpeg(photos.parent / "whole.jpg", seed=7, size=(400, 300))
        data = src.read_bytes()
        dest = photos / "slow.jpg"
        with open(dest, "wb") as f:  # about 2.5 s, pausing longer than `settle` between chunks
            for i in range(0, len(data), len(data) // 5 + 1):
                f.write(data[i:i + len(data) // 5 + 1])
                f.flush()
                time.sleep(0.5)
        ev = w.next("batch", lambda e: e.report.indexed >= 1)
        assert ev.report.skipped == [], "the file was never indexed half-written"
        with Library.open(lib_path) as lib:
            assert lib.skipped() == []
        assert str(dest) in paths_in(lib_path)
    finally:
        w.stop()


def test_a_file_that_stays_truncated_is_skipped_then_retried_when_it_changes(setup):
    photos, lib_path, model = setup
    w = Watcher(lib_path, model, None, settle=0.2, max_wait=1.5)
    try:
        w.next("batch")
        data = write_jpeg(photos.parent / "whole.jpg", seed=8, size=(300, 200)).read_bytes()
        (photos / "cut.jpg").write_bytes(data[: len(data) // 2])
        assert not looks_complete(str(photos / "cut.jpg"))
        ev = w.next("batch", lambda e: e.report.skipped)
        assert ev.report.skipped[0]["path"] == str(photos / "cut.jpg")
        (photos / "cut.jpg").write_bytes(data)  # the copy finishes later
        w.next("batch", lambda e: e.report.indexed >= 1)
        with Library.open(lib_path) as lib:
            assert [s["path"] for s in lib.skipped()] == []
    finally:
        w.stop()


def test_a_folder_that_goes_away_is_offline_keeps_its_photos_and_comes_back_without_re_embedding(setup):
    photos, lib_path, model = setup
    w = Watcher(lib_path, model, None)
    try:
        w.next("batch")
        before = paths_in(lib_path)
        away = photos.parent / "unplugged"
        os.rename(photos, away)  # the drive is unplugged
        ev = w.next("folders", lambda e: e.folders[0].mode == OFFLINE)
        assert ev.folders[0].reason
        assert paths_in(lib_path) == before, "an offline folder keeps its photos"
        os.rename(away, photos)  # plugged back in
        w.next("folders", lambda e: e.folders[0].mode == WATCHING)
        ev = w.next("batch")
        assert ev.report.indexed == 0 and ev.report.removed == 0
        write_jpeg(photos / "after.jpg", seed=30)  # and watching resumed
        w.next("batch", lambda e: e.report.indexed == 1)
    finally:
        w.stop()


def test_polling_fallback_indexes_changes(setup):
    photos, lib_path, model = setup
    w = Watcher(lib_path, model, None, force_polling=True, poll_interval=0.3)
    try:
        start = w.next("folders")
        assert start.folders[0].mode == POLLING and start.folders[0].reason
        w.next("batch")
        write_jpeg(photos / "polled.jpg", seed=40)
        w.next("batch", lambda e: e.report.indexed == 1)
        assert str(photos / "polled.jpg") in paths_in(lib_path)
    finally:
        w.stop()


def test_a_folder_removed_from_the_library_is_not_re_added_by_the_watcher(setup):
    photos, lib_path, model = setup
    w = Watcher(lib_path, model, None)
    try:
        w.next("batch")
        with Library.open(lib_path) as lib:
            lib.remove_folder(photos)
        write_jpeg(photos / "late.jpg", seed=50)
        time.sleep(1.5)  # give a wrong batch time to happen: nothing may be indexed (an absence has no signal)
        with Library.open(lib_path) as lib:
            assert lib.folders() == [] and paths_in(lib_path) == set()
    finally:
        w.stop()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_cli_watch_prints_one_json_object_per_batch_and_stops_cleanly_on_ctrl_c(setup, tmp_path):
    from photosearch.model.checkpoint import save_checkpoint

    photos, lib_path, model = setup
    ckpt = save_checkpoint(model, tmp_path / "tiny-ckpt")
    proc = subprocess.Popen([sys.executable, "-m", "photosearch", "--library", str(lib_path), "watch", "--model",
                             str(ckpt), "--settle", "0.3", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=cli_env(tmp_path / "home"))
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(json.loads(x)) for x in proc.stdout], daemon=True).start()

    def next_batch():
        end = time.monotonic() + 120
        while time.monotonic() < end:
            obj = lines.get(timeout=max(0.1, end - time.monotonic()))
            if obj["kind"] == "batch":
                return obj
        raise AssertionError("no batch")

    try:
        assert next_batch()["report"]["indexed"] == 3
        write_jpeg(photos / "cli.jpg", seed=60)
        obj = next_batch()
        assert obj["report"]["indexed"] == 1 and obj["changed"] >= 1
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_videos_and_heic_being_copied_do_not_look_complete(tmp_path):
    """MP4/MOV/HEIC (ISO base media: the last box runs past the end while copying) and AVI (the RIFF header's
    size) tell a copy in progress; a file cut anywhere is not complete, the whole file is."""
    import numpy as np
    import pillow_heif
    from PIL import Image
    from videohelpers import write_slideshow

    frames = [np.full((120, 160, 3), v, np.uint8) for v in (40, 200)]
    files = []
    for name, codec in (("v.mp4", "libx264"), ("v.mov", "libx264"), ("v.avi", "mpeg4")):
        write_slideshow(tmp_path / name, frames, seconds_each=1.0, size=(160, 120), codec=codec)
        files.append(tmp_path / name)
    pillow_heif.register_heif_opener()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(tmp_path / "p.heic")
    files.append(tmp_path / "p.heic")
    for whole in files:
        data = whole.read_bytes()
        assert looks_complete(str(whole)), whole.name
        for cut in (6, 13, len(data) // 3, len(data) - 1):
            part = tmp_path / f"part{whole.suffix}"
            part.write_bytes(data[:cut])
            assert not looks_complete(str(part)), (whole.name, cut)
    (tmp_path / "v.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + bytes(40))  # a kind without sizes to check: not held
    assert looks_complete(str(tmp_path / "v.mkv"))


def test_a_video_copied_slowly_is_indexed_once_whole(setup):
    """A copy that pauses longer than ``settle`` between chunks is not read half-way (which would record a
    damaged video): the watcher waits for its last box."""
    import numpy as np
    from videohelpers import write_slideshow

    photos, lib_path, model = setup
    w = Watcher(lib_path, model, None, settle=0.2, max_wait=30)
    try:
        w.next("batch")
        src = photos.parent / "whole.mp4"
        write_slideshow(src, [np.full((120, 160, 3), v, np.uint8) for v in (30, 220)], size=(160, 120))
        data = src.read_bytes()
        dest = photos / "clip.mp4"
        with open(dest, "wb") as f:  # ~2 s, pausing longer than `settle` between chunks
            for i in range(0, len(data), len(data) // 4 + 1):
                f.write(data[i:i + len(data) // 4 + 1])
                f.flush()
                time.sleep(0.5)
        ev = w.next("batch", lambda e: e.report.indexed >= 1 or e.report.skipped)
        assert ev.report.skipped == [] and ev.report.indexed == 1, "the video was read half-copied"
        with Library.open(lib_path) as lib:
            assert lib.skipped() == []
            assert lib.conn.execute("SELECT count(*) FROM video_frames").fetchone()[0] >= 2
    finally:
        w.stop()
