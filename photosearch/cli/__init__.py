"""``photosearch`` command line. Sub-commands live in sibling modules, each with a ``register(sub)``.

Contract: exit 0 on success, 2 on a usage error (argparse), 1 on failure with one clear line on stderr
(``--debug`` shows the traceback). ``--json`` prints machine-readable output only, on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

from photosearch import __version__
from photosearch.errors import Cancelled, PhotoSearchError

# Modules that add sub-commands; each has register(subparsers).
COMMAND_MODULES = ("photosearch.cli.models_cmd", "photosearch.cli.library_cmd", "photosearch.cli.train_cmd",
                   "photosearch.cli.explain_cmd", "photosearch.cli.watch_cmd", "photosearch.cli.text_cmd",
                   "photosearch.cli.people_cmd", "photosearch.cli.things_cmd", "photosearch.cli.places_cmd")


class Context:
    """What every command gets: parsed args, app paths, library path, output helpers."""

    def __init__(self, args: argparse.Namespace):
        from photosearch.paths import app_paths

        self.args = args
        self.paths = app_paths()
        self.json = bool(getattr(args, "json", False))
        self.library = Path(args.library).expanduser() if args.library else self.paths.library_db

    def model_store(self):
        from photosearch.model.store import ModelStore

        return ModelStore(self.paths)

    def load_model(self):
        """The model named by ``--model`` (default: the active one, or the last one that worked when it
        fails to load, with a note saying why) on ``--device`` and ``--backend`` (photosearch/session.py)."""
        from photosearch.session import load_model

        loaded = load_model(self.paths, getattr(self.args, "model", None), device=getattr(self.args, "device", "auto"),
                            backend=getattr(self.args, "backend", None), progress=self.info,
                            on_note=lambda note: self.info(f"note: {note}"))
        return loaded.model

    def search_model(self, lib, model):
        """The model to search ``lib`` with: ``model``, or (without ``--model``) the one whose vectors stand
        in while ``model`` is still being indexed (library/transition.py), with a note saying so."""
        if getattr(self.args, "model", None):
            return model
        from photosearch.session import stand_in, stand_in_note

        serving = stand_in(self.paths, lib, model, device=getattr(self.args, "device", "auto"),
                           backend=getattr(self.args, "backend", None), on_note=lambda n: self.info(f"note: {n}"))
        if serving is None:
            return model
        if not self.json:
            self.info(f"note: {stand_in_note(serving, model)} (run `photosearch index`)")
        return serving

    def emit(self, obj: Any, human: Callable[[Any], str] | None = None) -> None:
        if self.json:
            text = json.dumps(obj, ensure_ascii=False)
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # a file name that is not UTF-8: \udcXX escapes, which json.loads
                text = json.dumps(obj)  # and os.fsencode turn back into the real name
            print(text)
        else:
            print(human(obj) if human else json.dumps(obj, indent=2, ensure_ascii=False))

    def info(self, msg: str) -> None:
        """Progress and notes go to stderr, so --json stdout stays clean."""
        if not getattr(self.args, "quiet", False):
            print(msg, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="photosearch", description="Find photos in your folders from a sentence.")
    p.add_argument("--version", action="version", version=f"photosearch {__version__}")
    p.add_argument("--library", metavar="PATH", help="library database (default: under PHOTOSEARCH_HOME / "
                                                     "the platform data folder)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    import importlib

    for mod in COMMAND_MODULES:
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
            continue
        module.register(sub)
    return p


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output only")


def add_backend(p: argparse.ArgumentParser) -> None:
    """``--backend auto|torch|onnx`` (default: $PHOTOSEARCH_BACKEND or auto), see model/onnx_backend.py."""
    from photosearch.device import BACKEND_CHOICES, default_backend

    p.add_argument("--backend", choices=BACKEND_CHOICES, default=default_backend(),
                   help="CPU runtime for the encoders: auto picks ONNX Runtime for images where it measures "
                        "faster; torch is the reference (default: auto)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        try:
            from photosearch.gui.app.launcher import main as gui_main
        except ImportError:
            parser.print_help()
            return 0
        return gui_main([])
    for stream in (sys.stdout, sys.stderr):  # file names that are not UTF-8 print as their own bytes
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="surrogateescape")
    try:
        from photosearch.logs import setup_logging
    except ImportError:
        pass
    else:
        try:
            setup_logging(console=False)
        except OSError:  # no room for a log file (full disk): the command still runs and reports its error
            pass
    try:
        return int(args.handler(Context(args)) or 0)
    except KeyboardInterrupt:
        print("photosearch: interrupted; finished work is kept", file=sys.stderr)
        return 130
    except Cancelled as e:
        print(f"photosearch: cancelled: {e}", file=sys.stderr)
        return 1
    except PhotoSearchError as e:
        if args.debug:
            raise
        print(f"photosearch: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a disk or network failure nothing above described: plain words, no errno
        if args.debug or os.environ.get("PHOTOSEARCH_DEBUG"):
            raise
        from photosearch.humanize import os_error_text

        print(f"photosearch: error: {os_error_text(e)}", file=sys.stderr)
        return 1
    except Exception as e:  # the contract is one line, not a traceback
        if args.debug or os.environ.get("PHOTOSEARCH_DEBUG"):
            raise
        detail = str(e).strip().splitlines()[0] if str(e).strip() else "no details"
        print(f"photosearch: error: unexpected failure: {detail} (run with --debug for details)", file=sys.stderr)
        return 1
