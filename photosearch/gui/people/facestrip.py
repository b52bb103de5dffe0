"""One person's faces, to check a group and correct it: "Not this person" and "Make a new person of these".

The faces are read and cropped on a reader thread (at most ``MAX_FACES``, the best first); corrections go to
the window's writer thread through the panel. The strip only shows what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QListView

FACE = 64  # px
MAX_FACES = 60


@dataclass
class FaceTile:
    face_id: int
    path: str
    usable: bool
    user_set: bool
    image: QImage | None


def face_image(path: str, box, size: int, t: float | None = None) -> QImage | None:
    """The face with a margin, square, as a QImage (worker thread); None when the photo cannot be read. ``t``:
    the second of a video's frame the face was found in."""
    from PIL import Image

    from photosearch.faces.facepass import decode
    from photosearch.imageio import ImageSkip

    try:
        rgb, to_photo = decode(path, t)
    except ImageSkip:
        return None
    x, y, w, h = (v / to_photo for v in box)
    side = max(w, h) * 1.6
    cx, cy = x + w / 2, y + h / 2
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    crop = rgb[top:int(cy + side / 2), left:int(cx + side / 2)]
    if crop.size == 0:
        return None
    data = Image.fromarray(crop).resize((size, size)).tobytes()
    return QImage(data, size, size, 3 * size, QImage.Format.Format_RGB888).copy()


def load_faces(library_path: Path, pid: int) -> tuple[int, list[FaceTile]]:
    """(pid, the person's faces with their crops), for the reader thread."""
    from photosearch.faces import people
    from photosearch.library import Library

    with Library.open(library_path, read_only=True) as lib:
        rows = people.faces_of(lib.conn, pid, MAX_FACES)
    return pid, [FaceTile(r["face_id"], r["path"], r["usable"], r["user_set"], face_image(r["path"], r["box"], FACE, r["t"]))
                 for r in rows]


class FacesModel(QAbstractListModel):
    IdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pid: int | None = None
        self.tiles: list[FaceTile] = []
        self._pixmaps: dict[int, QPixmap] = {}

    def set_faces(self, pid: int | None, tiles: list[FaceTile]) -> None:
        self.beginResetModel()
        self.pid, self.tiles, self._pixmaps = pid, tiles, {}
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.tiles)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.tiles):
            return None
        t = self.tiles[index.row()]
        if role == Qt.ItemDataRole.DecorationRole and t.image is not None:
            if t.face_id not in self._pixmaps:
                self._pixmaps[t.face_id] = QPixmap.fromImage(t.image)
            return self._pixmaps[t.face_id]
        if role == Qt.ItemDataRole.ToolTipRole:
            return t.path + ("" if t.usable else "\n(small, blurred or turned away)")
        if role == self.IdRole:
            return t.face_id
        return None


class FaceStrip(QListView):
    """The faces of the current person, several selectable."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.faces = FacesModel(self)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(FACE, FACE))
        self.setGridSize(QSize(FACE + 8, FACE + 8))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.setModel(self.faces)

    def selected_faces(self) -> list[int]:
        return [self.faces.data(i, FacesModel.IdRole) for i in self.selectionModel().selectedIndexes()]
