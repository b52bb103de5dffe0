"""Qt item models: search results as a QAbstractListModel filled in batches (fetchMore), thumbnails lazily."""

from __future__ import annotations

import collections
import os

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QPixmap

from photosearch.gui.search.thumbnails import THUMB_PIXELS, ThumbnailLoader, moment_key, split_key
from photosearch.humanize import format_duration
from photosearch.video import is_video_name

PathRole = Qt.ItemDataRole.UserRole + 1
ScoreRole = Qt.ItemDataRole.UserRole + 2
InfoRole = Qt.ItemDataRole.UserRole + 3
TimeRole = Qt.ItemDataRole.UserRole + 4  # a video: the second of its best-matching moment (None otherwise)
VideoRole = Qt.ItemDataRole.UserRole + 5  # whether the row is a video
BATCH = 240  # rows made visible per fetchMore: thousands of hits never block the view


class PixmapCache:
    """GUI-thread LRU of thumbnails as QPixmaps (only the GUI thread makes pixmaps)."""

    def __init__(self, capacity: int = 3000):
        self.capacity = capacity
        self._d: collections.OrderedDict[str, QPixmap] = collections.OrderedDict()
        self.failed: set[str] = set()

    def get(self, path: str) -> QPixmap | None:
        pm = self._d.get(path)
        if pm is not None:
            self._d.move_to_end(path)
        return pm

    def put(self, path: str, pm: QPixmap) -> None:
        self._d[path] = pm
        self._d.move_to_end(path)
        while len(self._d) > self.capacity:
            self._d.popitem(last=False)

    def clear(self) -> None:
        self._d.clear()
        self.failed.clear()


