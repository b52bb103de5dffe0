"""A driver for GUI tests: what a user does with the main window, in the user's words, and waiting for the
window to answer. Tests say ``drv.add_folder(photos)``, ``drv.type_query("a red circle")`` and read
``drv.result_names()``; the window keeps no aliases or signals for them (it is reached through its parts).

    drv = Driver(qtbot, make_window(tiny_loaded))
    drv.add_folder(small_photos)            # waits until indexing has finished; returns its IndexReport
    outcome = drv.type_query("a red circle")  # waits for the answer (a SearchOutcome)
    assert drv.result_names()[0] == "01-red.jpg"
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import Qt

WAIT = 60_000


class Driver:
    def __init__(self, qtbot, win, wait_ms: int = WAIT):
        self.qtbot, self.win, self.wait_ms = qtbot, win, wait_ms

    # -- what the user sees ---------------------------------------------------------------------
    @property
    def search_box(self):
        return self.win.search_bar.search_box

    @property
    def grid(self):
        return self.win.results_pane.view

    @property
    def empty(self):
        return self.win.results_pane.empty

    def showing_grid(self) -> bool:
        return self.win.results_pane.stack.currentWidget() is self.grid

    def empty_key(self) -> str | None:
        """The empty state shown ("no-folders", "no-results", ...), or None while the grid shows."""
        return None if self.showing_grid() else self.empty.key

    def summary(self) -> str:
        """The line above the grid."""
        return self.win.results_pane.label.text()

    def result_paths(self) -> list[str]:
        """The photos in the grid, in order (section rows left out)."""
        return self.win.results.paths()

    def result_names(self) -> list[str]:
        return [os.path.basename(p) for p in self.result_paths()]

    # -- waiting --------------------------------------------------------------------------------
    @contextmanager
    def wait_search(self, timeout: int | None = None):
        """Wait for the answer to the search the block starts; ``.args[0]`` of the value is the outcome.

        An answer to a search asked for before the block (a refresh still running when a filter is ticked, whose
        own search is debounced) is not it: only a request submitted after the block began counts."""
        service = self.win.searcher.service
        first_id = service.last_id + 1
        with self.qtbot.waitSignal(self.win.searcher.answered, timeout=timeout or self.wait_ms,
                                   check_params_cb=lambda outcome: outcome.request.id >= first_id) as blocker:
            yield blocker

    @contextmanager
    def wait_indexed(self, timeout: int | None = None):
        """Wait for the indexing run the block starts to finish (``.args[0]``: its IndexReport, None on failure)."""
        with self.qtbot.waitSignal(self.win.indexer.finished, timeout=timeout or self.wait_ms) as blocker:
            yield blocker

    # -- what the user does ---------------------------------------------------------------------
    def add_folder(self, path: str | Path, timeout: int | None = None):
        """Add a folder and wait until it is indexed; returns the run's IndexReport."""
        with self.wait_indexed(timeout) as blocker:
            assert self.win.add_folder(str(path))
        return blocker.args[0]

    def type_query(self, text: str, enter: bool = False):
        """Type ``text`` into an empty search box (``enter``: then press Return) and wait for the answer."""
        self.search_box.clear()
        with self.wait_search() as blocker:
            self.qtbot.keyClicks(self.search_box, text)
            if enter:
                self.qtbot.keyClick(self.search_box, Qt.Key.Key_Return)
        return blocker.args[0]

    def clear_search(self):
        """Escape: back to the library, newest first; returns that answer."""
        with self.wait_search() as blocker:
            self.qtbot.keyClick(self.win, Qt.Key.Key_Escape)
        return blocker.args[0]

    def search_like(self, path: str | Path):
        """More like this photo; returns the answer."""
        with self.wait_search() as blocker:
            self.win.search_like(str(path))
        return blocker.args[0]

    def select(self, row: int) -> str:
        """Make a result current (as a click would) and return its path."""
        self.grid.setFocus()
        self.grid.setCurrentIndex(self.win.results.index(row))
        return self.win.results.path_at(self.grid.currentIndex())


def deliver_posted_events() -> None:
    """Deliver what workers emitted before they stopped (it arrives as posted events)."""
    from PySide6.QtCore import QCoreApplication

    for _ in range(5):
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()
