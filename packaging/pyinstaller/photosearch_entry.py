"""Entry point of the frozen (PyInstaller) build: one script, two executables.

The bundle folder holds ``photosearch`` (console: the command line) and ``photosearch-gui`` (windowed: the
desktop app); both run this script and pick their front end from their own file name, so one analysis
serves both. ``photosearch`` with no command opens the GUI too, as the installed command does.
"""

import multiprocessing
import sys
from pathlib import Path


def main() -> int:
    # Worker processes of a frozen app re-run the executable: let them become workers, not a second app.
    multiprocessing.freeze_support()
    exe = Path(sys.executable).stem.lower()
    if exe.endswith("-gui"):  # photosearch-gui, photosearch-gui.exe, PhotoSearch.app/Contents/MacOS/photosearch-gui
        from photosearch.gui.app.launcher import main as gui_main

        return int(gui_main(sys.argv[1:]) or 0)
    from photosearch.cli import main as cli_main

    return int(cli_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
