"""The faces pass: finds and describes the faces in every library photo, beside the text pass.

Storage (schema version 5, library/db.py): ``face_scans`` has one row per photo looked at (its content hash,
the face model, how many faces, or why it could not be read: the one fault record per bad file), ``faces`` one
row per face (box, landmarks, score, quality, usable, the 128-d embedding, the person it belongs to and whether
the user put it there). A photo whose content or face model changed is scanned again; a moved photo keeps its
row (index.py moves rows by content hash), so its faces and people stay.

Decode once: while the setting is on, the visual index finds the faces in the same decode as the photo's vector
(library/index.py calls :func:`find_in` in its decode workers and :func:`store_scan` in its batch transaction).
This pass is then the backfill: like the text pass it runs after the visual index (``Library.index(faces=True)``),
scans only photos the index holds that were not scanned yet (indexed before faces were on, changed, or another
face model), and commits one transaction per batch, so a killed run keeps every finished batch. Videos are always
scanned here, not in the index's decode: their faces are looked for in up to ``VIDEO_MOMENTS`` of the moments the
index sampled, each decoded again at the detection size (the index keeps 256 px frames), and every face keeps the
second it was seen at (``faces.t``). Off by default: face
embeddings are biometric data, made only when the user turns the pass on (``photosearch index --faces`` or the
setting). :func:`forget_all` deletes every face row and embedding and rewrites the file (VACUUM).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Iterator

import numpy as np

from photosearch.errors import LibraryError
from photosearch.library.db import Tx

SETTING_KEY = "faces_pass"  # meta: '1' finds faces while indexing; absent or '0' does not (the default)
DECODE_MIN_SIDE = 1000  # a 12 MP JPEG decodes at 1/2 (2000x1500): detection needs ~1300x1000, crops more
VIDEO_MOMENTS = 12  # a video's faces are looked for in at most this many of its sampled moments, spread over it
SAME_FACE = 0.8  # a video's face this close (cosine) to one kept from another of its moments is that face again


# -- the setting -----------------------------------------------------------------------------------------
def enabled(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (SETTING_KEY,)).fetchone()
    return row is not None and row[0] == "1"


def set_enabled(conn: sqlite3.Connection, on: bool) -> None:
    with Tx(conn):
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (SETTING_KEY, "1" if on else "0"))


# -- decoding --------------------------------------------------------------------------------------------
def decode(path, t: float | None = None) -> tuple[np.ndarray, float]:
    """(RGB uint8 array, photo pixels per decoded pixel), through the library's own decoder (imageio):
    upright, JPEG draft-decoded near ``DECODE_MIN_SIDE``; a video's frame at second ``t`` (its first without
    one). Raises ImageSkip for a bad file."""
    from photosearch.imageio import ImageSkip, load_image
    from photosearch.video import VideoSkip, frame_and_scale, is_video_name

    if is_video_name(str(path)):
        try:
            img, to_video = frame_and_scale(path, t or 0.0, DECODE_MIN_SIDE)
        except VideoSkip as e:
            raise ImageSkip(e.reason) from None
        return np.asarray(img), to_video
    img, meta = load_image(path, min_side=DECODE_MIN_SIDE)
    return np.asarray(img), meta.width / max(1, img.width)


def file_frames(path) -> list[tuple[np.ndarray, float, float | None]]:
    """What the faces pass looks at in a file outside the library: a photo's one frame, or ``VIDEO_MOMENTS`` of a
    video's moments sampled as the index samples them. Raises ImageSkip for a bad file."""
    from photosearch.imageio import ImageSkip
    from photosearch.library.frames import spread
    from photosearch.video import VideoSkip, is_video_name, read_video

    if not is_video_name(str(path)):
        return [(*decode(path), None)]
    try:
        times = [m.t for m in read_video(path).moments]
    except VideoSkip as e:
        raise ImageSkip(e.reason) from None
    frames, why = _decode_one(str(path), spread(times, VIDEO_MOMENTS))
    if frames is None:
        raise ImageSkip(why)
    return frames


def find_in(engine, rgb: np.ndarray, to_photo: float) -> tuple[list, str | None]:
    """(faces, None), or ([], why) when OpenCV fails on this one image: never raises for the image."""
    try:
        return engine.find(rgb, to_photo), None
    except Exception as e:  # noqa: BLE001 - OpenCV failing on one odd image
        return [], f"could not be scanned: {type(e).__name__}: {e}"


def find_in_frames(engine, frames: list[tuple[np.ndarray, float, float | None]]) -> tuple[list, str | None]:
    """The faces of a photo (one frame, ``t`` None) or of a video's moments ``[(rgb, to_photo, t)]``. In a video
    each face keeps its second; a face seen again in a later moment (cosine >= ``SAME_FACE`` to one kept) is
    kept once, the best of its sightings, and faces too poor to define a person are not kept (they cannot be
    grouped, and a face blurred in one moment is usually sharp in another)."""
    if len(frames) == 1 and frames[0][2] is None:
        return find_in(engine, frames[0][0], frames[0][1])
    found, errors = [], []
    for rgb, to_photo, t in frames:
        faces, err = find_in(engine, rgb, to_photo)
        errors += [err] if err else []
        for f in faces:
            f.t = t
        found += [f for f in faces if f.usable]
    kept: list = []
    for f in sorted(found, key=lambda f: -f.quality):
        if all(float(f.embedding @ k.embedding) < SAME_FACE for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: (f.t, f.box[0])), (errors[0] if len(errors) == len(frames) else None)


