"""Which hits are good matches: each photo judged on its own, against a fixed bank of descriptions.

Whether a photo matches must not depend on what else is in the library: "a flower" must mark the flower
photos good in a library of 30 mixed photos and in one of 300 flowers, and a library of blank frames must
not make anything else look good. So each photo is asked a question about itself: *is the query among the
best descriptions of this photo?*

- Every photo ``p`` is compared with a fixed bank of ~1,100 generic descriptions (``calibrations/
  prompt_bank.json``: everyday subjects and scenes, featureless images, the ImageNet class names). Its
  similarities to them have a mean ``mu_p`` and a spread ``sd_p``.
- The query's standing on the photo is ``z = (cos(q, p) - shift * mu_p) / sd_p``: how many of the photo's own
  spreads the query scores above (a share of) a typical description of it. A photo that scores high against
  everything (a featureless image every description half-fits, a hub) has a high ``mu_p`` and gains little.
- The shown score is ``sigmoid(slope * (z - t))`` in (0, 1), 0.5 exactly at the model's calibrated threshold
  ``t``; a photo is a good match when its score is >= 0.5 (:data:`GOOD`). Results are ordered by that score,
  so the good matches are the top of the list and the scores fall monotonically down it.

``mu_p = p . mean(bank)`` and ``sd_p**2 = p' C p`` (``C``: the bank's covariance), so the bank costs two small
products per photo, computed once per photo and kept beside the vectors (search.VectorIndex.derived).

``t``, ``slope`` and ``shift`` are a per-model *calibration* per query kind (text, example image, mixed) measured on the
evaluation set's tuning half (``benchmarks/bench_relevance.py --calibrate MODEL``), stored beside the model's
``config.json`` as ``calibration.json`` (packaged for the built-in starter: ``calibrations/starter.json``).
Absent, a default (``t = 3`` spreads) is used. Rule, calibration and measured rates: docs/relevance.md.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
CALIBRATION_VERSION = 2  # 2: per-photo standing against the prompt bank (1: library score distribution)
BANK_FILE = Path(__file__).with_name("calibrations") / "prompt_bank.json"
BANK_CACHE = "relevance_bank.npz"  # the bank's mean and covariance for one model, beside its config
KINDS = ("text", "image", "mixed")
GOOD = 0.5  # shown scores at or above this are good matches (the calibrated threshold maps here)
SAME_PHOTO = 0.9995  # cosine of a photo with itself (float16 storage): an example image's own photo scores 1


@dataclass
class Rule:
    """The threshold of one query kind, in the photo's own bank spreads."""

    t: float = 3.0  # a good match scores at least this many spreads above the photo's typical description
    slope: float = 1.5  # steepness of the shown score around t (display only: the order and the cut follow z)
    shift: float = 1.0  # share of the photo's mean similarity to the bank taken off its cosine (0: none)

    @classmethod
    def from_dict(cls, d: dict) -> "Rule":
        known = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in d.items() if k in known})


CutRule = Rule  # the name older code and calibration files used

DEFAULT_RULES = {"text": Rule(), "image": Rule(t=8.0), "mixed": Rule()}


@dataclass
class Calibration:
    rules: dict[str, Rule] = field(default_factory=lambda: {k: Rule(**asdict(v)) for k, v in DEFAULT_RULES.items()})
    model: str = ""  # the model id it was measured for
    build: int = 0  # built-in starter: the STARTER_BUILD it was measured on (its weights are rebuilt locally)
    source: str = "default"  # "default" or what it was measured on
    measured: dict = field(default_factory=dict)  # the figures measured with it (for the record)

    def rule(self, kind: str) -> Rule:
        return self.rules.get(kind) or self.rules.get("text") or Rule()

    def to_dict(self) -> dict:
        return {"version": CALIBRATION_VERSION, "model": self.model, "build": self.build, "source": self.source,
                "rules": {k: asdict(v) for k, v in self.rules.items()}, "measured": self.measured}

    @classmethod
    def from_dict(cls, d: dict) -> "Calibration":
        v = int(d.get("version", 0))
        if v > CALIBRATION_VERSION:
            raise ValueError(f"calibration version {v} is newer than this app's")
        if v < CALIBRATION_VERSION:
            raise ValueError(f"calibration version {v} judged photos against the library; re-calibrate")
        cal = cls(model=str(d.get("model", "")), build=int(d.get("build") or 0), source=str(d.get("source", "")),
                  measured=d.get("measured") or {})
        for k, r in (d.get("rules") or {}).items():
            if k in KINDS and isinstance(r, dict):
                cal.rules[k] = Rule.from_dict(r)
        return cal


