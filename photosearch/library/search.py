"""Ranking: the active model's vectors as one float32 matrix in memory, cosine scores, exact top-K.

Vectors are stored as float16 but ranked in float32 (numpy's float16 matmul is 15-20x slower). The matrix
is loaded once per (database, model) and process, then kept current incrementally: rows added since the
last search (``embeddings.seq`` grows, never reused) are appended; any deletion (counted by a trigger)
makes the next search reload. Memory: 4 * dim + 8 bytes per photo (1.5 KB at 384-d).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from photosearch.errors import PhotoSearchError
from photosearch.rawio import RAW_EXTENSIONS, raw_format
from photosearch.video import VIDEO_EXTENSIONS


@dataclass
class SearchHit:
    path: str
    score: float  # cosine similarity between the query and the photo, -1..1
    relevant: bool = True  # a good match by the per-query cut (library/relevance.py) or --min-score
    date: str | None = None  # ISO date taken, else the file's modification time
    copies: list[str] = field(default_factory=list)  # the result's other files: identical copies (library/browse.py)
    # and the shot's RAW or Live Photo video (library/pairs.py)
    files: str | None = None  # how they are named: "RAW + JPEG", "HEIC + Live video", "3 copies" (pairs.label)
    text_match: bool = False  # the photo's recognised text holds the query's words (library/textindex.py)
    snippet: str | None = None  # the matching text, matched words in [brackets]
    time_s: float | None = None  # a video: the second of its best-matching moment (library/frames.py)
    duration_s: float | None = None  # a video: its length (None: a photo, or not known)


class QueryError(PhotoSearchError):
    """A search query or filter that cannot be understood."""


# -- query arithmetic ------------------------------------------------------------------------------------
MAX_WEIGHT = 1000.0  # "2*cat" weights; a 400-digit one overflowed to inf and found nothing
_TERM_RE = re.compile(r"^\s*(?:(?P<w>\d+(?:\.\d*)?|\.\d+)\s*\*\s*)?(?P<t>.*?)\s*$", re.S)


def parse_query(query: str) -> list[tuple[float, str]]:
    """``"cat + snow - indoor"`` -> [(1, "cat"), (1, "snow"), (-1, "indoor")]; ``"2*cat - 0.5*indoor"``
    weights terms. Only a '+' or '-' with spaces around it (or leading) is an operator, so "black-and-white"
    and "t-shirt" stay words."""
    text = " " + query.strip()
    parts = re.split(r"\s([+-])\s", text) if re.search(r"\s[+-]\s", text) else [text]
    signs = [1.0] + [1.0 if s == "+" else -1.0 for s in parts[1::2]]
    terms = parts[0::2]
    out = []
    for sign, term in zip(signs, terms):
        term = term.strip()
        if not term:
            continue
        m = _TERM_RE.match(term)
        w = float(m.group("w")) if m.group("w") else 1.0
        if w > MAX_WEIGHT:
            raise QueryError(f"the weight {m.group('w')[:12]}{'…' if len(m.group('w')) > 12 else ''} in "
                             f"{term[:40]!r} is too large (at most {MAX_WEIGHT:g})")
        t = m.group("t").strip()
        if t:
            out.append((sign * w, t))
    return out


def combine(text_vecs: np.ndarray | None, weights: list[float], image_vec: np.ndarray | None) -> np.ndarray:
    """Weighted sum of unit vectors (text terms, then the example image with the weight of the positive
    terms together), normalised."""
    acc = None
    if text_vecs is not None and len(weights):
        acc = (np.asarray(weights, dtype=np.float32)[:, None] * text_vecs).sum(0)
        norm = np.linalg.norm(acc)
        if norm > 1e-6:
            acc = acc / norm
    if image_vec is not None:
        iv = image_vec / max(np.linalg.norm(image_vec), 1e-6)
        acc = iv if acc is None else acc + iv
    if acc is None:
        raise QueryError("empty query: give words, an example image, or both")
    norm = float(np.linalg.norm(acc))
    if norm < 1e-6:
        raise QueryError("the query's terms cancel each other out")
    return (acc / norm).astype(np.float32)


# -- filters ---------------------------------------------------------------------------------------------
_TYPE_ALIASES = {"jpg": "JPEG", "jpeg": "JPEG", "jpe": "JPEG", "jfif": "JPEG", "png": "PNG", "webp": "WEBP",
                 "gif": "GIF", "bmp": "BMP", "tif": "TIFF", "tiff": "TIFF", "heic": "HEIF", "heif": "HEIF",
                 "hif": "HEIF", "avif": "AVIF"}
# Camera RAW files are stored as "RAW-<EXT>" (rawio.raw_format), videos as "VIDEO-<EXT>" (imageio.load_video);
# "raw" and "video" mean all of their kind.
_KINDS = {"raw": [raw_format(e) for e in sorted(RAW_EXTENSIONS)],
          "video": ["VIDEO-" + e.lstrip(".").upper() for e in sorted(VIDEO_EXTENSIONS)]}
_TYPE_ALIASES.update({e.lstrip("."): raw_format(e) for e in RAW_EXTENSIONS})
_TYPE_ALIASES.update({e.lstrip("."): "VIDEO-" + e.lstrip(".").upper() for e in VIDEO_EXTENSIONS})


def parse_date(value: str, end: bool = False) -> str:
    """ISO date or date-time -> the ISO string stored in ``taken_at``. A bare date given as an end bound
    covers that whole day."""
    try:
        if len(value.strip()) <= 10:
            d = date.fromisoformat(value.strip())
            try:
                dt = datetime(d.year, d.month, d.day) + (timedelta(days=1) if end else timedelta())
            except OverflowError:  # the end of 9999-12-31: the end of time
                dt = datetime.max
        else:
            dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise QueryError(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return dt.replace(tzinfo=None).isoformat()


def parse_types(types: list[str] | None) -> list[str]:
    """File types as the user writes them (jpg, .PNG, tiff) -> Pillow format names."""
    fmts = []
    for t in types or []:
        k = t.lower().lstrip(".")
        if k in _KINDS:
            fmts.extend(_KINDS[k])
            continue
        if k not in _TYPE_ALIASES:
            raise QueryError(f"unknown file type {t!r} (choose from {', '.join([*_KINDS, *sorted(_TYPE_ALIASES)])})")
        fmts.append(_TYPE_ALIASES[k])
    return sorted(set(fmts))


def folder_range(folder: str) -> tuple[str, str]:
    """Paths under ``folder`` are exactly those in [folder + sep, folder + chr(ord(sep) + 1)): a range scan
    on the path index instead of a LIKE over every row (names may hold % and _ too)."""
    import os

    f = os.path.abspath(os.path.expanduser(folder)).rstrip(os.sep)
    return f + os.sep, f + chr(ord(os.sep) + 1)


# -- the in-memory matrix ----------------------------------------------------------------------------------
class VectorIndex:
    """ids (int64) + float32 unit vectors; exact top-K."""

    def __init__(self, dim: int):
        self.dim = dim
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        # Per-row date taken and format, for filtering in memory: they change only with the file's content,
        # and a content change replaces the vector (so the matrix is reloaded).
        self.taken = np.zeros(0, dtype="datetime64[s]")
        self.formats = np.zeros(0, dtype=np.int16)
        self.format_codes: dict[str, int] = {}
        self._n = 0  # rows in use; matrix grows by doubling so incremental appends are amortised O(1)
        self.last_seq = 0
        self.deletions: str | None = None
        self._derived: dict[str, np.ndarray] = {}  # per-row figures computed from the vectors (see derived)

    def __len__(self) -> int:
        return self._n

    def append(self, ids: np.ndarray, vecs: np.ndarray, taken: list | None = None,
               formats: list | None = None) -> None:
        need = self._n + len(ids)
        if need > len(self.matrix):
            cap = max(need, 2 * len(self.matrix), 1024)
            grown = []
            for a, shape in ((self.matrix, (cap, self.dim)), (self.ids, (cap,)), (self.taken, (cap,)),
                             (self.formats, (cap,))):
                g = np.zeros(shape, dtype=a.dtype)
                g[:self._n] = a[:self._n]
                grown.append(g)
            if grown[2].dtype.kind == "M":
                grown[2][self._n:] = np.datetime64("NaT")
            self.matrix, self.ids, self.taken, self.formats = grown
        self.matrix[self._n:need] = vecs
        self.ids[self._n:need] = ids
        if taken is not None:
            self.taken[self._n:need] = _dates(taken)
        if formats is not None:
            codes = [self.format_codes.setdefault(f or "", len(self.format_codes)) for f in formats]
            self.formats[self._n:need] = codes
        self._n = need

    def filter_mask(self, after: str | None = None, before: str | None = None,
                    formats: list[str] | None = None, include_undated: bool = False) -> np.ndarray | None:
        """Rows whose date taken is in [after, before) and whose format is one of ``formats``; photos with
        no known date match a date filter only with ``include_undated``."""
        n = self._n
        mask = None
        if after:
            mask = self.taken[:n] >= np.datetime64(after)
        if before:
            m = self.taken[:n] < np.datetime64(before)
            mask = m if mask is None else mask & m
        if mask is not None and include_undated:
            mask |= np.isnat(self.taken[:n])
        if formats:
            codes = [self.format_codes[f] for f in formats if f in self.format_codes]
            m = np.isin(self.formats[:n], codes)
            mask = m if mask is None else mask & m
        return mask

    def scores(self, q: np.ndarray) -> np.ndarray:
        """Cosine scores of every row (unfiltered), in row order."""
        return self.matrix[:self._n] @ q.astype(np.float32)

    def top_k(self, q: np.ndarray, k: int, mask: np.ndarray | None = None,
              min_score: float | None = None, scores: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) best first. ``scores``: this query's :meth:`scores`, if already computed."""
        n = self._n
        if n == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores = self.scores(q) if scores is None else scores
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        k = min(k, n)
        idx = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        s = scores[idx]
        keep = np.isfinite(s)
        if min_score is not None:
            keep &= s >= min_score
        idx, s = idx[keep], s[keep]
        return self.ids[:n][idx], s

    def derived(self, key: str, fn) -> np.ndarray:
        """``fn(vectors)`` of every row (e.g. each photo's bank stats, library/relevance.py), computed once per
        row: rows appended since the last call are computed alone. ``key`` names what ``fn`` computes."""
        have = self._derived.get(key)
        done = 0 if have is None else len(have)
        if have is None or done < self._n:  # an empty index too: fn of no rows, not None
            new = np.asarray(fn(self.matrix[done:self._n]))
            have = new if have is None else np.concatenate([have, new])
            self._derived[key] = have
        return have[:self._n]

    def memory_bytes(self) -> int:
        return self._n * (4 * self.dim + 8)


