"""The window's menus, keyboard shortcuts and the results grid's context menu, in one table each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut

if TYPE_CHECKING:
    from photosearch.gui.app.window import MainWindow


def _act(menu, text: str, fn, shortcut=None) -> QAction:
    a = menu.addAction(text)
    a.triggered.connect(lambda _c=False: fn())
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    return a


def build_menus(win: "MainWindow") -> None:
    """File / View / Tools / Help, the search shortcuts, and Open/Show/Copy/More-like on results."""
    bar = win.menuBar()
    filem = bar.addMenu("&File")
    _act(filem, "&Add folder…", win.choose_folder, QKeySequence.StandardKey.Open)
    _act(filem, "&Update index", lambda: win.start_indexing(), "Ctrl+R")
    filem.addSeparator()
    _act(filem, "&Settings…", win.open_settings, "Ctrl+,")
    filem.addSeparator()
    _act(filem, "&Quit", win.close, QKeySequence.StandardKey.Quit)
    viewm = bar.addMenu("&View")
    _act(viewm, "Zoom &in", lambda: win.zoom.setValue(win.zoom.value() + 32), "Ctrl+=")
    _act(viewm, "Zoom &out", lambda: win.zoom.setValue(win.zoom.value() - 32), "Ctrl+-")
    _act(viewm, "&Folders and filters", win.toggle_sidebar, "Ctrl+B")
    _act(viewm, "&Preview pane", win.toggle_preview)
    viewm.addAction(win.skipped_panel.toggleViewAction())
    toolsm = bar.addMenu("&Tools")
    _act(toolsm, "&Fine-tune on Flickr8k…", win.open_finetune)
    helpm = bar.addMenu("&Help")
    _act(helpm, "&About PhotoSearch", win.show_about)
    for key in ("Ctrl+F", "Ctrl+L"):
        QShortcut(QKeySequence(key), win, activated=win.focus_search)
    QShortcut(QKeySequence(Qt.Key.Key_Escape), win, activated=win.clear_search)
    # Result actions: the grid's context menu (the preview pane has the same as buttons).
    view = win.view
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    for text, fn in (("Open", win.open_path), ("Show in folder", win.reveal_path),
                     ("Copy path", win.copy_path), ("More like this", win.search_like)):
        a = QAction(text, view)
        a.triggered.connect(lambda _c=False, fn=fn: win.on_selected_result(fn))
        view.addAction(a)
