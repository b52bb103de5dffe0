"""People from real faces (Eileen Collins and Grace Hopper, varied as other photos of them): incremental grouping,
the hard rules (two faces of one photo, the user's decisions, named anchors), the operations, search by person."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from facehelpers import astronaut, group_photo, hopper, variant
from PIL import Image

from photosearch.faces import people as pp
from photosearch.faces.engine import FaceEngine
from photosearch.library import Library
from photosearch.library.query import Filters, Query


def _write(d: Path, seeds=range(4)) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for s in seeds:
        variant(astronaut(), 100 + s).save(d / f"collins{s}.jpg", quality=88)
        variant(hopper(), 200 + s).save(d / f"hopper{s}.jpg", quality=88)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A library of 4 photos of each, a group photo (Collins left, Hopper right) and a photo with Collins twice
    (a mirror): indexed with faces once, copied for each test."""
    from helpers import tiny_model

    root = tmp_path_factory.mktemp("people")
    model = tiny_model(root)
    _write(root / "pics")
    group_photo([astronaut(), hopper()]).save(root / "pics" / "group.jpg", quality=90)
    group_photo([astronaut(), astronaut().transpose(Image.Transpose.FLIP_LEFT_RIGHT)]).save(
        root / "pics" / "twin.jpg", quality=90)
    engine = FaceEngine()
    with Library.open(root / "lib.db") as lib:
        lib.run_index(model, [str(root / "pics")], faces=True, face_engine=engine)
        lib.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return root, model, engine


@pytest.fixture
def lib(built, tmp_path):
    root, _, _ = built
    shutil.copytree(root / "pics", tmp_path / "pics")
    shutil.copy(root / "lib.db", tmp_path / "lib.db")
    with Library.open(tmp_path / "lib.db") as lib:
        lib.conn.execute("UPDATE photos SET path = replace(path, ?, ?), folder = replace(folder, ?, ?)",
                         (str(root), str(tmp_path), str(root), str(tmp_path)))
        lib.conn.execute("UPDATE folders SET path = replace(path, ?, ?)", (str(root), str(tmp_path)))
        yield lib


def _who(conn) -> dict[int, str]:
    """face id -> true identity, from the file names and (for the group photos) left/right."""
    out = {}
    for fid, path, x in conn.execute("SELECT f.id, p.path, f.x FROM faces f JOIN photos p ON p.id = f.photo_id"):
        name = Path(path).stem
        if name == "group":
            out[fid] = "collins" if x < 400 else "hopper"
        else:
            out[fid] = "hopper" if name.startswith("hopper") else "collins"
    return out


def _placement(conn) -> dict[int, int | None]:
    return dict(conn.execute("SELECT id, person_id FROM faces"))


def _person_of(conn, stem: str, left: bool = True) -> int:
    rows = conn.execute("SELECT f.id, f.person_id FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.path "
                        "LIKE ? ORDER BY f.x", (f"%/{stem}.jpg",)).fetchall()
    return rows[0 if left else -1][1]


def _face_of(conn, stem: str, left: bool = True) -> int:
    rows = conn.execute("SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.path LIKE ? ORDER BY f.x",
                        (f"%/{stem}.jpg",)).fetchall()
    return rows[0 if left else -1][0]


def test_each_real_person_is_one_group_and_two_faces_of_one_photo_never_are(lib):
    conn = lib.conn
    who, placed = _who(conn), _placement(conn)
    assert len(who) == 12 and all(p is not None for p in placed.values())
    groups: dict[int, set[str]] = {}
    for fid, pid in placed.items():
        groups.setdefault(pid, set()).add(who[fid])
    assert all(len(ids) == 1 for ids in groups.values()), groups  # no person mixes two people
    hopper_people = {placed[f] for f, w in who.items() if w == "hopper"}
    assert len(hopper_people) == 1
    assert _person_of(conn, "twin", True) != _person_of(conn, "twin", False)  # cannot-link
    for photo, n, n_people in conn.execute("SELECT photo_id, count(*), count(DISTINCT person_id) FROM faces "
                                           "GROUP BY photo_id"):
        assert n == n_people


