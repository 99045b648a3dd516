"""The package's shape: layers point one way, no import cycle, modules and classes stay small."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "gankit"
MAX_MODULE_LINES, MAX_CLASS_LINES = 400, 200


def _lint_imports(src: Path, cwd: Path) -> subprocess.CompletedProcess:
    tool = Path(sys.executable).with_name("lint-imports")
    if not tool.exists():
        pytest.skip("lint-imports is not installed (make test installs the dev extra)")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(tool), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_layer_contract_holds():
    done = _lint_imports(ROOT / "src", ROOT)
    assert done.returncode == 0, done.stdout[-3000:]


def test_an_upward_import_inside_a_function_breaks_the_contract(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "src" / "gankit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    errors = tmp_path / "src" / "gankit" / "core" / "errors.py"
    planted = "\n\ndef _planted() -> None:\n    from gankit.cli import main  # noqa\n"
    errors.write_text(errors.read_text() + planted)
    done = _lint_imports(tmp_path / "src", tmp_path)
    assert done.returncode != 0
    assert "gankit.core.errors -> gankit.cli" in done.stdout


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_counting_imports_inside_functions():
    built = grimp.build_graph("gankit", include_external_packages=False, exclude_type_checking_imports=True)
    graph = {m: built.find_modules_directly_imported_by(m) for m in built.modules}
    assert "gankit.cli.app" in graph["gankit.cli"]  # the graph is the package's, imports and all
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_400_lines_and_no_class_over_200():
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(PACKAGE.parent)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES:
                too_long.append(f"{name}: class {node.name}, {node.end_lineno - node.lineno + 1} lines")
    assert too_long == []
