"""Faces on real face photos (Eileen Collins, scikit-image; Grace Hopper, matplotlib): the packaged YuNet + SFace
models, quality flags, bounded work on hostile input, the faces pass (resume, moves, changed content, one fault
record), the CLI and forgetting every face."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from facehelpers import astronaut, crowd, face_crop, group_photo, hopper, variant
from helpers import cli_env
from PIL import Image, ImageFilter

from photosearch.faces import engine as fe
from photosearch.faces.engine import FaceEngine, FaceModelError
from photosearch.library import Library


@pytest.fixture(scope="module")
def engine():
    return FaceEngine()


def _find(engine, img: Image.Image):
    return engine.find(np.asarray(img.convert("RGB")))


def test_finds_one_face_with_its_landmarks_in_a_real_portrait(engine):
    faces = _find(engine, astronaut())
    assert len(faces) == 1
    f = faces[0]
    x, y, w, h = f.box
    assert f.usable and f.score > 0.85 and 60 < w < 160
    assert all(x <= lx <= x + w and y <= ly <= y + h for lx, ly in f.landmarks)
    (rex, rey), (lex, ley), (nx, ny), (rmx, rmy), (lmx, lmy) = f.landmarks
    assert rex < nx < lex and max(rey, ley) < ny < min(rmy, lmy)  # eyes, then nose, then mouth, top to bottom
    assert f.embedding.shape == (128,) and f.embedding.dtype == np.float32
    assert abs(float(np.linalg.norm(f.embedding)) - 1) < 1e-4


def test_the_same_person_is_close_and_another_person_far(engine):
    a = [_find(engine, variant(astronaut(), s))[0].embedding for s in range(4)]
    b = [_find(engine, variant(hopper(), s))[0].embedding for s in range(4)]
    same = [float(a[i] @ a[j]) for i in range(4) for j in range(i + 1, 4)] + \
           [float(b[i] @ b[j]) for i in range(4) for j in range(i + 1, 4)]
    other = [float(u @ v) for u in a for v in b]
    assert min(same) > 0.55 and max(other) < 0.3, (same, other)


def test_small_blurred_and_profile_faces_are_kept_but_not_usable(engine):
    tiny = astronaut().resize((128, 128))  # the face is ~22 px across
    small = _find(engine, tiny)
    assert len(small) == 1 and small[0].size < fe.USABLE_MIN_SIZE and not small[0].usable
    blurred = _find(engine, astronaut().filter(ImageFilter.GaussianBlur(5)))
    assert blurred and blurred[0].sharpness < fe.USABLE_MIN_SHARPNESS and not blurred[0].usable
    import skimage.data

    profile = _find(engine, Image.fromarray(skimage.data.camera()))  # the cameraman looks down his camera
    assert profile and abs(profile[0].yaw) > fe.USABLE_MAX_YAW and not profile[0].usable


def test_a_group_photo_gives_every_face_and_an_edge_cut_face_is_still_found(engine):
    faces = _find(engine, group_photo([astronaut(), hopper(), astronaut().transpose(Image.Transpose.FLIP_LEFT_RIGHT)]))
    assert len(faces) == 3
    a = astronaut()
    box = _find(engine, a)[0].box
    cut = a.crop((int(box[0] + box[2] * 0.35), 0, a.width, a.height))  # a third of the face outside the frame
    found = _find(engine, cut)
    assert len(found) == 1 and found[0].box[0] <= 2


def test_hostile_sizes_are_bounded(engine):
    assert engine.find(np.zeros((1, 60000, 3), np.uint8)) == []
    assert engine.find(np.zeros((60000, 1, 3), np.uint8)) == []
    assert engine.find(np.zeros((5, 5, 3), np.uint8)) == []
    face = face_crop(astronaut(), _find(engine, astronaut())[0].box, 0.35)
    t0 = time.perf_counter()
    many = _find(engine, crowd(200, face))
    assert 150 <= len(many) <= fe.MAX_FACES
    assert time.perf_counter() - t0 < 120
    huge = Image.new("RGB", (9000, 6000), (120, 130, 140))
    huge.paste(astronaut().resize((1500, 1500)), (4000, 2000))
    t0 = time.perf_counter()
    assert len(_find(engine, huge)) == 1 and time.perf_counter() - t0 < 30


def test_models_come_from_the_wheel_offline_and_a_damaged_one_is_refused(tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert len(_find(FaceEngine(), hopper())) == 1
    files = fe.model_files()
    bad = {n: tmp_path / n for n in files}
    for n, p in files.items():
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0xFF
        bad[n].write_bytes(bytes(data))
    monkeypatch.setattr(fe, "model_files", lambda: bad)
    with pytest.raises(FaceModelError, match="damaged"):
        FaceEngine().find(np.asarray(hopper()))


# -- the faces pass ------------------------------------------------------------------------------------------
def _photos(d: Path) -> dict[str, Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    for i in range(3):
        out[f"collins{i}"] = d / f"collins{i}.jpg"
        variant(astronaut(), i).save(out[f"collins{i}"], quality=90)
    out["hopper0"] = d / "hopper0.jpg"
    variant(hopper(), 0).save(out["hopper0"], quality=90)
    out["group"] = d / "group.jpg"
    group_photo([astronaut(), hopper()]).save(out["group"], quality=90)
    out["nobody"] = d / "nobody.jpg"
    Image.new("RGB", (320, 240), (30, 120, 200)).save(out["nobody"], quality=90)
    return out


def _scan_rows(conn):
    return {Path(p).name: (n, err) for p, n, err in conn.execute(
        "SELECT p.path, s.faces, s.error FROM face_scans s JOIN photos p ON p.id = s.photo_id")}


def test_faces_pass_resumes_keeps_moves_rescans_changes_and_records_one_fault(tmp_path, tiny, engine):
    pics = _photos(tmp_path / "pics")
    with Library.open(tmp_path / "lib.db") as lib:
        lib.run_index(tiny, [str(tmp_path / "pics")])
        cancel = threading.Event()
        seen = []
        for ev in lib.find_faces(engine, cancel=cancel):
            if ev.phase == "faces" and ev.done == 2:
                cancel.set()
            seen.append(ev)
        assert len(_scan_rows(lib.conn)) == 2 and seen[-1].phase == "group-done"
        rep = lib.run_index(tiny, faces=True, face_engine=engine)
        rows = _scan_rows(lib.conn)
        assert len(rows) == 6 and rows["group.jpg"] == (2, None) and rows["nobody.jpg"] == (0, None)
        assert all(rows[f"collins{i}.jpg"] == (1, None) for i in range(3))
        ids = dict(lib.conn.execute("SELECT id, photo_id FROM faces"))

        # Moved: same faces rows (same ids), nothing scanned again.
        pics["collins0"].rename(tmp_path / "pics" / "moved.jpg")
        lib.run_index(tiny, faces=True, face_engine=engine)
        assert dict(lib.conn.execute("SELECT id, photo_id FROM faces")) == ids
        assert _scan_rows(lib.conn)["moved.jpg"] == (1, None)

        # Changed content: scanned again, the old face rows replaced.
        group_photo([hopper(), hopper().transpose(Image.Transpose.FLIP_LEFT_RIGHT), astronaut()]).save(
            pics["hopper0"], quality=90)
        lib.run_index(tiny, faces=True, face_engine=engine)
        assert _scan_rows(lib.conn)["hopper0.jpg"] == (3, None)

        # A file that breaks after indexing: one fault record, not retried while unchanged.
        data = pics["collins1"].read_bytes()
        pics["collins1"].write_bytes(data[:200] + b"\0" * (len(data) - 200))
        pid = lib.conn.execute("SELECT photo_id FROM face_scans s JOIN photos p ON p.id = s.photo_id "
                               "WHERE p.path LIKE '%collins1.jpg'").fetchone()[0]
        lib.conn.execute("UPDATE face_scans SET hash = 'x' WHERE photo_id = ?", (pid,))  # as if never scanned
        evs = list(lib.find_faces(engine))
        assert evs[-1].phase == "group-done"
        n, err = _scan_rows(lib.conn)["collins1.jpg"]
        assert n == 0 and err
        assert lib.conn.execute("SELECT count(*) FROM face_scans WHERE error IS NOT NULL").fetchone()[0] == 1
        assert [e for e in lib.find_faces(engine) if e.phase == "faces-done"][0].face_report.scanned == 0
    assert rep.indexed == 0


# -- the command line ------------------------------------------------------------------------------------------
def _cli(home, *args, check=True):
    r = subprocess.run([sys.executable, "-m", "photosearch", *map(str, args)], env=cli_env(home),
                       capture_output=True, text=True, timeout=600)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_cli_people_name_search_faces_and_forget(tmp_path, home, tiny):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    _photos(tmp_path / "pics")
    db = tmp_path / "lib.db"
    base = ["--library", db]
    rep = json.loads(_cli(home, *base, "index", tmp_path / "pics", "--model", model_dir, "--faces", "--no-text",
                          "--json").stdout)
    assert rep["faces"]["scanned"] == 6 and rep["faces"]["faces"] == 6 and rep["faces"]["grouped"] == 6
    assert rep["faces"]["while_indexing"] == 6  # found in the same decode as the vectors
    people = json.loads(_cli(home, *base, "people", "--json").stdout)
    assert sorted(p["faces"] for p in people) == [2, 4]  # Collins: 3 portraits + the group; Hopper: 1 + the group
    collins = next(p for p in people if p["faces"] == 4)
    _cli(home, *base, "people", "name", collins["id"], "Eileen", "Collins")
    r = _cli(home, *base, "people", "name", collins["id"], " ", check=False)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "empty" in r.stderr

    faces = json.loads(_cli(home, *base, "people", "faces", collins["id"], "--json").stdout)
    assert len(faces) == 4 and all(f["usable"] for f in faces)
    out = next(f["face_id"] for f in faces if f["path"].endswith("collins2.jpg"))
    _cli(home, *base, "people", "reject", out)  # "not this person"
    left = json.loads(_cli(home, *base, "people", "unassigned", "--json").stdout)
    assert [f["face_id"] for f in left] == [out] and left[0]["user_set"]
    _cli(home, *base, "people", "move", out, collins["id"])  # the user changes their mind
    assert json.loads(_cli(home, *base, "people", "unassigned", "--json").stdout) == []
    r = _cli(home, *base, "people", "merge", collins["id"], next(p["id"] for p in people if p["faces"] == 2),
             check=False)
    assert r.returncode == 1 and "group.jpg" in r.stderr and r.stderr.count("\n") == 1  # both in one photo

    hits = json.loads(_cli(home, *base, "search", "--person", "eileen collins", "--model", model_dir, "--json",
                           "--top", "20").stdout)
    assert sorted(Path(h["path"]).name for h in hits) == ["collins0.jpg", "collins1.jpg", "collins2.jpg", "group.jpg"]
    r = _cli(home, *base, "search", "a face", "--person", "Nobody", "--model", model_dir)
    assert "no photos of Nobody" in r.stderr

    out = json.loads(_cli(home, *base, "faces", tmp_path / "pics" / "group.jpg", "--json").stdout)
    assert sorted(str(f["person"]) for f in out["faces"]) == ["Eileen Collins", "None"]
    outside = tmp_path / "outside.jpg"
    astronaut().save(outside)
    out = json.loads(_cli(home, *base, "faces", outside, "--json").stdout)
    assert len(out["faces"]) == 1 and out["faces"][0]["usable"] and "person" not in out["faces"][0]
    r = _cli(home, *base, "faces", tmp_path / "missing.jpg", check=False)
    assert r.returncode == 1 and "missing.jpg" in r.stderr

    con = sqlite3.connect(db)
    blobs = [b for (b,) in con.execute("SELECT embedding FROM faces") if any(b)]  # unusable faces: all zero
    con.close()
    assert len(blobs) == 6
    r = _cli(home, *base, "people", "forget", check=False)
    assert r.returncode == 2 and "--all" in r.stderr
    assert json.loads(_cli(home, *base, "people", "forget", "--all", "--json").stdout)["forgotten_faces"] == 6
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("lib.db*") if p.is_file())
    assert not any(b[:64] in raw for b in blobs)
    status = _cli(home, *base, "people").stderr
    assert "faces pass: off; 0 faces" in status
