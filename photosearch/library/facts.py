"""What a :class:`~photosearch.library.library.Library` can tell without a model: skipped files, vectors per
model, offline folders, the status, what is known of each photo, the places read, and how a typed line reads
against what the library holds. A base class of ``Library``: its methods use the library's connection and
``_read`` (one reader per thread, errors as LibraryError)."""

from __future__ import annotations

import os
import sqlite3

from photosearch.errors import LibraryError
from photosearch.library import db as _db
from photosearch.library import queries as sql
from photosearch.library.status import LibraryStatus, TextStatus


def _faces_status(conn: sqlite3.Connection) -> dict:
    from photosearch.faces import facepass

    return {"enabled": facepass.enabled(conn), **facepass.counts(conn)}


class LibraryFacts:
    """The read-only side of a library (see the module doc)."""

    def _meta_columns(self):
        from photosearch.meta import facets

        try:
            return facets.columns(self.conn, self._key)
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None

    def read_line(self, line: str | None, names=None, today=None):
        """The typed line read against what this library holds (library/lineparse.py): places, cameras
        and people's names (``names``, else the people index's) that are in it. A :class:`ParsedLine`."""
        from photosearch.library import lineparse
        from photosearch.meta import store

        if names is None:
            from photosearch.faces.people import known_person_names

            names = self._read(known_person_names)
        places, cameras = self._read(store.distinct_places), self._read(store.distinct_cameras)
        return lineparse.parse_line(line, lineparse.Vocabulary.build(places, cameras, names), today)

    def read_search(self, line: str | None, base=None, literal: bool = False):
        """(the words to rank by, the :class:`Filters`, the :class:`ParsedLine` or None) of a typed line over
        the ``base`` filters: how the command line and the window both read a search line (``literal``: words
        only, nothing read from it)."""
        from photosearch.library.query import Filters

        base = base or Filters()
        if literal or not (line and line.strip()):
            return line, base, None
        parsed = self.read_line(line)
        return parsed.text, parsed.filters(base), parsed

    def places(self) -> list[dict]:
        """The places of every photo read: countries -> regions -> cities, each with its photo count."""
        cols = self._meta_columns()
        return cols.counts(cols.ids)["places"]

    def skipped(self) -> list[dict]:
        return [{"path": r["path"], "reason": r["reason"]} for r in self._read(sql.skip_list)]

    def models(self) -> dict[str, int]:
        """model id -> photos with a vector of it."""
        return self._read(sql.photos_per_model)

    def not_covered_by(self, model_id: str, other_id: str) -> int:
        """Photos that have a vector of ``model_id`` but not yet one of ``other_id``."""
        return self._read(sql.count_missing_from, model_id, other_id)

    def drop_model(self, model_id: str) -> int:
        """Delete the vectors of ``model_id`` (e.g. a superseded starter build once its successor covers the
        library); returns how many were deleted. Photos and other models' vectors are untouched."""
        try:
            with _db.Tx(self.conn):
                return sql.delete_model(self.conn, model_id)
        except sqlite3.Error as e:
            raise LibraryError(f"could not write to the library: {e}") from None

    def offline_folders(self) -> dict[str, str]:
        """Library folders whose photos cannot be reached now (not found, drive not mounted): folder -> why.
        Their photos stay in the library and in search results."""
        from photosearch.library.offline import offline_folders

        return self._read(offline_folders, self.folders(), self._recognised)

    def status(self, photo_folders: bool = False) -> LibraryStatus:
        """Photos, vectors per model, folders (offline ones too), skipped files, the text pass;
        ``photo_folders``: also the folders holding photos (:meth:`photo_folders`)."""
        folders = self.folders()
        photos = self._read(sql.count_photos)
        offline = self.offline_folders()
        return LibraryStatus(library=str(self.path), photos=photos, models=self.models(), folders=folders,
                             missing_folders=[f for f in folders if f in offline], skipped=self.skipped(),
                             text=self._text_status(), photo_folders=self.photo_folders() if photo_folders else None,
                             faces=self._read(_faces_status))

    def _text_status(self) -> TextStatus:
        from photosearch.library import textindex

        try:
            return TextStatus(enabled=textindex.enabled(self.conn), **textindex.counts(self.conn))
        except sqlite3.DatabaseError as e:
            raise LibraryError(_db._error_text(self.path, e)) from None

    def photo_info(self, path) -> dict | None:
        """What the library knows about one photo (None when it is not in the library)."""
        p = os.path.abspath(os.path.expanduser(str(path)))
        return self.photo_infos([p]).get(p)

    def photo_meta(self, path) -> dict | None:
        """Everything read from the photo at index time (meta/store.py's record: GPS, place, camera, exposure,
        kind, colours, fault); None when the photo is not in the library or was not read yet."""
        from photosearch.meta import store

        p = os.path.abspath(os.path.expanduser(str(path)))
        return self._read(store.record, p)

    def photo_infos(self, paths: list[str]) -> dict[str, dict]:
        """:meth:`photo_info` of many photos (search hits) in one query; paths not in the library are left out."""
        from photosearch.library import textindex

        rows = self._read(sql.photos_at, [str(p) for p in paths])
        lines = self._read(textindex.stored_lines_of, list(rows))
        return {p: {"path": r["path"], "width": r["width"], "height": r["height"], "taken_at": r["taken_at"],
                    "size": r["size"], "mtime": r["mtime_ns"] / 1e9, "format": r["format"], "folder": r["folder"],
                    "indexed_at": r["indexed_at"], "duration_s": r["duration_s"], "text_lines": lines.get(p)}  # None: not read (yet)
                for p, r in rows.items()}
