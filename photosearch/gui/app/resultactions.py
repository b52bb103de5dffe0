"""What the user can do with a result (the grid's context menu, the preview's buttons, Enter): open it (a video
found at a moment plays from that moment in mpv or VLC when one is installed), show it in the file manager, copy
its path. Failures become a message in the window, never an exception."""

from __future__ import annotations

import os
from typing import Callable

from photosearch.gui.base import desktop
from photosearch.humanize import format_duration
from photosearch.video import player_command


class ResultActions:
    """``selected()`` gives the selected results' paths (the current one when none is selected);
    ``show_error(text)`` and ``show_status(text, ms)`` report back to the window; ``moment_of(path)`` gives a
    video result's best-matching second (None for photos)."""

    def __init__(self, selected: Callable[[], list[str]], show_error: Callable[[str], object],
                 show_status: Callable[[str, int], object],
                 moment_of: Callable[[str], float | None] = lambda _path: None):
        self.selected, self.show_error, self.show_status = selected, show_error, show_status
        self.moment_of = moment_of

    def on_selected(self, fn: Callable[[str], object]) -> None:
        """Call ``fn`` with the first selected result."""
        paths = self.selected()
        if paths and paths[0]:
            fn(paths[0])

    def open_path(self, path: str | None) -> None:
        """Open a result; a video with a matching moment starts there in mpv or VLC where one is on PATH
        (started detached: the window never waits for it), else the default application opens it from the start."""
        if path:
            self.play_at(path, self.moment_of(path))

    def play_at(self, path: str | None, t: float | None) -> None:
        """Open ``path``, a video from second ``t`` where a player can start there (:meth:`open_path`; the
        preview's strip of moments)."""
        if not path:
            return
        cmd = player_command(path, t)
        if cmd and desktop.start_detached(cmd):
            self.show_status(f"Playing from {format_duration(t)} in {os.path.basename(cmd[0])}", 4000)
        elif not desktop.open_path(path):
            self.show_error(f"No application to open {path}")

    def reveal_path(self, path: str | None) -> None:
        if path and not desktop.reveal_path(path):
            self.show_error(f"Could not show {path} in the file manager")

    def copy_path(self, path: str | None) -> None:
        if path:
            desktop.copy_path(path)
            self.show_status(f"Copied {path}", 3000)
