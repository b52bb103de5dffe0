"""The first-run model suggestion (issue #13): the choice from catalog fields for explicit machine facts, and
the bounded hub reachability probe against a server on 127.0.0.1 and an address where nothing listens."""

import time

import pytest

from hubserver import HubServer
from photosearch.model.catalog import CatalogEntry, load_catalog
from photosearch.model.recommend import GiB, Machine, cost_tier, hub_reachable, probe_url, recommend, this_machine

LAPTOP = Machine(cpu_cores=4, ram_bytes=8 * GiB)
WORKSTATION = Machine(cpu_cores=16, ram_bytes=32 * GiB)


@pytest.mark.parametrize("machine, expected", [
    (Machine(cpu_cores=2, ram_bytes=8 * GiB), "clip-vit-b32"),  # a small CPU: the fast ViT-B/32
    (LAPTOP, "clip-vit-b32"),
    (Machine(cpu_cores=8, ram_bytes=8 * GiB), "clip-vit-b32"),  # cores without the RAM
    (Machine(cpu_cores=16, ram_bytes=12 * GiB), "clip-vit-b32"),
    (WORKSTATION, "siglip2-b16-224"),  # >= 8 cores and >= 16 GiB: the best base model
    (Machine(cpu_cores=2, ram_bytes=8 * GiB, gpu=True), "siglip2-b16-224"),  # a GPU
])
def test_the_suggestion_fits_the_machine(machine, expected):
    assert recommend(machine).name == expected


def test_too_little_memory_keeps_the_starter():
    assert recommend(Machine(cpu_cores=8, ram_bytes=3 * GiB)) is None


def test_the_choice_follows_the_catalog_fields():
    cat = load_catalog()
    # never the starter, a slow model, one that cannot be searched, or one without a published number
    assert cost_tier(cat["clip-vit-l14"]) == "slow" and cost_tier(cat["clip-vit-b32"]) == "fast"
    only_clip = {k: v for k, v in cat.items() if not k.startswith("siglip")}
    assert recommend(WORKSTATION, only_clip).name == "clip-vit-b16"
    better = CatalogEntry.from_dict({"name": "new-fast", "family": "hf_clip", "embed_dim": 8,
                                     "config": {"hf_clip_name": "org/new"}, "cpu": "fast: tiny",
                                     "imagenet_zero_shot": 70.0, "download_bytes": 1})
    assert recommend(LAPTOP, {**cat, "new-fast": better}).name == "new-fast"
    assert recommend(LAPTOP, {"starter": cat["starter"], "tutorial": cat["tutorial"]}) is None


def test_this_machine_reports_real_facts():
    m = this_machine()
    assert m.cpu_cores >= 1 and m.ram_bytes > GiB and isinstance(m.gpu, bool)


def test_the_probe_answers_quickly_both_ways(monkeypatch):
    with HubServer({}) as hub:
        assert hub_reachable(hub.url)
        assert any(r.startswith("HEAD") for r in hub.requests)
    t = time.monotonic()
    assert not hub_reachable("http://127.0.0.1:9", timeout=3.0)  # nothing listens there
    assert time.monotonic() - t < 3.5


def test_the_probe_url_follows_the_hub_and_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1234/")
    monkeypatch.delenv("PHOTOSEARCH_HUB_PROBE", raising=False)
    assert probe_url() == "http://127.0.0.1:1234"
    monkeypatch.setenv("PHOTOSEARCH_HUB_PROBE", "http://127.0.0.1:9")
    assert probe_url() == "http://127.0.0.1:9"
    monkeypatch.setenv("PHOTOSEARCH_HUB_PROBE", "off")
    assert probe_url() is None and not hub_reachable()
    monkeypatch.delenv("PHOTOSEARCH_HUB_PROBE")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert probe_url() is None
