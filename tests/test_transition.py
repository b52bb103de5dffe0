"""Upgrading the starter (issue #11 §3) and changing models: search keeps using the vectors a library has until
the new model's are complete, then the superseded build's vectors and files are dropped. Real store, real
library, the real starter build, the command line in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading

from helpers import cli_env, real_photos, tiny_model

from photosearch.library import Library, transition
from photosearch.library.transition import serving_model_id
from photosearch.library.query import Query


def test_serving_model_is_the_loadable_one_with_more_vectors():
    counts = {"new@1": 3, "old@1": 10, "gone@1": 50}
    assert serving_model_id(counts, "new@1", {"new@1", "old@1"}) == "old@1"  # gone@1 cannot be loaded
    assert serving_model_id(counts, "new@1", {"new@1"}) is None
    assert serving_model_id({"new@1": 10, "old@1": 10}, "new@1", {"old@1"}) is None  # caught up
    assert serving_model_id({}, "new@1", {"old@1"}) is None  # an empty library


def _cli(home, *args):
    return subprocess.run([sys.executable, "-m", "photosearch", *map(str, args)], env=cli_env(home),
                          capture_output=True, text=True, timeout=300)


def test_a_library_of_the_old_starter_is_searched_until_the_new_build_has_indexed_it(tmp_path, home):
    from photosearch.model.checkpoint import save_checkpoint
    from photosearch.model.store import STARTER_BUILD, ModelStore
    from photosearch.paths import app_paths

    paths = app_paths().ensure()
    store = ModelStore(paths)
    # What the previous release left: its starter build in the store and a library indexed with it.
    old = tiny_model(tmp_path / "old", name="starter")
    save_checkpoint(old, store.folder("starter"), record={"starter_build": STARTER_BUILD - 1})
    old_id = old.config.model_id
    folder = tmp_path / "photos"
    folder.mkdir()
    for p, _caption in real_photos(tmp_path / "all", include_mate=False)[:6]:  # chelsea (a cat) among them
        shutil.copy(p, folder / p.name)
    n = 6
    with Library.open(paths.library_db) as lib:
        assert lib.run_index(old, [folder]).indexed == n

    new = store.load("starter", device="cpu")  # first start after the upgrade: the new build is made
    new_id = new.config.model_id
    assert new_id != old_id and set(store.retired()) == {old_id}

    with Library.open(paths.library_db) as lib:
        serving = transition.load_serving(lib, store, new, "cpu")
        assert serving.config.model_id == old_id
        assert len(lib.search(serving, Query.of("a cat", top_k=100))) == n  # the old vectors still find every photo
        # A re-index that is cancelled after its first batch: the old build and its vectors stay.
        cancel = threading.Event()
        for ev in lib.index(new, batch_size=2, workers=1, cancel=cancel):
            if lib.models().get(new_id):
                cancel.set()
        assert 0 < lib.models()[new_id] < n
        assert transition.finish(lib, store, new_id) == {} and old_id in store.retired()
        assert transition.load_serving(lib, store, new, "cpu").config.model_id == old_id

    r = _cli(home, "search", "a cat")  # the command line searches the same way, and says so
    assert r.returncode == 0, r.stderr
    assert f"searching with the vectors of {old_id}" in r.stderr and len(r.stdout.splitlines()) >= 5

    r = _cli(home, "index", "--json", "--no-text")  # finishing the re-index drops the superseded build
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["dropped_models"] == {old_id: n}
    assert store.retired() == {}
    with Library.open(paths.library_db) as lib:
        assert lib.models() == {new_id: n}
        assert transition.load_serving(lib, store, new, "cpu") is None
        assert lib.search(new, Query.of("a cat", top_k=1))[0].path.endswith("chelsea.jpg")
