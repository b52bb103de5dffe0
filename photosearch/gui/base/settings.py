"""Persistent UI settings: a typed wrapper over an INI-format QSettings in ``AppPaths.config``.

The file lives under ``PHOTOSEARCH_HOME`` when that is set, so tests never touch the user's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from photosearch.device import BACKEND_CHOICES, default_backend
from photosearch.paths import AppPaths

SETTINGS_VERSION = 1
THUMB_MIN, THUMB_MAX, THUMB_DEFAULT = 96, 320, 160
# Typed searches hide photos whose shown score (0-1, visual and text evidence together, library/relevance.py;
# 0.5 marks a good match) is below this. 0 is off: every result, the good matches first.
DEFAULT_MIN_SCORE = 0.0
THEMES = ("system", "light", "dark")


def _to_int(v, default: int) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


class Settings:
    """Everything the window remembers. Folders live in the library too; this copy shows them instantly."""

    def __init__(self, paths: AppPaths):
        self.paths = paths
        paths.config.mkdir(parents=True, exist_ok=True)
        self.file = Path(paths.config) / "PhotoSearch.ini"
        self.q = QSettings(str(self.file), QSettings.Format.IniFormat)
        if _to_int(self._raw("version"), 0) != SETTINGS_VERSION:
            self.q.setValue("version", SETTINGS_VERSION)

    def sync(self) -> None:
        self.q.sync()

    # -- simple typed values ------------------------------------------------------------------
    def _raw(self, key: str):
        # contains() first: PySide6 6.12 (Python 3.11) loses a reference to None for each missing-key value().
        return self.q.value(key) if self.q.contains(key) else None

    def _get(self, key: str, default):
        v = self._raw(key)
        return default if v is None or v == "" else v

    @property
    def model(self) -> str | None:
        """Active model name; None follows the model store's active choice."""
        v = self._get("model", None)
        return str(v) if v else None

    @model.setter
    def model(self, name: str | None) -> None:
        self.q.setValue("model", name or "")

    @property
    def device(self) -> str:
        return str(self._get("device", "auto"))

    @device.setter
    def device(self, v: str) -> None:
        self.q.setValue("device", v)

    @property
    def backend(self) -> str:
        """CPU runtime for the encoders (auto/torch/onnx, see photosearch/model/onnx_backend.py); the default
        is the CLI's: $PHOTOSEARCH_BACKEND, else auto."""
        v = str(self._get("backend", default_backend())).lower()
        return v if v in BACKEND_CHOICES else "auto"

    @backend.setter
    def backend(self, v: str) -> None:
        self.q.setValue("backend", v if v in BACKEND_CHOICES else "auto")

    @property
    def suggestion_dismissed(self) -> bool:
        """The user closed the first-run "stronger model available" strip: it stays closed."""
        return str(self._get("suggestions/model_dismissed", "false")).lower() in ("true", "1")

    @suggestion_dismissed.setter
    def suggestion_dismissed(self, v: bool) -> None:
        self.q.setValue("suggestions/model_dismissed", bool(v))

    @property
    def batch_size(self) -> int:
        return max(1, _to_int(self._get("batch_size", 32), 32))

    @batch_size.setter
    def batch_size(self, v: int) -> None:
        self.q.setValue("batch_size", int(v))

    @property
    def theme(self) -> str:
        """"system" follows the desktop; "light"/"dark" force a palette (Fusion style)."""
        v = str(self._get("theme", "system"))
        return v if v in THEMES else "system"

    @theme.setter
    def theme(self, v: str) -> None:
        self.q.setValue("theme", v if v in THEMES else "system")

    @property
    def min_score(self) -> float:
        """Cut-off for typed queries: weaker matches are hidden (0 shows everything). Model dependent: for
        the starter, relevant photos score ~0.4-0.7 and unrelated ones ~0.25-0.35."""
        try:
            return min(1.0, max(0.0, float(self._get("min_score", DEFAULT_MIN_SCORE))))
        except (TypeError, ValueError):
            return DEFAULT_MIN_SCORE

    @min_score.setter
    def min_score(self, v: float) -> None:
        self.q.setValue("min_score", float(v))

    @property
    def thumb_size(self) -> int:
        return min(THUMB_MAX, max(THUMB_MIN, _to_int(self._get("thumb_size", THUMB_DEFAULT), THUMB_DEFAULT)))

    @thumb_size.setter
    def thumb_size(self, v: int) -> None:
        self.q.setValue("thumb_size", int(v))

    def take_folders(self) -> list[str]:
        """Folders an older version kept here (the library database is their only home now): returned once,
        then forgotten."""
        v = self._raw("folders")
        self.q.remove("folders")
        if v is None or v == "":
            return []
        return [str(x) for x in (v if isinstance(v, list) else [v])]

    def _bytes(self, key: str) -> QByteArray | None:
        v = self._raw(key)
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, v: QByteArray) -> None:
        self.q.setValue("window/geometry", v)

    @property
    def splitter(self) -> QByteArray | None:
        return self._bytes("window/splitter")

    @splitter.setter
    def splitter(self, v: QByteArray) -> None:
        self.q.setValue("window/splitter", v)
