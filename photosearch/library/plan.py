"""What one index run will do, decided from the scan and the database before any pixel is decoded: new, changed,
moved (found again by content hash), deleted and unchanged files, the pairs of a shot (library/pairs.py), and the
mount points; and the one transaction that applies the decisions that need no decoding (library/index.py then
decodes and embeds the jobs)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from photosearch.errors import LibraryError
from photosearch.library import pairs
from photosearch.library import queries as sql
from photosearch.library.db import Tx
from photosearch.library.offline import offline_folders, offline_mounts
from photosearch.library.scan import WalkResult, content_hash, legacy_hash, under, walk_folders


@dataclass
class Job:
    """One file to decode and embed."""

    path: str
    folder: str
    size: int
    mtime_ns: int
    photo_id: int | None = None  # existing row to update
    content_changed: bool = True  # the old vectors (every model's) are stale
    hash: str | None = None  # known already (computed while planning)


@dataclass
class Plan:
    """What one run will do, decided from the scan and the database before any pixel is decoded."""

    jobs: list[Job]  # files to decode and embed, by path
    unchanged: int  # files that need nothing
    moves: list[tuple[str, str, int, int, int]]  # (path, folder, size, mtime_ns, id): found again by content
    touches: list[tuple[int, int, int]]  # (mtime_ns, size, id): same content, new mtime
    gone: list[int]  # photo ids of present folders whose file is not there any more
    stale_skips: list[str]  # skip records of files that are not there any more
    walk: WalkResult
    rehash: list[tuple[str, int]] = field(default_factory=list)  # (hash, id): moved rows' old sampled hashes
    mounts: dict[str, int] | None = None  # every recorded mount point after this run (None: unchanged)
    companions: list = field(default_factory=list)  # pairs.Companion: files of a shot whose still is indexed, new or
    # changed since stored (pairs.changed)
    unpaired: list[str] = field(default_factory=list)  # stored companions that are not one any more


def plan(conn: sqlite3.Connection, model_id: str, folders: list[str], all_folders: list[str]) -> Plan:
    """Scan the folders and compare with the database: new, changed, moved, deleted and unchanged files.
    Photos under folders that are offline or could not be listed are kept, whatever the scan found, and so
    are those under a drive that was mounted inside a library folder and is not now."""
    recorded = sql.mount_points(conn)
    offline = offline_folders(conn, folders)
    away = offline_mounts(conn, recorded, folders)
    walk = walk_folders(folders, all_folders, {**offline, **away})
    walk.missing_folders += [m for m in away if m not in walk.missing_folders]  # gone, so the walk met none
    present = set(folders) - set(walk.missing_folders)
    photos = sql.photos_by_path(conn)
    with_vec = sql.photo_ids_with_vector(conn, model_id)
    skips = sql.skips_by_path(conn)
    known = sql.companions_by_path(conn)
    paired = pairs.find(walk.files, known, {p for p, s in skips.items() if s["file_fault"]})

    jobs: list[Job] = []
    new: list[Job] = []
    touches: list[tuple[int, int, int]] = []
    unchanged = 0
    for path, f in walk.files.items():
        if path in paired:
            continue  # its shot's still is indexed for it
        row = photos.get(path)
        if row is not None:
            pid = row["id"]
            if (row["size"], row["mtime_ns"]) != (f.size, f.mtime_ns):
                if not (row["size"] == f.size and _hash_or_none(path) == row["hash"]):
                    jobs.append(Job(path, f.folder, f.size, f.mtime_ns, photo_id=pid, content_changed=True))
                    continue
                touches.append((f.mtime_ns, f.size, pid))
            if pid in with_vec:
                unchanged += 1
            else:  # a model this photo was not indexed with yet
                jobs.append(Job(path, f.folder, f.size, f.mtime_ns, photo_id=pid, content_changed=False,
                                 hash=row["hash"]))
            continue
        s = skips.get(path)
        if (s is not None and s["file_fault"] and (s["model_id"] in (None, model_id))
                and (s["size"], s["mtime_ns"]) == (f.size, f.mtime_ns)):
            continue  # known bad file, unchanged, same model: not retried
        new.append(Job(path, f.folder, f.size, f.mtime_ns, photo_id=None, content_changed=True))

    # Rows of present folders that were not found: deleted, or moved (found again by hash below).
    # A file that joined a shot (its JPEG appeared) leaves the results as itself.
    gone = {p: r for p, r in photos.items() if r["folder"] in present and (p not in walk.files or p in paired)
            and not walk.kept(p)}
    new, moves, rehash = _find_moves(new, gone, with_vec)
    jobs.extend(new)
    jobs.sort(key=lambda j: j.path)
    stale_skips = [p for p, s in skips.items() if s["folder"] in present and (p not in walk.files or p in paired)
                   and not walk.kept(p)]
    unpaired = [p for p, c in known.items() if c["folder"] in present and p not in paired and not walk.kept(p)]
    # Mount points: those seen now, those still away, and those under folders this run did not walk.
    walked = [f for f in present if f not in walk.unreadable_folders]
    mounts = {m: d for m, d in recorded.items() if m in away or not any(under(m, f) for f in walked)}
    mounts.update(walk.mounts)
    return Plan(jobs=jobs, unchanged=unchanged, moves=moves, touches=touches, gone=[r["id"] for r in gone.values()],
                stale_skips=stale_skips, walk=walk, rehash=rehash, mounts=mounts if mounts != recorded else None,
                companions=pairs.changed(paired, known), unpaired=unpaired)


def _hash_or_none(path: str) -> str | None:
    try:
        return content_hash(path)
    except OSError:
        return None


def _find_moves(new: list[Job], gone: dict[str, sqlite3.Row], with_vec: set[int]):
    """New files whose content matches a gone row are that photo, moved: (jobs still to embed, moves, rows
    whose old sampled hash is replaced by the full one). ``gone`` loses the rows that were found again."""
    moves: list[tuple[str, str, int, int, int]] = []
    rehash: list[tuple[str, int]] = []
    if not (gone and new):
        return new, moves, rehash
    by_hash: dict[tuple[int, str], sqlite3.Row] = {}
    for r in gone.values():
        by_hash.setdefault((r["size"], r["hash"]), r)
    sizes = {r["size"] for r in gone.values()}
    still_new = []
    for j in new:
        if j.size in sizes:
            j.hash = _hash_or_none(j.path)
            r = by_hash.pop((j.size, j.hash), None) if j.hash else None
            if r is None and j.hash:  # a library from before full hashing: its row holds the sampled hash
                old = _legacy_or_none(j.path)
                r = by_hash.pop((j.size, old), None) if old else None
                if r is not None:
                    rehash.append((j.hash, r["id"]))
            if r is not None:
                gone.pop(r["path"], None)
                moves.append((j.path, j.folder, j.size, j.mtime_ns, r["id"]))
                if r["id"] not in with_vec:
                    still_new.append(Job(j.path, j.folder, j.size, j.mtime_ns, photo_id=r["id"],
                                          content_changed=False, hash=j.hash))
                continue
        still_new.append(j)
    return still_new, moves, rehash


def _legacy_or_none(path: str) -> str | None:
    try:
        return legacy_hash(path)
    except OSError:
        return None


def apply_plan(conn: sqlite3.Connection, p: Plan) -> None:
    """One transaction: moves, touched mtimes, deleted photos and stale skip records."""
    try:
        with Tx(conn):
            sql.move_photos(conn, p.moves)
            sql.set_hashes(conn, p.rehash)
            sql.touch_photos(conn, p.touches)
            sql.delete_photos(conn, p.gone)
            sql.delete_skips(conn, p.stale_skips)
            sql.set_companions(conn, p.unpaired, p.companions)
            sql.set_folder_devices(conn, p.walk.devices)
            if p.mounts is not None:
                sql.set_mount_points(conn, p.mounts)
    except sqlite3.Error as e:
        raise LibraryError(f"could not update the library: {e}") from None
