"""The per-query relevance cut, feedback, explanations and browsing (core; CLI in test_relevance_cli.py)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from libhelpers import write_jpeg
from photosearch.library import Library, feedback, relevance
from photosearch.library.relevance import Calibration, CutRule
from photosearch.library.query import Query, Filters


# -- the cut on score distributions ---------------------------------------------------------------------
def _library_scores(n=200, seed=0, spread=0.03, centre=0.05):
    return np.random.default_rng(seed).normal(centre, spread, n).astype(np.float32)


def test_a_photo_that_stands_out_is_good_and_the_rest_are_not():
    s = _library_scores()
    s[[3, 7]] = [0.62, 0.55]
    c = relevance.cut(s, CutRule())
    good = np.flatnonzero(s >= c.threshold)
    assert set(good) == {3, 7}
    assert c.any_good and c.top_z > 10


def test_nothing_stands_out_means_nothing_is_good():
    c = relevance.cut(_library_scores(), CutRule())
    assert not c.any_good and c.threshold == float("inf")


def test_the_cut_follows_each_querys_own_scale():
    """The same shape of distribution at another score level (another query, another model) gets the same
    decision: a flat threshold cannot do that."""
    base = _library_scores()
    base[5] = base.max() + 0.25
    for shift, scale in ((0.0, 1.0), (0.3, 1.0), (-0.1, 0.5), (0.5, 2.0)):
        s = base * scale + shift
        assert np.flatnonzero(s >= relevance.cut(s, CutRule()).threshold).tolist() == [5]


def test_gate_and_floor_from_the_calibration():
    s = _library_scores()
    s[3] = 0.3  # stands out (z ~ 8) but scores below the model's gate
    assert relevance.cut(s, CutRule(gate_score=0.35)).threshold == float("inf")
    assert relevance.cut(s, CutRule(gate_score=0.25)).relevant(0.3)


def test_example_photo_itself_does_not_count_as_evidence():
    s = _library_scores(spread=0.05, centre=0.6)
    s[0] = 1.0  # the example photo
    c = relevance.cut(s, CutRule(), kind="image")
    assert c.top < 0.99 and not c.any_good


def test_tiny_and_empty_libraries_do_not_crash():
    assert not relevance.cut(np.zeros(0, np.float32), CutRule()).any_good
    assert not relevance.cut(np.array([0.3, 0.1], np.float32), CutRule()).any_good
    assert relevance.cut(np.array([0.3, 0.1], np.float32), CutRule(floor=0.2)).relevant(0.3)
    flat = np.full(50, 0.2, np.float32)  # MAD = 0: min_spread keeps z finite
    assert np.isfinite(relevance.cut(flat, CutRule()).top_z)


# -- calibration files -------------------------------------------------------------------------------------
def test_calibration_beside_the_model_is_used_and_a_broken_one_is_ignored(tmp_path, tiny):
    from photosearch.model.checkpoint import load_checkpoint, save_checkpoint

    folder = save_checkpoint(tiny, tmp_path / "m")
    m = load_checkpoint(folder)
    assert relevance.load_calibration(m).source == "default"
    cal = Calibration(rules={"text": CutRule(gate_z=7.5), "image": CutRule(), "mixed": CutRule()},
                      model=m.config.model_id, source="test")
    relevance.save_calibration(folder, cal)
    m2 = load_checkpoint(folder)
    assert relevance.load_calibration(m2).rule("text").gate_z == 7.5
    (folder / relevance.CALIBRATION_FILE).write_text("{not json")
    m3 = load_checkpoint(folder)
    assert relevance.load_calibration(m3).source == "default"
    (folder / relevance.CALIBRATION_FILE).write_text(json.dumps({"version": 99}))
    assert relevance.load_calibration(load_checkpoint(folder)).source == "default"


def test_packaged_starter_calibration_fits_only_its_build(tmp_path):
    from photosearch.model.store import STARTER_BUILD

    class M:  # only what load_calibration reads
        class config:
            name, model_id = "starter", "starter@abc"

    packaged = relevance.Path(relevance.__file__).with_name("calibrations") / "starter.json"
    if not packaged.is_file():
        pytest.skip("no packaged starter calibration in this checkout")
    d = json.loads(packaged.read_text())
    assert relevance._fits_builtin(Calibration.from_dict(d), M) == (d.get("build") == STARTER_BUILD)
    d["build"] = STARTER_BUILD + 1
    assert not relevance._fits_builtin(Calibration.from_dict(d), M)


# -- feedback ------------------------------------------------------------------------------------------------
def test_feedback_pushes_down_what_resembles_a_less_like_photo_and_pulls_up_more_like():
    rng = np.random.default_rng(1)
    V = rng.normal(size=(40, 16)).astype(np.float32)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    V[1] = V[0] + 0.1 * rng.normal(size=16)  # 1 looks like 0
    V[1] /= np.linalg.norm(V[1])
    V[5] -= (V[5] @ V[0]) * V[0]  # 5 is unlike 0
    V[5] /= np.linalg.norm(V[5])
    q = V[0] * 0.6 + V[5] * 0.5
    q /= np.linalg.norm(q)
    s = V @ q
    less = feedback.adjust(s, [], [V @ V[0]])
    assert less[0] < s[0] - 0.05 and less[1] < s[1] - 0.05  # the marked photo and its look-alike sink
    assert less[5] == pytest.approx(s[5], abs=0.05)  # unrelated photos barely move
    assert np.argsort(-less)[0] != 0
    more = feedback.adjust(s, [V @ V[7]], [])
    assert (np.argsort(-more).tolist().index(7)) < (np.argsort(-s).tolist().index(7))
    with pytest.raises(ValueError):
        feedback.adjust(None, [], [V @ V[0]])
    assert np.allclose(feedback.adjust(None, [V @ V[3]], []), V @ V[3])  # browsing + more-like


# -- the library: cut over the whole library, filters, feedback, browsing, copies ---------------------------
@pytest.fixture
def lib(tmp_path, tiny):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    for i in range(12):
        write_jpeg(a / f"p{i:02d}.jpg", 100 + i, exif_date=f"2021:{i % 12 + 1:02d}:10 10:00:00")
    write_jpeg(b / "undated.jpg", 3)
    shutil.copy(a / "p03.jpg", b / "copy-of-p03.jpg")
    shutil.copy(a / "p03.jpg", b / "another-copy.jpg")
    os.utime(b / "undated.jpg", (2_000_000_000, 2_000_000_000))  # modified in 2033: newest by mtime
    lib = Library.open(tmp_path / "lib.db")
    lib.run_index(tiny, [a, b])
    yield lib, a, b
    lib.close()


def test_every_hit_is_marked_and_the_cut_ignores_filters(lib, tiny):
    L, a, b = lib
    hits = L.search(tiny, Query.of(like=a / "p05.jpg", top_k=50, group_copies=False))
    assert {h.relevant for h in hits} <= {True, False}
    flags = {h.path: h.relevant for h in hits}
    filtered = L.search(tiny, Query.of(like=a / "p05.jpg", top_k=50, folder=str(b), group_copies=False))
    assert filtered and all(flags[h.path] == h.relevant for h in filtered)
    only = L.search(tiny, Query.of(like=a / "p05.jpg", top_k=50, only_relevant=True, group_copies=False))
    assert [h.path for h in only] == [h.path for h in hits if h.relevant]
    fixed = L.search(tiny, Query.of("photo", top_k=50, min_score=-1.0))  # the explicit override marks all it keeps
    assert fixed and all(h.relevant for h in fixed)


def test_less_like_moves_the_photo_down(lib, tiny):
    L, a, b = lib
    before = [h.path for h in L.search(tiny, Query.of("photo", top_k=50))]
    top = before[0]
    after = [h.path for h in L.search(tiny, Query.of("photo", top_k=50, less=[top]))]
    assert top not in after and len(after) == len(before) - 1  # the marked photo itself leaves the results
    more = [h.path for h in L.search(tiny, Query.of(top_k=50, more=[a / "p07.jpg"]))]  # feedback alone, no words
    assert more[0] == str(a / "p07.jpg")


def test_empty_query_browses_newest_first_and_copies_are_one_result(lib, tiny):
    L, a, b = lib
    hits = L.search(tiny, Query.of(None, top_k=50))
    assert hits[0].path == str(b / "undated.jpg")  # no date taken: its 2033 modification time counts
    dated = [h.date for h in hits[1:]]
    assert dated == sorted(dated, reverse=True)
    p3 = [h for h in hits if h.path.endswith("p03.jpg") or "copy" in h.path]
    assert len(p3) == 1 and len(p3[0].copies) == 2  # three identical files, one result
    assert len(hits) == 13
    assert len(L.search(tiny, Query.of(None, top_k=50, group_copies=False))) == 15


def test_sort_by_date_reorders_only_the_good_matches(lib, tiny):
    L, a, b = lib
    by_score = L.search(tiny, Query.of("photo", top_k=50, min_score=0.0))
    by_date = L.search(tiny, Query.of("photo", top_k=50, min_score=0.0, sort="date"))
    assert sorted(h.path for h in by_date) == sorted(h.path for h in by_score)
    good = [h.date for h in by_date if h.relevant]
    assert good == sorted(good, reverse=True)


def test_which_filter_emptied_the_search_and_include_undated(lib, tiny):
    L, a, b = lib
    assert L.search(tiny, Query.of("photo", after="2030-01-01")) == []
    msg = L.why_empty(tiny, Filters(after="2030-01-01"))
    assert "taken on or after 2030-01-01" in msg and "no date taken" in msg
    got = L.search(tiny, Query.of("photo", after="2030-01-01", include_undated=True, top_k=50))
    assert [h.path for h in got] == [str(b / "undated.jpg")]
    assert "of type png" in L.why_empty(tiny, Filters(types=["png"]))
    assert "under" in L.why_empty(tiny, Filters(folder=str(a / "nope")))
    assert "all the filters together" in L.why_empty(tiny, Filters(folder=str(b), after="2021-01-01", before="2021-12-31"))


# -- real photos, the starter model ---------------------------------------------------------------------------
@pytest.mark.slow
def test_starter_marks_the_right_photo_good(tmp_path, starter_model, photo_dir):
    L = Library.open(tmp_path / "lib.db")
    L.run_index(starter_model, [photo_dir])
    hits = L.search(starter_model, Query.of("a cat", top_k=30))
    good = [h.path for h in hits if h.relevant]
    assert good and good[0].endswith("chelsea.jpg") and len(good) <= 3
    hits = L.search(starter_model, Query.of("a cup of coffee", top_k=30))
    assert [h.path for h in hits if h.relevant][0].endswith("coffee.jpg")
    L.close()


@pytest.mark.slow
def test_rocket_heat_map_peaks_on_the_rocket_not_the_sky(starter_model):
    import skimage.data
    from PIL import Image

    from photosearch.explain import explain, query_vector

    img = Image.fromarray(skimage.data.rocket())  # 640x427: the rocket stands at x ~ 300-340, y ~ 125-410
    ex = explain(starter_model, query_vector(starter_model, "a rocket"), img)
    hm = np.array(ex.heatmap)
    assert hm.shape == (6, 6)
    r, c = np.unravel_index(hm.argmax(), hm.shape)
    assert c in (2, 3) and 1 <= r <= 4  # the columns holding the rocket (cells are 107 x 71 px)
    sky = hm[0:2, [0, 5]].mean()  # the top corners: sky and the far towers
    assert hm[r, c] > sky + 0.05
    labels = [c["label"] for c in ex.concepts]
    assert {"missile", "projectile", "space shuttle"} & set(labels[:3])
    assert ex.concepts == sorted(ex.concepts, key=lambda d: -d["weight"])


def test_models_without_a_classifier_have_no_concepts(tiny):
    from PIL import Image

    from photosearch.explain import explain, query_vector

    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8))
    ex = explain(tiny, query_vector(tiny, "a dog"), img, grid=4)
    assert ex.concepts == [] and np.array(ex.heatmap).shape == (4, 4)
    assert np.isfinite(ex.heatmap).all()
