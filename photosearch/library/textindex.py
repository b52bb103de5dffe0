"""Words in photos: the text pass over the library, its storage and the text side of search.

Storage (schema version 2, library/db.py): ``photo_text`` holds one row per photo that was read (its lines
with boxes and confidence as JSON, the joined text, the content hash and engine it was read with) and the
FTS5 table ``photo_text_fts`` indexes the text (unicode61, diacritics removed, prefix indexes for 2 and 3
characters), kept in step by triggers. A photo whose content or engine changed is read again.

The text pass is separate from the visual index: it runs after it (``Library.index(text=True)``), reads
only photos the visual index already holds, and commits one transaction per batch of photos, so a killed
run keeps every finished batch and the next run goes on from there.

Search: :func:`parse_text_query` splits a typed query into what the visual model ranks by and an FTS5
expression; :func:`lift` puts photos whose text matches first and marks them.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Generator

import numpy as np

from photosearch.errors import LibraryError
from photosearch.library import frames
from photosearch.library.db import Tx
from photosearch.video import is_video_name

SETTING_KEY = "text_pass"  # meta: '1' (default) reads text while indexing, '0' does not
MAX_TEXT_MATCHES = 1000  # a common word lifts at most this many photos (best BM25 first)
PREFIX_FROM = 4  # query words this long match as prefixes too
SNIPPET_MARKS = ("[", "]")  # around matched words in ``SearchHit.snippet``

# Words a sentence-style query carries that say nothing about the text in a photo.
_STOPWORDS = frozenset("""a an and are as at be by for from has have i in is it its my of on or photo photos
picture pictures image images the that this to was were with""".split())


# -- the setting -----------------------------------------------------------------------------------------
def enabled(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (SETTING_KEY,)).fetchone()
    return row is None or row[0] != "0"


def set_enabled(conn: sqlite3.Connection, on: bool) -> None:
    try:
        with Tx(conn):
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         (SETTING_KEY, "1" if on else "0"))
    except sqlite3.Error as e:
        why = "it is read-only" if "readonly" in str(e).replace("-", "").replace(" ", "") else str(e)
        raise LibraryError(f"cannot turn the text pass {'on' if on else 'off'}: the library cannot be "
                           f"written ({why})") from None


# -- the text pass ---------------------------------------------------------------------------------------
@dataclass
class TextReport:
    read: int  # photos read in this run
    with_text: int  # of those, photos where some text was found
    failed: int  # could not be decoded (kept as read, with the reason, until the file changes)
    remaining: int  # still to read (cancelled)
    seconds: float
    images_per_second: float
    cancelled: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TextEvent:
    phase: str  # "text" while reading, "text-done" at the end (``text_report`` set)
    done: int
    total: int
    with_text: int
    rate: float  # photos/s over this run
    eta: float | None
    current: str | None
    text_report: TextReport | None = None
    new_skips: list = field(default_factory=list)  # IndexEvent-compatible for progress displays


def pending(conn: sqlite3.Connection, engine_id: str) -> list[tuple[int, str, str]]:
    """(photo_id, path, hash) of photos not read yet, changed since, or read with another engine."""
    return conn.execute("SELECT p.id, p.path, p.hash FROM photos p LEFT JOIN photo_text t ON t.photo_id = p.id "
                        "WHERE t.photo_id IS NULL OR t.hash != p.hash OR t.engine != ? ORDER BY p.id",
                        (engine_id,)).fetchall()


VIDEO_MOMENTS = 12  # a video's text is read in at most this many of its sampled moments, spread over it


def _read_one(engine, path: str, times: list[float] | None = None):
    """Runs in the decode thread: [(image, scale, second or None)] of a photo, or of a video's moments at
    ``times``, then OCR on the caller; never raises for a bad file."""
    from photosearch.imageio import ImageSkip
    from photosearch.ocr import load_for_ocr, load_frames_for_ocr

    try:
        if times is not None:
            return load_frames_for_ocr(path, times, engine.settings.max_side), None
        img, scale, _ = load_for_ocr(path, engine.settings.max_side)
        return [(img, scale, None)], None
    except ImageSkip as e:
        return None, e.reason
    except MemoryError:
        return None, "too large to decode in memory"
    except Exception as e:  # noqa: BLE001 - a hostile file must never stop the run
        return None, f"damaged: {type(e).__name__}: {e}"


def run(conn: sqlite3.Connection, engine, *, batch_size: int = 8,
        cancel: threading.Event | None = None) -> Generator[TextEvent, None, TextReport]:
    """Read every pending photo; one transaction per ``batch_size`` photos, an event per photo; returns the
    :class:`TextReport` (the last event, "text-done", carries it too). A photo that cannot be read (decoding,
    memory, an ONNX Runtime failure) is stored with its reason, never raised."""
    t0 = time.perf_counter()
    todo = pending(conn, engine.engine_id)
    total = len(todo)
    done = with_text = failed = 0
    yield TextEvent("text", 0, total, 0, 0.0, None, None)
    rows: list[tuple] = []
    cancelled = False
    # One thread decodes the next photo while ONNX Runtime reads the current one.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photosearch-ocr-decode")
    try:
        def submit(k: int):
            pid, p, _ = todo[k]
            times = frames.times_of(conn, pid, VIDEO_MOMENTS) if is_video_name(p) else None
            return pool.submit(_read_one, engine, p, times)

        futs = [submit(k) for k in range(min(2, total))]
        for i, (pid, path, h) in enumerate(todo):
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            loaded, err = futs[i].result()
            futs[i] = None
            if i + 2 < total:
                futs.append(submit(i + 2))
            lines, err = _ocr(engine, loaded or [], err)
            failed += err is not None
            with_text += bool(lines)
            rows.append((pid, h, engine.engine_id, normalize("\n".join(ln["text"] for ln in lines)),
                         json.dumps(lines, ensure_ascii=False), err, time.time()))
            done += 1
            if len(rows) >= batch_size or done == total:
                _commit(conn, rows)
                rows = []
            # An event per photo (a pause or cancel waits for one photo, not a batch); commits per batch.
            el = time.perf_counter() - t0
            rate = done / el if el > 0 else 0.0
            yield TextEvent("text", done, total, with_text, rate, (total - done) / rate if rate > 0 else None,
                            path)
        if rows:  # cancelled mid-batch: what was read is kept
            _commit(conn, rows)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    el = time.perf_counter() - t0
    report = TextReport(read=done, with_text=with_text, failed=failed, remaining=total - done,
                        seconds=round(el, 3), images_per_second=round(done / el, 2) if el > 0 else 0.0,
                        cancelled=cancelled)
    yield TextEvent("text-done", done, total, with_text, done / el if el > 0 else 0.0, 0.0, None, report)
    return report


def _ocr(engine, frames: list[tuple], err: str | None) -> tuple[list[dict], str | None]:
    """The lines read in a photo (one frame) or a video's moments (each line with its second ``t``; a line
    seen again in a later moment is kept once), boxes in the original's pixels; and what failed."""
    out: list[dict] = []
    seen: set[str] = set()
    for img, scale, t in frames:
        try:
            lines = engine.read(img)
        except MemoryError:
            return out, "too large to read text in memory"
        except Exception as e:  # noqa: BLE001 - ONNX Runtime failing on one odd image
            return out, f"could not be read: {type(e).__name__}: {e}"
        for ln in lines:
            ln.box = [[round(x * scale), round(y * scale)] for x, y in ln.box]
            if t is None:
                out.append(ln.to_dict())
            elif normalize(ln.text) not in seen:
                seen.add(normalize(ln.text))
                out.append({**ln.to_dict(), "t": t})
    return out, err