# -- the pass --------------------------------------------------------------------------------------------
@dataclass
class FaceReport:
    scanned: int  # photos looked at in this run
    with_faces: int  # of those, photos where a face was found
    faces: int  # faces found in this run
    failed: int  # could not be decoded (recorded with the reason until the file changes)
    remaining: int  # still to scan (cancelled)
    seconds: float
    images_per_second: float
    cancelled: bool = False
    grouped: int = 0  # faces that joined or started a person after the pass

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FaceEvent:
    phase: str  # "faces" while scanning, "faces-done" at the end (``face_report`` set)
    done: int
    total: int
    faces: int
    rate: float  # photos/s over this run
    eta: float | None
    current: str | None
    face_report: FaceReport | None = None
    new_skips: list = field(default_factory=list)  # IndexEvent-compatible for progress displays


def pending(conn: sqlite3.Connection, model_id: str) -> list[tuple[int, str, str, list]]:
    """(photo_id, path, hash, times) of photos not scanned yet, changed since, or scanned with another model;
    ``times``: [None] for a photo, the seconds to look at for a video (library/frames.py's sampled moments)."""
    from photosearch.library import frames
    from photosearch.video import is_video_name

    rows = conn.execute("SELECT p.id, p.path, p.hash FROM photos p LEFT JOIN face_scans s ON s.photo_id = p.id "
                        "WHERE s.photo_id IS NULL OR s.hash != p.hash OR s.model != ? ORDER BY p.id",
                        (model_id,)).fetchall()
    return [(pid, path, h, frames.times_of(conn, pid, VIDEO_MOMENTS) if is_video_name(path) else [None])
            for pid, path, h in rows]


def scanned_hashes(conn: sqlite3.Connection, model_id: str, photo_id: int | None = None) -> dict[int, str]:
    """photo id -> the content hash its faces were found in with ``model_id`` (of one photo, or of all)."""
    if photo_id is not None:
        return dict(conn.execute("SELECT photo_id, hash FROM face_scans WHERE photo_id = ? AND model = ?",
                                 (photo_id, model_id)))
    return dict(conn.execute("SELECT photo_id, hash FROM face_scans WHERE model = ?", (model_id,)))


def _decode_one(path: str, times: list):
    """Runs in the decode thread: ([(rgb, to_photo, t)] of a photo or of a video's moments at ``times``, None)
    or (None, why). A video needs one frame that decodes. Never raises for a bad file."""
    from photosearch.imageio import ImageSkip

    out, why = [], None
    for t in times:
        try:
            out.append((*decode(path, t), t))
        except ImageSkip as e:
            why = e.reason
        except MemoryError:
            why = "too large to decode in memory"
        except Exception as e:  # noqa: BLE001 - a hostile file must never stop the run
            why = f"damaged: {type(e).__name__}: {e}"
    return (out, None) if out else (None, why or "no frame could be decoded")


def run(conn: sqlite3.Connection, engine, *, batch_size: int = 16,
        cancel: threading.Event | None = None) -> Iterator[FaceEvent]:
    """Scan every pending photo; one transaction per ``batch_size`` photos, an event per photo."""
    t0 = time.perf_counter()
    todo = pending(conn, engine.model_id)
    total = len(todo)
    done = with_faces = n_faces = failed = 0
    yield FaceEvent("faces", 0, total, 0, 0.0, None, None)
    rows: list[tuple] = []
    cancelled = False
    # One thread decodes the next photo while OpenCV looks at the current one.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photosearch-faces-decode")
    try:
        futs = [pool.submit(_decode_one, p, times) for _, p, _, times in todo[:2]]
        for i, (pid, path, h, _) in enumerate(todo):
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            loaded, err = futs[i].result()
            futs[i] = None
            if i + 2 < total:
                futs.append(pool.submit(_decode_one, todo[i + 2][1], todo[i + 2][3]))
            faces = []
            if loaded is not None:
                faces, err = find_in_frames(engine, loaded)
            failed += err is not None
            with_faces += bool(faces)
            n_faces += len(faces)
            rows.append((pid, h, faces, err))
            done += 1
            if len(rows) >= batch_size or done == total:
                _commit(conn, engine.model_id, rows)
                rows = []
            el = time.perf_counter() - t0
            rate = done / el if el > 0 else 0.0
            yield FaceEvent("faces", done, total, n_faces, rate, (total - done) / rate if rate > 0 else None, path)
        if rows:  # cancelled mid-batch: what was scanned is kept
            _commit(conn, engine.model_id, rows)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    el = time.perf_counter() - t0
    report = FaceReport(scanned=done, with_faces=with_faces, faces=n_faces, failed=failed, remaining=total - done,
                        seconds=round(el, 3), images_per_second=round(done / el, 2) if el > 0 else 0.0,
                        cancelled=cancelled)
    yield FaceEvent("faces-done", done, total, n_faces, done / el if el > 0 else 0.0, 0.0, None, report)