class ResultsModel(QAbstractListModel):
    """Search hits, best first. Rows appear in batches through canFetchMore/fetchMore."""

    thumbnailReady = Signal(str)

    def __init__(self, loader: ThumbnailLoader | None = None, parent=None):
        super().__init__(parent)
        self._all: list = []  # every hit of the current search
        self._shown = 0  # rows exposed to views so far
        self._row_of: dict[str, int] = {}
        self._photos = 0
        self.infos: dict[str, dict] = {}
        self.loader = loader
        self.pixmaps = PixmapCache()
        if loader is not None:
            loader.loaded.connect(self._on_thumbnail)

    # -- filling ------------------------------------------------------------------------------
    def set_hits(self, hits: list, infos: dict | None = None) -> None:
        """``hits``: SearchHits, possibly with marker tiles (gui/search/resultrows.py) between them."""
        self.beginResetModel()
        self._all = list(hits)
        self._shown = min(BATCH, len(self._all))
        self._row_of = {h.path: i for i, h in enumerate(self._all) if h.path is not None}
        self._photos = len(self._row_of)
        self.infos = dict(infos or {})
        self.endResetModel()

    def clear(self) -> None:
        self.set_hits([])

    def total(self) -> int:
        """Photos in the current search (marker tiles not counted)."""
        return self._photos

    def hit(self, row: int):
        return self._all[row] if 0 <= row < self._shown else None

    def marker_at(self, index):
        """The marker tile at ``index`` (divider, month header), or None for a photo."""
        h = self.hit(index.row()) if index is not None and index.isValid() else None
        return h if h is not None and h.path is None else None

    def first_photo_row(self) -> int:
        return next((i for i, h in enumerate(self._all[:self._shown]) if h.path is not None), 0)

    def hits(self) -> list:
        """The photos of the current search (no markers), best first."""
        return [h for h in self._all if h.path is not None]

    def path_at(self, index) -> str | None:
        """The path of a row, read straight from Python.

        GUI code uses this instead of ``index.data(PathRole)``: PySide6 6.12 under Python 3.11 drops a
        reference to None each time an empty QVariant becomes None, and thousands of paints would crash.
        """
        h = self.hit(index.row()) if index is not None and index.isValid() else None
        return h.path if h is not None else None

    def score_at(self, index) -> float | None:
        h = self.hit(index.row()) if index is not None and index.isValid() else None
        return float(h.score) if h is not None and h.score is not None else None

    def text_match_at(self, index) -> bool:
        """Whether the row's photo was found by the words in it (the delegate's "T" badge)."""
        h = self.hit(index.row()) if index is not None and index.isValid() else None
        return bool(getattr(h, "text_match", False))

    def time_at(self, index) -> float | None:
        """A video hit's best-matching moment in seconds; None for photos and for videos found without one
        (browsing)."""
        h = self.hit(index.row()) if index is not None and index.isValid() else None
        t = getattr(h, "time_s", None)
        return float(t) if t is not None else None

    def is_video_at(self, index) -> bool:
        """Whether the row is a video: it has a moment, the library stored it as ``VIDEO-<EXT>``, or (details
        not fetched yet) its name says so."""
        h = self.hit(index.row()) if index is not None and index.isValid() else None
        if h is None or h.path is None:
            return False
        if getattr(h, "time_s", None) is not None:
            return True
        fmt = (self.infos.get(h.path) or {}).get("format")
        return str(fmt).upper().startswith("VIDEO-") if fmt else is_video_name(h.path)

    def moment_of(self, path: str | None) -> float | None:
        """:meth:`time_at` of the row showing ``path`` (what Open plays from)."""
        row = self._row_of.get(path) if path else None
        return self.time_at(self.index(row)) if row is not None and row < self._shown else None

    def row_of(self, path: str) -> int | None:
        """The row showing ``path``, or None when it is not among the rows exposed so far."""
        row = self._row_of.get(path)
        return row if row is not None and row < self._shown else None

    def set_info(self, path: str, info: dict) -> None:
        """Remember library details fetched later for ``path`` (the first screens come with the hits)."""
        self.infos[path] = info

    def paths(self) -> list[str]:
        return [h.path for h in self._all[:self._shown] if h.path is not None]

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and self._shown < len(self._all)

    def fetchMore(self, parent=QModelIndex()) -> None:
        if parent.isValid():
            return
        n = min(BATCH, len(self._all) - self._shown)
        if n <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._shown, self._shown + n - 1)
        self._shown += n
        self.endInsertRows()

    # -- reading ------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._shown

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < self._shown):
            return None
        h = self._all[index.row()]
        if h.path is None:  # a marker tile
            return h.text if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(h.path)
        if role == PathRole:
            return h.path
        if role == ScoreRole:
            return float(h.score)
        if role == InfoRole:
            return self.infos.get(h.path)
        if role == TimeRole:
            return self.time_at(index)
        if role == VideoRole:
            return self.is_video_at(index)
        if role == Qt.ItemDataRole.ToolTipRole:
            copies = getattr(h, "copies", None)
            t = self.time_at(index)
            files = getattr(h, "files", None) or (f"{len(copies) + 1} copies" if copies else None)
            return (f"{h.path}\nscore {h.score:.3f}" + (f"\n{files}" if files else "")
                    + (f"\nbest moment at {format_duration(t)}" if t is not None else ""))
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(h.path)
        return None

    def thumb_key(self, path: str) -> str:
        """What a row's thumbnail shows: a video hit's matching moment (thumbnails.moment_key), else the file."""
        t = self.moment_of(path)
        return moment_key(path, t) if t is not None else path

    def duration_at(self, index) -> float | None:
        """A video's length in seconds (None: a photo, or not known)."""
        h = self.hit(index.row()) if index is not None and index.isValid() else None
        d = getattr(h, "duration_s", None) if h is not None and h.path is not None else None
        if d is None and h is not None and h.path is not None:
            d = (self.infos.get(h.path) or {}).get("duration_s")
        return float(d) if d else None

    def thumbnail(self, path: str) -> QPixmap | None:
        """The cached pixmap, or None after asking the loader for it (the row repaints when it arrives)."""
        key = self.thumb_key(path)
        pm = self.pixmaps.get(key)
        if pm is None and self.loader is not None and key not in self.pixmaps.failed:
            self.loader.request(key, THUMB_PIXELS)
        return pm

    def _on_thumbnail(self, path: str, size: int, image) -> None:
        if size != THUMB_PIXELS:
            return
        if image.isNull():
            self.pixmaps.failed.add(path)
        else:
            self.pixmaps.put(path, QPixmap.fromImage(image))
        row = self._row_of.get(split_key(path)[0])
        if row is not None and row < self._shown:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])
        self.thumbnailReady.emit(path)

    # -- drag out -----------------------------------------------------------------------------
    def flags(self, index):
        if self.marker_at(index) is not None:
            return Qt.ItemFlag.NoItemFlags  # not selectable, not draggable
        f = super().flags(index)
        if index.isValid():
            f |= Qt.ItemFlag.ItemIsDragEnabled
        return f

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def supportedDragActions(self):
        return Qt.DropAction.CopyAction

    def mimeData(self, indexes) -> QMimeData:
        md = QMimeData()
        paths = [self.path_at(i) for i in indexes if i.isValid()]
        md.setUrls([QUrl.fromLocalFile(p) for p in paths if p])
        md.setText("\n".join(p for p in paths if p))
        return md
