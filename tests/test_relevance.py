"""The per-query relevance cut, feedback, explanations and browsing (core; CLI in test_relevance_cli.py)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace

import numpy as np
import pytest

from libhelpers import write_jpeg
from photosearch.library import Library, feedback, relevance
from photosearch.library.relevance import Calibration, Rule
from photosearch.library.query import Query, Filters


# -- each photo judged against the prompt bank ------------------------------------------------------------
def _unit(x):
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _bank_and_photos(seed=0, dim=32):
    rng = np.random.default_rng(seed)
    prompts = _unit(rng.normal(size=(300, dim)) + 0.8)  # descriptions share a common direction, as real ones do
    bank = relevance.Bank.of_vectors(prompts, "test")
    q = prompts[7]
    match = _unit(q + 0.25 * _unit(rng.normal(size=dim)))  # a photo the query describes well
    hub = _unit(prompts.mean(0))  # a featureless photo: every description half-fits it
    return bank, prompts, q, match, hub


def test_bank_moments_are_each_photos_mean_and_spread_over_the_prompts():
    bank, prompts, q, match, hub = _bank_and_photos()
    sims = prompts @ np.stack([match, hub]).T
    st = bank.photo_stats(np.stack([match, hub]))
    assert np.allclose(st[:, 0], sims.mean(0), atol=1e-5) and np.allclose(st[:, 1], sims.std(0), atol=1e-4)


def test_a_hub_that_half_fits_every_description_is_not_a_good_match():
    bank, prompts, q, match, hub = _bank_and_photos()
    V = np.stack([match, hub])
    cos = V @ q
    sc = relevance.scores(cos, bank.photo_stats(V), relevance.Rule(t=3.0))
    assert cos[1] > 0.4  # the hub scores as high as real matches do by cosine alone...
    assert sc[0] >= relevance.GOOD > sc[1]  # ...but the query is not among its best descriptions


def test_shown_score_is_one_half_at_the_threshold_and_rises_with_standing():
    rule = relevance.Rule(t=4.0, slope=2.0)
    s = relevance.shown(np.array([-10.0, 3.9, 4.0, 4.1, 9.0, 1e6]), rule)
    assert s[2] == pytest.approx(relevance.GOOD) and np.all(np.diff(s) >= 0) and 0.0 <= s.min() and s.max() <= 1.0
    assert relevance.is_good(s).tolist() == [False, False, True, True, True, True]


def test_a_photo_is_judged_the_same_whatever_else_is_in_the_library():
    """The score of a photo comes from the photo and the query alone: adding 200 look-alikes of one topic or
    200 hubs around it changes nothing for it."""
    bank, prompts, q, match, hub = _bank_and_photos()
    rng = np.random.default_rng(3)
    alone = np.stack([match, hub])
    crowd = np.concatenate([alone, _unit(match + 0.1 * rng.normal(size=(200, 32))), np.repeat(hub[None], 200, 0)])
    rule = relevance.Rule(t=3.0)
    a = relevance.scores(alone @ q, bank.photo_stats(alone), rule)
    b = relevance.scores(crowd @ q, bank.photo_stats(crowd), rule)[:2]
    assert np.allclose(a, b, atol=1e-6) and relevance.is_good(a).tolist() == relevance.is_good(b).tolist() == [True,
                                                                                                          False]


def test_text_evidence_and_visual_evidence_make_one_score():
    w = relevance.with_text
    assert w(None) >= relevance.GOOD  # a photo whose text holds the words is a good match by that alone
    assert w(0.05) >= relevance.GOOD and w(0.05) < w(0.9)  # a page mentioning coins < a photo clearly of coins
    assert w(0.7) > 0.7 and w(0.3) > w(0.2)  # both together beat either, and the order of the visual is kept
    assert w(0.3, strength=0.5) < w(0.3, strength=1.0)  # a partial text match counts for less
    assert np.allclose(w(np.array([0.1, 0.8])), [w(0.1), w(0.8)])


# -- calibration files -------------------------------------------------------------------------------------
def test_calibration_beside_the_model_is_used_and_a_broken_one_is_ignored(tmp_path, tiny):
    from photosearch.model.checkpoint import load_checkpoint, save_checkpoint

    folder = save_checkpoint(tiny, tmp_path / "m")
    m = load_checkpoint(folder)
    assert relevance.load_calibration(m).source == "default"
    cal = Calibration(rules={"text": Rule(t=7.5), "image": Rule(), "mixed": Rule()},
                      model=m.config.model_id, source="test")
    relevance.save_calibration(folder, cal)
    m2 = load_checkpoint(folder)
    assert relevance.load_calibration(m2).rule("text").t == 7.5
    (folder / relevance.CALIBRATION_FILE).write_text("{not json")
    m3 = load_checkpoint(folder)
    assert relevance.load_calibration(m3).source == "default"
    (folder / relevance.CALIBRATION_FILE).write_text(json.dumps({"version": 99}))
    assert relevance.load_calibration(load_checkpoint(folder)).source == "default"
    (folder / relevance.CALIBRATION_FILE).write_text(json.dumps({"version": 1, "rules": {"text": {"gate_z": 4}}}))
    assert relevance.load_calibration(load_checkpoint(folder)).source == "default"  # judged against the library


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
def test_feedback_moves_only_look_alikes_of_the_marked_photos_in_any_order():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 1, 60).astype(np.float32)  # the typed query's standings
    like_a = rng.normal(0, 2, 60).astype(np.float32)  # standings with photo A as the example
    like_b = rng.normal(0, 2, 60).astype(np.float32)
    like_a[[3, 4]] = [12.0, 9.0]  # 3 and 4 look like A (3 more so)
    t = 6.0
    more = feedback.adjust(z, [like_a], [], t)
    moved = np.flatnonzero(more != z)
    assert moved.tolist() == np.flatnonzero(like_a > t).tolist()  # only look-alikes of A move
    assert more[3] - z[3] > more[4] - z[4] > 0  # the more alike, the more they rise
    less = feedback.adjust(z, [], [like_a], t)
    assert less[3] < less[4] < z[4] and np.array_equal(less[z != less], less[like_a > t])
    # Marks add up in any order; with no words the + photos are the query; a − alone needs words.
    assert np.array_equal(feedback.adjust(z, [like_a, like_b], [], t), feedback.adjust(z, [like_b, like_a], [], t))
    assert np.array_equal(feedback.adjust(None, [like_a], [], t), like_a)
    with pytest.raises(ValueError):
        feedback.adjust(None, [], [like_a], t)


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


def test_a_photos_score_alone_is_the_score_its_hit_shows(lib, tiny):
    """Issue 20.9: explain said 0.690 where search said 0.695; ``score_of`` is the search's own scoring."""
    L, a, b = lib
    for query in (Query.of("photo"), Query.of("photo + red - blue"), Query.of(like=a / "p05.jpg"),
                  Query.of("photo", more=[str(a / "p07.jpg")])):
        hits = L.search(tiny, replace(query, top_k=50, group_copies=False))
        assert len(hits) >= 14
        for h in hits:
            assert L.score_of(tiny, query, h.path) == h.score, (query, h.path)
    assert L.score_of(tiny, Query.of("photo"), a / ".." / "a" / "p01.jpg") is not None  # as typed, not as stored
    assert L.score_of(tiny, Query.of("photo"), a / "not-there.jpg") is None
    assert L.score_of(tiny, Query.of(None), a / "p01.jpg") is None  # nothing to rank by


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


