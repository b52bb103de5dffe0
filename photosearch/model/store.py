"""The model store: built-in models, downloaded ones and fine-tunes, by name, plus the active choice.

Every model in the store is a checkpoint folder (see :mod:`photosearch.model.checkpoint`) under
``AppPaths.models``. Built-ins are materialised there on first use: ``starter`` from the packaged weights
(offline), hub models by downloading through transformers/timm (online, or from their local cache).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from photosearch.errors import ModelError
from photosearch.model.catalog import CatalogEntry, catalog_entry, load_catalog
from photosearch.model.config import ModelConfig
from photosearch.model.ref import ModelRef
from photosearch.paths import AppPaths

DEFAULT_MODEL = "starter"
STARTER_BUILD = 2  # bump when starter.py changes what it builds: stored copies are rebuilt
# What a model folder that cannot load raises: ours, or the builder's on a config it cannot build.
_LOAD_ERRORS = (ModelError, RuntimeError, TypeError, ValueError, KeyError, AttributeError)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


# Name -> catalog entry (photosearch/model/catalog.json), in listing order.
BUILTINS: dict[str, CatalogEntry] = load_catalog()


def builtin_config(name: str) -> ModelConfig:
    """The config a built-in model is first built from (``starter`` is built by starter.py instead)."""
    return catalog_entry(name).model_config()


def _in_hf_cache(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # noqa: BLE001 - a broken cache just means "not offline-ready"
        return False


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@dataclass
class ModelInfo:
    """One row of the model list: a catalog entry or an installed model, with its on-disk state."""

    name: str
    family: str
    embed_dim: int
    offline_ready: bool  # usable without the network (installed, packaged, or in the HF cache)
    active: bool
    installed: bool  # a checkpoint folder exists in the store
    description: str
    path: str | None
    downloaded: bool = False  # same as offline_ready: what the Settings page and --json call it
    size_bytes: int = 0  # on disk when installed, else the catalog's download size
    size_estimate: bool = False
    searchable: bool = True
    source: str = ""
    languages: tuple[str, ...] = ()
    image_size: int = 0
    cpu: str = ""
    quality: str = ""
    quality_source: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["languages"] = list(self.languages)
        return d


@dataclass
class ActiveLoad:
    """What :meth:`ModelStore.load_active` loaded: the model, its name, and why it is not the active one
    (``fallback_reason``; None when the active model loaded)."""

    model: object
    name: str
    fallback_reason: str | None = None


class ModelStore:
    def __init__(self, paths: AppPaths):
        self.paths = paths
        self.root = paths.models

    # -- names and listing ----------------------------------------------------------------------
    def folder(self, name: str) -> Path:
        if not _NAME_RE.match(name):
            raise ModelError(f"invalid model name {name!r}: use letters, digits, '.', '_' or '-'")
        return self.root / name

    def installed(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "config.json").is_file()
                      and not p.name.startswith("."))

    def list(self) -> list[ModelInfo]:
        from photosearch.model.checkpoint import read_config

        active = self.active()
        out = []
        names = list(BUILTINS) + [n for n in self.installed() if n not in BUILTINS]
        for name in names:
            folder = self.root / name
            have = (folder / "config.json").is_file()
            if name in BUILTINS:
                b = BUILTINS[name]
                offline = self._offline_ready(name)
                out.append(ModelInfo(name, b.family, b.embed_dim, offline, name == active, have, b.description,
                                     str(folder) if have else None, downloaded=offline,
                                     size_bytes=_folder_bytes(folder) if have else b.download_bytes,
                                     size_estimate=not have and b.download_estimate, searchable=b.searchable,
                                     source=b.source, languages=b.languages, image_size=b.image_size, cpu=b.cpu,
                                     quality=b.quality, quality_source=b.quality_source))
            else:
                try:
                    cfg = read_config(folder)
                except ModelError:
                    continue
                out.append(ModelInfo(name, cfg.family, cfg.embed_dim, True, name == active, True,
                                     cfg.description, str(folder), downloaded=True, size_bytes=_folder_bytes(folder),
                                     source=cfg.base or cfg.hf_clip_name or "", image_size=cfg.preprocess.input_size))
        return out

    # -- active model ---------------------------------------------------------------------------
    @property
    def _active_file(self) -> Path:
        return self.root / "active.json"

    def active(self) -> str:
        """The user's choice, kept even while its folder is missing (a drive not mounted, a folder moved
        back later): :meth:`load_active` then falls back for that run only and says why."""
        name = self._active_state().get("active")
        return name if isinstance(name, str) and _NAME_RE.match(name) else DEFAULT_MODEL

    def set_active(self, name: str) -> None:
        """Make ``name`` the active model. A built-in that is not on disk is refused until downloaded."""
        if name not in BUILTINS and name not in self.installed():
            raise ModelError(f"unknown model {name!r}; see `photosearch models`")
        if name in BUILTINS and not self._offline_ready(name):
            hint = (f"run `photosearch models --download {name}`" if BUILTINS[name].hub_repo
                    else "load it once while online")
            raise ModelError(f"{name} is not downloaded yet: {hint}, then choose it")
        self._write_active(name, self._active_state().get("last_good"))

    def _offline_ready(self, name: str) -> bool:
        b = BUILTINS[name]
        return ((self.root / name / "config.json").is_file() or b.builder == "starter"
                or all(_in_hf_cache(h) for h in b.hub_ids))

    def _active_state(self) -> dict:
        try:
            state = json.loads(self._active_file.read_text())
            return state if isinstance(state, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_active(self, name: str, last_good: str | None) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self._active_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"active": name, "last_good": last_good}))
        os.replace(tmp, self._active_file)

    def load_active(self, device: str = "auto", progress: Callable[[str], None] | None = None) -> ActiveLoad:
        """Load the active model; if it fails, the last model that loaded (then ``starter``), with the reason.
        The GUI and the CLI show ``fallback_reason`` and keep searching with what loaded."""
        name = self.active()
        try:
            if name not in BUILTINS and name not in self.installed():
                raise ModelError(f"its folder {self.root / name} is missing")
            model = self.load(name, device=device, progress=progress)
        except _LOAD_ERRORS as e:
            reason = f"{name} could not be loaded ({e})"
            for other in dict.fromkeys([self._active_state().get("last_good"), DEFAULT_MODEL]):
                if not other or other == name or (other not in BUILTINS and other not in self.installed()):
                    continue
                try:
                    return ActiveLoad(self.load(other, device=device, progress=progress), other,
                                      f"{reason}; using {other}")
                except _LOAD_ERRORS:
                    continue
            raise
        if self._active_state().get("last_good") != name:
            self._write_active(name, name)
        return ActiveLoad(model, name)

    # -- loading --------------------------------------------------------------------------------
    def ref(self, text: str) -> ModelRef:
        """What a person typed (``--model``, a setting) as a :class:`ModelRef`: a store name or a folder."""
        return ModelRef.parse(text, set(BUILTINS) | set(self.installed()))

    def ensure(self, name: str, progress: Callable[[str], None] | None = None) -> Path:
        """The folder of the store model ``name``, ready to load: a built-in is materialised on first use
        (``starter`` from the packaged weights; a stale starter build is retired first, see below)."""
        folder = self.folder(name)
        if name == "starter" and self._stale_starter(folder):
            self._retire(folder)
            self._materialise(name, progress)
        elif not (folder / "config.json").is_file():
            if name not in BUILTINS:
                raise ModelError(f"unknown model {name!r}; see `photosearch models`")
            self._materialise(name, progress)
        return folder

    def load(self, ref: ModelRef | str | None = None, device: str = "auto",
             progress: Callable[[str], None] | None = None):
        """Load a :class:`ModelRef` (a string is read by :meth:`ref`; None: the active model): a store model
        after :meth:`ensure`, or a checkpoint folder as it is."""
        from photosearch.device import resolve_device
        from photosearch.model.checkpoint import load_checkpoint

        _quiet_transformers()
        dev = resolve_device(device)
        ref = ref if isinstance(ref, ModelRef) else self.ref(ref or self.active())
        if ref.folder is not None:
            return load_checkpoint(ref.folder, dev)
        folder = self.ensure(ref.name, progress)
        try:
            return load_checkpoint(folder, dev)
        except ModelError as e:
            if ref.name != "starter":
                raise
            # Packaged, so it can always be made again offline: a damaged copy heals itself.
            if progress:
                progress(f"the starter model's files were damaged ({e}); building it again")
            self._materialise(ref.name, progress)
            return load_checkpoint(folder, dev)

    def _stale_starter(self, folder: Path) -> bool:
        try:
            return json.loads((folder / "training.json").read_text()).get("starter_build") != STARTER_BUILD
        except (OSError, ValueError):
            return True

    # -- retired builds ---------------------------------------------------------------------------
    # A new starter build has new weights, so libraries hold vectors of the old one. The old build is kept
    # under .retired/ (loadable by model id) so search can go on using those vectors until the new ones are
    # complete (library/transition.py), then it is removed.
    @property
    def _retired_root(self) -> Path:
        return self.root / ".retired"

    def _retire(self, folder: Path) -> None:
        from photosearch.model.checkpoint import read_config

        try:
            model_id = read_config(folder).model_id
        except ModelError:
            return  # nothing loadable to keep: it is rebuilt over
        dest = self._retired_root / re.sub(r"[^A-Za-z0-9._-]", "-", model_id)
        import shutil

        self._retired_root.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest, ignore_errors=True)
        os.replace(folder, dest)

    def retired(self) -> dict[str, Path]:
        """Model id -> folder of each retired build."""
        from photosearch.model.checkpoint import read_config

        out = {}
        if self._retired_root.is_dir():
            for f in sorted(self._retired_root.iterdir()):
                try:
                    out[read_config(f).model_id] = f
                except ModelError:
                    continue
        return out

    def forget_retired(self, model_id: str) -> bool:
        """Delete a retired build (its vectors are no longer needed); False if there is none."""
        import shutil

        folder = self.retired().get(model_id)
        if folder is None:
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True

    def model_folders(self) -> dict[str, Path]:
        """Model id -> folder of every model on disk that can be loaded by id: installed ones and retired
        builds (a library's vectors name their model by id)."""
        from photosearch.model.checkpoint import read_config

        out = dict(self.retired())
        for name in self.installed():
            try:
                out[read_config(self.root / name).model_id] = self.root / name
            except ModelError:
                continue
        return out

    def _materialise(self, name: str, progress: Callable[[str], None] | None) -> None:
        from photosearch.model.checkpoint import save_checkpoint
        from photosearch.model.factory import build_model

        if catalog_entry(name).builder == "starter":
            from photosearch.model.starter import build_starter

            model, record = build_starter(progress=progress), {"starter_build": STARTER_BUILD}
        else:
            if progress:
                progress(f"downloading {name} (first use)")
            model, record = build_model(builtin_config(name), load_pretrained=True), {"source": "hub"}
        save_checkpoint(model, self.folder(name), record=record)

    def save(self, model, name: str, record: dict | None = None) -> Path:
        from photosearch.model.checkpoint import save_checkpoint

        if name in BUILTINS:
            raise ModelError(f"{name!r} is a built-in model's name; choose another")
        model.config.name = name
        return save_checkpoint(model, self.folder(name), record=record)

    def delete(self, name: str) -> None:
        import shutil

        if name not in self.installed():
            raise ModelError(f"no installed model named {name!r}")
        shutil.rmtree(self.folder(name))
        state = self._active_state()
        if name in (state.get("active"), state.get("last_good")):  # deleted on purpose: the choice goes too
            active = DEFAULT_MODEL if state.get("active") == name else state.get("active")
            self._write_active(active, None if state.get("last_good") == name else state.get("last_good"))


def _quiet_transformers() -> None:
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_warning()
    except ImportError:
        return
    from photosearch.logs import adopt_library_loggers

    adopt_library_loggers()  # its warnings go to the log file, not the terminal
