"""The code's own contracts, checked on every run: lint and format (ruff), types (mypy over the
library, every public function annotated whole), and size (no function above cyclomatic complexity
20, no module below maintainability index 20; radon)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from radon.complexity import cc_visit
from radon.metrics import mi_visit

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGES = ("helpers", "sandbox", "connect_rules", "tests", "benchmarks", "docs")
LIBRARY = ("helpers", "sandbox", "connect_rules")


def python_files(packages=PACKAGES) -> list[Path]:
    files = [ROOT / "dev.py"] if packages == PACKAGES else []
    return files + [p for package in packages for p in sorted((ROOT / package).rglob("*.py"))]


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)


def test_ruff_finds_nothing_to_lint():
    done = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_is_formatted_as_ruff_formats_it():
    done = run(str(BIN / "ruff"), "format", "--check", "--no-cache", ".")
    assert done.returncode == 0, "run `.venv/bin/ruff format .`:\n" + done.stdout + done.stderr


def test_mypy_finds_no_type_error_in_the_library():
    done = run(str(BIN / "mypy"), "--cache-dir", os.devnull)  # files and settings: pyproject.toml; no cache written
    assert done.returncode == 0, done.stdout + done.stderr


def public_functions(tree: ast.Module):
    """The module's functions and its public classes' methods whose names do not start with _ (and
    __init__): the library's surface. Functions inside functions are not."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from (item for item in node.body if isinstance(item, ast.FunctionDef))


def test_every_public_function_of_the_library_is_annotated_whole():
    missing = []
    for path in python_files(("helpers",)):
        for node in public_functions(ast.parse(path.read_text(encoding="utf-8"))):
            if node.name.startswith("_") and node.name != "__init__":
                continue
            arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            arguments += [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
            bare = [a.arg for a in arguments if a.annotation is None and a.arg not in ("self", "cls")]
            if bare or (node.returns is None and node.name != "__init__"):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {bare or 'return'}")
    assert missing == []


@pytest.fixture(scope="module")
def measured() -> dict[Path, tuple[list, float | None]]:
    """Each file's functions with their cyclomatic complexity, and for the library's files their
    maintainability index (radon), from one read of each file."""
    library = tuple(ROOT / package for package in LIBRARY)
    out = {}
    for path in python_files():
        code = path.read_text(encoding="utf-8")
        in_library = any(path.is_relative_to(package) for package in library)
        out[path] = (cc_visit(code), mi_visit(code, multi=True) if in_library else None)
    return out


def test_no_function_above_complexity_20(measured):
    above = [
        f"{path.relative_to(ROOT)}:{block.lineno} {block.fullname} ({block.complexity})"
        for path, (blocks, _) in measured.items()
        for block in blocks
        if block.complexity > 20
    ]
    assert above == [], "split these into functions that each do one thing:\n" + "\n".join(above)


def test_no_module_of_the_library_below_maintainability_20(measured):
    low = {
        str(path.relative_to(ROOT)): round(index, 1)
        for path, (_, index) in measured.items()
        if index is not None and index < 20
    }
    assert {path for path, (_, index) in measured.items() if index is not None} == set(python_files(LIBRARY))
    assert low == {}, "split these modules by their jobs"
