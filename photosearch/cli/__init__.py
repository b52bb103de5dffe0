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
                   "photosearch.cli.text_cmd")


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
        """The model named by ``--model`` (default: the active one) on ``--device``, with build notes."""
        return self.model_store().load(getattr(self.args, "model", None), device=getattr(self.args, "device", "auto"),
                                       progress=self.info)

    def emit(self, obj: Any, human: Callable[[Any], str] | None = None) -> None:
        if self.json:
            print(json.dumps(obj, ensure_ascii=False))
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        try:
            from photosearch.gui.launcher import main as gui_main
        except ImportError:
            parser.print_help()
            return 0
        return gui_main([])
    try:
        from photosearch.logs import setup_logging
    except ImportError:
        pass
    else:
        setup_logging(console=False)
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
    except Exception as e:  # noqa: BLE001 - the contract is one line, not a traceback
        if args.debug or os.environ.get("PHOTOSEARCH_DEBUG"):
            raise
        print(f"photosearch: error: {type(e).__name__}: {e} (run with --debug for details)", file=sys.stderr)
        return 1
