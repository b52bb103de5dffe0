"""Where PhotoSearch keeps its state.

Every location derives from one :class:`AppPaths`. By default they follow the platform's conventions
(platformdirs); the environment variable ``PHOTOSEARCH_HOME`` moves all of them under one folder at once,
which is what tests, benchmarks and portable installs use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_HOME = "PHOTOSEARCH_HOME"
# Where exported ONNX graphs are kept, when not in the cache folder: graphs are named by model id, which carries
# the weights' fingerprint, so several homes (portable installs, test runs) can share one folder safely.
ENV_ONNX_CACHE = "PHOTOSEARCH_ONNX_CACHE"
_APP = "PhotoSearch"


@dataclass(frozen=True)
class AppPaths:
    data: Path  # library database, model store, training runs
    cache: Path  # thumbnails, feature caches, downloads in progress
    config: Path  # settings
    logs: Path  # rotating log files and crash reports

    @property
    def models(self) -> Path:
        return self.data / "models"

    @property
    def library_db(self) -> Path:
        return self.data / "library.db"

    @property
    def runs(self) -> Path:
        """Training runs in progress (checkpoints for resume)."""
        return self.data / "runs"

    @property
    def thumbnails(self) -> Path:
        return self.cache / "thumbnails"

    @property
    def downloads(self) -> Path:
        return self.cache / "downloads"

    @property
    def onnx_cache(self) -> Path:
        """Exported ONNX graphs of the models' towers (photosearch/model/onnx_backend.py); ``$PHOTOSEARCH_ONNX_CACHE``
        moves them."""
        moved = os.environ.get(ENV_ONNX_CACHE)
        return Path(moved).expanduser() if moved else self.cache / "onnx"

    def ensure(self) -> "AppPaths":
        for p in (self.data, self.cache, self.config, self.logs, self.models):
            p.mkdir(parents=True, exist_ok=True)
        return self


def app_paths(home: str | os.PathLike | None = None) -> AppPaths:
    """Paths for this user. ``home`` (or ``$PHOTOSEARCH_HOME``) puts everything under one folder."""
    home = home if home is not None else os.environ.get(ENV_HOME) or None
    if home:
        root = Path(home).expanduser().resolve()
        return AppPaths(root / "data", root / "cache", root / "config", root / "logs")
    import platformdirs

    return AppPaths(
        Path(platformdirs.user_data_dir(_APP, appauthor=False)),
        Path(platformdirs.user_cache_dir(_APP, appauthor=False)),
        Path(platformdirs.user_config_dir(_APP, appauthor=False)),
        Path(platformdirs.user_log_dir(_APP, appauthor=False)),
    )
