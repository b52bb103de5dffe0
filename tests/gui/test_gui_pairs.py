"""A RAW+JPEG pair and a Live Photo in the window: one tile named for its files ("RAW + JPEG"), and the preview
lists the other file with links that open it or show it in its folder."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from rawhelpers import write_dng
from videohelpers import write_slideshow

from driver import Driver

pytestmark = pytest.mark.gui


def test_a_shot_is_one_tile_and_the_preview_reaches_each_file(qtbot, make_window, tiny_loaded, tmp_path,
                                                             monkeypatch):
    from skimage import data

    from photosearch.gui.base import desktop

    pics = tmp_path / "pics"
    pics.mkdir()
    photo = data.astronaut()[:, 56:456]
    write_dng(pics / "IMG_0001.CR2.dng", photo)  # another stem: a RAW of its own
    write_dng(pics / "IMG_0001.DNG", photo)
    Image.fromarray(photo).save(pics / "IMG_0001.JPG", quality=85)
    Image.fromarray(data.chelsea()).save(pics / "IMG_0002.JPG", quality=85)
    write_slideshow(pics / "IMG_0002.MOV", [data.chelsea()], seconds_each=2.0)
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(pics / "grey.png")

    win = make_window(tiny_loaded)
    win.resize(1366, 768)
    drv = Driver(qtbot, win)
    rep = drv.add_folder(pics)
    assert rep.indexed == 4 and rep.skipped == []
    drv.search_like(pics / "IMG_0001.JPG")
    assert sorted(drv.result_names()) == ["IMG_0001.CR2.dng", "IMG_0001.JPG", "IMG_0002.JPG", "grey.png"]

    opened, shown = [], []
    monkeypatch.setattr(desktop, "open_path", lambda p: opened.append(p) or True)
    monkeypatch.setattr(desktop, "reveal_path", lambda p: shown.append(p) or True)
    why = win.preview.why
    for still, other, files in (("IMG_0001.JPG", "IMG_0001.DNG", "RAW + JPEG"),
                                ("IMG_0002.JPG", "IMG_0002.MOV", "JPEG + Live video")):
        row = win.results.row_of(str(pics / still))
        hit = win.results.hit(row)
        assert hit.copies == [str(pics / other)] and hit.files == files
        assert files in win.results.data(win.results.index(row), 3)  # the tooltip (Qt.ToolTipRole)
        drv.select(row)
        qtbot.waitUntil(lambda still=still: win.preview.path == str(pics / still))
        assert why.copies.isVisibleTo(win.preview)
        assert why.copies.text().startswith(f"<b>{files}</b>: also {other}")
        why.copies.linkActivated.emit("open:0")  # as a click on the link does
        why.copies.linkActivated.emit("reveal:0")
        assert opened[-1] == str(pics / other) and shown[-1] == str(pics / other)
        win.preview.open_btn.click()  # the result itself is still the still
        assert opened[-1] == str(pics / still)
    drv.select(win.results.row_of(str(pics / "grey.png")))
    qtbot.waitUntil(lambda: win.preview.path == str(pics / "grey.png"))
    assert not why.copies.isVisibleTo(win.preview)
    if os.environ.get("PHOTOSEARCH_SHOTS"):
        drv.select(win.results.row_of(str(pics / "IMG_0001.JPG")))
        win.grab().save(os.path.join(os.environ["PHOTOSEARCH_SHOTS"], "raw-pair.png"))