def _dates(values: list) -> np.ndarray:
    try:
        return np.array([t[:19] if t else "NaT" for t in values], dtype="datetime64[s]")
    except (ValueError, TypeError):  # one odd value (edited by hand?) must not break search
        out = []
        for t in values:
            try:
                out.append(np.datetime64(t[:19] if t else "NaT", "s"))
            except (ValueError, TypeError):
                out.append(np.datetime64("NaT"))
        return np.array(out, dtype="datetime64[s]")


_CACHE: dict[tuple[str, str], VectorIndex] = {}
_CACHE_LOCK = threading.Lock()


def vectors_for(conn: sqlite3.Connection, db_key: str, model_id: str, dim: int) -> VectorIndex:
    """The model's matrix, brought up to date with what is committed (cheap when nothing changed)."""
    with _CACHE_LOCK:
        vi = _CACHE.get((db_key, model_id))
        if vi is None or vi.dim != dim:
            vi = _CACHE[(db_key, model_id)] = VectorIndex(dim)
        conn.execute("BEGIN")  # one snapshot for the checks and the load
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('vector_deletions', 'created_at')"))
            # created_at tells a library re-created at the same path from the one the cache was filled from.
            deletions = f"{meta.get('created_at')}/{meta.get('vector_deletions')}"
            if vi.deletions is not None and deletions != vi.deletions:
                vi = _CACHE[(db_key, model_id)] = VectorIndex(dim)
            vi.deletions = deletions
            last = conn.execute("SELECT max(seq) FROM embeddings WHERE model_id = ?", (model_id,)).fetchone()[0]
            if last is not None and last > vi.last_seq:
                rows = conn.execute("SELECT e.photo_id, e.vector, p.taken_at, p.format FROM embeddings e "
                                    "JOIN photos p ON p.id = e.photo_id WHERE e.model_id = ? AND e.seq > ? "
                                    "ORDER BY e.seq", (model_id, vi.last_seq)).fetchall()
                if rows:
                    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                    vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f2")
                    if vecs.size != len(rows) * dim:
                        from photosearch.errors import LibraryError

                        raise LibraryError(f"stored vectors of {model_id!r} are not {dim}-d; re-index with it")
                    vi.append(ids, vecs.reshape(len(rows), dim).astype(np.float32), [r[2] for r in rows],
                              [r[3] for r in rows])
                vi.last_seq = last
        finally:
            conn.execute("COMMIT")
        return vi


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
