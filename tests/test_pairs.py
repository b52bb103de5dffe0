"""One shot, several files (library/pairs.py): a RAW beside its JPEG or HEIC, and a Live Photo's short video beside
its still, are one result listing every file, embedded once (the still), and come apart again when a file is
moved, renamed or deleted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rawhelpers import write_dng
from videohelpers import write_slideshow

from helpers import cli_env
from photosearch.library import Library, pairs
from photosearch.library.query import Query


@pytest.fixture(scope="module")
def shots() -> list[np.ndarray]:
    from skimage import data

    return [data.astronaut()[:, 56:456], data.coffee()[:, 100:500], data.chelsea()]


def _jpeg(path: Path, rgb: np.ndarray, date: str | None = None) -> Path:
    exif = Image.Exif()
    if date:
        exif.get_ifd(0x8769)[0x9003] = date  # DateTimeOriginal
    Image.fromarray(rgb).save(path, quality=85, exif=exif)
    return path


def _heic(path: Path, rgb: np.ndarray) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    Image.fromarray(rgb).save(path, quality=80)
    return path


def _embedded(lib) -> list[str]:
    return sorted(Path(r[0]).name for r in lib.conn.execute(
        "SELECT p.path FROM photos p JOIN embeddings e ON e.photo_id = p.id"))


def _all(lib, model) -> list:
    return lib.search(model, Query.of(top_k=50))  # browsing: every result, newest first


def test_names_pair_by_folder_and_stem_case_insensitively():
    found = pairs.by_name(["/a/IMG_1.CR2", "/a/img_1.jpg", "/a/img_1.heic", "/a/IMG_1.MOV", "/b/IMG_1.NEF",
                           "/a/IMG_2.CR2", "/a/IMG_3.jpg", "/a/IMG_3.mp4", "/a/other.mov"])
    # The JPEG is the shot's still (cheaper to decode than the HEIC, which stays a photo of its own); an MP4 beside a
    # JPEG is a video of its own (Live Photos are MOVs).
    assert found == {"/a/IMG_1.CR2": ("/a/img_1.jpg", "raw"), "/a/IMG_1.MOV": ("/a/img_1.jpg", "live")}
    assert pairs.label("/a/x.jpg", ["/a/x.cr2"], {"/a/x.cr2": "raw"}) == "RAW + JPEG"
    assert pairs.label("/a/x.heic", ["/a/x.mov"], {"/a/x.mov": "live"}) == "HEIC + Live video"
    assert pairs.label("/a/x.jpg", ["/b/x.jpg", "/c/x.jpg"], {}) == "3 copies"
    assert pairs.label("/a/x.jpg", [], {}) is None


def test_raw_and_jpeg_are_one_result_embedded_once(tmp_path, tiny, shots):
    pics = tmp_path / "pics"
    pics.mkdir()
    write_dng(pics / "IMG_0001.DNG", shots[0], date="2024:05:01 10:00:00")
    _jpeg(pics / "img_0001.jpg", shots[0], date="2024:05:01 10:00:01")
    # Same name, shot a day apart: not one shot (a reused file number), both are results.
    write_dng(pics / "IMG_0002.DNG", shots[1], date="2024:05:02 10:00:00")
    _jpeg(pics / "IMG_0002.JPG", shots[1], date="2024:05:03 10:00:00")
    with Library.open(tmp_path / "lib.db") as lib:
        rep = lib.run_index(tiny, [pics])
        assert rep.indexed == 3 and rep.skipped == []
        assert _embedded(lib) == ["IMG_0002.DNG", "IMG_0002.JPG", "img_0001.jpg"]  # the RAW is not decoded
        hits = {Path(h.path).name: h for h in _all(lib, tiny)}
        assert sorted(hits) == ["IMG_0002.DNG", "IMG_0002.JPG", "img_0001.jpg"]
        pair = hits["img_0001.jpg"]
        assert pair.copies == [str(pics / "IMG_0001.DNG")] and pair.files == "RAW + JPEG"
        assert hits["IMG_0002.DNG"].files is None
        # A typed search folds them the same way.
        hit = lib.search(tiny, Query.of("a woman", top_k=10))
        assert [h.files for h in hit if h.path.endswith("img_0001.jpg")] == ["RAW + JPEG"]
        assert lib.run_index(tiny).indexed == 0  # a rescan changes nothing


def test_the_raw_filter_finds_raw_jpeg_shots_and_follows_the_pair(tmp_path, tiny, shots):
    """``--type raw`` (and "raw" typed, and the RAW facet) means shots taken in RAW: a stand-alone RAW and a
    RAW+JPEG pair (its JPEG is what is indexed), not a plain JPEG; a type names the RAW's own kind (nef)."""
    pics = tmp_path / "pics"
    pics.mkdir()
    write_dng(pics / "alone.dng", shots[0])
    write_dng(pics / "DSC_1.NEF", shots[1])
    _jpeg(pics / "DSC_1.JPG", shots[1])
    _jpeg(pics / "plain.jpg", shots[2])
    with Library.open(tmp_path / "lib.db") as lib:
        lib.run_index(tiny, [pics])

        def names(**kw) -> list[str]:
            return sorted(Path(h.path).name for h in lib.search(tiny, Query.of(top_k=50, **kw)))

        assert names(types=("raw",)) == ["DSC_1.JPG", "alone.dng"]
        assert names(types=("raw",), after="1990-01-01", include_undated=True) == ["DSC_1.JPG", "alone.dng"]
        assert names(types=("nef",)) == ["DSC_1.JPG"] and names(types=("dng",)) == ["alone.dng"]
        assert names(types=("jpg",)) == ["DSC_1.JPG", "plain.jpg"]
        assert lib.facets(tiny)["raw"] == 2
        os.rename(pics / "DSC_1.NEF", pics / "elsewhere.nef")  # the pair comes apart: the RAW is its own result
        lib.run_index(tiny)
        assert names(types=("raw",)) == ["alone.dng", "elsewhere.nef"] and lib.facets(tiny)["raw"] == 2
        assert names(types=("jpg",)) == ["DSC_1.JPG", "plain.jpg"]


