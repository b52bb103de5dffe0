"""Face boxes in the preview on real faces, in the window at 1366x768: a box and a name per face (none on a photo
without faces, none left over from a photo no longer shown, right on an EXIF-rotated photo), and naming or
correcting a face in place by mouse and by keyboard, written by the one writer and seen by the People panel and
`photosearch people --json`, kept by a re-group."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from driver import Driver, deliver_posted_events
from facehelpers import astronaut, box_iou, group_photo, hopper, variant
from helpers import cli_env
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from photosearch.faces import people
from photosearch.faces.engine import FaceEngine
from photosearch.library import Library

pytestmark = pytest.mark.gui


@pytest.fixture
def face_photos(tmp_path, tiny_loaded) -> tuple[Path, Path]:
    """Collins twice, Hopper once, both in a group photo (Collins left), Hopper again stored sideways with an
    EXIF orientation, and a photo without faces; indexed with faces (each person one group of three)."""
    pics = tmp_path / "pics"
    pics.mkdir()
    for s in range(2):
        variant(astronaut(), 300 + s).save(pics / f"collins{s}.jpg", quality=88)
    variant(hopper(), 400).save(pics / "hopper0.jpg", quality=88)
    group_photo([astronaut(), hopper()]).save(pics / "group.jpg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to show": the pixels are stored turned left
    variant(hopper(), 401).transpose(Image.Transpose.ROTATE_90).save(pics / "sideways.jpg", quality=90,
                                                                        exif=exif.tobytes())
    Image.new("RGB", (320, 240), (40, 120, 200)).save(pics / "sky.jpg", quality=90)
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:
        lib.run_index(tiny_loaded, [str(pics)], faces=True, face_engine=FaceEngine())
    return db, pics


def _open(qtbot, make_window, tiny_loaded, db) -> Driver:
    win = make_window(tiny_loaded, library_path=db)
    win.resize(1366, 768)
    drv = Driver(qtbot, win)
    drv.clear_search()  # the library, newest first
    return drv


def _show(drv: Driver, path: Path):
    """Select ``path`` in the grid and wait until its image and face boxes are in the preview."""
    fb, image = drv.win.preview.faces, drv.win.preview.image
    assert drv.select(drv.win.results.row_of(str(path))) == str(path)
    drv.qtbot.waitUntil(lambda: fb.shown.path == str(path) and image.pixmap() is not None, timeout=30_000)
    image.grab()  # paints
    return fb


def test_boxes_and_names_show_for_the_photo_shown_and_only_for_it(qtbot, make_window, tiny_loaded, face_photos):
    db, pics = face_photos
    drv = _open(qtbot, make_window, tiny_loaded, db)
    win = drv.win
    fb = _show(drv, pics / "group.jpg")
    assert fb.painted == 2 and fb.labels() == ["Unknown", "Unknown"]
    t = win.preview.image.image_rect()
    left, right = (fb.rect_of(f, t) for f in fb.faces())
    assert t.contains(left.toRect()) and t.contains(right.toRect()) and left.right() < t.center().x() < right.left()
    image = win.preview.image
    QApplication.sendEvent(image, QHelpEvent(QEvent.Type.ToolTip, left.center().toPoint(),
                                             image.mapToGlobal(left.center().toPoint())))
    assert QToolTip.text().startswith("Unknown: click, or Tab to it and press Enter")

    fb = _show(drv, pics / "sky.jpg")
    assert fb.faces() == [] and fb.painted == 0
    drv.grid.setFocus()
    qtbot.keyClick(drv.grid, Qt.Key.Key_Tab)
    assert not image.hasFocus()  # no faces: Tab does not stop on the photo, a click does not take the focus

    # EXIF-rotated: the box is where a face detector finds the face in the upright image the user sees.
    fb = _show(drv, pics / "sideways.jpg")
    (face,) = fb.faces()
    shown = win.preview.image.pixmap().toImage().convertToFormat(win.preview.image.pixmap().toImage().Format.Format_RGB888)
    rgb = np.frombuffer(shown.constBits(), np.uint8).reshape(shown.height(), shown.bytesPerLine())[:, :shown.width() * 3]
    (seen,) = FaceEngine().find(np.ascontiguousarray(rgb.reshape(shown.height(), shown.width(), 3)))
    t = win.preview.image.image_rect()
    r = fb.rect_of(face, t)
    k = shown.width() / t.width()  # view pixels -> shown image pixels
    drawn = ((r.left() - t.left()) * k, (r.top() - t.top()) * k, r.width() * k, r.height() * k)
    assert box_iou(drawn, seen.box) > 0.7, (drawn, seen.box)
    assert shown.height() > shown.width()  # upright: the portrait is taller than wide

    # A new search that selects nothing takes the boxes away; so does a read that comes back too late.
    _show(drv, pics / "group.jpg")
    drv.search_box.setFocus()
    drv.type_query("a blue sky")
    assert win.results_pane.current_path() is None
    win.preview.image.grab()
    assert fb.faces() == [] and fb.painted == 0
    win.preview.show_result(str(pics / "group.jpg"))
    win.preview.show_path(None)  # before the faces were read
    qtbot.waitUntil(lambda: not win.readers.busy(), timeout=30_000)
    deliver_posted_events()
    win.preview.image.grab()
    assert fb.faces() == [] and fb.painted == 0 and fb.shown.path == ""


def test_a_video_found_by_a_person_shows_their_box_at_that_moment(qtbot, make_window, tiny_loaded, tmp_path):
    """A search for a named person opens their video at a moment their face was found in: the preview shows that
    frame with the box; browsing (no moment) shows no boxes on the video."""
    from videohelpers import write_slideshow

    pics = tmp_path / "pics"
    pics.mkdir()
    grey = np.full((480, 640, 3), 120, np.uint8)
    write_slideshow(pics / "party.mp4", [grey, np.asarray(astronaut()), grey], seconds_each=3.0, fps=5,
                    size=(640, 480))
    variant(astronaut(), 3).save(pics / "collins.jpg", quality=90)
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:
        lib.run_index(tiny_loaded, [str(pics)], faces=True, face_engine=FaceEngine())
        pid, = lib.conn.execute("SELECT person_id FROM faces WHERE t IS NOT NULL").fetchone()
        people.name(lib.conn, pid, "Eileen Collins")
    drv = _open(qtbot, make_window, tiny_loaded, db)
    win, video = drv.win, pics / "party.mp4"
    assert drv.select(win.results.row_of(str(video))) == str(video)  # browsing: the first (grey) moment
    qtbot.waitUntil(lambda: not win.readers.busy(), timeout=30_000)
    assert win.preview.faces.faces() == []
    drv.type_query("Eileen Collins")
    assert drv.select(win.results.row_of(str(video))) == str(video)
    assert 3.0 <= win.preview.time_s < 6.0
    fb = _show(drv, video)
    (face,) = fb.faces()
    assert fb.labels() == ["Eileen Collins"] and fb.painted == 1
    t = win.preview.image.image_rect()
    assert t.contains(fb.rect_of(face, t).toRect())


def _people_cli(home: Path, db: Path) -> dict:
    r = subprocess.run([sys.executable, "-m", "photosearch", "--library", str(db), "people", "--json"],
                       env=cli_env(home), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return {p["name"]: p["faces"] for p in json.loads(r.stdout)}


def test_naming_and_correcting_faces_in_the_preview_by_keyboard_and_mouse(qtbot, make_window, tiny_loaded,
                                                                          face_photos, home):
    db, pics = face_photos
    drv = _open(qtbot, make_window, tiny_loaded, db)
    win, panel = drv.win, drv.win.people_panel
    image = win.preview.image
    fb = _show(drv, pics / "group.jpg")
    ed = fb.editor

    # Keyboard: Tab from the grid into the photo chooses the first face; arrows move; Enter opens the editor.
    drv.grid.setFocus()
    qtbot.keyClick(drv.grid, Qt.Key.Key_Tab)
    assert image.hasFocus() and fb.current == 0
    qtbot.keyClick(image, Qt.Key.Key_Right)
    assert fb.current == 1
    qtbot.keyClick(image, Qt.Key.Key_Left)
    qtbot.keyClick(image, Qt.Key.Key_Return)
    assert ed.isVisible() and ed.name_box.hasFocus()
    query = drv.search_box.text()
    qtbot.keyClick(ed.name_box, Qt.Key.Key_Escape)  # closes the editor, not the search
    assert not ed.isVisible() and image.hasFocus() and drv.search_box.text() == query
    qtbot.keyClick(image, Qt.Key.Key_Return)
    qtbot.keyClicks(ed.name_box, "Eileen")
    with qtbot.waitSignal(panel.model.modelReset, timeout=30_000):  # written, then the People panel reloads
        qtbot.keyClick(ed.name_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: fb.labels() == ["Eileen", "Unknown"], timeout=30_000)
    assert not ed.isVisible() and image.hasFocus()
    assert [(t.name, t.photos) for t in panel.model.tiles][0] == ("Eileen", 3)

    # Tab to the next face; a name that would put one person twice in the photo is refused, with the reason.
    qtbot.keyClick(image, Qt.Key.Key_Tab)
    assert fb.current == 1
    qtbot.keyClick(image, Qt.Key.Key_F2)
    assert ed.completer.model().stringList() == ["Eileen"]
    qtbot.keyClicks(ed.name_box, "eileen")
    qtbot.keyClick(ed.name_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ed.note.isVisible() and ed.isEnabled(), timeout=30_000)
    assert "already has a face in" in ed.note.text() and fb.labels() == ["Eileen", "Unknown"]
    assert ed.name_box.hasFocus()  # to correct the name
    ed.name_box.setText("Grace")
    qtbot.keyClick(ed.name_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: fb.labels() == ["Eileen", "Grace"], timeout=30_000)
    qtbot.keyClick(image, Qt.Key.Key_Tab)  # past the last face: the focus moves on
    assert not image.hasFocus() and fb.current == -1

    # Mouse, at 1366x768: click the face, the editor opens by it inside the photo; "Not this person".
    fb = _show(drv, pics / "hopper0.jpg")
    assert fb.labels() == ["Grace"]
    box = fb.rect_of(fb.faces()[0], image.image_rect())
    qtbot.mouseClick(image, Qt.MouseButton.LeftButton, pos=box.center().toPoint())
    assert ed.isVisible() and fb.current == 0
    assert image.rect().contains(ed.geometry()) and ed.reject_btn.isVisible() and ed.new_btn.isVisible()
    corner = ed.mapTo(win, QPoint(ed.width(), ed.height()))
    assert win.width() <= 1366 and win.height() <= 768 and corner.x() <= win.width() and corner.y() <= win.height()
    win.resize(1280, 720)  # the smaller screen too
    qtbot.waitUntil(lambda: win.width() <= 1280 and image.rect().contains(ed.geometry()), timeout=5_000)
    assert ed.mapTo(win, QPoint(ed.width(), ed.height())).y() <= win.height()
    with qtbot.waitSignal(fb.changed, timeout=30_000):
        qtbot.mouseClick(ed.reject_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fb.labels() == ["Unknown"], timeout=30_000)

    # "New person" with a name: Collins's second photo becomes someone else.
    fb = _show(drv, pics / "collins1.jpg")
    assert fb.labels() == ["Eileen"]
    fb.open_editor(0)
    ed.name_box.setText("Sally")
    with qtbot.waitSignal(fb.changed, timeout=30_000):
        qtbot.mouseClick(ed.new_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fb.labels() == ["Sally"], timeout=30_000)
    qtbot.waitUntil(lambda: sorted((t.name, t.photos) for t in panel.model.tiles if t.name)
                    == [("Eileen", 2), ("Grace", 2), ("Sally", 1)], timeout=30_000)

    # The command line sees the same, and a full re-group keeps every decision.
    expected = {"Eileen": 2, "Grace": 2, "Sally": 1}
    assert _people_cli(home, db) == expected
    with Library.open(db) as lib:
        list(people.regroup(lib.conn))
        assert [Path(f["path"]).name for f in people.unassigned(lib.conn)] == ["hopper0.jpg"]
    assert _people_cli(home, db) == expected

    # A name given in the People panel shows in the boxes of the photo shown.
    panel.view.setCurrentIndex(panel.model.index(next(i for i, t in enumerate(panel.model.tiles) if t.name == "Sally")))
    panel.name_box.setText("Sal")
    panel.name_selected()
    qtbot.waitUntil(lambda: fb.labels() == ["Sal"], timeout=30_000)
