"""Videos as moments (photosearch/video.py): frames sampled at scene changes and at most every few seconds, each
with its time; rotated phone videos upright; damaged, empty and audio-only files refused with a reason, bounded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from videohelpers import write_audio_only, write_slideshow

from photosearch.video import Sampling, VideoSkip, read_video


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    from skimage import data

    return [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.hubble_deep_field()]


def _corr(img: Image.Image, ref: np.ndarray) -> float:
    a = np.asarray(img.convert("L").resize((48, 48)), dtype=np.float64).ravel()
    b = np.asarray(Image.fromarray(ref).convert("L").resize((48, 48)), dtype=np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("codec,ext", [("libx264", "mp4"), ("libvpx-vp9", "webm"), ("mpeg4", "avi"),
                                       ("libx264", "mkv"), ("libx264", "mov")])
def test_every_shown_photo_becomes_a_moment_at_its_time(tmp_path, photos, codec, ext):
    spans = write_slideshow(tmp_path / f"v.{ext}", photos, seconds_each=3.0, codec=codec)
    v = read_video(tmp_path / f"v.{ext}")
    assert (v.width, v.height) == (320, 240) and abs(v.duration_s - 15.0) < 0.5
    for arr, (start, end) in zip(photos, spans):
        inside = [m for m in v.moments if start <= m.t < end]
        assert inside, (start, end, [m.t for m in v.moments])
        assert max(_corr(m.image, arr) for m in inside) > 0.9  # the moment shows that photo


def test_long_shots_are_sampled_every_few_seconds(tmp_path, photos):
    write_slideshow(tmp_path / "v.mp4", photos[:2], seconds_each=20.0, fps=5, gop=250)
    v = read_video(tmp_path / "v.mp4", Sampling(max_gap_s=4.0))
    ts = [m.t for m in v.moments]
    assert ts == sorted(ts) and max(np.diff([0.0, *ts, 40.0])) <= 4.0 + 0.5


def test_frame_count_is_bounded_for_long_videos(tmp_path, photos):
    write_slideshow(tmp_path / "long.mp4", photos * 4, seconds_each=30.0, fps=2, size=(64, 48))  # 10 minutes
    v = read_video(tmp_path / "long.mp4", Sampling(max_frames=12))
    assert 6 <= len(v.moments) <= 12 and v.moments[-1].t > 300  # spread over the whole video


def test_rotated_phone_video_is_upright(tmp_path, photos):
    sideways = [np.ascontiguousarray(np.rot90(p, k=-1)) for p in photos[:2]]  # the sensor's view, turned CW
    write_slideshow(tmp_path / "phone.mp4", sideways, size=(240, 320), rotate=90)
    v = read_video(tmp_path / "phone.mp4")
    assert (v.width, v.height) == (320, 240)  # as shown
    assert v.moments[0].image.width > v.moments[0].image.height
    assert _corr(v.moments[0].image, photos[0]) > 0.9


def test_bad_files_are_refused_with_a_reason(tmp_path, photos):
    good = tmp_path / "good.mp4"
    write_slideshow(good, photos[:2])
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # the index (moov) is written last: gone
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    fake = tmp_path / "fake.mov"
    fake.write_text("not a video at all\n" * 100)
    audio = write_audio_only(tmp_path / "sound.mkv")
    reasons = {}
    for p in (cut, empty, fake, audio):
        with pytest.raises(VideoSkip) as e:
            read_video(p)
        reasons[p.name] = e.value.reason
    assert "no video stream" in reasons["sound.mkv"] and reasons["empty.mp4"] == "empty file"
    assert all(r and "Traceback" not in r for r in reasons.values()), reasons


# -- videos in the library ---------------------------------------------------------------------------------
def test_a_video_is_found_at_the_moment_that_matches(tmp_path, photos, tiny):
    from photosearch.library import Library
    from photosearch.library.query import Query

    pics = tmp_path / "pics"
    pics.mkdir()
    spans = write_slideshow(pics / "holiday.mp4", photos, seconds_each=3.0)
    Image.fromarray(photos[2]).save(tmp_path / "example.png")  # the third photo shown, outside the library
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(pics / "grey.png")
    with Library.open(tmp_path / "lib.db") as lib:
        rep = lib.run_index(tiny, [pics], batch_size=4)
        assert rep.indexed == 2 and rep.skipped == []
        info = lib.photo_info(pics / "holiday.mp4")
        assert info["format"] == "VIDEO-MP4" and (info["width"], info["height"]) == (320, 240)
        assert info["duration_s"] == pytest.approx(spans[-1][1], abs=0.2) and lib.photo_info(pics / "grey.png")[
            "duration_s"] is None
        n = lib.conn.execute("SELECT count(*) FROM video_frames").fetchone()[0]
        assert n >= len(photos)
        hit = lib.search(tiny, Query.of(like=tmp_path / "example.png", top_k=5))[0]
        assert hit.path == str(pics / "holiday.mp4")
        start, end = spans[2]
        assert start - 0.5 <= hit.time_s < end, (hit.time_s, spans)
        assert hit.duration_s == pytest.approx(spans[-1][1], abs=0.2)  # shown on the video's tile
        browsed = {h.path: h.duration_s for h in lib.search(tiny, Query.of(top_k=5))}
        assert browsed == {str(pics / "holiday.mp4"): hit.duration_s, str(pics / "grey.png"): None}
        # The preview's strip: the best moments for a query, best first, the first the hit's own moment.
        stored = [r[0] for r in lib.conn.execute("SELECT t FROM video_frames ORDER BY t")]
        typed = lib.search(tiny, Query.of("a rocket", types=["video"], top_k=1))[0]
        best = lib.video_moments(tiny, pics / "holiday.mp4", "a rocket", n=3)
        assert len(best) == 3 and best[0][0] == pytest.approx(typed.time_s, abs=0.01)
        assert [s for _, s in best] == sorted((s for _, s in best), reverse=True) and {t for t, _ in best} <= set(stored)
        spread = lib.video_moments(tiny, pics / "holiday.mp4", None, n=3)  # browsing: across the whole video
        ts = [t for t, _ in spread]
        assert len(ts) == 3 and ts == sorted(ts) and (ts[0], ts[-1]) == (stored[0], stored[-1])
        assert lib.video_moments(tiny, pics / "grey.png", "a rocket") == []
        only = lib.search(tiny, Query.of(like=tmp_path / "example.png", types=["video"], top_k=5))
        assert [h.path for h in only] == [str(pics / "holiday.mp4")]
        stills = lib.search(tiny, Query.of(like=tmp_path / "example.png", types=["png"], top_k=5))
        assert [h.path for h in stills] == [str(pics / "grey.png")] and stills[0].time_s is None
        # A video indexed before lengths were kept gets its length on the next run, without being read again.
        lib.conn.execute("UPDATE photos SET duration_s = NULL")
        assert lib.run_index(tiny).indexed == 0
        assert lib.photo_info(pics / "holiday.mp4")["duration_s"] == pytest.approx(spans[-1][1], abs=0.2)
        assert lib.photo_info(pics / "grey.png")["duration_s"] is None
        # A changed video loses its old moments; a removed one takes them along.
        write_slideshow(pics / "holiday.mp4", photos[:2], seconds_each=2.0)
        lib.run_index(tiny)
        ts = [r[0] for r in lib.conn.execute("SELECT t FROM video_frames ORDER BY t")]
        assert ts and max(ts) < 4.0
        (pics / "holiday.mp4").unlink()
        lib.run_index(tiny)
        assert lib.conn.execute("SELECT count(*) FROM video_frames").fetchone()[0] == 0


def _older(lib) -> None:
    """The library as a version before lengths were kept left it: no video has one."""
    with lib.conn:
        lib.conn.execute("UPDATE photos SET duration_s = NULL")


def test_a_length_not_in_the_header_is_looked_for_once_and_offline_videos_wait(tmp_path, photos, tiny):
    import json

    from photosearch.library import Library
    from photosearch.library.frames import DURATIONS_KEY

    pics, card = tmp_path / "pics", tmp_path / "card"
    pics.mkdir()
    card.mkdir()
    write_slideshow(pics / "holiday.mp4", photos[:2], seconds_each=2.0)
    write_slideshow(pics / "odd.mkv", photos[:1], seconds_each=2.0)
    write_slideshow(card / "trip.mp4", photos[2:4], seconds_each=1.5)
    with Library.open(tmp_path / "lib.db") as lib:
        assert lib.run_index(tiny, [pics, card]).indexed == 3
        _older(lib)
        # odd.mkv's bytes become something with no header at all, its size and mtime unchanged (the index run sees
        # it unchanged and keeps it); the card is not mounted.
        st = (pics / "odd.mkv").stat()
        (pics / "odd.mkv").write_bytes(b"\0" * st.st_size)
        os.utime(pics / "odd.mkv", ns=(st.st_atime_ns, st.st_mtime_ns))
        card.rename(tmp_path / "card-away")

        def length(p):
            return lib.photo_info(p)["duration_s"]

        def noted() -> dict:
            row = lib.conn.execute("SELECT value FROM meta WHERE key = ?", (DURATIONS_KEY,)).fetchone()
            return json.loads(row[0]) if row else {}

        rep = lib.run_index(tiny)  # the bad file raises nothing
        assert rep.indexed == 0 and rep.skipped == [] and rep.missing_folders == [str(card)]
        assert length(pics / "holiday.mp4") == pytest.approx(4.0, abs=0.2)
        assert length(pics / "odd.mkv") is None and length(card / "trip.mp4") is None
        # The header without a length is noted with the content looked at, so the next runs do not open it again;
        # the offline video is neither opened nor noted.
        odd = lib.conn.execute("SELECT id, hash FROM photos WHERE path LIKE '%odd.mkv'").fetchone()
        assert noted() == {str(odd[0]): odd[1]}
        (tmp_path / "card-away").rename(card)  # back: its video gets its length
        assert lib.run_index(tiny).indexed == 0
        assert length(card / "trip.mp4") == pytest.approx(3.0, abs=0.2) and length(pics / "odd.mkv") is None
        write_slideshow(pics / "odd.mkv", photos[:2], seconds_each=2.5)  # a video again: indexed, the note dropped
        assert lib.run_index(tiny).indexed == 1 and length(pics / "odd.mkv") == pytest.approx(5.0, abs=0.2)
        assert noted() == {}


def test_the_index_command_fills_the_length_search_json_shows(tmp_path, home, photos, tiny):
    import json
    import subprocess
    import sys

    from helpers import cli_env
    from photosearch.library import Library
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = str(save_checkpoint(tiny, tmp_path / "tiny-ckpt"))
    pics = tmp_path / "pics"
    pics.mkdir()
    write_slideshow(pics / "clip.mov", photos[:3], seconds_each=2.0)
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:  # in-process: the commands under test are the later ones
        assert lib.run_index(tiny, [pics]).indexed == 1
        _older(lib)

    def cli(*args):
        r = subprocess.run([sys.executable, "-m", "photosearch", "--library", str(db), *args, "--model", model_dir],
                           env=cli_env(home), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return r.stdout

    cli("index", "--no-text")
    [row] = json.loads(cli("search", "--json"))
    assert row["path"] == str(pics / "clip.mov") and row["duration_s"] == pytest.approx(6.0, abs=0.2)


@pytest.mark.slow
def test_starter_finds_the_cat_moment(tmp_path, photos, starter_model):
    from photosearch.library import Library
    from photosearch.library.query import Query

    pics = tmp_path / "pics"
    pics.mkdir()
    spans = write_slideshow(pics / "clip.mp4", photos, seconds_each=3.0)
    with Library.open(tmp_path / "lib.db") as lib:
        lib.run_index(starter_model, [pics])
        hit = lib.search(starter_model, Query.of("a cat", top_k=3))[0]
    start, end = spans[2]  # chelsea the cat
    assert start - 0.5 <= hit.time_s < end, (hit.time_s, spans)


# -- playing a moment --------------------------------------------------------------------------------------
def test_frame_at_is_the_frame_shown_at_that_second(tmp_path, photos):
    from photosearch.video import frame_at

    spans = write_slideshow(tmp_path / "v.mp4", photos, seconds_each=2.0, gop=12)
    for i in (0, 2, 4):
        start, end = spans[i]
        img = frame_at(tmp_path / "v.mp4", (start + end) / 2, short_side=120)
        assert min(img.size) == 120
        corr = [_corr(img, p) for p in photos]
        assert int(np.argmax(corr)) == i, (i, corr)
    assert int(np.argmax([_corr(frame_at(tmp_path / "v.mp4", 99.0), p) for p in photos])) == 4  # past the end
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    with pytest.raises(VideoSkip):
        frame_at(tmp_path / "bad.mp4", 1.0)


def test_player_command_starts_at_the_moment_where_the_player_can():
    from photosearch.video import player_command

    def only(*names):
        return lambda name: f"/usr/bin/{name}" if name in names else None

    v = str(Path("/videos/holiday.mp4").resolve())
    assert player_command(v, 42.0, which=only("mpv", "vlc")) == ["/usr/bin/mpv", "--start=42", v]  # mpv first
    assert player_command(v, 6.25, which=only("vlc")) == ["/usr/bin/vlc", "--start-time=6.25", v]
    assert player_command(v, 0.0, which=only("mpv")) == ["/usr/bin/mpv", "--start=0", v]
    assert player_command(v, 42.0, which=only()) is None  # no such player: the default app, from the start
    assert player_command(v, None, which=only("mpv")) is None  # a photo, or a video without a moment
    assert player_command("-rel.mp4", 1.5, which=only("mpv"))[-1] == os.path.abspath("-rel.mp4")  # never an option
    real = player_command(v, 3.0)  # the real PATH: whichever is installed, or none
    assert real is None or (real[0] in (shutil.which("mpv"), shutil.which("vlc")) and real[-1] == v)
