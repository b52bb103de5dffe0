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


def _nodes(tree: ast.AST, typing: bool = False):
    """Every node of ``tree``; without ``typing``, not the bodies of ``if TYPE_CHECKING:`` blocks."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if not typing and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _modules() -> dict[str, tuple[Path, bool]]:
    """photosearch module name -> (its file, whether it is a package's ``__init__``)."""
    modules = {}
    for p in (REPO / "photosearch").rglob("*.py"):
        parts = list(p.relative_to(REPO).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        modules[".".join(parts)] = (p, is_pkg)
    return modules


def _deps(tree: ast.AST, name: str, is_pkg: bool, modules, typing: bool = False) -> set[str]:
    """The modules among ``modules`` that module ``name`` (parsed as ``tree``) imports, anywhere in it."""
    package = name if is_pkg else name.rpartition(".")[0]
    deps = set()
    for node in _nodes(tree, typing):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        deps |= {t for t in targets if t in modules and t != name}
    return deps


def _module_graph(typing: bool = False) -> dict[str, set[str]]:
    """photosearch module -> the photosearch modules it imports, anywhere in the file (inside functions too).
    Imports under ``if TYPE_CHECKING:`` never run; they count only with ``typing``."""
    modules = _modules()
    return {name: _deps(ast.parse(path.read_text(), filename=str(path)), name, is_pkg, modules, typing)
            for name, (path, is_pkg) in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_hidden_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    """No two photosearch modules import each other, directly or round a circle, even inside functions: each
    concept has one home and imports point down."""
    graph = _module_graph()
    assert "photosearch.model.checkpoint" in graph and graph["photosearch.model.checkpoint"]
    assert _cycles(graph) == []


def test_type_checking_imports_count_only_when_asked():
    tree = ast.parse("from typing import TYPE_CHECKING\nfrom . import b\n"
                     "if TYPE_CHECKING:\n    from photosearch.pkg.c import C\n")
    modules = {"photosearch.pkg.a", "photosearch.pkg.b", "photosearch.pkg.c"}
    assert _deps(tree, "photosearch.pkg.a", False, modules) == {"photosearch.pkg.b"}
    assert _deps(tree, "photosearch.pkg.a", False, modules, typing=True) == {"photosearch.pkg.b", "photosearch.pkg.c"}


def _typing_cycles(inside_gui: bool) -> list[list[str]]:
    """Circles of the graph with ``if TYPE_CHECKING:`` imports counted: those wholly inside photosearch.gui,
    or the others."""
    def in_gui(cycle):
        return all(m == "photosearch.gui" or m.startswith("photosearch.gui.") for m in cycle)

    return [c for c in _cycles(_module_graph(typing=True)) if in_gui(c) == inside_gui]


def test_no_import_cycles_even_for_type_checking():
    """A circle that exists only for annotations is still two modules that cannot be understood apart."""
    assert _typing_cycles(inside_gui=False) == []


def test_no_import_cycles_even_for_type_checking_in_gui():
    """The menus and the window's dialogs take explicit actions, so they need not know the window's type."""
    assert _typing_cycles(inside_gui=True) == []
