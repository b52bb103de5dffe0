"""The catalog of built-in models, as data: ``catalog.json`` beside this module (shipped as package data),
as open_clip keeps its model configs in JSON. Each entry says what a model is (family, vector size, where it
comes from) and how to build it: a :class:`ModelConfig` (``config``) or a named Python builder (``starter``).

Light: imports no torch, so listing models stays fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from photosearch.errors import ModelError
from photosearch.model.config import ModelConfig

CATALOG_FILE = "catalog.json"
BUILDERS = ("config", "starter")  # "starter": built by photosearch.model.starter from packaged weights


@dataclass(frozen=True)
class CatalogEntry:
    """One built-in model: what it is, and how to build it the first time it is used."""

    name: str
    family: str
    embed_dim: int
    description: str
    hub_ids: tuple[str, ...] = ()  # what must be in the HF cache for it to load offline
    searchable: bool = True  # False: random projection heads, a starting point for fine-tuning only
    builder: str = "config"
    config: dict[str, Any] = field(default_factory=dict)  # ModelConfig fields beyond the ones above
    # What the Settings page and `photosearch models` show (catalog.json's "notes" say how they were found):
    source: str = ""  # hub id, or where the weights come from
    download_bytes: int = 0
    download_estimate: bool = False  # download_bytes is an estimate, not the hub's listing
    languages: tuple[str, ...] = ("en",)
    image_size: int = 224
    cpu: str = ""  # expected CPU cost
    quality: str = ""
    quality_source: str = ""
    imagenet_zero_shot: float = 0.0  # published ImageNet zero-shot top-1 (%); 0: unknown (never suggested)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CatalogEntry":
        try:
            entry = cls(name=d["name"], family=d["family"], embed_dim=int(d["embed_dim"]),
                        description=d.get("description", ""), hub_ids=tuple(d.get("hub_ids", ())),
                        searchable=bool(d.get("searchable", True)), builder=d.get("builder", "config"),
                        config=dict(d.get("config", {})), source=d.get("source", ""),
                        download_bytes=int(d.get("download_bytes", 0)),
                        download_estimate=bool(d.get("download_estimate", False)),
                        languages=tuple(d.get("languages", ("en",))), image_size=int(d.get("image_size", 224)),
                        cpu=d.get("cpu", ""), quality=d.get("quality", ""),
                        quality_source=d.get("quality_source", ""),
                        imagenet_zero_shot=float(d.get("imagenet_zero_shot", 0.0)))
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"bad catalog entry {d.get('name', '?')!r}: {e}") from e
        if entry.builder not in BUILDERS:
            raise ModelError(f"catalog entry {entry.name!r}: unknown builder {entry.builder!r}")
        return entry

    @property
    def hub_repo(self) -> str | None:
        """The hub repo downloaded as one model (transformers families), else None."""
        return self.config.get("hf_clip_name") if self.builder == "config" else None

    def model_config(self) -> ModelConfig:
        """The :class:`ModelConfig` to build this model from (``builder == "config"`` entries)."""
        if self.builder != "config":
            raise ModelError(f"{self.name!r} is built by photosearch.model.{self.builder}, not from a config")
        return ModelConfig.from_dict({**self.config, "name": self.name, "family": self.family,
                                      "embed_dim": self.embed_dim, "description": self.description})


@lru_cache(maxsize=1)
def load_catalog() -> dict[str, CatalogEntry]:
    """Name -> entry, in the catalog's order (the order models are listed in)."""
    text = resources.files("photosearch.model").joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    entries = [CatalogEntry.from_dict(d) for d in json.loads(text)["models"]]
    return {e.name: e for e in entries}


def catalog_entry(name: str) -> CatalogEntry:
    try:
        return load_catalog()[name]
    except KeyError:
        raise ModelError(f"no built-in model named {name!r}") from None
