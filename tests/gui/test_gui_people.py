"""The People panel on real faces, in the window at 1366x768: tiles with the best face and counts, naming by
keyboard, the name written to the library."""

from __future__ import annotations

from pathlib import Path

import pytest
from facehelpers import astronaut, hopper, variant
from PySide6.QtCore import QItemSelectionModel, Qt

from photosearch.faces import people
from photosearch.faces.engine import FaceEngine
from photosearch.library import Library

pytestmark = pytest.mark.gui


@pytest.fixture
def face_library(tmp_path, tiny_loaded) -> Path:
    pics = tmp_path / "pics"
    pics.mkdir()
    for s in range(3):
        variant(astronaut(), 300 + s).save(pics / f"collins{s}.jpg", quality=88)
    for s in range(2):
        variant(hopper(), 400 + s).save(pics / f"hopper{s}.jpg", quality=88)
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:
        lib.run_index(tiny_loaded, [str(pics)], faces=True, face_engine=FaceEngine())
        from photosearch.library.things import name_thing

        name_thing(lib.conn, "Rocket", [pics / "hopper1.jpg"])  # named things are listed apart from people
    return db


def test_people_panel_shows_face_tiles_and_names_a_person_by_keyboard(qtbot, qtmodeltester, make_window,
                                                                      tiny_loaded, face_library):
    win = make_window(tiny_loaded, library_path=face_library)
    win.resize(1366, 768)
    panel = win.people_panel
    assert not panel.isVisible()
    action = next(a for a in win.menuBar().actions()[1].menu().actions() if a.text() == "People")
    action.trigger()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=60_000)
    qtmodeltester.check(panel.model)
    texts = [panel.model.data(panel.model.index(r)) for r in range(2)]
    assert texts == ["Unnamed\n3 photos", "Unnamed\n2 photos"]  # the larger group first
    assert all(t.image is not None and t.image.width() == 96 for t in panel.model.tiles)
    assert "3 faces in 3 photos" in panel.model.data(panel.model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert panel.things.isVisible() and panel.things.text() == "Named things: Rocket (1)"

    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.model.index(0))
    qtbot.keyClick(panel.view, Qt.Key.Key_F2)
    assert panel.name_box.hasFocus()
    qtbot.keyClicks(panel.name_box, "Eileen")
    qtbot.keyClick(panel.name_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2 and panel.model.tiles[0].name == "Eileen", timeout=30_000)
    assert panel.selected_id() == panel.model.tiles[0].id  # the selection stays on the person just named
    with Library.open(face_library, read_only=True) as lib:
        assert people.known_person_names(lib.conn) == ["Eileen"]

    # A name in use is refused with the core's one line; nothing changes.
    panel.view.setCurrentIndex(panel.model.index(1))
    panel.name_box.setText("eileen")
    assert panel.name_selected() is not None
    qtbot.waitUntil(lambda: "already called" in panel.status.text(), timeout=30_000)

    # Everything fits a 1366x768 screen: the panel, its grid and the name box are on screen.
    assert win.width() <= 1366 and win.height() <= 768
    right = panel.mapTo(win, panel.rect().bottomRight())
    assert right.x() <= win.width() and right.y() <= win.height()
    assert panel.name_btn.isVisible() and panel.view.width() >= 96 + 28

    # Correcting a group: the person's faces in the strip; "Not this person" and "Make a new person of these".
    panel.view.setCurrentIndex(panel.model.index(0))
    qtbot.waitUntil(lambda: panel.strip.faces.rowCount() == 3, timeout=30_000)
    qtmodeltester.check(panel.strip.faces)
    strip = panel.strip
    out, split = strip.faces.tiles[2].face_id, strip.faces.tiles[1].face_id
    strip.setCurrentIndex(strip.faces.index(2))
    with qtbot.waitSignal(panel.model.modelReset, timeout=30_000):
        next(a for a in strip.actions() if a.text() == "Not this person").trigger()
    strip.setCurrentIndex(strip.faces.index(1))
    assert strip.selected_faces() == [split]
    with qtbot.waitSignal(panel.model.modelReset, timeout=30_000):
        panel.split_faces()
    assert sorted((t.name, t.photos) for t in panel.model.tiles if t.name) == [("Eileen", 1)]
    assert len(panel.model.tiles) == 3  # Eileen, Hopper, and the face split off (made by the user: shown)
    with Library.open(face_library, read_only=True) as lib:
        assert [f["face_id"] for f in people.unassigned(lib.conn)] == [out]
        people_before = lib.conn.execute("SELECT count(*) FROM people").fetchone()[0]
    with Library.open(face_library) as lib:  # a full re-group keeps every correction
        list(people.regroup(lib.conn))
        assert [f["face_id"] for f in people.unassigned(lib.conn)] == [out]
        assert lib.conn.execute("SELECT count(*) FROM people").fetchone()[0] == people_before
    with qtbot.waitSignal(panel.model.modelReset, timeout=30_000):
        panel.refresh()
    eileen = next(i for i, t in enumerate(panel.model.tiles) if t.name == "Eileen")
    lone = next(i for i, t in enumerate(panel.model.tiles) if t.name is None and t.photos == 1)
    # Merge (the context menu's action): both selected, the current one keeps its name; then hide.
    panel.view.setCurrentIndex(panel.model.index(eileen))
    panel.view.selectionModel().select(panel.model.index(lone), QItemSelectionModel.SelectionFlag.Select)
    with qtbot.waitSignal(panel.model.modelReset, timeout=30_000):
        panel.merge_selected()
    assert sorted((t.name, t.photos) for t in panel.model.tiles if t.name) == [("Eileen", 2)]

    # Merge everyone left into Eileen; then hide.
    panel.view.setCurrentIndex(panel.model.index(0))
    panel.view.selectionModel().select(panel.model.index(1), QItemSelectionModel.SelectionFlag.Select)
    assert sorted(panel.selected_ids()) == sorted(t.id for t in panel.model.tiles)
    merge = next(a for a in panel.view.actions() if a.text().startswith("Merge"))
    with qtbot.waitSignal(panel.model.modelReset, timeout=30_000):
        merge.trigger()
    assert [(t.name, t.photos) for t in panel.model.tiles] == [("Eileen", 4)]  # the rejected face stays out
    with qtbot.waitSignal(panel.model.modelReset, timeout=30_000):
        panel.hide_current()
    assert panel.model.rowCount() == 0