def test_the_raw_filter_follows_pairs_made_unmade_and_remade_while_the_photos_stay(tmp_path, tiny, shots):
    """Pairs change while no photo does (a RAW written beside a JPEG, deleted, or renamed from one JPEG's name to
    another's): the RAW filter and the facet count follow, though the photos' rows, ids and vectors stay."""
    pics = tmp_path / "pics"
    pics.mkdir()
    _jpeg(pics / "DSC_2.JPG", shots[1])
    write_dng(pics / "DSC_2.NEF", shots[1])
    _jpeg(pics / "plain.jpg", shots[2])
    with Library.open(tmp_path / "lib.db") as lib:
        lib.run_index(tiny, [pics])

        def raw() -> dict[str, list[str]]:
            return {Path(h.path).name: [Path(c).name for c in h.copies]
                    for h in lib.search(tiny, Query.of(types=("raw",), top_k=10))}

        assert raw() == {"DSC_2.JPG": ["DSC_2.NEF"]} and lib.facets(tiny)["raw"] == 1
        os.rename(pics / "DSC_2.NEF", pics / "plain.nef")  # now the other JPEG's RAW, in one run
        lib.run_index(tiny)
        assert _embedded(lib) == ["DSC_2.JPG", "plain.jpg"]
        assert raw() == {"plain.jpg": ["plain.nef"]} and lib.facets(tiny)["raw"] == 1
        write_dng(pics / "DSC_2.dng", shots[1])  # a pair made
        lib.run_index(tiny)
        assert raw() == {"DSC_2.JPG": ["DSC_2.dng"], "plain.jpg": ["plain.nef"]} and lib.facets(tiny)["raw"] == 2
        (pics / "plain.nef").unlink()  # and one unmade
        lib.run_index(tiny)
        assert raw() == {"DSC_2.JPG": ["DSC_2.dng"]} and lib.facets(tiny)["raw"] == 1
        words, flt, _ = lib.read_search("kind:raw")  # the facet's chip in the search line: the same filter
        assert flt.types == ("raw",) and lib.facets(tiny, flt)["total"] == 1


