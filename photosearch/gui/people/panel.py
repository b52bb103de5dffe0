"""The People panel: a face tile per person (their best face, how many photos), named and renamed in place.

The people are read on a reader thread (the tiles' face crops made there as QImages), names are written on the
window's one writer thread; the panel only shows what comes back (faces/people.py owns the data). Keyboard:
arrows move between tiles, F2 or Enter puts the focus in the name box, Enter there names the selected person.
**Show photos** (a button, and the tiles' context menu) browses a named person: ``showPhotos(name)``, which the
window turns into the search line ``person:"Name"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (QCheckBox, QDockWidget, QHBoxLayout, QLabel, QLineEdit, QListView, QPushButton,
                               QVBoxLayout, QWidget)

from photosearch.gui.people.facespass import FacesPass, set_faces_job
from photosearch.gui.people.facestrip import FaceStrip, face_image, load_faces
from photosearch.gui.tasks.workers import Task, TaskRunner

TILE = 96  # px, the face crop's side


@dataclass
class PersonTile:
    id: int
    name: str | None
    faces: int
    photos: int
    suggest: bool  # unnamed and large enough to be worth naming
    image: QImage | None  # the cover face, square; made on the worker thread


def load_people(library_path: Path) -> tuple[list[PersonTile], dict]:
    """People with two faces or more (or named), and the faces status (worker thread)."""
    from photosearch.faces import facepass, people
    from photosearch.library import Library

    if not Path(library_path).exists():
        return [], {"faces_pass": False, "faces": 0}
    from photosearch.library.things import list_things

    with Library.open(library_path, read_only=True) as lib:
        rows = people.list_people(lib.conn, min_faces=2)
        status = {"faces_pass": facepass.enabled(lib.conn), **facepass.counts(lib.conn),
                  "things": list_things(lib.conn)}
    tiles = [PersonTile(r["id"], r["name"], r["faces"], r["photos"], r["suggest"],
                        face_image(c["path"], c["box"], TILE, c["t"]) if (c := r["cover"]) else None) for r in rows]
    return tiles, status


def change_people(library_path: Path, op: str, *args) -> None:
    """One of faces/people.py's operations (name, merge, hide) on the library (writer thread)."""
    from photosearch.faces import people
    from photosearch.library import Library

    with Library.open(library_path) as lib:
        if op == "merge":
            into, *others = args
            for other in others:
                people.merge(lib.conn, into, other)
        elif op == "reject":
            for face in args:
                people.reject(lib.conn, face)
        elif op == "split":
            people.split(lib.conn, list(args))
        else:
            getattr(people, op)(lib.conn, *args)


