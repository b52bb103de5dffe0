"""Videos in the window: a video hit is a video tile (a play badge with its matching moment), the preview says
which moment matched, and Open plays from that moment in a player that can start there."""

from __future__ import annotations

import os
import stat
import sys

import numpy as np
import pytest
from PIL import Image
from videohelpers import write_slideshow

from driver import Driver

pytestmark = pytest.mark.gui


@pytest.fixture
def video_folder(tmp_path):
    """One slideshow video of five real photos (3 s each) and one grey photo; the example image is the video's
    third photo, saved outside the folder."""
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.hubble_deep_field()]
    pics = tmp_path / "pics"
    pics.mkdir()
    spans = write_slideshow(pics / "holiday.mp4", photos, seconds_each=3.0)
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(pics / "grey.png")
    Image.fromarray(photos[2]).save(tmp_path / "example.png")
    return pics, tmp_path / "example.png", spans[2], photos


def _rgb(pm) -> np.ndarray:
    img = pm.toImage().convertToFormat(pm.toImage().Format.Format_RGB888)
    return np.frombuffer(bytes(img.constBits()), np.uint8).reshape(img.height(), img.bytesPerLine())[
        :, : img.width() * 3].reshape(img.height(), img.width(), 3)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    x = np.asarray(Image.fromarray(a).convert("L").resize((48, 48)), dtype=np.float64).ravel()
    y = np.asarray(Image.fromarray(b).convert("L").resize((48, 48)), dtype=np.float64).ravel()
    return float(np.corrcoef(x, y)[0, 1])


def test_a_video_hit_shows_as_a_video_at_its_moment(qtbot, make_window, tiny_loaded, video_folder, tmp_path,
                                                   monkeypatch):
    from photosearch.gui.search.resultsmodel import TimeRole, VideoRole
    from photosearch.humanize import format_duration

    pics, example, (start, end), photos = video_folder
    win = make_window(tiny_loaded)
    drv = Driver(qtbot, win)
    rep = drv.add_folder(pics)
    assert rep.indexed == 2 and rep.skipped == []
    out = drv.search_like(example)
    video = str(pics / "holiday.mp4")
    assert drv.result_paths()[0] == video and out.hits[0].time_s is not None

    # The model: the video's moment lies in the third photo's span; the photo is no video and has no moment.
    model, idx = win.results, win.results.index(0)
    t = model.time_at(idx)
    assert start - 0.5 <= t < end, (t, start, end)
    assert model.is_video_at(idx) and model.data(idx, VideoRole) is True and model.data(idx, TimeRole) == t
    assert model.moment_of(video) == t
    grey = win.results.index(win.results.row_of(str(pics / "grey.png")))  # by path: a divider row may sit between
    assert not model.is_video_at(grey) and model.time_at(grey) is None
    # The delegate: the tile's play badge carries the moment and the video's length; a photo's tile has none.
    delegate = drv.grid.delegate
    length = out.hits[0].duration_s
    assert length == pytest.approx(15.0, abs=0.2)
    assert delegate.play_label(model, idx) == f"▶ {format_duration(t)} / {format_duration(length)}"
    assert delegate.play_label(model, grey) is None
    # The tile shows the matching moment's frame (the cat, third in the slideshow), not the first frame.
    qtbot.waitUntil(lambda: model.pixmaps.get(model.thumb_key(video)) is not None, timeout=20_000)
    tile = _rgb(model.pixmaps.get(model.thumb_key(video)))
    corr = [_corr(tile, p) for p in photos]
    assert int(np.argmax(corr)) == 2, corr
    shot = drv.grid.grab()  # the grid paints with the badge
    assert not shot.isNull()
    if os.environ.get("PHOTOSEARCH_SHOTS"):
        shot.save(os.path.join(os.environ["PHOTOSEARCH_SHOTS"], "video-grid.png"))

    # The preview of the selected video says which moment matched; a photo's says nothing of the kind.
    assert drv.select(0) == video
    qtbot.waitUntil(lambda: win.preview.kind.text() == f"Video · {format_duration(length)} · best moment at "
                                                       f"{format_duration(t)}")
    assert win.preview.kind.isVisibleTo(win.preview)
    drv.select(grey.row())
    qtbot.waitUntil(lambda: win.preview.path == str(pics / "grey.png"))
    assert not win.preview.kind.isVisibleTo(win.preview)

    # Open plays from the moment in a player that can start there: an "mpv" on PATH that records its arguments.
    if sys.platform.startswith("win"):
        return  # the stand-in player is a shell script
    bin_dir, record = tmp_path / "bin", tmp_path / "mpv-args.txt"
    bin_dir.mkdir()
    fake = bin_dir / "mpv"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}.part" && mv "{record}.part" "{record}"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    drv.select(0)
    win.preview.open_btn.click()
    qtbot.waitUntil(record.exists, timeout=10_000)
    args = record.read_text().splitlines()
    assert args[-1] == video and args[0].startswith("--start=")
    assert abs(float(args[0].split("=", 1)[1]) - t) < 0.01