def save_calibration(folder: str | os.PathLike, cal: Calibration, name: str = CALIBRATION_FILE) -> Path:
    path = Path(folder) / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cal.to_dict(), indent=2))
    os.replace(tmp, path)
    return path


def load_calibration(model) -> Calibration:
    """The model's calibration: ``calibration.json`` beside its config, else the packaged one for a
    built-in of the same build, else the default. Never raises: a broken or outdated file logs and falls
    back."""
    cached = getattr(model, "_relevance_calibration", None)
    if cached is not None:
        return cached
    cal = None
    folder = getattr(model, "checkpoint_folder", None)
    candidates = [Path(folder) / CALIBRATION_FILE] if folder else []
    candidates.append(Path(__file__).with_name("calibrations") / f"{model.config.name}.json")
    for path in candidates:
        if not path.is_file():
            continue
        try:
            c = Calibration.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError, AttributeError) as e:
            log.warning("ignoring calibration %s: %s", path, e)
            continue
        if path.parent.name == "calibrations" and not _fits_builtin(c, model):
            log.info("packaged calibration %s does not fit %s", path, model.config.model_id)
            continue
        cal = c
        break
    cal = cal or Calibration(model=model.config.model_id)
    try:
        model._relevance_calibration = cal
    except AttributeError:
        pass
    return cal


def _fits_builtin(cal: Calibration, model) -> bool:
    """A packaged calibration fits the same weights, or the built-in starter of the same build (its weights
    are built on each machine, so their fingerprint may differ in the last bits)."""
    if cal.model == model.config.model_id:
        return True
    from photosearch.model.store import STARTER_BUILD

    return model.config.name == "starter" and cal.build == STARTER_BUILD


def forget_calibration(model) -> None:
    model.__dict__.pop("_relevance_calibration", None)
    model.__dict__.pop("_relevance_bank", None)


# -- the bank ------------------------------------------------------------------------------------------------
def bank_prompts() -> list[str]:
    return list(json.loads(BANK_FILE.read_text())["prompts"])


@dataclass
class Bank:
    """The prompt bank's moments in one model's space: ``mu_p = p . mean``, ``sd_p**2 = |p @ root|**2``."""

    mean: np.ndarray  # (D,) mean of the bank's unit text vectors
    root: np.ndarray  # (D, r) with root @ root.T = the bank's covariance (r: its rank)
    key: str  # names the moments (model and bank), for caches of per-photo figures

    @classmethod
    def of_vectors(cls, vecs: np.ndarray, key: str) -> "Bank":
        v = np.asarray(vecs, np.float64)
        mean = v.mean(0)
        w, u = np.linalg.eigh(np.cov(v - mean, rowvar=False, bias=True))
        keep = w > 1e-9 * max(float(w.max()), 1e-30)  # B prompts span at most B - 1 directions: a narrower root
        return cls(mean.astype(np.float32), (u[:, keep] * np.sqrt(w[keep])).astype(np.float32), key)

    def photo_stats(self, vecs: np.ndarray) -> np.ndarray:
        """(N, 2) float32: each photo's mean similarity to the bank and its spread."""
        vecs = np.asarray(vecs, np.float32)
        out = np.empty((len(vecs), 2), np.float32)
        for i in range(0, len(vecs), 8192):  # bounded temporaries on big libraries
            v = vecs[i:i + 8192]
            out[i:i + 8192, 0] = v @ self.mean
            out[i:i + 8192, 1] = np.sqrt(np.square(v @ self.root).sum(1))
        return out


