"""Face boxes over the preview: every face the library holds for the shown photo, with its person's name, and an
in-place editor to say who it is.

The faces are read on a reader thread (:func:`load_photo_faces`); what the user decides goes to the window's one
writer thread as faces/people.py operations (``name_face``, ``reject``), then ``changed`` is emitted (the People
panel reloads) and the boxes are read again. Boxes are in the photo's upright pixels (as the faces pass stored
them), scaled to wherever the image view draws the photo. Keyboard, while the photo has the focus: Tab/Shift+Tab
or the arrow keys move between faces (Tab past the last face leaves the photo), Enter or F2 opens the editor,
Escape closes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPalette, QPen
from PySide6.QtWidgets import QCompleter, QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QToolTip, QWidget

from photosearch.gui.tasks.workers import Task, TaskRunner


@dataclass
class FaceBox:
    face_id: int
    box: tuple[float, float, float, float]  # x, y, w, h in the photo's upright pixels
    person_id: int | None
    name: str | None
    usable: bool  # False: small, blurred or turned away: kept for display only, drawn fainter

    @property
    def label(self) -> str:
        return self.name or "Unknown"


@dataclass
class PhotoFaces:
    path: str
    size: tuple[int, int] | None  # the photo's upright size (the boxes' pixels)
    faces: list[FaceBox] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # named people, offered while typing


def load_photo_faces(library_path: Path, path: str, t: float | None = None) -> PhotoFaces:
    """The faces stored for one photo, its size and the names in use (reader thread). ``t``: a video's moment
    shown; its faces are those found in that moment's frame (none when the faces pass did not look at it)."""
    from photosearch.faces import facepass, people
    from photosearch.library import Library

    if not Path(library_path).exists():
        return PhotoFaces(path, None)
    with Library.open(library_path, read_only=True) as lib:
        rows = [r for r in facepass.faces_of_paths(lib.conn, [path]).get(path) or []
                if (r["t"] is None) == (t is None) and (t is None or abs(r["t"] - t) < 0.01)]
        if not rows:
            return PhotoFaces(path, None)
        info = lib.photo_info(path) or {}
        names = people.known_person_names(lib.conn)
    size = (info["width"], info["height"]) if info.get("width") and info.get("height") else None
    return PhotoFaces(path, size, [FaceBox(r["face_id"], tuple(r["box"]), r["person_id"], r["person"], r["usable"])
                                   for r in rows], names)


def change_face(library_path: Path, face_id: int, op: str, text: str = "") -> None:
    """``op``: "name" (who this face is), "new" (a new person, named when ``text`` is given) or "reject"
    ("not this person"); faces/people.py decides and refuses (writer thread)."""
    from photosearch.faces import people
    from photosearch.library import Library

    with Library.open(library_path) as lib:
        if op == "reject":
            people.reject(lib.conn, face_id)
        else:
            people.name_face(lib.conn, face_id, text, new_person=op == "new")


