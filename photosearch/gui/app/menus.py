"""The window's menus, keyboard shortcuts and the results grid's context menu, in one table each.

They call :class:`MenuActions`, a plain record of what the window can do, so this module knows no window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QWidget

Action = Callable[[], object]
PathAction = Callable[[str], object]


@dataclass
class MenuActions:
    """What the menus, shortcuts and the grid's context menu trigger."""

    add_folder: Action
    update_index: Action
    settings: Action
    quit: Action
    zoom: Callable[[int], object]  # +1 / -1 steps
    toggle_sidebar: Action
    toggle_preview: Action
    finetune: Action
    about: Action
    focus_search: Action
    clear_search: Action
    # result actions, each given the first selected result
    open_path: PathAction
    reveal_path: PathAction
    copy_path: PathAction
    search_like: PathAction
    on_selected: Callable[[PathAction], object]  # calls its argument with the first selected result


def about_text() -> str:
    """What Help > About says."""
    from photosearch import __version__
    from photosearch.meta.places import ATTRIBUTION

    return (f"PhotoSearch {__version__} — find photos in your own folders from a typed sentence. Everything runs "
            f"on this computer. {ATTRIBUTION}.")


def _act(menu, text: str, fn, shortcut=None) -> QAction:
    a = menu.addAction(text)
    a.triggered.connect(lambda _c=False: fn())
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    return a


def build_menus(win: QMainWindow, acts: MenuActions, grid: QWidget, extra_view: list[QAction] = ()) -> None:
    """File / View / Tools / Help, the search shortcuts, and Open/Show/Copy/More-like on ``grid``'s results.
    ``extra_view``: more entries for the View menu (e.g. a dock's toggle action)."""
    bar = win.menuBar()
    filem = bar.addMenu("&File")
    _act(filem, "&Add folder…", acts.add_folder, QKeySequence.StandardKey.Open)
    _act(filem, "&Update index", acts.update_index, "Ctrl+R")
    filem.addSeparator()
    _act(filem, "&Settings…", acts.settings, "Ctrl+,")
    filem.addSeparator()
    _act(filem, "&Quit", acts.quit, QKeySequence.StandardKey.Quit)
    viewm = bar.addMenu("&View")
    _act(viewm, "Zoom &in", lambda: acts.zoom(1), "Ctrl+=")
    _act(viewm, "Zoom &out", lambda: acts.zoom(-1), "Ctrl+-")
    _act(viewm, "&Folders and filters", acts.toggle_sidebar, "Ctrl+B")
    _act(viewm, "&Preview pane", acts.toggle_preview)
    for a in extra_view:
        viewm.addAction(a)
    toolsm = bar.addMenu("&Tools")
    _act(toolsm, "&Fine-tune on Flickr8k…", acts.finetune)
    helpm = bar.addMenu("&Help")
    _act(helpm, "&About PhotoSearch", acts.about)
    for key in ("Ctrl+F", "Ctrl+L"):
        QShortcut(QKeySequence(key), win, activated=acts.focus_search)
    QShortcut(QKeySequence(Qt.Key.Key_Escape), win, activated=acts.clear_search)
    # Result actions: the grid's context menu (the preview pane has the same as buttons).
    grid.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    for text, fn in (("Open", acts.open_path), ("Show in folder", acts.reveal_path),
                     ("Copy path", acts.copy_path), ("More like this", acts.search_like)):
        a = QAction(text, grid)
        a.triggered.connect(lambda _c=False, fn=fn: acts.on_selected(fn))
        grid.addAction(a)
