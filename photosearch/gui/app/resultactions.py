"""What the user can do with a result (the grid's context menu, the preview's buttons, Enter): open it, show it
in the file manager, copy its path. Failures become a message in the window, never an exception."""

from __future__ import annotations

from typing import Callable

from photosearch.gui.base import desktop


class ResultActions:
    """``selected()`` gives the selected results' paths (the current one when none is selected);
    ``show_error(text)`` and ``show_status(text, ms)`` report back to the window."""

    def __init__(self, selected: Callable[[], list[str]], show_error: Callable[[str], object],
                 show_status: Callable[[str, int], object]):
        self.selected, self.show_error, self.show_status = selected, show_error, show_status

    def on_selected(self, fn: Callable[[str], object]) -> None:
        """Call ``fn`` with the first selected result."""
        paths = self.selected()
        if paths and paths[0]:
            fn(paths[0])

    def open_path(self, path: str | None) -> None:
        if path and not desktop.open_path(path):
            self.show_error(f"No application to open {path}")

    def reveal_path(self, path: str | None) -> None:
        if path and not desktop.reveal_path(path):
            self.show_error(f"Could not show {path} in the file manager")

    def copy_path(self, path: str | None) -> None:
        if path:
            desktop.copy_path(path)
            self.show_status(f"Copied {path}", 3000)