def test_turning_faces_on_in_the_panel_runs_the_pass_with_progress_and_off_keeps_nothing_new(
        qtbot, make_window, tiny_loaded, tmp_path):
    pics = tmp_path / "pics"
    pics.mkdir()
    for s in range(2):
        variant(astronaut(), 500 + s).save(pics / f"collins{s}.jpg", quality=88)
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:
        lib.run_index(tiny_loaded, [str(pics)])  # faces are off by default: none made
        assert lib.conn.execute("SELECT count(*) FROM face_scans").fetchone()[0] == 0
    win = make_window(tiny_loaded, library_path=db)
    panel = win.people_panel
    panel.show()
    qtbot.waitUntil(lambda: "Faces are off" in panel.status.text(), timeout=30_000)
    assert not panel.enable.isChecked() and panel.model.rowCount() == 0
    lines = []
    panel.message.connect(lines.append)
    with qtbot.waitSignal(panel.faces.finished, timeout=120_000):
        panel.enable.click()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=30_000)
    assert panel.enable.isChecked() and panel.model.tiles[0].photos == 2
    assert "Finding faces: 2 of 2 photos, 2 faces" in lines
    with qtbot.waitSignal(panel.model.modelReset, timeout=30_000):  # saved by the writer, then reloaded
        panel.enable.click()  # off: the setting is saved, nothing more is scanned
    assert not panel.enable.isChecked()
    with Library.open(db, read_only=True) as lib:
        from photosearch.faces import facepass

        assert not facepass.enabled(lib.conn)
