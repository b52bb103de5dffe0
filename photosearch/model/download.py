"""Downloading a transformers dual encoder from the Hugging Face hub into the model store.

:func:`download_model` is a core generator: it yields :class:`DownloadEvent` progress and checks a cancel
event between chunks, so the CLI (a tqdm bar) and the GUI (a Task) drive the same code. It lists the repo's
files with their sizes and hashes (huggingface_hub's model info), checks the free disk space before
starting, streams each file into a staging folder through photosearch/download.py (resuming a partial file
with an HTTP range, never past the size the hub declared, within free disk space, stopping a stalled
transfer), verifies it (LFS sha256, or the git blob id), then builds the model from the staged files and
saves it as an ordinary checkpoint. A cancelled download keeps its partial files; the next call resumes.
Offline it fails within seconds with one line. A hub's listing is not trusted: names that could not be
stored, and configuration or tokenizer files declared larger than ``SMALL_FILE_CAP``, are refused before
a byte is downloaded.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from photosearch.errors import Cancelled, DownloadError, ModelError

CHUNK = 1 << 20
CONNECT_TIMEOUT_S = 8.0
SMALL_FILE_CAP = 64 * 1024**2  # configs, tokenizers, vocabularies: the largest real ones are ~20 MB
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
# Repo files a transformers dual encoder needs: configs, tokenizer and processor files, the weights.
_WANTED_SUFFIXES = (".json", ".txt", ".model", ".safetensors", ".tiktoken")
_SKIP_NAMES = {"README.md", ".gitattributes"}


@dataclass
class DownloadEvent:
    """One step of a download. ``phase``: plan, download, verify, install, done or cancelled."""

    name: str
    phase: str
    done_bytes: int = 0
    total_bytes: int = 0
    file: str = ""
    message: str = ""


@dataclass(frozen=True)
class HubFile:
    path: str
    size: int
    sha256: str | None = None  # LFS files
    blob_id: str | None = None  # git blob sha1 (small files)


def resolve_source(name: str) -> tuple[str, str]:
    """(store name, hub repo id) for a catalog name or a hub id such as ``google/siglip-base-patch16-224``."""
    from photosearch.model.catalog import load_catalog

    catalog = load_catalog()
    if name in catalog:
        entry = catalog[name]
        if not entry.hub_repo:
            raise ModelError(f"{name!r} is not downloaded from the hub as one model "
                             f"({'it is packaged' if entry.builder == 'starter' else 'it is built on first use'})")
        return name, entry.hub_repo
    if name.count("/") == 1 and all(name.split("/")):
        return name.replace("/", "--"), name
    raise ModelError(f"unknown model {name!r}: use a name from `photosearch models` or a hub id (org/name)")


def _endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def plan_files(repo_id: str) -> tuple[str, list[HubFile]]:
    """(commit, files to fetch) from the hub's model info: top-level configs, tokenizer files and the
    safetensors weights (pickled .bin weights only when a repo has no safetensors)."""
    from huggingface_hub import HfApi

    if _offline():
        raise DownloadError("cannot download while offline (HF_HUB_OFFLINE is set)")
    try:
        info = HfApi(endpoint=_endpoint()).model_info(repo_id, files_metadata=True, timeout=CONNECT_TIMEOUT_S)
    except Exception as e:  # noqa: BLE001 - network, DNS, HTTP and hub errors all mean "cannot fetch"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if "404" in first or "not found" in first.lower():
            raise DownloadError(f"{repo_id} was not found on the model hub") from None
        raise DownloadError(f"cannot reach the model hub at {_endpoint()} (offline?): {first[:160]}") from None
    files = []
    for s in info.siblings or []:
        p = s.rfilename
        if "/" in p or p in _SKIP_NAMES or not p.endswith(_WANTED_SUFFIXES):
            continue
        files.append(HubFile(p, int(s.size or (s.lfs.size if s.lfs else 0)),
                             s.lfs.sha256 if s.lfs else None, s.blob_id if not s.lfs else None))
    if not any(f.path.endswith(".safetensors") for f in files):
        files += [HubFile(s.rfilename, int(s.size or 0), s.lfs.sha256 if s.lfs else None, None)
                  for s in info.siblings or [] if s.rfilename == "pytorch_model.bin"]
    if not any(f.path == "config.json" for f in files):
        raise DownloadError(f"{repo_id} is not a transformers model (no config.json)")
    _check_listing(repo_id, files)
    from photosearch.model.hf_clip import sentencepiece_missing

    problem = sentencepiece_missing([f.path for f in files], repo_id)
    if problem:  # said before a byte is downloaded, not after
        raise DownloadError(problem)
    return info.sha or "main", files


def _check_listing(repo_id: str, files: list[HubFile]) -> None:
    """Refuse what the hub lists but no honest repo holds: names a disk cannot store, small files declared
    huge (a config.json of gigabytes would only fill the disk)."""
    from photosearch.download import check_name
    from photosearch.humanize import format_size

    for f in files:
        check_name(f.path)
        if not f.path.endswith(_WEIGHT_SUFFIXES) and f.size > SMALL_FILE_CAP:
            raise DownloadError(f"{repo_id}/{f.path} is declared as {format_size(f.size)}; a configuration or "
                                f"tokenizer file is never that large, refused")


def _verified(path: Path, f: HubFile) -> bool:
    if not path.is_file() or path.stat().st_size != f.size:
        return False
    if f.sha256:
        from photosearch.fsutil import file_sha256

        return file_sha256(path) == f.sha256
    if f.blob_id:
        from photosearch.download import git_blob_id

        return git_blob_id(path) == f.blob_id
    return True


def _staged_bytes(staging: Path, f: HubFile) -> int:
    if (staging / f.path).is_file():
        return f.size
    part = staging / (f.path + ".incomplete")
    return part.stat().st_size if part.is_file() else 0


def _free_bytes(path: Path) -> int:
    from photosearch.download import free_bytes

    return free_bytes(path)


def download_model(store, name: str, cancel: threading.Event | None = None) -> Iterator[DownloadEvent]:
    """Fetch ``name`` (catalog name or hub id) into ``store``; see the module doc."""
    store_name, repo_id = resolve_source(name)
    store.folder(store_name)  # refuses a name the store cannot hold, before asking the hub
    yield DownloadEvent(store_name, "plan", message=f"asking the model hub about {repo_id}")
    commit, files = plan_files(repo_id)
    total = sum(f.size for f in files)
    staging = store.paths.downloads / store_name
    staging.mkdir(parents=True, exist_ok=True)
    have = sum(_staged_bytes(staging, f) for f in files)
    # The staged files, then the saved checkpoint (about the weights' size again), with 5 % to spare.
    need = int((total - have + total) * 1.05)
    free = _free_bytes(store.root)
    if free < need:
        from photosearch.humanize import format_size

        raise DownloadError(f"not enough disk space for {store_name}: needs {format_size(need)}, "
                            f"{format_size(free)} free")
    done = 0
    for f in files:
        dest = staging / f.path
        if not _verified(dest, f):
            got = 0
            try:
                for got, _ in _fetch(repo_id, commit, f, dest, cancel):
                    yield DownloadEvent(store_name, "download", done + got, total, f.path)
            except Cancelled:
                yield DownloadEvent(store_name, "cancelled", done + got, total, f.path,
                                    "cancelled; the next download resumes where this one stopped")
                return
            yield DownloadEvent(store_name, "verify", done + f.size, total, f.path)
        done += f.size
        yield DownloadEvent(store_name, "download", done, total, f.path)
    yield DownloadEvent(store_name, "install", total, total, message="building the model from the files")
    _install(store, store_name, repo_id, commit, staging)
    shutil.rmtree(staging, ignore_errors=True)
    yield DownloadEvent(store_name, "done", total, total, message=f"{store_name} is ready")


def _fetch(repo_id: str, commit: str, f: HubFile, dest: Path, cancel):
    """Stream one hub file into ``dest`` (photosearch/download.py), at most its declared size."""
    from huggingface_hub import hf_hub_url

    from photosearch.download import git_blob_id, stream

    url = hf_hub_url(repo_id, f.path, revision=commit, endpoint=_endpoint())
    check = (lambda p: git_blob_id(p) == f.blob_id) if f.blob_id else None
    try:
        yield from stream(url, dest, part=dest.with_name(dest.name + ".incomplete"), size=f.size,
                          sha256=f.sha256, check=check, cancel=cancel, chunk=CHUNK)
    except DownloadError as e:
        raise DownloadError(f"{repo_id}: {e}") from None


def _install(store, store_name: str, repo_id: str, commit: str, staging: Path) -> None:
    from photosearch.model.catalog import load_catalog
    from photosearch.model.checkpoint import save_checkpoint
    from photosearch.model.config import FAMILY_HF_CLIP, ModelConfig
    from photosearch.model.factory import build_model

    entry = load_catalog().get(store_name)
    config = ModelConfig(name=store_name, family=FAMILY_HF_CLIP, hf_clip_name=str(staging),
                         description=entry.description if entry else f"{repo_id} from the Hugging Face hub")
    try:
        model = build_model(config, load_pretrained=True)
    except Exception as e:
        if not _refused_pickle(e):
            raise
        raise DownloadError(f"{repo_id}: its pytorch_model.bin holds more than plain tensors (it could run code "
                            f"when loaded), so it was refused; use a repo with .safetensors weights") from None
    model.config.hf_clip_name = repo_id  # the checkpoint loads from its own hf/ folder; this names the source
    save_checkpoint(model, store.folder(store_name), record={"source": "hub", "repo": repo_id, "revision": commit})


def _refused_pickle(e: BaseException) -> bool:
    """torch.load(weights_only=True) refused a pickle, possibly as the cause of another exception."""
    import pickle

    while e is not None:
        if isinstance(e, pickle.UnpicklingError) or "Weights only load failed" in str(e):
            return True
        e = e.__cause__ or e.__context__
    return False
