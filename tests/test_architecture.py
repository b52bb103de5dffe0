"""Rules of the codebase, checked: the core imports no Qt, and light modules stay light."""

import ast
import subprocess
import sys
from pathlib import Path

from helpers import REPO, cli_env


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_qt():
    core = [p for p in (REPO / "photosearch").rglob("*.py") if "gui" not in p.relative_to(REPO / "photosearch").parts]
    assert len(core) > 10
    offenders = [str(p.relative_to(REPO)) for p in core if _imports(p) & {"PySide6", "PyQt5", "PyQt6", "shiboken6"}]
    assert offenders == []


def test_light_modules_do_not_import_torch(tmp_path):
    """The CLI parser, paths, errors and the model store's listing must not pull in torch/timm/transformers:
    the GUI's first paint and `photosearch --help` depend on it."""
    code = ("import sys, photosearch.cli, photosearch.paths, photosearch.errors, photosearch.model.store, "
            "photosearch.imageio; photosearch.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'timm', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(tmp_path),
                         check=True).stdout.strip()
    assert out == "[]"