class FaceEditor(QFrame):
    """The small editor shown by a face box: a name (completing the names in use), "Not this person",
    "New person", and a line when the library refused."""

    submitted = Signal(str, str)  # op ("name", "new", "reject"), the name typed
    closed = Signal()

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Window)
        self.title = QLabel("Who is this?")
        self.name_box = QLineEdit()
        self.name_box.setPlaceholderText("Type a name…")
        self.completer = QCompleter([], self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.name_box.setCompleter(self.completer)
        self.name_btn = QPushButton("Name")
        self.reject_btn = QPushButton("Not this person")
        self.new_btn = QPushButton("New person")
        self.note = QLabel()  # why the library refused
        self.note.setWordWrap(True)
        self.note.setForegroundRole(QPalette.ColorRole.BrightText)
        lay = QGridLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        lay.addWidget(self.title, 0, 0, 1, 2)
        lay.addWidget(self.name_box, 1, 0)
        lay.addWidget(self.name_btn, 1, 1)
        lay.addWidget(self.reject_btn, 2, 0)
        lay.addWidget(self.new_btn, 2, 1)
        lay.addWidget(self.note, 3, 0, 1, 2)
        self.reject_btn.setToolTip("This face is not this person: it leaves them and is never proposed there again")
        self.new_btn.setToolTip("This face is someone else: a new person (named when a name is typed)")
        self.name_box.returnPressed.connect(lambda: self._submit("name"))
        self.name_btn.clicked.connect(lambda: self._submit("name"))
        self.new_btn.clicked.connect(lambda: self._submit("new"))
        self.reject_btn.clicked.connect(lambda: self._submit("reject"))
        self.name_box.installEventFilter(self)
        self.hide()

    def _submit(self, op: str) -> None:
        if op == "name" and not self.name_box.text().strip():
            return
        self.note.hide()
        self.submitted.emit(op, self.name_box.text().strip())

    def open_for(self, face: FaceBox, names: list[str]) -> None:
        self.completer.model().setStringList(names)
        self.title.setText(f"Who is this? ({face.label})" if face.name else "Who is this?")
        self.name_box.setText(face.name or "")
        self.name_box.selectAll()
        self.reject_btn.setEnabled(face.person_id is not None)
        self.note.hide()
        self.show()
        self.raise_()
        self.name_box.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_error(self, line: str) -> None:
        self.note.setText(line)
        self.note.show()
        self.adjustSize()

    def eventFilter(self, obj, ev) -> bool:
        # Escape closes the editor, not the window's "clear the search" shortcut.
        if ev.type() == QEvent.Type.ShortcutOverride and ev.key() == Qt.Key.Key_Escape:
            ev.accept()
            return True
        if ev.type() == QEvent.Type.KeyPress and ev.key() == Qt.Key.Key_Escape:
            self.closed.emit()
            return True
        return False


class FaceBoxes(QObject):
    """The faces of the photo an image view shows: painted by the view (``paint``), chosen by click or keyboard,
    named in the editor. ``show_for(path)`` on every change of photo (None clears; ``t``: the moment of a video
    shown); ``reload()`` after the people changed elsewhere."""

    changed = Signal()  # the user named or corrected a face (written)

    def __init__(self, view: QWidget, readers: TaskRunner | None, writer: TaskRunner | None,
                 library_path: Path | None, parent: QObject | None = None):
        super().__init__(parent or view)
        self.view, self.readers, self.writer, self.library_path = view, readers, writer, library_path
        self.path: str | None = None
        self.t: float | None = None  # a video's moment shown
        self.shown = PhotoFaces("", None)  # what is drawn; its path is the photo they were read for
        self.current = -1  # the chosen face (keyboard or click), -1: none
        self.painted = 0  # faces drawn by the last paint (tests)
        self._seq = 0  # a read that comes back after the photo changed is dropped
        self.editor = FaceEditor(view)
        self.editor.submitted.connect(self._apply)
        self.editor.closed.connect(self.close_editor)
        view.installEventFilter(self)
        view.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    # -- the data ---------------------------------------------------------------------------------
    def show_for(self, path: str | None, t: float | None = None) -> None:
        """Forget the boxes at once (a new photo, or none) and read the new photo's."""
        self.path, self.t = path, t
        self.current = -1
        self._set(PhotoFaces("", None))  # read for no photo: nothing drawn until the read comes back
        self.reload()

    def reload(self) -> None:
        self._seq += 1
        if self.path is None or self.readers is None or self.library_path is None:
            return
        seq, path, t = self._seq, self.path, self.t
        task = Task(lambda _t: load_photo_faces(self.library_path, path, t), "photo-faces")
        task.returned.connect(lambda out: seq == self._seq and out.path == self.path and self._set(out))
        self.readers.submit(task)

    def _set(self, faces: PhotoFaces) -> None:
        keep = self.face().face_id if self.face() else None
        self.shown, self.painted = faces, 0
        ids = [f.face_id for f in faces.faces]
        self.current = ids.index(keep) if keep in ids else -1
        if self.current < 0:
            self.close_editor(refocus=False)
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus if faces.faces else Qt.FocusPolicy.NoFocus)
        self.view.update()

    def faces(self) -> list[FaceBox]:
        return self.shown.faces if self.shown.size and self.shown.path == self.path else []

    def face(self) -> FaceBox | None:
        faces = self.faces()
        return faces[self.current] if 0 <= self.current < len(faces) else None

    def labels(self) -> list[str]:
        return [f.label for f in self.faces()]

    # -- geometry and painting --------------------------------------------------------------------
    def rect_of(self, face: FaceBox, target: QRect) -> QRectF:
        """The face's box in view coordinates, for a photo drawn into ``target``."""
        w, h = self.shown.size
        sx, sy = target.width() / w, target.height() / h
        x, y, bw, bh = face.box
        return QRectF(target.left() + x * sx, target.top() + y * sy, bw * sx, bh * sy)

    def paint(self, p: QPainter, target: QRect) -> None:
        self.painted = 0
        font = QFont(self.view.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        font.setBold(True)
        p.setFont(font)
        fm = QFontMetricsF(font)
        highlight = self.view.palette().color(QPalette.ColorRole.Highlight)
        for i, face in enumerate(self.faces()):
            r = self.rect_of(face, target)
            alpha = 255 if face.usable else 120
            chosen = i == self.current
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(0, 0, 0, alpha * 2 // 3), 4 if chosen else 3))
            p.drawRect(r)
            pen = QPen(highlight if chosen else QColor(255, 255, 255, alpha), 2.5 if chosen else 1.5)
            if not face.usable:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawRect(r)
            text = fm.elidedText(face.label, Qt.TextElideMode.ElideRight, max(r.width() * 2, 110))
            lab = QRectF(0, 0, fm.horizontalAdvance(text) + 8, fm.height() + 2)
            lab.moveTopLeft(QPointF(r.left(), r.top() - lab.height() - 1))
            if lab.top() < target.top():  # no room above: inside the top of the box
                lab.moveTop(r.top() + 1)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(highlight if chosen else QColor(0, 0, 0, 170 if face.usable else 100))
            p.drawRoundedRect(lab, 3, 3)
            p.setPen(QColor(255, 255, 255, alpha))
            p.drawText(lab, Qt.AlignmentFlag.AlignCenter, text)
            self.painted += 1

    # -- choosing and editing ---------------------------------------------------------------------
    def face_at(self, pos: QPointF) -> int:
        """The index of the (smallest) face box under ``pos``, -1 if none."""
        target, best, area = self.view.image_rect(), -1, None
        if target is None:
            return -1
        for i, f in enumerate(self.faces()):
            r = self.rect_of(f, target).adjusted(-3, -3, 3, 3)
            if r.contains(pos) and (area is None or r.width() * r.height() < area):
                best, area = i, r.width() * r.height()
        return best

    def choose(self, i: int) -> None:
        self.current = i
        self.view.update()

    def open_editor(self, i: int | None = None) -> bool:
        if i is not None:
            self.choose(i)
        face = self.face()
        if face is None:
            return False
        self.editor.open_for(face, self.shown.names)
        self._place_editor()
        return True

    def close_editor(self, refocus: bool = True) -> None:
        if self.editor.isVisible():
            self.editor.hide()
            if refocus:
                self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _place_editor(self) -> None:
        """Below the chosen box, else above it, inside the view."""
        target, face, ed = self.view.image_rect(), self.face(), self.editor
        if target is None or face is None or not ed.isVisible():
            return
        ed.setMaximumWidth(max(120, self.view.width() - 8))
        ed.adjustSize()
        r = self.rect_of(face, target)
        x = min(max(4, int(r.left())), self.view.width() - ed.width() - 4)
        y = int(r.bottom()) + 6
        if y + ed.height() > self.view.height() - 4:
            y = max(4, int(r.top()) - ed.height() - 6)
        ed.move(max(0, x), y)

    def _apply(self, op: str, text: str) -> None:
        face = self.face()
        if face is None or self.writer is None or self.library_path is None:
            return
        task = Task(lambda _t: change_face(self.library_path, face.face_id, op, text), f"face-{op}")
        task.returned.connect(lambda _r: self._changed())
        task.failed.connect(self.editor.show_error)
        task.finished.connect(self._write_ended)
        self.editor.setEnabled(False)  # one change at a time: a second Enter is not a second "New person"
        self.writer.submit(task)

    def _write_ended(self) -> None:
        self.editor.setEnabled(True)
        if self.editor.isVisible():  # refused: the name stays to be corrected
            self.editor.name_box.setFocus(Qt.FocusReason.OtherFocusReason)

    def _changed(self) -> None:
        self.close_editor()
        self.changed.emit()
        self.reload()

    def _key(self, ev) -> bool:
        """Tab/arrows between faces, Enter/F2 to name; True when the key was used."""
        n, k, i = len(self.faces()), ev.key(), self.current
        if not n or ev.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        if k in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            step = -1 if k == Qt.Key.Key_Backtab or ev.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            if 0 <= i + step < n:
                self.choose(i + step)
                return True
            self.choose(-1)
            return False  # past the last face: the focus moves on
        if k in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Up):
            step = 1 if k in (Qt.Key.Key_Right, Qt.Key.Key_Down) else -1
            self.choose((i + step) % n if i >= 0 else (0 if step > 0 else n - 1))
            return True
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2):
            return self.open_editor(i if i >= 0 else 0)
        return False

    def eventFilter(self, obj, ev) -> bool:
        t = ev.type()
        if t == QEvent.Type.MouseButtonPress and ev.button() == Qt.MouseButton.LeftButton:
            i = self.face_at(ev.position())
            if i >= 0:
                self.view.setFocus(Qt.FocusReason.MouseFocusReason)
                return self.open_editor(i)
            self.close_editor(refocus=False)
            self.choose(-1)
        elif t == QEvent.Type.KeyPress:
            return self._key(ev)
        elif t == QEvent.Type.ToolTip and self.face_at(QPointF(ev.pos())) >= 0:  # else the view's own tooltip
            face = self.faces()[self.face_at(QPointF(ev.pos()))]
            hint = "" if face.usable else " (small, blurred or turned away)"
            QToolTip.showText(ev.globalPos(), f"{face.label}{hint}: click, or Tab to it and press Enter, to say "
                                              f"who it is", self.view)
            return True
        elif t == QEvent.Type.FocusIn and self.faces() and self.current < 0:
            if ev.reason() == Qt.FocusReason.TabFocusReason:
                self.choose(0)
            elif ev.reason() == Qt.FocusReason.BacktabFocusReason:
                self.choose(len(self.faces()) - 1)
        elif t == QEvent.Type.Resize:
            self._place_editor()
        return False