def test_user_decisions_and_named_anchors_survive_a_regroup(lib):
    conn = lib.conn
    eileen = _person_of(conn, "collins0")
    pp.name(conn, eileen, "Eileen")
    split_face = _face_of(conn, "hopper1")
    solo = pp.split(conn, [split_face])
    rejected = _face_of(conn, "collins2")
    pp.reject(conn, rejected)
    twin_right = _face_of(conn, "twin", left=False)
    twin_left_person = _person_of(conn, "twin", True)
    with pytest.raises(pp.PeopleError, match="already has a face"):
        pp.move(conn, twin_right, twin_left_person)
    before = _placement(conn)
    events = list(pp.regroup(conn))
    assert events[-1].phase == "group-done" and events[-1].total > 0  # it really placed faces again
    after = _placement(conn)
    assert after[split_face] == solo and after[rejected] is None
    assert {f for f, p in after.items() if p == eileen} == {f for f, p in before.items() if p == eileen}
    # The rejected face is never proposed for Eileen again, even when the user's mark is the only guard.
    conn.execute("UPDATE faces SET user_set = 0 WHERE id = ?", (rejected,))
    list(pp.group(conn))
    assert _placement(conn)[rejected] != eileen


def test_new_photos_join_the_named_person_without_regrouping_the_library(lib, built, tmp_path):
    _, model, engine = built
    conn = lib.conn
    eileen = _person_of(conn, "collins0")
    pp.name(conn, eileen, "Eileen")
    before = _placement(conn)
    people_before = conn.execute("SELECT count(*) FROM people").fetchone()[0]
    _write(tmp_path / "pics" / "new", seeds=(7, 8))
    lib.run_index(model, faces=True, face_engine=engine)
    after = _placement(conn)
    assert {f: after[f] for f in before} == before  # nothing placed before moved
    new = set(after) - set(before)
    assert len(new) == 4
    who = _who(conn)
    assert all(after[f] == eileen for f in new if who[f] == "collins")
    assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == people_before  # Hopper's joined hers too


def test_merge_split_move_and_names_keep_the_rules(lib):
    conn = lib.conn
    a, b = _person_of(conn, "twin", True), _person_of(conn, "twin", False)
    with pytest.raises(pp.PeopleError, match="both in"):
        pp.merge(conn, a, b)
    with pytest.raises(pp.PeopleError, match="same photo"):
        pp.split(conn, [_face_of(conn, "twin", True), _face_of(conn, "twin", False)])
    hop = _person_of(conn, "hopper0")
    pp.name(conn, hop, "Grace")
    with pytest.raises(pp.PeopleError, match="already called"):
        pp.name(conn, a, "grace")
    part = pp.split(conn, [_face_of(conn, "hopper2"), _face_of(conn, "hopper3")])
    pp.merge(conn, part, hop)  # back together; the name comes along
    assert conn.execute("SELECT name FROM people WHERE id = ?", (part,)).fetchone()[0] == "Grace"
    assert conn.execute("SELECT count(*) FROM people WHERE id = ?", (hop,)).fetchone()[0] == 0
    assert pp.known_person_names(conn) == ["Grace"]
    pp.hide(conn, part)
    assert pp.known_person_names(conn) == []
    assert all(p["id"] != part for p in pp.list_people(conn))
    assert any(p["id"] == part for p in pp.list_people(conn, include_hidden=True))
    with pytest.raises(pp.PeopleError, match="no face"):
        pp.reject(conn, 10**9)


def test_naming_one_face_names_moves_or_starts_a_person_and_every_choice_survives_a_regroup(lib):
    conn = lib.conn
    group = _person_of(conn, "collins0")
    assert pp.name_face(conn, _face_of(conn, "collins0"), "  Eileen ") == group  # the unnamed person is named
    assert pp.name_of(conn, group) == "Eileen" and _person_of(conn, "collins1") == group
    wrong, hop = _face_of(conn, "hopper1"), _person_of(conn, "hopper1")
    assert pp.name_face(conn, wrong, "eileen") == group  # a name in use: the face moves to that person
    grace = pp.name_face(conn, wrong, "Grace")  # corrected: Eileen is named otherwise, so a new person
    assert grace not in (group, hop) and pp.name_of(conn, grace) == "Grace"
    assert {f for f, p in _placement(conn).items() if p == grace} == {wrong}
    assert pp.name_face(conn, _face_of(conn, "hopper2"), "GRACE") == grace
    twin_right = _face_of(conn, "twin", left=False)  # Eileen is the twin photo's left face already
    with pytest.raises(pp.PeopleError, match="already has a face"):
        pp.name_face(conn, twin_right, "Eileen")
    before_refusals = _placement(conn)
    with pytest.raises(pp.PeopleError, match="already called"):
        pp.name_face(conn, _face_of(conn, "hopper3"), "Grace", new_person=True)
    with pytest.raises(pp.PeopleError, match="cannot be empty"):
        pp.name_face(conn, _face_of(conn, "hopper3"), " ")
    assert _placement(conn) == before_refusals  # a refusal changes nothing
    alone = pp.name_face(conn, _face_of(conn, "hopper3"), None, new_person=True)
    assert pp.name_of(conn, alone) is None and alone != hop
    placed = _placement(conn)
    list(pp.regroup(conn))
    after = _placement(conn)
    for f in (wrong, _face_of(conn, "hopper2"), _face_of(conn, "hopper3")):
        assert after[f] == placed[f]
    assert {f for f, p in after.items() if p == group} == {f for f, p in placed.items() if p == group}