@pytest.fixture(scope="module")
def real_lib(tmp_path_factory, starter_model, photo_dir):
    L = Library.open(tmp_path_factory.mktemp("real") / "lib.db")
    L.run_index(starter_model, [photo_dir])
    yield L
    L.close()


def _judged(L, model, text, **kw):
    return {h.path: (h.relevant, h.score) for h in L.search(model, Query.of(text, top_k=1000, group_copies=False, **kw))}


def _near_duplicates(src: list, dest, n: int, seed: int = 0) -> None:
    """``n`` small near-duplicates of the photos ``src``: random crops, mirrored or not, colour and light
    changed, as burst shots and edits of one subject are."""
    from PIL import Image, ImageEnhance, ImageOps

    rng = np.random.default_rng(seed)
    dest.mkdir()
    bases = [Image.open(p).convert("RGB") for p in src]
    for k in range(n):
        im = bases[k % len(bases)]
        w, h = im.size
        f = rng.uniform(0.6, 0.95)
        x, y = int(rng.integers(0, int(w * (1 - f)) + 1)), int(rng.integers(0, int(h * (1 - f)) + 1))
        im = im.crop((x, y, x + int(w * f), y + int(h * f))).resize((160, 120))
        im = ImageOps.mirror(im) if k % 2 else im
        im = ImageEnhance.Brightness(ImageEnhance.Color(im).enhance(rng.uniform(0.7, 1.3))).enhance(rng.uniform(0.8, 1.2))
        im.save(dest / f"dup{k:03d}.jpg", quality=85)


