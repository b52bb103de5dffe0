"""Faces in videos: the faces pass looks at a video's sampled moments at the detection size (not its 256 px
poster), every face keeps its second, one person seen in several moments of one video is one person (the "two faces
of one photo are two people" rule holds per frame), a search for a named person starts the video where they are
seen, and the face crops come from that moment's frame."""

from __future__ import annotations

import numpy as np
import pytest
from facehelpers import astronaut, box_iou, hopper, variant
from videohelpers import write_slideshow

from photosearch.faces import facepass, people
from photosearch.faces.engine import FaceEngine
from photosearch.library import Library
from photosearch.library.query import Query


@pytest.fixture(scope="module")
def engine():
    return FaceEngine()


@pytest.fixture(scope="module")
def video_library(tmp_path_factory, engine):
    """A 12 s video: nobody (0-3 s), Collins (3-6 s), Hopper (6-9 s), nobody (9-12 s), indexed with faces on,
    with a photo of Collins beside it; Collins is named."""
    from helpers import tiny_model

    d = tmp_path_factory.mktemp("facevid")
    pics = d / "pics"
    pics.mkdir()
    grey = np.full((480, 640, 3), 120, np.uint8)
    spans = write_slideshow(pics / "party.mp4", [grey, np.asarray(astronaut()), np.asarray(hopper()), grey],
                            seconds_each=3.0, fps=5, size=(640, 480))
    variant(astronaut(), 3).save(pics / "collins.jpg", quality=90)
    lib = Library.open(d / "lib.db")
    lib.run_index(tiny_model(d), [str(pics)], faces=True, face_engine=engine)
    photo_face = lib.conn.execute("SELECT f.person_id FROM faces f JOIN photos p ON p.id = f.photo_id "
                                  "WHERE p.path LIKE '%collins.jpg'").fetchone()[0]
    people.name(lib.conn, photo_face, "Collins")
    yield lib, pics / "party.mp4", spans
    lib.close()


def test_a_videos_faces_are_found_in_its_moments_each_with_its_second(video_library):
    lib, video, spans = video_library
    rows = lib.conn.execute("SELECT f.t, f.usable, pe.name FROM faces f JOIN photos p ON p.id = f.photo_id "
                            "LEFT JOIN people pe ON pe.id = f.person_id WHERE p.path = ? ORDER BY f.t",
                            (str(video),)).fetchall()
    # The poster (a grey frame) has no face: the faces are the moments'. Each is seen once (the same face in a
    # later moment is not kept twice), inside the span it was on screen.
    assert len(rows) == 2 and all(usable for _, usable, _ in rows)
    (t_collins, _, name), (t_hopper, _, other) = rows
    assert spans[1][0] <= t_collins < spans[1][1] and spans[2][0] <= t_hopper < spans[2][1]
    assert name == "Collins" and other is None  # the video's Collins joined the photo's Collins
    scan = lib.conn.execute("SELECT s.faces, s.error FROM face_scans s JOIN photos p ON p.id = s.photo_id "
                            "WHERE p.path = ?", (str(video),)).fetchone()
    assert scan == (2, None)


def test_a_stored_video_face_is_where_its_moments_frame_shows_it(video_library, engine):
    """The crops the People panel shows decode the face's own moment: the box is in the video's pixels."""
    lib, video, _ = video_library
    for t, *box in lib.conn.execute("SELECT f.t, f.x, f.y, f.w, f.h FROM faces f JOIN photos p ON "
                                    "p.id = f.photo_id WHERE p.path = ?", (str(video),)):
        rgb, to_video = facepass.decode(video, t)
        again = engine.find(rgb, to_video)
        assert again and max(box_iou(box, f.box) for f in again) > 0.8
    rgb, to_video = facepass.decode(video, 0.0)  # the grey poster
    assert engine.find(rgb, to_video) == []


def test_a_search_for_a_named_person_starts_their_video_where_they_are_seen(video_library, tiny):
    lib, video, spans = video_library
    model = tiny
    hits = lib.search(model, Query.of(None, persons=("collins",)))
    by_path = {h.path: h for h in hits}
    assert set(by_path) == {str(video), str(video.parent / "collins.jpg")}
    assert spans[1][0] <= by_path[str(video)].time_s < spans[1][1]
    assert by_path[str(video.parent / "collins.jpg")].time_s is None