def test_the_preview_strip_plays_a_moment_and_browsing_shows_lengths(qtbot, make_window, tiny_loaded, video_folder,
                                                                    tmp_path, monkeypatch):
    from photosearch.gui.base import desktop
    from photosearch.humanize import format_duration

    pics, example, (start, end), photos = video_folder
    win = make_window(tiny_loaded)
    win.resize(1366, 768)
    drv = Driver(qtbot, win)
    drv.add_folder(pics)
    video = str(pics / "holiday.mp4")
    # Browsing (empty search box): the video's tile shows its length, no moment.
    drv.clear_search()
    qtbot.waitUntil(lambda: video in drv.result_paths(), timeout=20_000)
    idx = win.results.index(win.results.row_of(video))
    assert drv.grid.delegate.play_label(win.results, idx) == "▶ 0:15"
    strip = win.preview.moments
    drv.select(idx.row())
    qtbot.waitUntil(lambda: len(strip.buttons) > 1, timeout=20_000)  # browsing: moments across the video
    times = [t for t, _ in strip.moments]
    assert strip.caption.text().startswith("Moments") and times == sorted(times) and times[-1] > 9

    out = drv.search_like(example)
    t = out.hits[0].time_s
    if sys.platform.startswith("win"):
        return  # the stand-in player below is found through PATH as a Unix executable
    started = []
    monkeypatch.setattr(desktop, "start_detached", lambda cmd: started.append(cmd) or True)
    bin_dir = tmp_path / "bin"  # an "mpv" on PATH (never run: start_detached records the command)
    bin_dir.mkdir()
    (bin_dir / "mpv").write_text("#!/bin/sh\n")
    (bin_dir / "mpv").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    drv.select(0)
    qtbot.waitUntil(lambda: strip.caption.text().startswith("Best-matching") and len(strip.buttons) > 1,
                    timeout=20_000)
    assert strip.isVisibleTo(win.preview)
    assert start - 0.5 <= strip.moments[0][0] < end  # ranked by the example (the cat): its moment first
    assert strip.buttons[0].text() == format_duration(strip.moments[0][0])
    qtbot.waitUntil(lambda: len(strip.framed) == len(strip.buttons), timeout=20_000)  # their frames arrive
    strip.buttons[-1].click()
    cmd = started[-1]
    assert cmd[0] == str(bin_dir / "mpv") and cmd[2] == video
    assert abs(float(cmd[1].removeprefix("--start=")) - strip.moments[-1][0]) < 0.01
    # A photo has no strip.
    drv.select(win.results.row_of(str(pics / "grey.png")))
    qtbot.waitUntil(lambda: not strip.isVisibleTo(win.preview))
    if os.environ.get("PHOTOSEARCH_SHOTS"):
        drv.select(0)
        qtbot.waitUntil(lambda: len(strip.buttons) > 1 and len(strip.framed) == len(strip.buttons), timeout=20_000)
        win.grab().save(os.path.join(os.environ["PHOTOSEARCH_SHOTS"], "video-moments.png"))
    assert t is not None