def test_pair_comes_apart_and_together_with_moves_renames_and_deletions(tmp_path, tiny, shots):
    pics = tmp_path / "pics"
    pics.mkdir()
    write_dng(pics / "DSC_7.NEF", shots[0])  # a RAW alone first: indexed itself
    with Library.open(tmp_path / "lib.db") as lib:
        assert lib.run_index(tiny, [pics]).indexed == 1 and _embedded(lib) == ["DSC_7.NEF"]
        _jpeg(pics / "DSC_7.JPG", shots[0])  # its JPEG arrives (a second import): one result now
        lib.run_index(tiny)
        assert _embedded(lib) == ["DSC_7.JPG"]
        assert [(h.path, h.copies) for h in _all(lib, tiny)] == [(str(pics / "DSC_7.JPG"), [str(pics / "DSC_7.NEF")])]
        # Both renamed together: still one shot, the JPEG's vector kept (found by content).
        os.rename(pics / "DSC_7.JPG", pics / "holiday.jpg")
        os.rename(pics / "DSC_7.NEF", pics / "holiday.nef")
        rep = lib.run_index(tiny)
        assert rep.moved == 1 and rep.indexed == 0
        assert [h.copies for h in _all(lib, tiny)] == [[str(pics / "holiday.nef")]]
        # Both moved to another folder of the library.
        sub = pics / "2024"
        sub.mkdir()
        for name in ("holiday.jpg", "holiday.nef"):
            shutil.move(pics / name, sub / name)
        lib.run_index(tiny)
        assert [(h.path, h.copies) for h in _all(lib, tiny)] == [(str(sub / "holiday.jpg"), [str(sub / "holiday.nef")])]
        # The JPEG deleted: the RAW stands alone, decoded and embedded itself.
        (sub / "holiday.jpg").unlink()
        rep = lib.run_index(tiny)
        assert rep.indexed == 1 and _embedded(lib) == ["holiday.nef"]
        hits = _all(lib, tiny)
        assert [(h.path, h.copies, h.files) for h in hits] == [(str(sub / "holiday.nef"), [], None)]
        # Only the RAW renamed away from its JPEG: two results.
        _jpeg(sub / "holiday.jpg", shots[0])
        lib.run_index(tiny)
        assert _embedded(lib) == ["holiday.jpg"]
        os.rename(sub / "holiday.nef", sub / "other.nef")
        lib.run_index(tiny)
        assert _embedded(lib) == ["holiday.jpg", "other.nef"]
        assert all(h.copies == [] for h in _all(lib, tiny))
        # The RAW deleted: nothing left of it.
        (sub / "other.nef").unlink()
        lib.run_index(tiny)
        assert lib.conn.execute("SELECT count(*) FROM companions").fetchone()[0] == 0
        # Removing the folder forgets its pairs.
        write_dng(sub / "holiday.nef", shots[0])
        lib.run_index(tiny)
        assert lib.conn.execute("SELECT count(*) FROM companions").fetchone()[0] == 1
        lib.remove_folder(pics)
        assert lib.conn.execute("SELECT count(*) FROM companions").fetchone()[0] == 0


def test_a_damaged_jpeg_leaves_its_raw_standing_alone(tmp_path, tiny, shots):
    pics = tmp_path / "pics"
    pics.mkdir()
    write_dng(pics / "IMG_5.DNG", shots[0])
    (pics / "IMG_5.JPG").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with Library.open(tmp_path / "lib.db") as lib:
        lib.run_index(tiny, [pics])
        lib.run_index(tiny)  # the JPEG is a known bad file now: the RAW is the shot's photo
        assert _embedded(lib) == ["IMG_5.DNG"]
        assert [Path(s["path"]).name for s in lib.skipped()] == ["IMG_5.JPG"]


