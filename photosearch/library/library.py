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

    # -- indexing ----------------------------------------------------------------------------------------
    def index(self, model, folders: list[str] | None = None, *, batch_size: int = 32, workers: int | None = None,
              cancel: threading.Event | None = None, text: bool = False, ocr=None) -> Iterator[IndexEvent]:
        """Generator of progress events; the visual pass ends with phase "done" and ``.report``. Folders given
        are added to the library first; without them every library folder is indexed. ``text=True`` then
        reads the words in the photos (``ocr``: an :class:`~photosearch.ocr.OcrEngine`), yielding
        :class:`~photosearch.library.textindex.TextEvent`s (phases "text" and "text-done")."""
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
        if text and not (cancel is not None and cancel.is_set()):
            yield from self.read_text(ocr, cancel=cancel)

    def read_text(self, ocr=None, *, batch_size: int = 8,
                  cancel: threading.Event | None = None) -> Iterator["TextEvent"]:
        """The text pass alone (library/textindex.py): reads photos not read yet; cancel keeps what was read.
        The default engine runs at normal priority (the command line waits for it); the app passes one with
        ``background=True``."""
        from photosearch.library import textindex
        from photosearch.ocr import OcrEngine

        try:
            yield from textindex.run(self.conn, ocr or OcrEngine(), batch_size=batch_size, cancel=cancel)
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None

    def run_index(self, model, folders=None, *, on_event: Callable[[IndexEvent], None] | None = None,
                  **kw) -> IndexReport:
        report = None
        for ev in self.index(model, folders, **kw):
            if on_event is not None:
                on_event(ev)
            if getattr(ev, "report", None) is not None:
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
               before: str | None = None, types: list[str] | None = None,
               has_text: bool = False) -> list[SearchHit]:
        """Best first. ``query`` supports ``"cat + snow - indoor"`` and ``"2*cat"`` weights; ``like`` is an
        example image (a library photo or any file); ``min_score`` drops weak matches so a search can find
        nothing relevant. Photos whose recognised text holds the query's words come first (``text_match``);
        ``text:"words"`` searches the text only; ``has_text`` keeps only photos where text was read."""
        from photosearch.library import textindex

        tq = textindex.parse_text_query(query) if query and query.strip() else None
        visual = tq.visual if tq is not None else None
        q = self.query_vector(model, visual, like) if visual or like is not None else None
        if q is None and (tq is None or not tq.fts):
            raise QueryError("empty query: give words, an example image, or both")
        after_s = parse_date(after) if after else None
        before_s = parse_date(before, end=True) if before else None
        formats = parse_types(types)
        try:
            vi = vectors_for(self.conn, self._key, model.config.model_id, int(model.config.embed_dim))
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None
        mask = vi.filter_mask(after_s, before_s, formats)
        if folder:
            lo, hi = folder_range(folder)
            inside = np.fromiter((r[0] for r in self._read("SELECT id FROM photos WHERE path >= ? AND path < ?",
                                                           (lo, hi))), dtype=np.int64)
            m = np.isin(vi.ids[:len(vi)], inside)
            mask = m if mask is None else mask & m
        if has_text:
            m = textindex.has_text_mask(self.conn, vi.ids[:len(vi)])
            mask = m if mask is None else mask & m
        # Ask for a few more than top_k: rows deleted since the matrix was loaded are dropped below.
        ids, scores = vi.top_k(q, top_k + 8, mask, min_score) if q is not None else (np.zeros(0, np.int64),
                                                                                      np.zeros(0, np.float32))
        merged = textindex.lift(self.conn, tq, vi, q, mask, ids, scores, top_k + 8) if tq is not None else \
            [(int(i), float(s), None) for i, s in zip(ids, scores)]
        paths: dict[int, str] = {}
        id_list = [i for i, _, _ in merged]
        for i in range(0, len(id_list), 900):
            chunk = id_list[i:i + 900]
            paths.update(self._read(f"SELECT id, path FROM photos WHERE id IN ({', '.join('?' * len(chunk))})",
                                    chunk))
        # An example photo from the library comes back first (score ~1): the GUI shows it as the anchor.
        hits = [SearchHit(paths[i], round(min(1.0, max(-1.0, float(s))), 6), snip is not None, snip)
                for i, s, snip in merged if i in paths]
        return hits[:top_k]

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
            "text": self._text_status(),
        }

    def _text_status(self) -> dict:
        from photosearch.library import textindex

        try:
            return {"enabled": textindex.enabled(self.conn), **textindex.counts(self.conn)}
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None

    def photo_info(self, path) -> dict | None:
        p = os.path.abspath(os.path.expanduser(str(path)))
        rows = self._read("SELECT path, width, height, taken_at, size, mtime_ns, format, folder, indexed_at "
                          "FROM photos WHERE path = ?", (p,))
        if not rows:
            return None
        r = rows[0]
        from photosearch.library import textindex

        return {"path": r[0], "width": r[1], "height": r[2], "taken_at": r[3], "size": r[4],
                "mtime": r[5] / 1e9, "format": r[6], "folder": r[7], "indexed_at": r[8],
                "text_lines": textindex.stored_lines(self.conn, r[0])}  # None: not read (yet)