def test_search_with_people_keeps_photos_with_all_of_them(lib, built):
    _, model, _ = built
    conn = lib.conn
    pp.name(conn, _person_of(conn, "collins0"), "Eileen")
    pp.name(conn, _person_of(conn, "hopper0"), "Grace")
    names = lambda hits: sorted(Path(h.path).stem for h in hits)  # noqa: E731
    assert names(lib.search(model, Query(filters=Filters(persons=("eileen",)), top_k=50))) == \
        ["collins0", "collins1", "collins2", "collins3", "group", "twin"]
    both = lib.search(model, Query("a photo", filters=Filters(persons=("Eileen", "Grace")), top_k=50))
    assert names(both) == ["group"]
    conn.execute("UPDATE photos SET taken_at = '2098-07-01T10:00:00' WHERE path LIKE '%collins1.jpg'")
    conn.execute("UPDATE photos SET taken_at = '2099-01-02T10:00:00' WHERE path LIKE '%group.jpg'")
    eileen = next(p for p in pp.list_people(conn) if p["name"] == "Eileen")
    assert eileen["dates"] == ["2098-07-01", "2099-01-02"] and eileen["photos"] == 6
    browse = lib.search(model, Query(filters=Filters(persons=("Eileen",)), top_k=50))  # her photos, newest first (undated: by file time)
    assert [Path(h.path).stem for h in browse[:2]] == ["group", "collins1"]
    st = lib.status().faces
    assert (st["faces"], st["scanned"], st["named"]) == (12, 10, 2) and not st["enabled"]
    f = Filters(persons=("Nobody",))
    assert lib.search(model, Query("a photo", filters=f)) == []
    assert lib.why_empty(model, f) == "no photos of Nobody"


def test_grouping_is_incremental_and_fast_on_many_faces(tmp_path):
    """20k synthetic face vectors of 400 people arriving in two halves: the second half joins the first's
    people in seconds, with no two faces of one photo together."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(400, 128)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    ident = rng.integers(0, 400, 20000)
    vecs = centres[ident] + rng.normal(scale=0.06, size=(20000, 128)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    with Library.open(tmp_path / "lib.db") as lib:
        conn = lib.conn
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO photos (id, path, folder, size, mtime_ns, hash, indexed_at) VALUES "
                         "(?, ?, '/x', 0, 0, '', 0)", [(i, f"/x/{i}.jpg") for i in range(10000)])
        conn.executemany("INSERT INTO faces (id, photo_id, model, x, y, w, h, landmarks, score, quality, usable, "
                         "embedding) VALUES (?, ?, 'm', 0, 0, 1, 1, '[]', 1, '{}', 1, ?)",
                         [(i + 1, i // 2, vecs[i].tobytes()) for i in range(20000)])  # two faces a photo
        conn.execute("UPDATE faces SET usable = 0 WHERE id > 10000")
        conn.execute("COMMIT")
        list(pp.group(conn))
        first = _placement(conn)
        conn.execute("UPDATE faces SET usable = 1")
        t0 = time.perf_counter()
        ev = list(pp.group(conn))[-1]
        seconds = time.perf_counter() - t0
        after = _placement(conn)
    assert ev.total == 10000 and seconds < 30
    assert {f: after[f] for f in first if first[f] is not None} == {f: p for f, p in first.items() if p is not None}
    person = np.array([after[i + 1] for i in range(20000)])
    assert all(person[2 * k] != person[2 * k + 1] for k in range(10000))  # cannot-link, even for look-alikes
    sample = rng.choice(20000, 3000, replace=False)
    same_true = ident[sample][:, None] == ident[sample][None, :]
    same_pred = person[sample][:, None] == person[sample][None, :]
    off = ~np.eye(len(sample), dtype=bool)
    precision = (same_true & same_pred & off).sum() / max(1, (same_pred & off).sum())
    recall = (same_true & same_pred & off).sum() / max(1, (same_true & off).sum())
    assert precision > 0.99 and recall > 0.9, (precision, recall)