def face_row(face) -> tuple:
    """The ``faces`` columns x .. embedding, t of one :class:`~photosearch.faces.engine.Face`."""
    q = {"size": round(face.size, 1), "sharpness": round(face.sharpness, 1), "yaw": round(face.yaw, 3),
         "quality": round(face.quality, 4)}
    return (*face.box, json.dumps([[round(x, 1), round(y, 1)] for x, y in face.landmarks]), face.score,
            json.dumps(q), int(face.usable), face.embedding.astype("<f4").tobytes(), face.t)


def store_scan(conn: sqlite3.Connection, pid: int, h: str, model_id: str, faces: list, err: str | None,
               now: float) -> None:
    """One photo's scan (its faces, or why it could not be scanned), replacing what an older content or model
    left; inside the caller's transaction."""
    conn.execute("DELETE FROM faces WHERE photo_id = ?", (pid,))  # old content or old model
    conn.executemany("INSERT INTO faces (photo_id, model, x, y, w, h, landmarks, score, quality, usable, "
                     "embedding, t) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(pid, model_id, *face_row(f)) for f in faces])
    conn.execute("INSERT INTO face_scans (photo_id, hash, model, faces, error, scanned_at) "
                 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(photo_id) DO UPDATE SET hash = excluded.hash, "
                 "model = excluded.model, faces = excluded.faces, error = excluded.error, "
                 "scanned_at = excluded.scanned_at", (pid, h, model_id, len(faces), err, now))


def _commit(conn: sqlite3.Connection, model_id: str, rows: list[tuple]) -> None:
    now = time.time()
    try:
        with Tx(conn):
            for pid, h, faces, err in rows:
                if conn.execute("SELECT 1 FROM photos WHERE id = ?", (pid,)).fetchone() is None:
                    continue  # removed meanwhile
                store_scan(conn, pid, h, model_id, faces, err, now)
    except sqlite3.Error as e:
        raise LibraryError(f"could not write to the library: {e}") from None


# -- reading and forgetting ------------------------------------------------------------------------------
def counts(conn: sqlite3.Connection) -> dict:
    scanned, failed = conn.execute("SELECT count(*), count(error) FROM face_scans").fetchone()
    faces, usable = conn.execute("SELECT count(*), coalesce(sum(usable), 0) FROM faces").fetchone()
    people, named = conn.execute("SELECT count(*), count(name) FROM people").fetchone()
    return {"scanned": scanned, "failed": failed, "faces": faces, "usable": usable, "people": people,
            "named": named}


def faces_of_paths(conn: sqlite3.Connection, paths: list[str]) -> dict[str, list[dict]]:
    """path -> its stored faces (box, score, usable, person id and name; ``t``: the second, in a video), for the
    photos among ``paths`` that were scanned; a scanned photo without faces maps to []."""
    from photosearch.library.queries import db_text

    out: dict[str, list[dict]] = {}
    for i in range(0, len(paths), 500):
        chunk = [db_text(p) for p in paths[i:i + 500]]
        marks = ", ".join(["CAST(? AS TEXT)"] * len(chunk))
        for (p,) in conn.execute(f"SELECT p.path FROM photos p JOIN face_scans s ON s.photo_id = p.id "
                                 f"WHERE p.path IN ({marks})", chunk):
            out[p] = []
        for r in conn.execute(f"SELECT p.path, f.id, f.x, f.y, f.w, f.h, f.score, f.quality, f.usable, f.person_id, "
                              f"pe.name, f.user_set, f.t FROM faces f JOIN photos p ON p.id = f.photo_id LEFT JOIN "
                              f"people pe ON pe.id = f.person_id WHERE p.path IN ({marks}) ORDER BY f.t, f.x", chunk):
            out.setdefault(r[0], []).append({
                "face_id": r[1], "box": [round(v, 1) for v in r[2:6]], "score": round(r[6], 3),
                "quality": json.loads(r[7]), "usable": bool(r[8]), "person_id": r[9], "person": r[10],
                "user_set": bool(r[11]), "t": r[12]})
    return out


def forget_all(conn: sqlite3.Connection) -> int:
    """Delete every face, embedding, person and rejection, turn the pass off, and rewrite the file so no
    embedding byte is left in it or its write-ahead log. Returns how many faces were deleted."""
    try:
        conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not just unlinked
        with Tx(conn):
            n = conn.execute("SELECT count(*) FROM faces").fetchone()[0]
            for table in ("face_rejections", "faces", "people", "face_scans"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '0')", (SETTING_KEY,))
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the old pages in the WAL go too
    except sqlite3.Error as e:
        raise LibraryError(f"could not forget the faces: {e}") from None
    finally:
        try:
            conn.execute("PRAGMA secure_delete = OFF")
        except sqlite3.Error:
            pass
    return n