@pytest.mark.slow
def test_a_photo_and_query_are_judged_the_same_with_200_more_photos_of_one_topic(tmp_path, starter_model,
                                                                                    photo_dir, real_lib):
    """Issue 20.1: whether a photo is a good match depends on the photo and the query, never on what else is
    in the library (in a library of hundreds of flowers, "a flower" still marks the flowers)."""
    queries = ("a flower", "a cat", "an astronaut", "old coins", "a cup of coffee", "a horse")
    before = {q: _judged(real_lib, starter_model, q) for q in queries}
    # With Debian's mate-backgrounds there is a flower the starter marks good in the mixed library; that case is
    # the ("a flower" in a library of flowers). Without it the independence below is still checked.
    mate_flower = (photo_dir / "mate-YellowFlower.jpg").is_file()
    if mate_flower:
        assert any(before["a flower"][str(photo_dir / n)][0] for n in ("flower.jpg", "mate-YellowFlower.jpg")
                   if str(photo_dir / n) in before["a flower"])
    flowers = [p for p in (photo_dir / "flower.jpg", photo_dir / "mate-YellowFlower.jpg", photo_dir / "mate-Garden.jpg")
               if p.is_file()]
    L = Library.open(tmp_path / "lib.db")
    L.run_index(starter_model, [photo_dir])
    _near_duplicates(flowers, tmp_path / "dups", 200)
    L.run_index(starter_model, [tmp_path / "dups"])
    for q in queries:
        after = _judged(L, starter_model, q)
        assert len(after) == len(before[q]) + 200
        for path, (good, score) in before[q].items():
            assert after[path][0] == good and after[path][1] == pytest.approx(score, abs=1e-5), (q, path)
    dups = _judged(L, starter_model, "a flower")
    if mate_flower:
        assert sum(good for p, (good, _) in dups.items() if "dup" in p) >= 20  # the flowers are still good matches
    L.close()


@pytest.mark.slow
def test_feedback_is_predictable_and_plus_on_a_flower_lifts_the_other_flowers(starter_model, photo_dir, real_lib):
    """Issue 20.10: a + adds look-alikes of the marked photo, a − takes its look-alikes down; taking a mark away
    gives back exactly the search without it."""
    if not (photo_dir / "mate-YellowFlower.jpg").is_file():
        pytest.skip("needs Debian's mate-backgrounds")
    L, q = real_lib, "a flower"
    yellow, leaf = str(photo_dir / "mate-YellowFlower.jpg"), str(photo_dir / "mate-RainDrops.jpg")
    plain = _judged(L, starter_model, q)
    plus = _judged(L, starter_model, q, more=[yellow])
    both = _judged(L, starter_model, q, more=[yellow], less=[leaf])
    # The − chip taken away: the same hits, order, scores and flags as before it was added; both: as before any.
    assert list(_judged(L, starter_model, q, more=[yellow]).items()) == list(plus.items())
    assert list(_judged(L, starter_model, q).items()) == list(plain.items())
    assert leaf not in both
    # A + never takes a good match away, a − never adds one.
    assert {p for p, (g, _) in plain.items() if g} <= {p for p, (g, _) in plus.items() if g}
    assert {p for p, (g, _) in both.items() if g} <= {p for p, (g, _) in plus.items() if g}
    # The other flowers rise (issue: the red flower ranked below leaf photos): the red-orange marigold and the
    # pink flower gain and rank above the leaf; photos unlike the yellow flower keep their scores.
    order = list(plus)
    for name in ("mate-Garden.jpg", "flower.jpg"):
        p = str(photo_dir / name)
        assert plus[p][1] > plain[p][1] and order.index(p) < order.index(leaf), name
    assert all(plus[p][1] >= plain[p][1] for p in plain)
    assert plus[leaf] == plain[leaf] and plus[str(photo_dir / "coins.jpg")] == plain[str(photo_dir / "coins.jpg")]


