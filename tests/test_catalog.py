"""The built-in model catalog is data (photosearch/model/catalog.json) and every entry in it is usable."""

from dataclasses import asdict

import pytest

from photosearch.errors import ModelError
from photosearch.model.catalog import CatalogEntry, catalog_entry, load_catalog
from photosearch.model.config import FAMILY_DUAL, FAMILY_HF_CLIP


def test_every_entry_builds_a_config_that_agrees_with_the_entry():
    catalog = load_catalog()
    assert list(catalog)[0] == "starter" and {"clip-vit-b32", "tutorial"} <= set(catalog)
    for entry in catalog.values():
        assert entry.family in (FAMILY_DUAL, FAMILY_HF_CLIP) and entry.embed_dim > 0 and entry.description
        if entry.builder == "config":
            cfg = entry.model_config()
            assert (cfg.name, cfg.family, cfg.embed_dim) == (entry.name, entry.family, entry.embed_dim)
    assert catalog_entry("tutorial").model_config().text.hf_name == "distilbert-base-uncased"
    assert not catalog_entry("tutorial").searchable


def test_starter_is_built_by_python_and_takes_its_identity_from_the_catalog():
    from photosearch.model.starter import starter_config

    entry = catalog_entry("starter")
    with pytest.raises(ModelError, match="built by"):
        entry.model_config()
    cfg = starter_config()
    assert (cfg.name, cfg.family, cfg.embed_dim, cfg.description) == (entry.name, entry.family, entry.embed_dim,
                                                                       entry.description)


def test_bad_entries_are_refused_with_a_clear_error():
    with pytest.raises(ModelError, match="unknown builder"):
        CatalogEntry.from_dict({"name": "x", "family": "dual", "embed_dim": 8, "builder": "magic"})
    with pytest.raises(ModelError, match="bad catalog entry 'y'"):
        CatalogEntry.from_dict({"name": "y", "family": "dual"})
    with pytest.raises(ModelError, match="no built-in model"):
        catalog_entry("nope")


def test_what_users_read_about_a_model_cites_no_developer_file():
    """Issue 20.11: a model's description in Settings cited ``benchmarks/starter_quality.py``."""
    import re

    from photosearch.gui.models.modelpage import model_details

    dev = re.compile(r"[\w/.-]+\.(py|md|json)\b|\b(docs|benchmarks|tests|photosearch)/|\bissue #\d+", re.I)
    for entry in load_catalog().values():
        shown = model_details({**asdict(entry), "offline_ready": True})
        assert entry.quality and not dev.search(shown), (entry.name, shown)