def bank_of(model) -> Bank:
    """The bank's moments for ``model``: cached on it, else read from ``relevance_bank.npz`` beside its config
    (when made from the same prompts), else computed (the bank's ~1,100 prompts through the text tower, once)
    and saved there when the folder is writable."""
    cached = getattr(model, "_relevance_bank", None)
    if cached is not None:
        return cached
    import hashlib

    prompts = bank_prompts()
    digest = hashlib.sha256("\n".join(prompts).encode()).hexdigest()[:12]
    key = f"{model.config.model_id}/{digest}"
    folder = getattr(model, "checkpoint_folder", None)
    path = Path(folder) / BANK_CACHE if folder else None
    bank = None
    if path is not None and path.is_file():
        try:
            with np.load(path) as z:
                if str(z["key"]) == key:
                    bank = Bank(z["mean"], z["root"], key)
        except (OSError, ValueError, KeyError) as e:
            log.warning("ignoring %s: %s", path, e)
    if bank is None:
        vecs = model.embed_texts(prompts, batch_size=256)
        bank = Bank.of_vectors(vecs.numpy() if hasattr(vecs, "numpy") else vecs, key)
        if path is not None:
            try:
                tmp = path.with_name(BANK_CACHE + ".tmp.npz")
                np.savez(tmp, mean=bank.mean, root=bank.root, key=np.array(key))
                os.replace(tmp, path)
            except OSError as e:  # a read-only model folder: computed again next time
                log.info("could not cache the prompt bank in %s: %s", folder, e)
    try:
        model._relevance_bank = bank
    except AttributeError:
        pass
    return bank


# -- judging ---------------------------------------------------------------------------------------------------
def standing(cos: np.ndarray, stats: np.ndarray, shift: float = 1.0) -> np.ndarray:
    """z of each photo: its cosine to the query over (``shift`` of) its typical description, in its own spreads."""
    return (np.asarray(cos, np.float32) - shift * stats[:, 0]) / np.maximum(stats[:, 1], 1e-4)


def shown(z: np.ndarray, rule: Rule) -> np.ndarray:
    """The score a person sees: 0.5 at the threshold, towards 1 for clear matches, towards 0 for clear misses."""
    x = np.clip(rule.slope * (np.asarray(z, np.float64) - rule.t), -40, 40)
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def scores(cos: np.ndarray, stats: np.ndarray, rule: Rule) -> np.ndarray:
    """Shown scores of photos from their cosines to the query and their bank stats (:meth:`Bank.photo_stats`);
    a photo left out (-inf cosine) stays -inf."""
    cos = np.asarray(cos, np.float32)
    out = shown(standing(np.where(np.isfinite(cos), cos, 0.0), stats, rule.shift), rule)
    return np.where(np.isfinite(cos), out, -np.inf).astype(np.float32)


def is_good(score) -> np.ndarray | bool:
    return np.asarray(score) >= GOOD


# -- text found in a photo -------------------------------------------------------------------------------------
TEXT_EVIDENCE = 0.6  # a photo whose text holds every query word is a good match of this strength by itself


def with_text(visual, strength=1.0):
    """One score from the visual score and a text match of ``strength`` (the share of the query's words the
    photo's text holds, library/textindex.py's ``words_held``: 1 all of them). Either kind of evidence alone
    can make a good match: any text match alone scores between :data:`GOOD` (a partial one) and
    :data:`TEXT_EVIDENCE` (all the words), a visual match alone its own score, both together more than either
    (``1 - (1 - v)(1 - e)``). So a page that merely mentions "coins" is a good match, yet ranks below a photo
    that clearly shows coins. ``visual``: shown scores, or None (text only)."""
    e = GOOD + (TEXT_EVIDENCE - GOOD) * np.clip(np.asarray(strength, np.float64), 0.0, 1.0)
    if visual is None:
        return float(e) if np.ndim(e) == 0 else e.astype(np.float32)
    v = np.clip(np.asarray(visual, np.float64), 0.0, 1.0)
    out = 1.0 - (1.0 - v) * (1.0 - e)
    return float(out) if np.ndim(out) == 0 else out.astype(np.float32)


def query_kind(has_text: bool, has_images: bool) -> str:
    return "mixed" if has_text and has_images else "image" if has_images else "text"
