"""Named things beyond faces: a few photos of a real cat (scikit-image's chelsea, varied as other photos of
her) named "Rex" find the other photos of her among real photos of other things, alone or with words."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from facehelpers import astronaut, hopper, variant
from helpers import cli_env
from PIL import Image

from photosearch.library import Library
from photosearch.library import things as th
from photosearch.library.query import Query
from photosearch.library.search import QueryError


def _photos(d: Path) -> None:
    import skimage.data
    import sklearn.datasets

    d.mkdir(parents=True, exist_ok=True)
    cat = Image.fromarray(skimage.data.chelsea())
    for s in range(4):
        variant(cat, 600 + s).save(d / f"rex{s}.jpg", quality=90)
    for name in ("coffee", "rocket", "astronaut"):
        Image.fromarray(getattr(skimage.data, name)()).save(d / f"{name}.jpg", quality=90)
    hopper().save(d / "hopper.jpg", quality=90)
    sk = Path(sklearn.datasets.__file__).parent / "images"
    for name in ("china", "flower"):
        Image.open(sk / f"{name}.jpg").save(d / f"{name}.jpg", quality=90)
    astronaut().transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(d / "astronaut2.jpg", quality=90)


def test_a_named_thing_finds_its_other_photos_alone_and_with_words(tmp_path, starter_model):
    model = starter_model
    _photos(tmp_path / "pics")
    pics = tmp_path / "pics"
    with Library.open(tmp_path / "lib.db") as lib:
        lib.run_index(model, [str(pics)])
        th.name_thing(lib.conn, "Rex", [pics / "rex0.jpg", str(pics / "rex1.jpg")])
        assert th.known_thing_names(lib.conn) == ["Rex"]
        hits = [Path(h.path).stem for h in lib.search(model, Query(things=("rex",), top_k=10))]
        assert hits[:4] == ["rex0", "rex1", "rex2", "rex3"] or set(hits[:4]) == {"rex0", "rex1", "rex2", "rex3"}
        with_words = [Path(h.path).stem for h in lib.search(model, Query("a photo", things=("Rex",), top_k=4))]
        assert set(with_words) == {"rex0", "rex1", "rex2", "rex3"}
        th.name_thing(lib.conn, "rex", [pics / "rex2.jpg"])  # the same name (any case) adds photos
        assert th.list_things(lib.conn) == [{"id": 1, "name": "Rex", "photos": 3}]
        with pytest.raises(QueryError, match="no named thing 'Tom'"):
            lib.search(model, Query("a cat", things=("Tom",)))
        with pytest.raises(th.ThingError, match="not a library photo"):
            th.name_thing(lib.conn, "Tom", [tmp_path / "elsewhere.jpg"])
        (pics / "rex0.jpg").unlink()  # a photo removed from the library leaves the set
        lib.run_index(model)
        assert th.list_things(lib.conn)[0]["photos"] == 2
        th.forget_thing(lib.conn, "REX")
        assert th.list_things(lib.conn) == []


def test_cli_things_and_search_thing(tmp_path, home, tiny):
    from photosearch.model.checkpoint import save_checkpoint

    model_dir = save_checkpoint(tiny, tmp_path / "tiny-ckpt")
    _photos(tmp_path / "pics")
    base = [sys.executable, "-m", "photosearch", "--library", str(tmp_path / "lib.db")]

    def run(*args):
        return subprocess.run([*base, *map(str, args)], env=cli_env(home), capture_output=True, text=True,
                              timeout=600)

    assert run("index", tmp_path / "pics", "--model", model_dir, "--no-text").returncode == 0
    r = run("things", "name", "Rex", tmp_path / "pics" / "rex0.jpg", tmp_path / "pics" / "rex1.jpg", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == [{"id": 1, "name": "Rex", "photos": 2}]
    r = run("search", "--thing", "Rex", "--model", model_dir, "--json", "--top", "2")
    # (a tiny random model: only that the cat's photos come first, not in which order)
    assert r.returncode == 0 and all(Path(h["path"]).stem.startswith("rex") for h in json.loads(r.stdout))
    r = run("search", "--thing", "Tom", "--model", model_dir)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "no named thing 'Tom'" in r.stderr
    r = run("things", "name", "Tom")
    assert r.returncode == 2
