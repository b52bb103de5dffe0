"""The :class:`Library`: folders, indexing and search over one library database."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Generator

import numpy as np

from photosearch.errors import LibraryError
from photosearch.events import drain
from photosearch.library import db as _db
from photosearch.library import browse, feedback, frames, relevance
from photosearch.library import queries as sql
from photosearch.library.query import Query
from photosearch.library.scan import norm_folder, under
from photosearch.library.facts import LibraryFacts
from photosearch.library.filtering import LibraryFilters
from photosearch.library.search import QueryError, SearchHit, combine, parse_query, vectors_for

if TYPE_CHECKING:
    from photosearch.library.index import IndexEvent, IndexReport
    from photosearch.library.textindex import TextEvent, TextReport

_TEXT_CACHE_SIZE = 256  # recent query terms per model: retyping a query skips the text encoder


@contextlib.contextmanager
def _few_threads(n_texts: int):
    """Encode a short query on one thread: a 10-token input does not parallelise, and on a busy 2-core
    machine torch's second thread made it 3-8x slower (45-117 ms against 13-17 ms, measured). The setting is
    process-wide; it is restored at once."""
    torch = sys.modules.get("torch")
    if torch is None:  # a torch-free text encoder (model/text_onnx.py) runs on one thread already
        yield
        return
    before = torch.get_num_threads()
    if n_texts > 4 or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Library(LibraryFacts, LibraryFilters):
    """One library database. Thread use: one Library object per thread; another Library opened on the same
    file (other thread or process) sees newly committed photos on its next search."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self._conn = conn
        self.path = path
        self._key = os.path.realpath(path)
        self._text_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._recognised: dict[tuple[str, int], bool] = {}  # (folder, st_dev) -> holds its photos (offline.py)

    @classmethod
    def open(cls, path: str | Path, create: bool = True, read_only: bool = False) -> "Library":
        """``read_only``: for search and status only; works on a read-only mount and writes nothing."""
        path = Path(path).expanduser()
        return cls(_db.connect(path, create=create, read_only=read_only), path)

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

    def _read(self, query, *args):
        """``query(conn, *args)`` from :mod:`queries`, a damaged file reported as :class:`LibraryError`."""
        try:
            return query(self.conn, *args)
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None

    # -- folders -----------------------------------------------------------------------------------------
    def add_folder(self, path) -> str:
        p = norm_folder(path)
        if not os.path.isdir(p):
            raise LibraryError(f"not a folder: {p}")
        try:
            with _db.Tx(self.conn):
                sql.add_folder(self.conn, p)
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
        rows = self._read(sql.photos_under, p, os.sep)
        drop = [r["id"] for r in rows if not any(under(r["path"], o) for o in others)]
        try:
            with _db.Tx(self.conn):
                sql.delete_photos(self.conn, drop)
                sql.delete_folder(self.conn, p)
        except sqlite3.Error as e:
            raise LibraryError(f"could not write to the library: {e}") from None

    def folders(self) -> list[str]:
        return self._read(sql.folder_paths)

    def photo_folders(self) -> list[str]:
        """The library folders and every folder under them that holds indexed photos (with the folders in
        between), sorted: what a folder filter can offer."""
        roots = self.folders()
        found = set(roots)
        for parent in self._read(sql.photo_parent_folders, os.sep):
            d = parent.rstrip(os.sep) or os.sep
            root = next((r for r in roots if under(d, r)), None)
            while root is not None and d not in found:
                found.add(d)
                d = os.path.dirname(d)
        return sorted(found)

    # -- indexing ----------------------------------------------------------------------------------------
    def index(self, model, folders: list[str] | None = None, *, batch_size: int = 32, workers: int | None = None,
              cancel: threading.Event | None = None, text: bool = False, ocr=None, faces: bool = False,
              face_engine=None, scan_faces: bool | None = None) -> Generator[IndexEvent, None, IndexReport]:
        """Generator of progress events that returns the visual pass's :class:`IndexReport`. Folders given
        are added to the library first; without them every library folder is indexed. ``text=True`` then
        reads the words in the photos (``ocr``: an :class:`~photosearch.ocr.OcrEngine`), yielding
        :class:`~photosearch.library.textindex.TextEvent`s (phases "text" and "text-done"); :meth:`read_text`
        alone returns that pass's report. ``faces=True`` then finds the faces and groups them into people
        (:meth:`find_faces`). ``scan_faces``: find the faces of the photos embedded in the same decode as their
        vectors (faces/facepass.py); None: when ``faces`` is true or the library's faces setting is on. The
        faces pass then only catches up on photos indexed before."""
        from photosearch.library import index as _index

        if batch_size < 1:
            raise LibraryError("batch size must be at least 1")
        pre = model.config.preprocess
        if not (int(pre.input_size) >= 1 and float(pre.crop_pct) > 0):
            from photosearch.errors import ModelError

            raise ModelError(f"the model {model.config.model_id!r} has an unusable configuration: input size "
                             f"{pre.input_size}, crop {pre.crop_pct}; fix its config.json or choose another model")
        batch_size = _index.bounded_batch_size(batch_size, int(pre.input_size))
        with _db.IndexLock(self.path):
            targets = [self.add_folder(f) for f in folders] if folders else self.folders()
            if not targets:
                raise LibraryError("the library has no folders yet; add one (photosearch folders add PATH)")
            engine = self._face_engine(face_engine, True if faces and scan_faces is None else scan_faces)
            try:
                report = yield from _index.run(self.conn, model, targets, self.folders(), batch_size=batch_size,
                                               workers=workers, cancel=cancel, faces=engine)
                yield from self.read_meta(cancel)
                self.fill_places()
                frames.fill_durations(self.conn, self.folders(), cancel)  # videos indexed before lengths were kept
            except sqlite3.DatabaseError as e:
                raise LibraryError(_db._error_text(self.path, e)) from None
        if text and not (cancel is not None and cancel.is_set()):
            yield from self.read_text(ocr, cancel=cancel)
        if faces and not (cancel is not None and cancel.is_set()):
            yield from self.find_faces(engine or face_engine, cancel=cancel)
        return report

    def _face_engine(self, engine, scan: bool | None):
        """The face engine to find faces with while indexing, loaded; None when not wanted or when its models
        cannot load (the faces pass, if asked for, then says why)."""
        from photosearch.faces import facepass

        if scan is False or (scan is None and not facepass.enabled(self.conn)):
            return None
        from photosearch.faces.engine import FaceEngine, FaceModelError

        engine = engine or FaceEngine()
        try:
            engine.load()
        except FaceModelError:
            return None
        return engine

    def read_meta(self, cancel: threading.Event | None = None) -> Generator[IndexEvent, None, None]:
        """Metadata of photos indexed before the library kept it (meta/backfill.py): events of phase "meta"."""
        import time

        from photosearch.meta import backfill

        t0 = time.perf_counter()
        for done, total, current in backfill.run(self.conn, cancel=cancel):
            yield backfill.event(done, total, current, t0)

    def fill_places(self) -> int:
        """Places (meta/places.py) of photos with GPS not looked up yet; after the visual pass, so the
        first use's data load (~2 s) never holds it up. Never fails the index run: a problem is logged."""
        from photosearch.meta import places

        try:
            return places.fill(self.conn)
        except (OSError, RuntimeError, ValueError) as e:
            import logging

            logging.getLogger(__name__).warning("places not looked up: %s", e)
            return 0

    def find_faces(self, engine=None, *, cancel: threading.Event | None = None) -> Generator:
        """The faces pass alone (faces/facepass.py), then the new faces grouped into people (faces/people.py):
        :class:`~photosearch.faces.facepass.FaceEvent`s, then ``GroupEvent``s; the FaceEvent of phase
        "faces-done" carries the report (``grouped`` filled in when grouping ends), which is also returned."""
        from photosearch.faces import facepass, people
        from photosearch.faces.engine import FaceEngine

        try:
            report = None
            for ev in facepass.run(self.conn, engine or FaceEngine(), cancel=cancel):
                report = ev.face_report or report
                yield ev
            for ev in people.group(self.conn, cancel=cancel):
                if report is not None:
                    report.grouped = ev.joined + ev.created
                yield ev
            return report
        except sqlite3.DatabaseError as e:
            raise LibraryError(_db._error_text(self.path, e)) from None

    def read_text(self, ocr=None, *, batch_size: int = 8,
                  cancel: threading.Event | None = None) -> Generator[TextEvent, None, TextReport]:
        """The text pass alone (library/textindex.py): reads photos not read yet; cancel keeps what was read;
        returns its :class:`~photosearch.library.textindex.TextReport`.
        The default engine runs at normal priority (the command line waits for it); the app passes one with
        ``background=True``."""
        from photosearch.library import textindex
        from photosearch.ocr import OcrEngine

        try:
            return (yield from textindex.run(self.conn, ocr or OcrEngine(), batch_size=batch_size, cancel=cancel))
        except sqlite3.DatabaseError as e:
            raise LibraryError(_db._error_text(self.path, e)) from None

    def run_index(self, model, folders=None, *, on_event: Callable[[IndexEvent], None] | None = None,
                  **kw) -> IndexReport:
        """:meth:`index` to its end; ``on_event`` sees every event."""
        return drain(self.index(model, folders, **kw), on_event)

    # -- search ------------------------------------------------------------------------------------------
    def _text_vectors(self, model, terms: list[str]) -> np.ndarray:
        mid = model.config.model_id
        missing = [t for t in terms if (mid, t) not in self._text_cache]
        if missing:
            with _few_threads(len(missing)):
                vecs = np.asarray(model.embed_texts(missing), dtype=np.float32)  # torch or numpy
            for t, v in zip(missing, vecs):
                self._text_cache[(mid, t)] = v
                if len(self._text_cache) > _TEXT_CACHE_SIZE:
                    self._text_cache.popitem(last=False)
        for t in terms:
            self._text_cache.move_to_end((mid, t))
        return np.stack([self._text_cache[(mid, t)] for t in terms])

    def _image_vector(self, model, like) -> np.ndarray:
        return self._image_vectors(model, [like])[0]

    def _image_vectors(self, model, paths) -> list[np.ndarray]:
        """Vectors of example photos: a library photo's stored vector, other files embedded in batches
        (library/feedback.py bounds how many)."""
        return feedback.marked_vectors(list(paths), lambda p: self._stored_vector(model, p),
                                       lambda ps: self._embed_files(model, ps))

    def _stored_vector(self, model, like) -> np.ndarray | None:
        p = str(Path(like).expanduser().resolve())
        for cand in dict.fromkeys((os.path.abspath(os.path.expanduser(str(like))), p)):
            vec = self._read(sql.vector_of, cand, model.config.model_id)
            if vec is not None:
                return np.frombuffer(vec, dtype=sql.VECTOR_DTYPE).astype(np.float32)
        return None

    def _embed_files(self, model, paths) -> np.ndarray:
        from photosearch.imageio import ImageSkip, decode_min_side, load_image

        pre = model.config.preprocess
        imgs = []
        for like in paths:
            try:
                imgs.append(load_image(Path(like).expanduser().resolve(),
                                       min_side=decode_min_side(pre.input_size, pre.crop_pct))[0])
            except ImageSkip as e:
                raise QueryError(f"{like}: {e.reason}") from None
        return model.embed_pil(imgs).numpy().astype(np.float32)

    def query_vector(self, model, query: str | None = None, like: str | Path | None = None,
                     things: tuple[str, ...] = ()) -> np.ndarray:
        """The unit vector a search ranks by (text terms with arithmetic, and/or an example image and named
        things, which count together as the image side)."""
        terms = parse_query(query) if query and query.strip() else []
        tv = self._text_vectors(model, [t for _, t in terms]) if terms else None
        iv = self._image_vector(model, like) if like is not None else None
        if things:
            from photosearch.library.things import ThingError, thing_vector

            try:
                shown = [thing_vector(self.conn, name, model.config.model_id) for name in things]
            except ThingError as e:
                raise QueryError(str(e)) from None
            if iv is not None:
                shown.append(iv / max(float(np.linalg.norm(iv)), 1e-6))
            iv = np.sum(shown, axis=0)
        return combine(tv, [w for w, _ in terms], iv)

    def search(self, model, query: Query) -> list[SearchHit]:
        """Best first, each hit marked ``relevant`` by the per-query cut (library/relevance.py). ``query.text``
        supports ``"cat + snow - indoor"`` and ``"2*cat"`` weights; ``query.like`` is an example image (a library
        photo or any file); ``more``/``less`` are photos marked more-like / less-like (library/feedback.py);
        ``min_score`` overrides the cut with a fixed score and drops what is below it; ``only_relevant``
        keeps the good matches only; ``sort="date"`` orders the good matches newest first; identical files
        are one hit with ``copies`` (library/browse.py). No query at all lists the library newest first.
        Photos whose recognised text holds the query's words come first, marked ``text_match``
        (library/textindex.py); ``text:"words"`` searches the text only; ``has_text`` keeps photos with text."""
        from photosearch.library import textindex

        text, like, top_k, min_score = query.text, query.like, query.top_k, query.min_score
        group_copies = query.group_copies
        tq = textindex.parse_text_query(text) if text else None
        if tq is not None:
            text = tq.visual  # what the visual model ranks by; None: the words in photos only
        typed = bool(text and text.strip()) or like is not None or bool(query.things)
        vi, mask = self._filtered(model, query.filters)
        if tq is not None and tq.fts and not typed and not query.more:
            return textindex.lift_hits(self.conn, tq, vi, None, mask, [], top_k, group_copies)
        if not typed and not query.more:
            allowed = None if mask is None else vi.ids[:len(vi)][mask]
            hits = browse.newest_first(self.conn, model.config.model_id, allowed, top_k, group_copies)
            if query.filters.persons:  # a video of them starts where they are seen
                from photosearch.faces.people import seen_at

                hits = frames.annotate(self.conn, hits, self._read(seen_at, query.filters.persons))
            return hits
        q, all_scores, moments, text_rows = self._scored(model, query, vi, text, tq)
        if tq is not None and tq.fts:
            if tq.only:
                only = np.zeros(len(vi), bool)
                only[text_rows] = True
                mask = only if mask is None else mask & only
        threshold = min_score if min_score is not None else relevance.GOOD
        # Ask for more than top_k: copies fold together and rows deleted since the matrix was loaded drop out.
        ids, scores = vi.top_k(q, 2 * top_k + 8, mask,
                               min_score if min_score is not None else threshold if query.only_relevant else None,
                               scores=all_scores)
        # An example photo from the library comes back first (score ~1): the GUI shows it as the anchor.
        try:
            hits = browse.make_hits(self.conn, [int(i) for i in ids], scores, threshold, top_k, query.sort,
                                    group_copies)
            if len(text_rows):
                textindex.mark_hits(self.conn, tq, hits, set(vi.ids[text_rows].tolist()))
            return frames.annotate(self.conn, hits, moments)
        except sqlite3.DatabaseError as e:
            raise LibraryError(f"the library {self.path} is damaged or unreadable: {e}") from None
        except ValueError as e:
            raise QueryError(str(e)) from None

    def video_moments(self, model, path, query: str | None = None, n: int = 6,
                      like=None) -> list[tuple[float, float | None]]:
        """A video's ``n`` moments that best match ``query`` (and/or the example image ``like``) as (second,
        score), best first; with neither, ``n`` moments spread over the video. [] for a photo or a path not in
        the library."""
        ids = self._read(sql.photo_ids_at, [os.path.abspath(os.fspath(path))])
        if not ids:
            return []
        typed = query if query and query.strip() else None
        q = self.query_vector(model, typed, like) if typed or like is not None else None
        return self._read(frames.best, ids[0], model.config.model_id, q, n)

    def _scored(self, model, query: Query, vi, text: str | None, tq):
        """(query vector, every row's shown score, video moments, rows whose words match): the one scoring of a
        typed or marked search (``text``: what the visual model ranks by, ``tq``: the parsed text query)."""
        from photosearch.library import textindex

        typed = bool(text and text.strip()) or query.like is not None or bool(query.things)
        q = self.query_vector(model, text, query.like, query.things) if typed else None
        marked = self._image_vectors(model, [*query.more, *query.less])
        cos, moments = (vi.scores(q), {}) if q is not None else (None, {})
        if cos is not None:  # a video scores as its best moment
            cos, moments = frames.lift(self.conn, self._key, model.config.model_id, vi.ids[:len(vi)], q, cos)
        all_scores = self._judge(model, vi, cos, bool(text and text.strip()),
                                 query.like is not None or bool(query.things),
                                 marked[:len(query.more)], marked[len(query.more):])
        text_rows = np.zeros(0, np.int64)
        if tq is not None and tq.fts:  # words found in photos: one score with the visual evidence
            text_rows, strength = textindex.match_rows(self.conn, tq, vi)
            all_scores[text_rows] = relevance.with_text(all_scores[text_rows], strength)
        return q, all_scores, moments, text_rows

    def score_of(self, model, query: Query, path) -> float | None:
        """The score :meth:`search` shows ``path`` for ``query`` (same vectors, text evidence and marks), or
        None: the photo has no vector for ``model`` here, or the query ranks by nothing (no words, example or
        marks). ``photosearch explain`` and the window's "why this photo" show it."""
        from photosearch.library import textindex

        text = query.text
        tq = textindex.parse_text_query(text) if text else None
        if tq is not None:
            text = tq.visual
        if not (text and text.strip()) and query.like is None and not query.things and not query.more:
            return None
        pid = self._photo_id(path)
        vi = vectors_for(self.conn, self._key, model.config.model_id, int(model.config.embed_dim))
        rows = np.flatnonzero(vi.ids[:len(vi)] == pid) if pid is not None else []
        if not len(rows):
            return None
        return browse.hit_score(self._scored(model, query, vi, text, tq)[1][rows[0]])

    def _photo_id(self, path) -> int | None:
        for cand in dict.fromkeys((os.path.abspath(os.path.expanduser(str(path))),
                                   str(Path(path).expanduser().resolve()))):
            pid = self._read(sql.photo_id_at, cand)
            if pid is not None:
                return pid
        return None

    def _judge(self, model, vi, cos, has_text: bool, has_like: bool, more_v, less_v) -> np.ndarray:
        """Every row's shown score (library/relevance.py): the query's standing on each photo (``cos``: its
        cosines, None with no words or example) against the prompt bank, moved by the more-like/less-like
        photos' vectors (library/feedback.py); the less-like photos themselves -inf. Nothing else in the
        library enters a photo's score."""
        cal = relevance.load_calibration(model)
        bank = relevance.bank_of(model)
        stats = vi.derived(bank.key, bank.photo_stats)
        # The kind of query decides the rule; marks move photos, they do not change the kind.
        kind = relevance.query_kind(has_text, has_like or (cos is None and bool(more_v)))
        rule, image = cal.rule(kind), cal.rule("image")
        more_z = [relevance.standing(vi.scores(v), stats, image.shift) for v in more_v]
        less_cos = [vi.scores(v) for v in less_v]
        z = relevance.standing(cos, stats, rule.shift) if cos is not None else None
        z = feedback.adjust(z, more_z, [relevance.standing(c, stats, image.shift) for c in less_cos], image.t)
        out = relevance.shown(z, rule)
        if has_like and not has_text:  # the example photo itself (or its copy) is the anchor: 1
            out[cos >= relevance.SAME_PHOTO] = 1.0
        return feedback.drop_marked(out, less_cos)
