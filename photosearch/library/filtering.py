"""Which photos a search considers: the filters of a :class:`~photosearch.library.query.Filters` (dates, types,
places, cameras, colours, kinds, folder, text, people) as a mask over a model's vectors, the facet counts the
window's sidebar shows, and the one sentence that says which filter left a search empty. A base class of
``Library``: its methods use the library's connection, ``_key`` and ``_read``."""

from __future__ import annotations

import sqlite3

import numpy as np

from photosearch.errors import LibraryError
from photosearch.library import browse
from photosearch.library import queries as sql
from photosearch.library.query import Filters
from photosearch.library.search import folder_range, parse_date, parse_types, vectors_for


def _and(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return b if a is None else a if b is None else a & b


class LibraryFilters:
    """The filtering side of a library (see the module doc)."""

    def _filtered(self, model, filters: Filters | None = None):
        """The model's vectors and the mask of rows passing the filters (None: no filter)."""
        f = filters or Filters()
        after_s = parse_date(f.after) if f.after else None
        before_s = parse_date(f.before, end=True) if f.before else None
        formats = parse_types(list(f.types))
        try:
            vi = vectors_for(self.conn, self._key, model.config.model_id, int(model.config.embed_dim))
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None
        of_type = self._formats_mask(vi, formats)
        mask = _and(vi.filter_mask(after_s, before_s, None, f.include_undated), of_type)
        if f.after_south or f.before_south:  # a season: the southern range for photos taken south
            from photosearch.meta.facets import season_mask

            south = self._meta_columns().south_mask(vi.ids[:len(vi)])
            mask = _and(of_type, season_mask(vi, f, south))
        if f.meta:
            mask = _and(mask, self._meta_columns().mask(vi.ids[:len(vi)], f.places, f.cameras, f.colors, f.kinds))
        if f.folder:
            m = self._folder_mask(vi, f.folder)
            mask = m if mask is None else mask & m
        if f.has_text:
            from photosearch.library import textindex

            m = textindex.has_text_mask(self.conn, vi.ids[:len(vi)])
            mask = m if mask is None else mask & m
        if f.persons:
            m = self._persons_mask(vi, f.persons)
            mask = m if mask is None else mask & m
        return vi, mask

    def facets(self, model, filters: Filters | None = None) -> dict:
        """Counts of the photos passing ``filters`` (with this model's vectors) by place, year/month, camera,
        colour, kind, text, RAW files and named people (meta/facets.py), and the first and last day they were
        taken: what the window's facets sidebar shows."""
        from photosearch.faces.people import named_counts
        from photosearch.meta import facets

        vi, mask = self._filtered(model, filters)
        n = len(vi)
        ids = vi.ids[:n] if mask is None else vi.ids[:n][mask]
        taken = vi.taken[:n] if mask is None else vi.taken[:n][mask]
        out = self._meta_columns().counts(ids)
        out["total"] = int(len(ids))
        out["years"] = facets.timeline(taken)
        dated = taken[~np.isnat(taken)]
        out["taken"] = [str(dated.min())[:10], str(dated.max())[:10]] if len(dated) else None  # first, last day
        raw = self._formats_mask(vi, parse_types(["raw"]))
        out["raw"] = int((raw if mask is None else raw & mask).sum())  # camera RAW shots (a type, not a kind)
        out["people"] = self._read(named_counts, ids, self._key)
        return out

    def _formats_mask(self, vi, formats: list[str]) -> np.ndarray | None:
        """Rows of one of ``formats``, or whose shot has a RAW of one of them (library/pairs.py); None: any."""
        from photosearch.library.pairs import with_raw_of

        if not formats:
            return None
        m = vi.filter_mask(formats=formats)
        paired = self._read(with_raw_of, formats, self._key)
        return m | np.isin(vi.ids[:len(vi)], paired) if paired else m

    def _persons_mask(self, vi, names) -> np.ndarray:
        from photosearch.faces.people import photo_ids_with

        return np.isin(vi.ids[:len(vi)], self._read(photo_ids_with, tuple(names)))

    def _folder_mask(self, vi, folder: str) -> np.ndarray:
        lo, hi = folder_range(folder)
        inside = np.asarray(self._read(sql.photo_ids_in_range, lo, hi), dtype=np.int64)
        return np.isin(vi.ids[:len(vi)], inside)

    def why_empty(self, model, filters: Filters) -> str | None:
        """When a search found nothing: which filter did it, in one sentence (None if none explains it)."""
        f = filters
        vi, _ = self._filtered(model)
        n = len(vi)
        counts: dict[str, int] = {}
        if f.folder:
            counts[f"under {f.folder}"] = int(self._folder_mask(vi, f.folder).sum())
        if f.after:
            counts[f"taken on or after {f.after}"] = int(vi.filter_mask(parse_date(f.after), None, None,
                                                                        f.include_undated).sum())
        if f.before:
            counts[f"taken on or before {f.before}"] = int(vi.filter_mask(
                None, parse_date(f.before, end=True), None, f.include_undated).sum())
        if f.types:
            counts[f"of type {', '.join(f.types)}"] = int(self._formats_mask(vi, parse_types(list(f.types))).sum())
        if f.has_text:
            from photosearch.library import textindex

            counts["with text"] = int(textindex.has_text_mask(self.conn, vi.ids[:n]).sum())
        if f.meta:
            counts.update(self._meta_columns().counts_by_filter(vi.ids[:n], f))

        for name in f.persons:
            counts[f"of {name}"] = int(self._persons_mask(vi, (name,)).sum())
        undated = int(np.isnat(vi.taken[:n]).sum())
        return browse.why_empty(n, counts, undated, f.include_undated)