def _faces_db(tmp_path, frames: list[tuple[int, float | None]]):
    """A library holding one face per (photo id, second) of ``frames``, all the same embedding."""
    import json

    lib = Library.open(tmp_path / "rule.db")
    emb = np.zeros(128, np.float32)
    emb[0] = 1.0
    for pid in sorted({p for p, _ in frames}):
        lib.conn.execute("INSERT INTO photos (id, path, folder, size, mtime_ns, hash, indexed_at) VALUES "
                         "(?, ?, '/x', 0, 0, '', 0)", (pid, f"/x/{pid}.mp4"))
    for pid, t in frames:
        lib.conn.execute("INSERT INTO faces (photo_id, model, x, y, w, h, landmarks, score, quality, usable, "
                         "embedding, t) VALUES (?, 'm', 0, 0, 50, 50, '[]', 0.9, ?, 1, ?, ?)",
                         (pid, json.dumps({"quality": 0.5}), emb.tobytes(), t))
    lib.conn.commit()
    return lib


def test_one_person_in_several_moments_of_one_video_is_grouped_as_one(tmp_path):
    lib = _faces_db(tmp_path, [(1, 2.0), (1, 6.0), (1, 9.5)])
    list(people.group(lib.conn))
    assert lib.conn.execute("SELECT count(DISTINCT person_id), count(person_id) FROM faces").fetchone() == (1, 3)
    lib.close()


def test_two_faces_of_one_moment_are_still_two_people(tmp_path):
    lib = _faces_db(tmp_path, [(1, 4.0), (1, 4.0), (2, None), (2, None)])
    list(people.group(lib.conn))
    assert lib.conn.execute("SELECT count(DISTINCT person_id) FROM faces").fetchone() == (2,)
    faces = [r[0] for r in lib.conn.execute("SELECT id FROM faces WHERE photo_id = 1")]
    with pytest.raises(people.PeopleError):
        people.split(lib.conn, faces)  # the two faces of one moment cannot be made one person
    lib.close()


def test_a_library_from_before_video_faces_scans_its_videos_again(tmp_path):
    """Format 7 scanned a video's 256 px poster only: upgrading forgets those scans (so the pass looks at the
    moments), and keeps the photos' scans and faces."""
    from libhelpers import old_library

    conn = old_library(tmp_path / "old.db", 7)  # as the last version before faces in videos (format 7) wrote it
    for pid, path, fmt in [(1, "/x/a.mp4", "VIDEO-MP4"), (2, "/x/b.jpg", "JPEG")]:
        conn.execute("INSERT INTO photos (id, path, folder, size, mtime_ns, hash, indexed_at, format) VALUES "
                     "(?, ?, '/x', 0, 0, 'h', 0, ?)", (pid, path, fmt))
        conn.execute("INSERT INTO face_scans VALUES (?, 'h', 'm', 1, NULL, 0)", (pid,))
        conn.execute("INSERT INTO faces (photo_id, model, x, y, w, h, landmarks, score, quality, usable, embedding) "
                     "VALUES (?, 'm', 0, 0, 9, 9, '[]', 0.9, '{}', 1, x'00')", (pid,))
    conn.commit()
    conn.close()
    with Library.open(tmp_path / "old.db") as lib:
        assert [r[0] for r in lib.conn.execute("SELECT photo_id FROM face_scans")] == [2]
        assert [p for p, *_ in facepass.pending(lib.conn, "m")] == [1]
        assert lib.conn.execute("SELECT count(*) FROM faces WHERE t IS NULL").fetchone() == (2,)


def test_faces_of_a_video_outside_the_library_are_looked_for_in_its_moments(video_library, engine):
    """``photosearch faces VIDEO`` on a file the library does not hold: its moments are sampled as the index
    samples them (its first frame is grey, with nobody in it)."""
    from photosearch.cli.people_cmd import _human_faces

    _, video, spans = video_library
    faces = engine.find_file(video)
    assert [round(f.t) for f in faces] and all(f.usable for f in faces)
    assert {next(k for k, (a, b) in enumerate(spans) if a <= f.t < b) for f in faces} == {1, 2}
    text = _human_faces({"path": str(video), "faces": [f.to_dict() for f in faces]})
    assert text.startswith(f"{video}: 2 faces") and "(at 0:0" in text
