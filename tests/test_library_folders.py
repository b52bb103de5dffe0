"""Library.photo_folders: the folders a folder filter can offer (library folders and sub-folders with photos)."""

from __future__ import annotations

import os

from libhelpers import write_jpeg

from photosearch.library import Library


def test_photo_folders_lists_sub_folders_with_photos_and_those_between(tmp_path, tiny):
    root = tmp_path / "pics"
    for i, sub in enumerate(("a/b/c", "a/b/c", "d", "")):
        (root / sub).mkdir(parents=True, exist_ok=True)
        write_jpeg(root / sub / f"p{i}.jpg", seed=i)
    (root / "empty").mkdir()
    other = tmp_path / "other"  # a library folder with no photos yet
    other.mkdir()
    with Library.open(tmp_path / "lib.db") as lib:
        assert lib.photo_folders() == []
        lib.add_folder(root)
        lib.add_folder(other)
        for _ in lib.index(tiny, batch_size=4):
            pass
        r, o = str(root.resolve()), str(other.resolve())
        join = os.path.join
        assert lib.photo_folders() == sorted([r, join(r, "a"), join(r, "a", "b"), join(r, "a", "b", "c"),
                                              join(r, "d"), o])
        lib.remove_folder(root)
        assert lib.photo_folders() == [o]