def test_live_photo_is_its_still_with_a_live_video(tmp_path, tiny, shots):
    pics = tmp_path / "pics"
    pics.mkdir()
    _heic(pics / "IMG_4001.HEIC", shots[2])
    write_slideshow(pics / "IMG_4001.MOV", [shots[2]], seconds_each=2.0)
    _heic(pics / "IMG_4002.HEIC", shots[1])
    write_slideshow(pics / "IMG_4002.MOV", shots, seconds_each=3.0)  # 9 s: a video of its own, not a Live Photo
    with Library.open(tmp_path / "lib.db") as lib:
        rep = lib.run_index(tiny, [pics])
        assert rep.skipped == [] and _embedded(lib) == ["IMG_4001.HEIC", "IMG_4002.HEIC", "IMG_4002.MOV"]
        assert lib.conn.execute("SELECT count(*) FROM video_frames f JOIN photos p ON p.id = f.photo_id "
                                "WHERE p.path LIKE '%4001.MOV'").fetchone()[0] == 0
        hits = {Path(h.path).name: h for h in _all(lib, tiny)}
        assert hits["IMG_4001.HEIC"].copies == [str(pics / "IMG_4001.MOV")]
        assert hits["IMG_4001.HEIC"].files == "HEIC + Live video"
        assert hits["IMG_4002.MOV"].copies == [] and hits["IMG_4002.HEIC"].copies == []
        assert len(lib.search(tiny, Query.of("a cat", types=["video"], top_k=10))) == 1  # only the long one


def test_cli_search_json_lists_both_files(tmp_path, home, tiny, shots):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = str(save_checkpoint(tiny, tmp_path / "tiny-ckpt"))
    pics = tmp_path / "pics"
    pics.mkdir()
    write_dng(pics / "IMG_9.CR2.dng", shots[0])  # not the same stem: alone
    write_dng(pics / "IMG_9.DNG", shots[0])
    _jpeg(pics / "IMG_9.JPG", shots[0])
    db = str(tmp_path / "lib.db")

    def cli(*args):
        r = subprocess.run([sys.executable, "-m", "photosearch", "--library", db, *args, "--model", model_dir],
                           env=cli_env(home), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return r.stdout

    cli("index", str(pics), "--no-text")
    rows = {Path(r["path"]).name: r for r in json.loads(cli("search", "a woman", "--json"))}
    assert sorted(rows) == ["IMG_9.CR2.dng", "IMG_9.JPG"]
    assert rows["IMG_9.JPG"]["copies"] == [str(pics / "IMG_9.DNG")] and rows["IMG_9.JPG"]["files"] == "RAW + JPEG"
    assert f"{pics / 'IMG_9.JPG'}  (RAW + JPEG)" in cli("search", "a woman")
    # --type raw: the RAW that stands alone and the shot whose RAW is its JPEG's companion
    assert sorted(Path(r["path"]).name for r in json.loads(cli("search", "--type", "raw", "--json"))) == [
        "IMG_9.CR2.dng", "IMG_9.JPG"]


def test_the_watcher_pairs_a_jpeg_written_beside_its_raw_and_frees_the_raw_when_it_goes(tmp_path, tiny, shots):
    from watchhelpers import Watcher, paths_in

    pics = tmp_path / "pics"
    pics.mkdir()
    write_dng(pics / "IMG_7.DNG", shots[0])
    lib_path = tmp_path / "lib.db"
    with Library.open(lib_path) as lib:
        lib.add_folder(pics)
    w = Watcher(lib_path, tiny, None)
    try:
        assert w.next("batch").report.indexed == 1  # the catch-up run: the RAW alone
        _jpeg(pics / "IMG_7.JPG", shots[0])
        w.next("batch", lambda e: str(pics / "IMG_7.JPG") in paths_in(lib_path))
        assert paths_in(lib_path) == {str(pics / "IMG_7.JPG")}  # one photo: the RAW is its companion
        (pics / "IMG_7.JPG").unlink()
        ev = w.next("batch", lambda e: e.report.indexed >= 1)
        assert paths_in(lib_path) == {str(pics / "IMG_7.DNG")} and ev.report.removed == 1
    finally:
        w.stop()