def _commit(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    try:
        with Tx(conn):
            for r in rows:
                # A photo removed (or re-indexed with new content) meanwhile: skipped, read again next time.
                conn.execute("INSERT INTO photo_text (photo_id, hash, engine, text, lines, error, read_at) "
                             "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM photos WHERE id = ?) "
                             "ON CONFLICT(photo_id) DO UPDATE SET hash = excluded.hash, engine = excluded.engine, "
                             "text = excluded.text, lines = excluded.lines, error = excluded.error, "
                             "read_at = excluded.read_at", (*r, r[0]))
    except sqlite3.Error as e:
        raise LibraryError(f"could not write to the library: {e}") from None


def stored_lines(conn: sqlite3.Connection, path: str) -> list[dict] | None:
    """The lines read in a library photo, or None when it was not read (yet)."""
    return stored_lines_of(conn, [path]).get(path)


def stored_lines_of(conn: sqlite3.Connection, paths: list[str]) -> dict[str, list[dict]]:
    """path -> lines read, for the photos among ``paths`` that were read."""
    from photosearch.library.queries import db_text

    out: dict[str, list[dict]] = {}
    for i in range(0, len(paths), 500):
        chunk = paths[i:i + 500]
        rows = conn.execute("SELECT p.path, t.lines FROM photo_text t JOIN photos p ON p.id = t.photo_id "
                            f"WHERE p.path IN ({', '.join(['CAST(? AS TEXT)'] * len(chunk))})",
                            [db_text(p) for p in chunk]).fetchall()
        out.update((r[0], json.loads(r[1])) for r in rows)
    return out


def has_text_mask(conn: sqlite3.Connection, ids: np.ndarray) -> np.ndarray:
    """For the search's "has text" filter: which of ``ids`` had some text read."""
    with_text = np.fromiter((r[0] for r in conn.execute("SELECT photo_id FROM photo_text WHERE text != ''")),
                            dtype=np.int64)
    return np.isin(ids, with_text)


def counts(conn: sqlite3.Connection) -> dict:
    read, with_text = conn.execute("SELECT count(*), count(NULLIF(text, '')) FROM photo_text").fetchone()
    return {"read": read, "with_text": with_text}


# -- queries ---------------------------------------------------------------------------------------------
@dataclass
class TextQuery:
    visual: str | None  # what the visual model ranks by; None: the query is text only
    fts: str | None  # FTS5 MATCH expression; None: nothing to look for in the text
    only: bool  # results must match the text (a text:"..." clause was given)
    words: list[str] = field(default_factory=list)  # folded words/phrases, for highlighting
    terms: list[str] = field(default_factory=list)  # the FTS5 terms ANDed in ``fts``, for partial matches


_TEXT_CLAUSE = re.compile(r'\btext:\s*(?:"([^"]*)"?|(\S+))', re.I)
_QUOTED = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+\*?")  # unicode61 splits on everything that is not a letter or digit


def fold(s: str) -> str:
    """Case and diacritics folded as the FTS tokenizer does ("Café" -> "cafe")."""
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).casefold()