@pytest.mark.slow
def test_a_page_that_mentions_coffee_does_not_outrank_a_photo_of_coffee(tmp_path, starter_model, photo_dir,
                                                                         ocr_engine):
    """Issue 20.2: words in a photo and what it shows make one score that orders the list and decides the good
    matches: the page is a good match by its words, the photo of coffee a better one by its look. (The issue's
    own case, skimage's coins, is not seen as coins by the starter at all: see docs/relevance.md.)"""
    import shutil

    from texthelpers import card, photograph

    pics = tmp_path / "pics"
    pics.mkdir()
    for name in ("coffee.jpg", "chelsea.jpg", "coins.jpg", "rocket.jpg", "brick.jpg"):
        shutil.copy(photo_dir / name, pics / name)
    page = card(["A short history", "of coffee and", "the people who", "traded it"], size=40)
    photograph(page, seed=3, out_size=(800, 600)).save(pics / "page.jpg", quality=85)
    with Library.open(tmp_path / "lib.db") as L:
        list(L.index(starter_model, [pics], text=True, ocr=ocr_engine))
        hits = L.search(starter_model, Query.of("coffee", top_k=10))
        alone = [L.score_of(starter_model, Query.of("coffee"), h.path) for h in hits]
    assert alone == [h.score for h in hits]  # explain's score: with the words read in the page, as search
    names = [os.path.basename(h.path) for h in hits]
    assert names[:2] == ["coffee.jpg", "page.jpg"]
    page_hit = hits[1]
    assert page_hit.text_match and page_hit.relevant and hits[0].relevant and not hits[0].text_match
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)  # the shown scores fall down the list...
    flags = [h.relevant for h in hits]
    assert flags == sorted(flags, reverse=True)  # ...and the good matches are its top


@pytest.mark.slow
def test_rocket_heat_map_peaks_on_the_rocket_not_the_sky(starter_model):
    import skimage.data
    from PIL import Image

    from photosearch.explain import MIN_CONCEPT, explain, query_vector

    img = Image.fromarray(skimage.data.rocket())  # 640x427: the rocket stands at x ~ 300-340, y ~ 125-410
    ex = explain(starter_model, query_vector(starter_model, "a rocket"), img, with_heatmap=True)
    hm = np.array(ex.heatmap)
    assert hm.shape == (6, 6)
    r, c = np.unravel_index(hm.argmax(), hm.shape)
    assert c in (2, 3) and 1 <= r <= 4  # the columns holding the rocket (cells are 107 x 71 px)
    sky = hm[0:2, [0, 5]].mean()  # the top corners: sky and the far towers
    assert hm[r, c] > sky + 0.05
    labels = [c["label"] for c in ex.concepts]
    assert {"missile", "projectile", "space shuttle"} & set(labels[:3])
    assert ex.concepts == sorted(ex.concepts, key=lambda d: -d["weight"])
    assert all(c["weight"] >= MIN_CONCEPT for c in ex.concepts)  # no "plastic bag (0%)"
    assert 0.5 <= ex.score <= 1  # the 0-1 score search shows: a good match


def test_models_without_a_classifier_have_no_concepts(tiny):
    from PIL import Image

    from photosearch.explain import explain, query_vector

    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8))
    assert explain(tiny, query_vector(tiny, "a dog"), img).heatmap == []  # only when asked: ~40 crops
    ex = explain(tiny, query_vector(tiny, "a dog"), img, with_heatmap=True, grid=4)
    assert ex.concepts == [] and np.array(ex.heatmap).shape == (4, 4)
    assert np.isfinite(ex.heatmap).all()
