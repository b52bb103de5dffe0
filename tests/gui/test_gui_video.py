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
    return pics, tmp_path / "example.png", spans[2]


def test_a_video_hit_shows_as_a_video_at_its_moment(qtbot, make_window, tiny_loaded, video_folder, tmp_path,
                                                   monkeypatch):
    from photosearch.gui.search.resultsmodel import TimeRole, VideoRole
    from photosearch.humanize import format_duration

    pics, example, (start, end) = video_folder
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
    # The delegate: the tile's play badge carries the moment; a photo's tile has none.
    delegate = drv.grid.delegate
    assert delegate.play_label(model, idx) == f"▶ {format_duration(t)}"
    assert delegate.play_label(model, grey) is None
    qtbot.waitUntil(lambda: model.pixmaps.get(video) is not None, timeout=20_000)  # the poster frame
    shot = drv.grid.grab()  # the grid paints with the badge
    assert not shot.isNull()
    if os.environ.get("PHOTOSEARCH_SHOTS"):
        shot.save(os.path.join(os.environ["PHOTOSEARCH_SHOTS"], "video-grid.png"))

    # The preview of the selected video says which moment matched; a photo's says nothing of the kind.
    assert drv.select(0) == video
    assert win.preview.kind.text() == f"Video · best moment at {format_duration(t)}"
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