def _fts_terms(text: str, drop_stopwords: bool) -> tuple[list[str], list[str]]:
    """FTS5 terms (quoted phrases, words, ``word*`` prefixes) and their folded words."""
    terms, words = [], []
    for phrase in _QUOTED.findall(text):
        toks = [t.rstrip("*") for t in _WORD.findall(phrase)]
        if toks:
            terms.append('"' + " ".join(toks) + '"')
            words.append(fold(" ".join(toks)))
    for tok in _WORD.findall(_QUOTED.sub(" ", text)):
        star = tok.endswith("*")
        w = tok.rstrip("*")
        if not w or (drop_stopwords and not star and fold(w) in _STOPWORDS):
            continue
        # Words of 4+ characters also match as prefixes: "receipt" finds "receipts", "sunflower" "sunflower42".
        terms.append(f'"{w}"' + ("*" if star or len(w) >= PREFIX_FROM else ""))
        words.append(fold(w))
    return terms, words


def normalize(text: str) -> str:
    """NFKC (full-width "ＷＩＦＩ" is "WIFI"), and bytes that were not UTF-8 (a shell passes them through as
    lone surrogates, which no tokenizer takes) as U+FFFD. Queries and stored text alike."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if _SURROGATE.search(text) else text
    return unicodedata.normalize("NFKC", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_text_query(query: str) -> TextQuery:
    """``text:"wifi"`` (or ``text:wifi``) -> text only; ``beach text:sunset`` -> the visual ranking of "beach"
    among photos whose text says "sunset"; any other query -> visual ranking, photos whose text holds all of
    its words (stopwords aside; ``"quoted phrases"`` as phrases; ``word*`` and words of 4+ characters as
    prefixes) lifted."""
    query = normalize(query)
    clauses = [(m.group(1) if m.group(1) is not None else m.group(2)) for m in _TEXT_CLAUSE.finditer(query)]
    rest = _TEXT_CLAUSE.sub(" ", query).strip()
    if clauses and not any(_WORD.search(c) for c in clauses):
        from photosearch.library.search import QueryError

        raise QueryError('text:"" holds no words to look for: put them between the quotes, e.g. text:"wifi"')
    if clauses:
        terms, words = [], []
        for c in clauses:
            t, w = _fts_terms(f'"{c}"' if " " in c.strip() else c, drop_stopwords=False)
            terms += t
            words += w
        visual = rest.replace('"', " ").strip() or None
        return TextQuery(visual, " AND ".join(terms) or None, True, words)
    from photosearch.library.search import parse_query

    positive = " ".join(t for w, t in parse_query(rest) if w > 0) if rest else ""
    terms, words = _fts_terms(positive, drop_stopwords=True)
    visual = re.sub(r"(?<=[^\W\d_])\*(?=\s|$)", "", _QUOTED.sub(lambda m: m.group(1), rest)).strip() or None
    return TextQuery(visual, " AND ".join(terms) or None, False, words, terms)


def match_ids(conn: sqlite3.Connection, fts: str, limit: int | None = None) -> list[int]:
    """Photo ids whose text matches the FTS5 expression ``fts``: with ``limit``, the best ``limit`` by BM25;
    without, all of them in id order (cheap: no ranking, no text read)."""
    try:
        if limit is None:
            rows = conn.execute("SELECT rowid FROM photo_text_fts WHERE photo_text_fts MATCH ?", (fts,)).fetchall()
        else:
            rows = conn.execute("SELECT rowid FROM photo_text_fts WHERE photo_text_fts MATCH ? ORDER BY rank "
                                "LIMIT ?", (fts, limit)).fetchall()
    except sqlite3.OperationalError:  # an expression FTS5 cannot parse finds nothing rather than failing
        return []
    return [int(r[0]) for r in rows]


def snippets(conn: sqlite3.Connection, fts: str, ids: list[int]) -> dict[int, str]:
    """photo_id -> the matching text around the matched words (in SNIPPET_MARKS), for these ids only."""
    a, b = SNIPPET_MARKS
    out: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        try:
            rows = conn.execute(f"SELECT rowid, snippet(photo_text_fts, 0, ?, ?, '…', 12) FROM photo_text_fts "
                                f"WHERE photo_text_fts MATCH ? AND rowid IN ({', '.join('?' * len(chunk))})",
                                (a, b, fts, *chunk)).fetchall()
        except sqlite3.OperationalError:
            return out
        out.update((int(r[0]), " ".join((r[1] or "").split())) for r in rows)
    return out


def text_matches(conn: sqlite3.Connection, fts: str, limit: int = MAX_TEXT_MATCHES) -> dict[int, str]:
    """photo_id -> snippet, best BM25 first."""
    ids = match_ids(conn, fts, limit)
    snips = snippets(conn, fts, ids)
    return {i: snips.get(i, "") for i in ids}


def _any_term(tq: TextQuery) -> str:
    return " OR ".join(tq.terms) if len(tq.terms) > 1 and not tq.only else tq.fts


def words_held(conn: sqlite3.Connection, tq: TextQuery) -> dict[int, int]:
    """photo_id -> how many of the query's terms its text holds, for the photos that count as matches: all
    of them, or (a typed query of several words) at least half of them including a word of
    ``PREFIX_FROM``+ characters, so a sign read as "PLATFORM" still answers "platform 9" while a lone "9"
    answers nothing."""
    if tq.only or len(tq.terms) < 2:
        return dict.fromkeys(match_ids(conn, tq.fts), len(tq.terms) or 1)
    counts: dict[int, int] = {}
    long_hit: set[int] = set()
    for term in tq.terms:
        ids = match_ids(conn, term)
        for i in ids:
            counts[i] = counts.get(i, 0) + 1
        if len(term.strip('"*')) >= PREFIX_FROM:
            long_hit.update(ids)
    need = (len(tq.terms) + 1) // 2
    return {i: c for i, c in counts.items() if c == len(tq.terms) or (c >= need and i in long_hit)}


def lift(conn: sqlite3.Connection, tq: TextQuery, vi, q: np.ndarray | None, mask: np.ndarray | None,
         ids: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float, str | None]]:
    """Merge the visual top-K (``ids``, ``scores``) with the photos whose text matches ``tq``: text matches
    first (those holding the most query words first, see :func:`words_held`; then by visual score, or by
    BM25 without a visual query), marked by their snippet, then the rest.
    ``mask`` (the search's filters over ``vi``'s rows) applies to text matches too. (id, score, snippet)."""
    visual = [(int(i), float(s), None) for i, s in zip(ids, scores)]
    if not tq.fts:
        return visual[:k]
    n = len(vi)
    if q is not None:
        # Every match takes part (no BM25 cut): the most query words first, the visual score within.
        held = words_held(conn, tq)
        mids = np.fromiter(held, dtype=np.int64, count=len(held))
        rows = np.flatnonzero(np.isin(vi.ids[:n], mids)) if len(mids) else np.zeros(0, np.int64)
        if mask is not None:
            rows = rows[mask[rows]]
        row_scores = vi.matrix[rows] @ q.astype(np.float32)
        count = np.array([held[int(vi.ids[r])] for r in rows], dtype=np.int64)
        best = np.lexsort((-row_scores, -count))[:k]
        lifted = [(int(vi.ids[rows[j]]), float(row_scores[j])) for j in best]
    else:
        ranked = match_ids(conn, tq.fts, MAX_TEXT_MATCHES)
        if mask is not None:
            allowed = set(vi.ids[:n][mask].tolist())
            ranked = [i for i in ranked if i in allowed]
        lifted = [(i, 1.0) for i in ranked[:k]]
    if not lifted:
        return [] if tq.only else visual[:k]
    snips = snippets(conn, _any_term(tq), [i for i, _ in lifted])
    marked = [(i, s, snips.get(i, "")) for i, s in lifted]
    if tq.only:
        return marked
    seen = {i for i, _ in lifted}
    return (marked + [h for h in visual if h[0] not in seen])[:k]


def lift_hits(conn: sqlite3.Connection, tq: TextQuery, vi, q: np.ndarray | None, mask: np.ndarray | None,
              hits: list, top_k: int, group: bool = True) -> list:
    """The search's hits with the photos whose text matches ``tq`` first (see :func:`lift`), as
    ``SearchHit``s marked ``text_match`` with their snippet and counted as relevant."""
    from photosearch.library import browse
    from photosearch.library.relevance import with_text

    lifted = lift(conn, tq, vi, q, mask, np.zeros(0, np.int64), np.zeros(0, np.float32), top_k)
    if not lifted:
        return [] if tq.only else hits
    ids = [i for i, _, _ in lifted]
    snips = dict(zip(ids, (s for _, _, s in lifted)))
    # Text only (no visual query): the score of text evidence alone, the same figure a search with words shows
    scores = [with_text(None) if q is None else s for _, s, _ in lifted]
    found = browse.make_hits(conn, ids, scores, float("-inf"), top_k, "relevance", group)
    by_path = {p: i for i, p in conn.execute(
        f"SELECT id, path FROM photos WHERE id IN ({', '.join('?' * len(ids))})", ids).fetchall()}
    for h in found:
        h.text_match, h.relevant = True, True
        h.snippet = snips.get(by_path.get(h.path), "")
    if tq.only:
        return found
    taken = {h.path for h in found} | {c for h in found for c in h.copies}
    return (found + [h for h in hits if h.path not in taken])[:top_k]


def match_rows(conn: sqlite3.Connection, tq: TextQuery, vi) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``vi`` (library/search.py's VectorIndex) whose photo's text matches ``tq`` (see
    :func:`words_held`), and the share of the query's terms each holds (1: all)."""
    held = words_held(conn, tq)
    if not held:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    ids = vi.ids[:len(vi)]
    rows = np.flatnonzero(np.isin(ids, np.fromiter(held, dtype=np.int64, count=len(held))))
    n_terms = max(len(tq.terms), 1)
    share = np.array([min(held[int(ids[r])] / n_terms, 1.0) for r in rows], dtype=np.float32)
    return rows, share


