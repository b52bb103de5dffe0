"""Search: query arithmetic, example images, filters, score cut-off, and quality on real photos."""

from __future__ import annotations

import numpy as np
import pytest
from libhelpers import write_jpeg

from photosearch.library import Library, QueryError, parse_query, relevance
from photosearch.library.search import VectorIndex, combine
from photosearch.library.query import Query


def test_parse_query_arithmetic():
    assert parse_query("cat") == [(1.0, "cat")]
    assert parse_query("cat + snow - indoor") == [(1.0, "cat"), (1.0, "snow"), (-1.0, "indoor")]
    assert parse_query("2*cat - 0.5 * indoor") == [(2.0, "cat"), (-0.5, "indoor")]
    assert parse_query("a black-and-white t-shirt") == [(1.0, "a black-and-white t-shirt")]
    assert parse_query("- people") == [(-1.0, "people")]
    assert parse_query("  ") == []


def test_combine_is_a_normalised_weighted_sum():
    t = np.eye(4, dtype=np.float32)[:2]
    v = combine(t, [1.0, -1.0], None)
    assert np.allclose(v, np.array([1, -1, 0, 0]) / np.sqrt(2), atol=1e-6)
    img = np.array([0, 0, 3.0, 0], np.float32)
    v = combine(t[:1], [1.0], img)
    assert np.allclose(v, np.array([1, 0, 1, 0]) / np.sqrt(2), atol=1e-6)
    with pytest.raises(QueryError):
        combine(t[:1], [1.0, -1.0][:1] * 0, None) if False else combine(np.stack([t[0], t[0]]), [1.0, -1.0], None)
    with pytest.raises(QueryError):
        combine(None, [], None)


