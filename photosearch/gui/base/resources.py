"""Finding packaged resources (the SVG icon, the desktop file) in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
# Installed wheel: photosearch/resources (mapped by packaging); source checkout: <repo>/resources.
_CANDIDATES = (_HERE.parents[1] / "resources", _HERE.parents[2] / "resources")


def resource_path(name: str) -> Path:
    """Absolute path of a resource file; FileNotFoundError names every place looked in."""
    try:
        from importlib.resources import files

        p = files("photosearch") / "resources" / name
        if p.is_file():
            return Path(str(p))
    except (ModuleNotFoundError, TypeError, NotADirectoryError):
        pass
    for root in _CANDIDATES:
        p = root / name
        if p.is_file():
            return p
    raise FileNotFoundError(f"resource {name!r} not found in " + ", ".join(str(c) for c in _CANDIDATES))


def app_icon():
    """The application icon (an empty QIcon if the resource is missing, never an exception)."""
    from PySide6.QtGui import QIcon

    try:
        return QIcon(str(resource_path("photosearch.svg")))
    except FileNotFoundError:
        return QIcon()
