"""Decode once: with faces on, indexing finds the faces in the same decode as the photo's vector. Counted through
the real decoder (imageio._load_pillow wrapped, not replaced); the faces equal those the separate pass finds; a
cancelled run keeps its faces with its vectors; a photo re-embedded for another model keeps its faces."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from facehelpers import astronaut, crowd, face_crop, group_photo, hopper, variant
from helpers import tiny_model
from PIL import Image

from photosearch import imageio
from photosearch.faces.engine import FaceEngine
from photosearch.library import Library


@pytest.fixture(scope="module")
def engine():
    return FaceEngine()


def _photos(d: Path) -> None:
    d.mkdir(parents=True)
    for i in range(2):
        variant(astronaut(), i).save(d / f"collins{i}.jpg", quality=90)
    variant(hopper(), 0).save(d / "hopper0.jpg", quality=90)
    group_photo([astronaut(), hopper()]).save(d / "group.jpg", quality=90)
    Image.new("RGB", (320, 240), (30, 120, 200)).save(d / "nobody.jpg", quality=90)
    # Camera-sized: JPEG draft decodes it at 1/2 for the faces, the model's input is reduced from that.
    group_photo([astronaut(), hopper()], height=2400).save(d / "big.jpg", quality=85)


@pytest.fixture
def decodes(monkeypatch) -> Counter:
    """How many times each file is really decoded (every JPEG/PNG goes through imageio._load_pillow)."""
    seen: Counter = Counter()
    real = imageio._load_pillow

    def counting(path, *a, **k):
        seen[Path(path).name] += 1
        return real(path, *a, **k)

    monkeypatch.setattr(imageio, "_load_pillow", counting)
    return seen


def _faces(conn) -> list[tuple]:
    return sorted(conn.execute("SELECT p.path, f.x, f.y, f.w, f.h, f.landmarks, f.score, f.quality, f.usable, "
                               "f.embedding FROM faces f JOIN photos p ON p.id = f.photo_id"))


def test_faces_on_decodes_each_photo_once_and_finds_what_the_separate_pass_finds(tmp_path, tiny, engine, decodes):
    _photos(tmp_path / "pics")
    with Library.open(tmp_path / "inline.db") as lib:
        rep = lib.run_index(tiny, [str(tmp_path / "pics")], faces=True, face_engine=engine)
        inline = _faces(lib.conn)
    assert rep.indexed == 6 and rep.faces_scanned == 6 and rep.faces_with == 5 and rep.faces_found == 7
    assert set(decodes.values()) == {1} and len(decodes) == 6  # once each, faces included

    decodes.clear()
    with Library.open(tmp_path / "pass.db") as lib:
        lib.run_index(tiny, [str(tmp_path / "pics")])  # faces off: vectors only
        assert lib.conn.execute("SELECT count(*) FROM face_scans").fetchone()[0] == 0
        report = [e for e in lib.find_faces(engine) if e.phase == "faces-done"][0].face_report
        separate = _faces(lib.conn)
    assert report.scanned == 6 and set(decodes.values()) == {2}  # the separate pass reads every photo again
    assert inline == separate and len(inline) == 7  # the same faces, to the last bit of every embedding
    assert sum(1 for f in inline if f[8]) >= 6
    # The model's input is reduced from the larger decode: what a draft for the model alone gives, nearly.
    big = tmp_path / "pics" / "big.jpg"
    drafted, _ = imageio.load_image(big, min_side=256)
    reduced = imageio.shrink_to(imageio.load_image(big, min_side=1000)[0], 256)
    assert reduced.size == drafted.size and reduced.size[1] < 1000
    assert np.abs(np.asarray(reduced, np.int16) - np.asarray(drafted, np.int16)).mean() < 1.5


def test_a_cancelled_run_keeps_faces_with_vectors_and_re_embedding_keeps_the_people(tmp_path, tiny, engine):
    _photos(tmp_path / "pics")
    with Library.open(tmp_path / "lib.db") as lib:
        cancel = threading.Event()
        for ev in lib.index(tiny, [str(tmp_path / "pics")], batch_size=2, workers=1, cancel=cancel, faces=True,
                            face_engine=engine):
            if getattr(ev, "phase", None) == "embed":
                cancel.set()
        photos = lib.conn.execute("SELECT count(*) FROM photos").fetchone()[0]
        scans = lib.conn.execute("SELECT count(*) FROM face_scans").fetchone()[0]
        assert 2 <= photos < 6 and scans == photos  # committed together, batch by batch

        rep = lib.run_index(tiny, faces=True, face_engine=engine)  # resumes: only the rest is decoded
        assert rep.indexed == 6 - photos and rep.faces_scanned == 6 - photos
        assert lib.conn.execute("SELECT count(*), count(DISTINCT photo_id) FROM face_scans").fetchone() == (6, 6)
        faces = dict(lib.conn.execute("SELECT id, person_id FROM faces"))
        assert len(faces) == 7 and all(p is not None for i, p in faces.items()
                                       if lib.conn.execute("SELECT usable FROM faces WHERE id = ?", (i,)).fetchone()[0])

        other = tiny_model(tmp_path, seed=1, name="tiny-other")  # a new model: every photo is embedded again
        rep = lib.run_index(other, faces=True, face_engine=engine)
        assert rep.indexed == 6 and rep.faces_scanned == 0  # faces already found in the same content are kept
        assert dict(lib.conn.execute("SELECT id, person_id FROM faces")) == faces


def test_only_usable_faces_are_described_and_threads_can_share_an_engine(engine):
    box = engine.find(np.asarray(astronaut()))[0].box
    small = engine.find(np.asarray(crowd(40, face_crop(astronaut(), box, 0.35))))  # faces ~33 px: display only
    assert len(small) >= 30 and not any(f.usable or f.embedding.any() for f in small)
    imgs = [np.asarray(group_photo([astronaut(), hopper()])), np.asarray(variant(hopper(), 3))]
    alone = [engine.find(a) for a in imgs]
    assert all(abs(float(np.linalg.norm(f.embedding)) - 1) < 1e-4 for fs in alone for f in fs if f.usable)
    got: dict[int, list] = {}
    ts = [threading.Thread(target=lambda i=i: got.__setitem__(i, [engine.find(imgs[i % 2]) for _ in range(3)]))
          for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for i, runs in got.items():
        for fs in runs:
            assert [f.box for f in fs] == [f.box for f in alone[i % 2]]
            assert all(np.array_equal(a.embedding, b.embedding) for a, b in zip(fs, alone[i % 2]))