def test_vector_index_top_k_matches_brute_force():
    rng = np.random.default_rng(0)
    vi = VectorIndex(8)
    m = rng.normal(size=(3000, 8)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    vi.append(np.arange(1000), m[:1000])
    vi.append(np.arange(1000, 3000), m[1000:])  # grows in place
    q = m[17]
    ids, scores = vi.top_k(q, 10)
    ref = np.argsort(-(m @ q))[:10]
    assert list(ids) == list(ref) and scores[0] == pytest.approx(1.0, abs=1e-5)
    ids, scores = vi.top_k(q, 10, min_score=0.9)
    assert len(ids) >= 1 and all(s >= 0.9 for s in scores)
    mask = np.zeros(3000, bool)
    mask[[5, 6, 7]] = True
    ids, _ = vi.top_k(q, 10, mask=mask)
    assert sorted(ids) == [5, 6, 7]


@pytest.fixture
def small_lib(tmp_path, tiny):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write_jpeg(a / "old.jpg", 1, exif_date="2019:05:01 12:00:00")
    write_jpeg(a / "new.jpg", 2, exif_date="2023:08:20 09:30:00")
    write_jpeg(b / "nodate.jpg", 3)
    from PIL import Image

    from libhelpers import pattern

    Image.fromarray(pattern(4)).save(b / "shot.png")
    lib = Library.open(tmp_path / "lib.db")
    lib.run_index(tiny, [a, b])
    yield lib, a, b
    lib.close()


def _names(hits):
    return sorted(h.path.rsplit("/", 1)[1] for h in hits)


def test_filters(small_lib, tiny):
    lib, a, b = small_lib
    assert _names(lib.search(tiny, Query.of("photo", top_k=10))) == ["new.jpg", "nodate.jpg", "old.jpg", "shot.png"]
    assert _names(lib.search(tiny, Query.of("photo", folder=str(a)))) == ["new.jpg", "old.jpg"]
    assert _names(lib.search(tiny, Query.of("photo", after="2020-01-01"))) == ["new.jpg"]
    assert _names(lib.search(tiny, Query.of("photo", before="2019-05-01"))) == ["old.jpg"]  # the whole end day counts
    assert _names(lib.search(tiny, Query.of("photo", before="2019-04-30"))) == []
    assert _names(lib.search(tiny, Query.of("photo", types=["png"]))) == ["shot.png"]
    assert _names(lib.search(tiny, Query.of("photo", types=["jpg"], folder=str(b)))) == ["nodate.jpg"]
    with pytest.raises(QueryError):
        lib.search(tiny, Query.of("photo", after="last tuesday"))
    with pytest.raises(QueryError):
        lib.search(tiny, Query.of("photo", types=["docx"]))


def test_scores_sorted_min_score_and_top_k(small_lib, tiny):
    lib, a, b = small_lib
    hits = lib.search(tiny, Query.of("photo", top_k=10))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len(lib.search(tiny, Query.of("photo", top_k=2))) == 2
    assert lib.search(tiny, Query.of("photo", min_score=1.01)) == []  # "nothing relevant" is a possible answer
    cut = scores[1] - 1e-5  # reported scores are rounded to 6 digits
    assert [h.path for h in lib.search(tiny, Query.of("photo", min_score=cut))] == [h.path for h in hits[:2]]


def test_like_photo_in_library_and_on_disk(small_lib, tiny, tmp_path):
    lib, a, b = small_lib
    hits = lib.search(tiny, Query.of(like=a / "old.jpg", top_k=4))
    assert hits[0].path == str(a / "old.jpg") and hits[0].score == pytest.approx(1.0, abs=2e-3)
    outside = tmp_path / "elsewhere.jpg"
    write_jpeg(outside, 1)  # the same picture as old.jpg, not in the library
    assert lib.search(tiny, Query.of(like=outside, top_k=1))[0].path == str(a / "old.jpg")
    # text + example image together, and arithmetic, rank by the combined vector
    q = lib.query_vector(tiny, "photo - sky", like=a / "new.jpg")
    tv = tiny.embed_texts(["photo", "sky"]).numpy()
    iv = np.frombuffer(lib.conn.execute("SELECT vector FROM embeddings e JOIN photos p ON p.id = e.photo_id "
                                        "WHERE p.path = ?", (str(a / "new.jpg"),)).fetchone()[0],
                       "<f2").astype(np.float32)
    assert np.allclose(q, combine(tv, [1.0, -1.0], iv), atol=1e-5)
    with pytest.raises(QueryError):
        lib.search(tiny, Query.of(like=tmp_path / "missing.jpg"))
    # no query at all browses the library (newest first: tests/test_relevance.py)
    assert len(lib.search(tiny, Query.of(None, top_k=10))) == 4


@pytest.mark.slow
def test_real_photos_found_by_their_captions(tmp_path, starter_model, captioned_photos, photo_dir):
    """With the offline starter model, the right real photo is in the top 3 for most captions, and the
    library's ranking (draft decode, float16 storage) agrees with the model's own full-precision ranking."""
    with Library.open(tmp_path / "lib.db") as lib:
        rep = lib.run_index(starter_model, [photo_dir])
        assert rep.indexed == len(captioned_photos) and not rep.skipped
        top3 = top1_same = 0
        direct = starter_model.embed_pil([_full(p) for p, _ in captioned_photos]).numpy()
        texts = starter_model.embed_texts([c for _, c in captioned_photos]).numpy()
        # The model's own order: its shown scores (library/relevance.py) from full-precision vectors.
        stats = relevance.bank_of(starter_model).photo_stats(direct)
        rule = relevance.load_calibration(starter_model).rule("text")
        for (path, cap), t in zip(captioned_photos, texts):
            hits = lib.search(starter_model, Query.of(cap, top_k=3))
            top3 += str(path) in [h.path for h in hits]
            own = relevance.scores(direct @ t, stats, rule)
            top1_same += hits[0].path == str(captioned_photos[int(np.argmax(own))][0])
        n = len(captioned_photos)
        assert top3 >= 0.5 * n, f"only {top3}/{n} captions found their photo in the top 3"
        assert top1_same >= 0.8 * n
        assert lib.search(starter_model, Query.of("a tabby cat", top_k=1))[0].path.endswith("chelsea.jpg")
        cat_minus = lib.search(starter_model, Query.of("a cat + a cup of coffee - a cat", top_k=1))[0]
        assert cat_minus.path.endswith("coffee.jpg")


def _full(p):
    from photosearch.imageio import load_image

    return load_image(p, min_side=None)[0]


def test_library_recreated_at_same_path_is_not_served_from_cache(tmp_path, tiny):
    a = tmp_path / "a"
    a.mkdir()
    write_jpeg(a / "one.jpg", 1)
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:
        lib.run_index(tiny, [a])
        assert len(lib.search(tiny, Query.of("x"))) == 1
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"lib.db{suffix}").unlink(missing_ok=True)
    b = tmp_path / "b"
    b.mkdir()
    write_jpeg(b / "two.jpg", 2)
    with Library.open(db) as lib:
        lib.run_index(tiny, [b])
        hits = lib.search(tiny, Query.of(like=b / "two.jpg"))
        assert [h.path for h in hits] == [str(b / "two.jpg")]
        assert hits[0].score == pytest.approx(1.0, abs=2e-3)  # its own vector, not a stale cached one