class PeopleModel(QAbstractListModel):
    IdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tiles: list[PersonTile] = []
        self._pixmaps: dict[int, QPixmap] = {}

    def set_tiles(self, tiles: list[PersonTile]) -> None:
        self.beginResetModel()
        self.tiles = tiles
        self._pixmaps = {}
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.tiles)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.tiles):
            return None
        t = self.tiles[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{t.name or 'Unnamed'}\n{t.photos} photo{'s' if t.photos != 1 else ''}"
        if role == Qt.ItemDataRole.DecorationRole and t.image is not None:
            if t.id not in self._pixmaps:  # pixmaps only on the GUI thread, made when first shown
                self._pixmaps[t.id] = QPixmap.fromImage(t.image)
            return self._pixmaps[t.id]
        if role == Qt.ItemDataRole.ToolTipRole:
            hint = " - name this person?" if t.suggest else ""
            return f"{t.name or 'Unnamed'}: {t.faces} faces in {t.photos} photos{hint}"
        if role == self.IdRole:
            return t.id
        return None


class PeoplePanel(QDockWidget):
    """A dock with the faces setting, the people grid and a name box; it owns the window's faces pass
    (``faces``). ``refresh()`` reloads (also when the panel is shown and when a faces pass ends)."""

    message = Signal(str)  # a progress line for the window's status bar
    showPhotos = Signal(str)  # browse this named person's photos

    def __init__(self, library_path: Path, readers: TaskRunner, writer: TaskRunner, parent: QWidget | None = None):
        super().__init__("People", parent)
        self.setObjectName("people")
        self.library_path = Path(library_path)
        self.readers, self.writer = readers, writer
        self.model = PeopleModel(self)
        self.view = QListView()
        self.status = QLabel()
        self.enable = QCheckBox("Find faces in my photos")
        self.name_box = QLineEdit()
        self.name_btn = QPushButton("Name")
        self.show_btn = QPushButton("Show photos")
        self.show_btn.setToolTip("Their photos, newest first (name the person first)")
        self.show_btn.setEnabled(False)
        self.strip = FaceStrip()
        self.strip_label = QLabel("Select a person to see their faces")
        self.things = QLabel()  # named things (library/things.py), listed apart from people
        self.loading: Task | None = None
        self.faces = FacesPass(self.library_path, self)
        self._lay_out()
        self._wire()
        self.hide()

    def _lay_out(self) -> None:
        v = self.view
        v.setViewMode(QListView.ViewMode.IconMode)
        v.setIconSize(QSize(TILE, TILE))
        v.setGridSize(QSize(TILE + 28, TILE + 44))
        v.setResizeMode(QListView.ResizeMode.Adjust)
        v.setMovement(QListView.Movement.Static)
        v.setWordWrap(True)
        v.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        v.setModel(self.model)
        self.status.setWordWrap(True)
        self.things.setWordWrap(True)
        self.enable.setToolTip("Faces are found and grouped on this computer only; turning this off stops "
                               "finding new ones (`photosearch people forget --all` deletes them)")
        self.name_box.setPlaceholderText("Name the selected person…")
        row = QHBoxLayout()
        row.addWidget(self.name_box, 1)
        row.addWidget(self.name_btn)
        row.addWidget(self.show_btn)
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.enable)
        lay.addWidget(self.status)
        lay.addWidget(self.view, 3)
        lay.addLayout(row)
        lay.addWidget(self.strip_label)
        lay.addWidget(self.strip, 2)
        lay.addWidget(self.things)
        self.setWidget(body)

    def _wire(self) -> None:
        for widget, actions in ((self.view, (("Show photos", self.show_photos),
                                             ("Merge the selected people into the current one", self.merge_selected),
                                             ("Hide this person", self.hide_current))),
                                (self.strip, (("Not this person", self.reject_faces),
                                              ("Make a new person of these", self.split_faces)))):
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
            for text, fn in actions:
                act = QAction(text, widget)
                act.triggered.connect(lambda _c=False, fn=fn: fn())
                widget.addAction(act)
        self.name_btn.clicked.connect(self.name_selected)
        self.show_btn.clicked.connect(self.show_photos)
        self.name_box.returnPressed.connect(self.name_selected)
        self.view.activated.connect(lambda _i: self.name_box.setFocus())
        self.view.selectionModel().currentChanged.connect(self._on_current)
        QShortcut(QKeySequence(Qt.Key.Key_F2), self.view, activated=self.name_box.setFocus)
        self.visibilityChanged.connect(lambda shown: shown and self.refresh())
        self.faces.progress.connect(self._on_faces_event)
        self.faces.finished.connect(lambda ev: ev is not None and self.refresh())
        self.faces.failed.connect(lambda msg: self.status.setText(f"Finding faces stopped: {msg}"))
        self.enable.clicked.connect(self.set_enabled)

    def view_action(self) -> QAction:
        """The View menu's entry: shows or hides the panel (Ctrl+Shift+P)."""
        act = self.toggleViewAction()
        act.setShortcut(QKeySequence("Ctrl+Shift+P"))
        return act

    def set_enabled(self, on: bool) -> Task:
        """The library's faces setting, saved by the writer; on starts the pass, off stops it."""
        if not on:
            self.faces.cancel()
        task = Task(set_faces_job(self.library_path, on), "faces-setting")
        task.returned.connect(lambda _r: self.faces.start() if on else self.refresh())
        task.failed.connect(self.status.setText)
        return self.writer.submit(task)

    def _on_faces_event(self, ev) -> None:
        if ev.phase == "faces" and ev.total:
            line = f"Finding faces: {ev.done:,} of {ev.total:,} photos, {ev.faces:,} faces"
        elif ev.phase == "group" and ev.total:
            line = f"Grouping faces into people: {ev.done:,} of {ev.total:,}"
        else:
            return
        self.status.setText(line)
        self.message.emit(line)

    def refresh(self) -> Task:
        task = Task(lambda _t: load_people(self.library_path), "people")
        task.returned.connect(self._on_loaded)
        task.failed.connect(self.status.setText)
        self.loading = self.readers.submit(task)
        return task

    def _on_loaded(self, out) -> None:
        tiles, st = out
        keep = self.selected_id()
        self.model.set_tiles(tiles)
        self.enable.setChecked(bool(st.get("faces_pass")))
        named = st.get("things") or []
        self.things.setText("Named things: " + ", ".join(f"{t['name']} ({t['photos']})" for t in named)
                            if named else "")
        self.things.setVisible(bool(named))
        if not st.get("faces_pass") and not st.get("faces"):
            self.status.setText("Faces are off: nothing about faces is made or kept until you turn them on.")
        else:
            self.status.setText(f"{len(tiles)} people, {st.get('named', 0)} named, from {st.get('faces', 0)} faces")
        for r, t in enumerate(tiles):
            if t.id == keep:
                self.view.setCurrentIndex(self.model.index(r))

    def _on_current(self, cur, _prev) -> None:
        tile = self.model.tiles[cur.row()] if cur.isValid() else None
        self.name_box.setText((tile.name or "") if tile else "")
        self.show_btn.setEnabled(bool(tile and tile.name))
        if tile is None:
            self.strip.faces.set_faces(None, [])
            return
        self.strip_label.setText(f"Faces of {tile.name or 'this person'} (select, then right-click to correct)")
        task = Task(lambda _t, pid=tile.id: load_faces(self.library_path, pid), "person-faces")
        task.returned.connect(lambda out: out[0] == self.selected_id() and self.strip.faces.set_faces(*out))
        task.failed.connect(self.status.setText)
        self.readers.submit(task)

    def show_photos(self) -> str | None:
        """Browse the current person's photos (named people only: the search filters by name)."""
        idx = self.view.currentIndex()
        tile = self.model.tiles[idx.row()] if idx.isValid() else None
        if tile is None or not tile.name:
            return None
        self.showPhotos.emit(tile.name)
        return tile.name

    def reject_faces(self) -> Task | None:
        """"Not this person" for the selected faces: they leave and never come back to this person."""
        faces = self.strip.selected_faces()
        return self._change("reject", *faces) if faces else None

    def split_faces(self) -> Task | None:
        """The selected faces become a new person."""
        faces = self.strip.selected_faces()
        return self._change("split", *faces) if faces else None

    def selected_id(self) -> int | None:
        idx = self.view.currentIndex()
        return self.model.data(idx, PeopleModel.IdRole) if idx.isValid() else None

    def selected_ids(self) -> list[int]:
        return [self.model.data(i, PeopleModel.IdRole) for i in self.view.selectionModel().selectedIndexes()]

    def name_selected(self) -> Task | None:
        pid, name = self.selected_id(), self.name_box.text().strip()
        if pid is None or not name:
            return None
        return self._change("name", pid, name)

    def merge_selected(self) -> Task | None:
        """Every selected person into the current one (refused, with the reason, when two share a photo)."""
        into = self.selected_id()
        others = [p for p in self.selected_ids() if p != into]
        if into is None or not others:
            return None
        return self._change("merge", into, *others)

    def hide_current(self) -> Task | None:
        pid = self.selected_id()
        return None if pid is None else self._change("hide", pid)

    def _change(self, op: str, *args) -> Task:
        task = Task(lambda _t: change_people(self.library_path, op, *args), f"people-{op}")
        task.returned.connect(lambda _r: self.refresh())
        task.failed.connect(self.status.setText)
        return self.writer.submit(task)
