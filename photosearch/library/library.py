"""The :class:`Library`: folders, indexing and search over one library database."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from photosearch.errors import LibraryError
from photosearch.library import db as _db
from photosearch.library import browse, feedback, relevance
from photosearch.library.index import IndexEvent, IndexReport
from photosearch.library.scan import norm_folder, under
from photosearch.library.search import (QueryError, SearchHit, combine, folder_range, parse_date, parse_query,
                                        parse_types, vectors_for)

_TEXT_CACHE_SIZE = 256  # recent query terms per model: retyping a query skips the text encoder


@contextlib.contextmanager
def _few_threads(n_texts: int):
    """Encode a short query on one thread: a 10-token input does not parallelise, and on a busy 2-core
    machine torch's second thread made it 3-8x slower (45-117 ms against 13-17 ms, measured). The setting is
    process-wide; it is restored at once."""
    import torch

    before = torch.get_num_threads()
    if n_texts > 4 or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Library:
    """One library database. Thread use: one Library object per thread; another Library opened on the same
    file (other thread or process) sees newly committed photos on its next search."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self._conn = conn
        self.path = path
        self._key = os.path.realpath(path)
        self._text_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    @classmethod
    def open(cls, path: str | Path, create: bool = True) -> "Library":
        path = Path(path).expanduser()
        return cls(_db.connect(path, create=create), path)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LibraryError("the library is closed")
        return self._conn

    def _read(self, sql: str, args=()) -> list:
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None

    # -- folders -----------------------------------------------------------------------------------------
    def add_folder(self, path) -> str:
        p = norm_folder(path)
        if not os.path.isdir(p):
            raise LibraryError(f"not a folder: {p}")
        try:
            with _db.Tx(self.conn):
                self.conn.execute("INSERT OR IGNORE INTO folders VALUES (?, ?)", (p, time.time()))
        except sqlite3.Error as e:
            raise LibraryError(f"could not write to the library: {e}") from None
        return p

    def remove_folder(self, path) -> None:
        """Forget the folder and its photos (the files on disk are not touched)."""
        p = norm_folder(path)
        folders = self.folders()
        if p not in folders:
            raise LibraryError(f"not a library folder: {p}")
        others = [f for f in folders if f != p]
        rows = self._read("SELECT id, path FROM photos WHERE folder = ? OR substr(path, 1, ?) = ?",
                          (p, len(p) + 1, p.rstrip(os.sep) + os.sep))
        drop = [(i,) for i, fp in rows if not any(under(fp, o) for o in others)]
        try:
            with _db.Tx(self.conn):
                self.conn.executemany("DELETE FROM photos WHERE id = ?", drop)
                self.conn.execute("DELETE FROM skipped WHERE folder = ?", (p,))
                self.conn.execute("DELETE FROM folders WHERE path = ?", (p,))
        except sqlite3.Error as e:
            raise LibraryError(f"could not write to the library: {e}") from None

    def folders(self) -> list[str]:
        return [r[0] for r in self._read("SELECT path FROM folders ORDER BY path")]

    def photo_folders(self) -> list[str]:
        """The library folders and every folder under them that holds indexed photos (with the folders in
        between), sorted: what a folder filter can offer."""
        roots = self.folders()
        # rtrim(path, <its characters other than the separator>) leaves the parent folder and a separator.
        parents = self._read("SELECT DISTINCT rtrim(path, replace(path, ?, '')) FROM photos", (os.sep,))
        found = set(roots)
        for (parent,) in parents:
            d = parent.rstrip(os.sep) or os.sep
            root = next((r for r in roots if under(d, r)), None)
            while root is not None and d not in found:
                found.add(d)
                d = os.path.dirname(d)
        return sorted(found)

    # -- indexing ----------------------------------------------------------------------------------------
    def index(self, model, folders: list[str] | None = None, *, batch_size: int = 32, workers: int | None = None,
              cancel: threading.Event | None = None) -> Iterator[IndexEvent]:
        """Generator of progress events; the last has phase "done" and ``.report``. Folders given are added
        to the library first; without them every library folder is indexed."""
        from photosearch.library import index as _index

        if batch_size < 1:
            raise LibraryError("batch size must be at least 1")
        targets = [self.add_folder(f) for f in folders] if folders else self.folders()
        if not targets:
            raise LibraryError("the library has no folders yet; add one (photosearch folders add PATH)")
        try:
            yield from _index.run(self.conn, model, targets, self.folders(), batch_size=batch_size,
                                  workers=workers, cancel=cancel)
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None

    def run_index(self, model, folders=None, *, on_event: Callable[[IndexEvent], None] | None = None,
                  **kw) -> IndexReport:
        report = None
        for ev in self.index(model, folders, **kw):
            if on_event is not None:
                on_event(ev)
            if ev.report is not None:
                report = ev.report
        return report

    # -- search ------------------------------------------------------------------------------------------
    def _text_vectors(self, model, terms: list[str]) -> np.ndarray:
        mid = model.config.model_id
        missing = [t for t in terms if (mid, t) not in self._text_cache]
        if missing:
            with _few_threads(len(missing)):
                vecs = model.embed_texts(missing).numpy().astype(np.float32)
            for t, v in zip(missing, vecs):
                self._text_cache[(mid, t)] = v
                if len(self._text_cache) > _TEXT_CACHE_SIZE:
                    self._text_cache.popitem(last=False)
        for t in terms:
            self._text_cache.move_to_end((mid, t))
        return np.stack([self._text_cache[(mid, t)] for t in terms])

    def _image_vector(self, model, like) -> np.ndarray:
        p = str(Path(like).expanduser().resolve())
        for cand in dict.fromkeys((os.path.abspath(os.path.expanduser(str(like))), p)):
            row = self._read("SELECT e.vector FROM embeddings e JOIN photos p ON p.id = e.photo_id "
                             "WHERE p.path = ? AND e.model_id = ?", (cand, model.config.model_id))
            if row:
                return np.frombuffer(row[0][0], dtype="<f2").astype(np.float32)
        from photosearch.imageio import ImageSkip, load_image

        try:
            img, _ = load_image(p, min_side=int(model.config.preprocess.input_size
                                                / max(model.config.preprocess.crop_pct, 1e-3)) + 1)
        except ImageSkip as e:
            raise QueryError(f"{like}: {e.reason}") from None
        return model.embed_pil([img]).numpy()[0].astype(np.float32)

    def query_vector(self, model, query: str | None = None, like: str | Path | None = None) -> np.ndarray:
        """The unit vector a search ranks by (text terms with arithmetic, and/or an example image)."""
        terms = parse_query(query) if query and query.strip() else []
        tv = self._text_vectors(model, [t for _, t in terms]) if terms else None
        iv = self._image_vector(model, like) if like is not None else None
        return combine(tv, [w for w, _ in terms], iv)

    def search(self, model, query: str | None = None, *, like: str | Path | None = None, top_k: int = 50,
               min_score: float | None = None, folder: str | None = None, after: str | None = None,
               before: str | None = None, types: list[str] | None = None, more=(), less=(),
               only_relevant: bool = False, sort: str = "relevance", group_copies: bool = True,
               include_undated: bool = False) -> list[SearchHit]:
        """Best first, each hit marked ``relevant`` by the per-query cut (library/relevance.py). ``query``
        supports ``"cat + snow - indoor"`` and ``"2*cat"`` weights; ``like`` is an example image (a library
        photo or any file); ``more``/``less`` are photos marked more-like / less-like (library/feedback.py);
        ``min_score`` overrides the cut with a fixed score and drops what is below it; ``only_relevant``
        keeps the good matches only; ``sort="date"`` orders the good matches newest first; identical files
        are one hit with ``copies`` (library/browse.py). No query at all lists the library newest first."""
        typed = bool(query and query.strip()) or like is not None
        vi, mask = self._filtered(model, folder, after, before, types, include_undated)
        if not typed and not more:
            allowed = None if mask is None else vi.ids[:len(vi)][mask]
            return browse.newest_first(self.conn, model.config.model_id, allowed, top_k, group_copies)
        q = self.query_vector(model, query, like) if typed else None
        kind = relevance.query_kind(bool(query and query.strip()), like is not None or bool(more))
        more_v = [self._image_vector(model, p) for p in more]
        less_v = [self._image_vector(model, p) for p in less]
        all_scores = vi.scores(q) if q is not None else None
        less_s = [vi.scores(v) for v in less_v]
        if more_v or less_v:
            all_scores = feedback.adjust(all_scores, [vi.scores(v) for v in more_v], less_s)
        # The cut comes from the whole library's scores, never just the filtered ones.
        threshold = min_score if min_score is not None else relevance.cut(
            all_scores, relevance.load_calibration(model).rule(kind), kind).threshold
        all_scores = feedback.drop_marked(all_scores, less_s)
        # Ask for more than top_k: copies fold together and rows deleted since the matrix was loaded drop out.
        ids, scores = vi.top_k(q if q is not None else more_v[0], 2 * top_k + 8, mask,
                               min_score if min_score is not None else threshold if only_relevant else None,
                               scores=all_scores)
        # An example photo from the library comes back first (score ~1): the GUI shows it as the anchor.
        try:
            return browse.make_hits(self.conn, [int(i) for i in ids], scores, threshold, top_k, sort, group_copies)
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None
        except ValueError as e:
            raise QueryError(str(e)) from None

    def _filtered(self, model, folder=None, after=None, before=None, types=None, include_undated=False):
        """The model's vectors and the mask of rows passing the filters (None: no filter)."""
        after_s = parse_date(after) if after else None
        before_s = parse_date(before, end=True) if before else None
        formats = parse_types(types)
        try:
            vi = vectors_for(self.conn, self._key, model.config.model_id, int(model.config.embed_dim))
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None
        mask = vi.filter_mask(after_s, before_s, formats, include_undated)
        if folder:
            m = self._folder_mask(vi, folder)
            mask = m if mask is None else mask & m
        return vi, mask

    def _folder_mask(self, vi, folder: str) -> np.ndarray:
        lo, hi = folder_range(folder)
        inside = np.fromiter((r[0] for r in self._read("SELECT id FROM photos WHERE path >= ? AND path < ?",
                                                       (lo, hi))), dtype=np.int64)
        return np.isin(vi.ids[:len(vi)], inside)

    def why_empty(self, model, folder: str | None = None, after: str | None = None, before: str | None = None,
                  types: list[str] | None = None, include_undated: bool = False) -> str | None:
        """When a search found nothing: which filter did it, in one sentence (None if none explains it)."""
        vi, _ = self._filtered(model)
        n = len(vi)
        counts: dict[str, int] = {}
        if folder:
            counts[f"under {folder}"] = int(self._folder_mask(vi, folder).sum())
        if after:
            counts[f"taken on or after {after}"] = int(vi.filter_mask(parse_date(after), None, None,
                                                                      include_undated).sum())
        if before:
            counts[f"taken on or before {before}"] = int(vi.filter_mask(None, parse_date(before, end=True), None,
                                                                        include_undated).sum())
        if types:
            counts[f"of type {', '.join(types)}"] = int(vi.filter_mask(None, None, parse_types(types)).sum())
        undated = int(np.isnat(vi.taken[:n]).sum())
        return browse.why_empty(n, counts, undated, include_undated)

    # -- information -------------------------------------------------------------------------------------
    def skipped(self) -> list[dict]:
        return [{"path": p, "reason": r} for p, r in self._read("SELECT path, reason FROM skipped ORDER BY path")]

    def models(self) -> dict[str, int]:
        rows = self._read("SELECT m.model_id, (SELECT count(*) FROM embeddings e WHERE e.model_id = m.model_id) "
                          "FROM models m ORDER BY m.model_id")
        return {m: n for m, n in rows}

    def status(self) -> dict:
        folders = self.folders()
        try:
            photos = _db.database(self.conn)["photos"].count
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None
        return {
            "library": str(self.path),
            "photos": photos,
            "models": self.models(),
            "folders": folders,
            "missing_folders": [f for f in folders if not os.path.isdir(f)],
            "skipped": self.skipped(),
        }

    def photo_info(self, path) -> dict | None:
        p = os.path.abspath(os.path.expanduser(str(path)))
        rows = self._read("SELECT path, width, height, taken_at, size, mtime_ns, format, folder, indexed_at "
                          "FROM photos WHERE path = ?", (p,))
        if not rows:
            return None
        r = rows[0]
        return {"path": r[0], "width": r[1], "height": r[2], "taken_at": r[3], "size": r[4],
                "mtime": r[5] / 1e9, "format": r[6], "folder": r[7], "indexed_at": r[8]}
