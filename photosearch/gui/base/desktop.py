"""The desktop around the app: open a photo in its default application, show it in the file manager, copy
its path; the local files and folders carried by a drag-and-drop. Platform differences live here and nowhere
else; each call says whether it worked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

from photosearch.imageio import is_image_name


def _started(result) -> bool:
    # QProcess.startDetached returns a bool, or (bool, pid) in some PySide6 versions.
    return bool(result[0] if isinstance(result, tuple) else result)


def open_path(path: str) -> bool:
    """Open ``path`` with the desktop's default application for it."""
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(path)))


def start_detached(command: list[str]) -> bool:
    """Start ``command`` (a program and its arguments) on its own, without waiting for it."""
    return bool(command) and _started(QProcess.startDetached(command[0], command[1:]))


def reveal_path(path: str) -> bool:
    """Show ``path`` selected in the file manager (Finder, Explorer, or a FreeDesktop file manager); where
    selecting is not possible, open its folder."""
    if sys.platform == "darwin":
        return _started(QProcess.startDetached("open", ["-R", path]))
    if sys.platform.startswith("win"):
        return _started(QProcess.startDetached("explorer", ["/select,", os.path.normpath(path)]))
    # The FreeDesktop file-manager interface selects the file; plain folder opening is the fallback.
    ok = _started(QProcess.startDetached("dbus-send", [
        "--session", "--dest=org.freedesktop.FileManager1", "--type=method_call",
        "/org/freedesktop/FileManager1", "org.freedesktop.FileManager1.ShowItems",
        f"array:string:{QUrl.fromLocalFile(path).toString()}", "string:"]))
    return ok or bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent))))


def copy_path(path: str) -> None:
    """Put ``path`` on the clipboard as text."""
    QGuiApplication.clipboard().setText(path)


def dropped_paths(mime) -> list[str]:
    """Local file paths carried by a drag-and-drop payload."""
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()] if mime.hasUrls() else []


def dropped_folders_and_images(mime) -> tuple[list[str], list[str]]:
    """The folders and the image files among the dropped paths (anything else is ignored)."""
    paths = dropped_paths(mime)
    return ([p for p in paths if os.path.isdir(p)],
            [p for p in paths if os.path.isfile(p) and is_image_name(p)])