def mark_hits(conn: sqlite3.Connection, tq: TextQuery, hits: list, ids: set[int]) -> None:
    """Mark the hits whose photo (or a copy of it) is among ``ids`` (text matches) ``text_match``, with their
    snippet."""
    paths = [p for h in hits for p in [h.path, *h.copies]]
    by_path = {}
    for i in range(0, len(paths), 900):
        chunk = paths[i:i + 900]
        by_path.update(conn.execute(f"SELECT path, id FROM photos WHERE path IN ({', '.join('?' * len(chunk))})",
                                    chunk).fetchall())
    matched = {}
    for h in hits:
        pid = next((by_path[p] for p in [h.path, *h.copies] if by_path.get(p) in ids), None)
        if pid is not None:
            matched[pid] = h
    snips = snippets(conn, _any_term(tq), list(matched))
    for pid, h in matched.items():
        h.text_match, h.snippet = True, snips.get(pid, "")


def highlight_spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """(start, end) character spans in ``text`` where a query word (folded, see :func:`fold`) starts a word;
    for the GUI's highlighting. Folding keeps one character per character for Latin scripts."""
    if not words or not text:
        return []
    folded = []
    index = []  # folded position -> original position
    for i, c in enumerate(text):
        f = fold(c)
        folded.append(f)
        index.extend([i] * len(f))
    ft = "".join(folded)
    spans = []
    for w in sorted(set(words), key=len, reverse=True):
        for m in re.finditer(r"(?<![^\W_])" + re.escape(w), ft):
            s, e = index[m.start()], index[m.end() - 1] + 1
            if not any(s < b and a < e for a, b in spans):
                spans.append((s, e))
    return sorted(spans)
