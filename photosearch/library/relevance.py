"""Which hits are good matches: a per-query cut from the query's own score distribution over the library.

A flat minimum score fails because the right cut changes per query and per model (Immich #5996): "a cat"
over a library scores its cat photo 0.70 and the rest below 0.15, while "an astronaut" tops out at 0.13 on
the right photo. So each search looks at how far photos stand out from the rest of the library:

- robust statistics of all the library's scores for this query (median ``m`` and ``s = 1.4826 * MAD``, so a
  handful of real matches do not inflate the spread); ``z = (score - m) / s``;
- a query-level gate: if even the best photo does not stand out (``z_top < gate_z``) or its score is below
  the model's ``gate_score``, nothing is a good match ("nothing clearly matches");
- a depth rule: good matches are those with ``z >= z_min``, within the top group (``score - m >=
  frac * (top - m)``) and above the model's absolute ``floor``.

The thresholds are a per-model *calibration* measured on the evaluation set
(``benchmarks/bench_relevance.py --calibrate MODEL``) and stored beside the model's ``config.json`` as
``calibration.json``, per query kind (text, example image, mixed). Absent, a scale-free default (z-scores
only) is used. The distribution is always over the whole library, never just the filtered hits: a filter
narrows what is shown, not what counts as standing out.
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
CALIBRATION_VERSION = 1
KINDS = ("text", "image", "mixed")
_STATS_SAMPLE = 50_000  # median/MAD on a fixed stride sample beyond this many photos (exact enough, O(n))
_SELF_MATCH = 0.995  # an example photo's own score: not evidence that anything else matches


@dataclass
class CutRule:
    """Thresholds of one query kind. Scores are cosine similarities; z in robust standard deviations."""

    gate_z: float = 3.0  # the best photo must stand out at least this much, else nothing is good
    gate_score: float = -1.0  # ... and score at least this (model-specific; -1: off)
    z_min: float = 3.0  # each good photo stands out at least this much
    frac: float = 0.5  # ... and lies in the top group: score - m >= frac * (top - m)
    floor: float = -1.0  # ... and scores at least this (model-specific; -1: off)
    min_spread: float = 0.01  # lower bound of s: a near-constant library must not turn noise into z = 50

    @classmethod
    def from_dict(cls, d: dict) -> "CutRule":
        known = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in d.items() if k in known})


# Scale-free defaults (z only) for a model nobody calibrated; example-image queries score much higher
# against everything (photo-photo similarities), where z separates better than any absolute score.
DEFAULT_RULES = {"text": CutRule(), "image": CutRule(gate_z=3.0, z_min=3.0, frac=0.5),
                 "mixed": CutRule()}


@dataclass
class Calibration:
    rules: dict[str, CutRule] = field(default_factory=lambda: {k: CutRule(**asdict(v))
                                                               for k, v in DEFAULT_RULES.items()})
    model: str = ""  # the model id it was measured for
    build: int = 0  # built-in starter: the STARTER_BUILD it was measured on (its weights are rebuilt locally)
    source: str = "default"  # "default" or what it was measured on
    measured: dict = field(default_factory=dict)  # the figures measured with it (for the record)

    def rule(self, kind: str) -> CutRule:
        return self.rules.get(kind) or self.rules.get("text") or CutRule()

    def to_dict(self) -> dict:
        return {"version": CALIBRATION_VERSION, "model": self.model, "build": self.build, "source": self.source,
                "rules": {k: asdict(v) for k, v in self.rules.items()}, "measured": self.measured}

    @classmethod
    def from_dict(cls, d: dict) -> "Calibration":
        if int(d.get("version", 0)) > CALIBRATION_VERSION:
            raise ValueError(f"calibration version {d.get('version')} is newer than this app's")
        cal = cls(model=str(d.get("model", "")), build=int(d.get("build") or 0), source=str(d.get("source", "")),
                  measured=d.get("measured") or {})
        for k, v in (d.get("rules") or {}).items():
            if k in KINDS and isinstance(v, dict):
                cal.rules[k] = CutRule.from_dict(v)
        return cal


def save_calibration(folder: str | os.PathLike, cal: Calibration, name: str = CALIBRATION_FILE) -> Path:
    path = Path(folder) / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cal.to_dict(), indent=2))
    os.replace(tmp, path)
    return path


def load_calibration(model) -> Calibration:
    """The model's calibration: ``calibration.json`` beside its config, else the packaged one for a
    built-in of the same build, else the scale-free default. Never raises: a broken file logs and falls
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


# -- the cut ---------------------------------------------------------------------------------------------
@dataclass
class Cut:
    """The outcome for one query: good matches are those scoring >= ``threshold``."""

    threshold: float  # +inf when nothing is good
    median: float
    spread: float
    top: float
    top_z: float
    kind: str

    @property
    def any_good(self) -> bool:
        return bool(np.isfinite(self.threshold))

    def relevant(self, score: float) -> bool:
        return score >= self.threshold

    def z(self, score) -> np.ndarray | float:
        return (np.asarray(score) - self.median) / self.spread


def robust_stats(scores: np.ndarray) -> tuple[float, float]:
    """(median, 1.4826 * MAD) of the finite scores; a fixed stride sample past 50k photos."""
    s = scores[np.isfinite(scores)]
    if len(s) > _STATS_SAMPLE:
        s = s[:: len(s) // _STATS_SAMPLE + 1]
    if len(s) == 0:
        return 0.0, 1.0
    m = float(np.median(s))
    return m, float(1.4826 * np.median(np.abs(s - m)))


def cut(scores: np.ndarray, rule: CutRule, kind: str = "text") -> Cut:
    """The cut for one query from the scores of every photo in the library (unfiltered)."""
    scores = np.asarray(scores, dtype=np.float32)
    fin = scores[np.isfinite(scores)]
    if kind != "text":  # the example photo itself (score ~1) says nothing about the others
        fin = fin[fin < _SELF_MATCH]
    if len(fin) == 0:
        return Cut(float("inf"), 0.0, 1.0, float("-inf"), 0.0, kind)
    m, s = robust_stats(fin)
    s = max(s, rule.min_spread)
    top = float(fin.max())
    top_z = (top - m) / s
    if len(fin) < 3:  # too few photos to tell what stands out: the absolute thresholds alone, if any
        thr = max(rule.floor, rule.gate_score)
        return Cut(thr if thr > -1.0 else float("inf"), m, s, top, top_z, kind)
    if top_z < rule.gate_z or top < rule.gate_score:  # nothing stands out
        return Cut(float("inf"), m, s, top, top_z, kind)
    thr = max(m + rule.z_min * s, m + rule.frac * (top - m), rule.floor)
    return Cut(float(min(thr, top)), m, s, top, top_z, kind)


def query_kind(has_text: bool, has_images: bool) -> str:
    return "mixed" if has_text and has_images else "image" if has_images else "text"
