"""The shape the project keeps: the sandbox judges independently, the library is layered, no cycles.

The contracts live in pyproject.toml ([tool.importlinter]); import-linter checks them here on
every test run. grimp's import graph counts every import, those inside functions too, so a
late import cannot hide a cycle or a reach into the sandbox.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_linter_contracts_are_kept():
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = done.stdout[done.stdout.find("Contracts") :]
    print(report)  # shown with -s, and in the failure
    assert done.returncode == 0, report
    assert "9 kept, 0 broken" in report


def graph():
    return grimp.build_graph("helpers", "sandbox", "connect_rules", cache_dir=None)


def test_the_sandbox_imports_nothing_but_itself_and_8x8s_rules():
    imports = graph()
    reaching_out = sorted(
        f"{importer} -> {imported}"
        for importer in imports.find_descendants("sandbox") | {"sandbox"}
        for imported in imports.find_modules_directly_imported_by(importer)
        if not (imported == "sandbox" or imported.startswith("sandbox.") or imported.split(".")[0] == "connect_rules")
    )
    assert reaching_out == []


def test_the_library_has_no_import_cycle():
    imports = graph()
    modules = {m for m in imports.modules if m.split(".")[0] in ("helpers", "sandbox", "connect_rules")}
    cycles = []
    for importer in sorted(modules):
        for imported in sorted(imports.find_modules_directly_imported_by(importer)):
            if imported in modules and not importer.startswith(imported + "."):  # a module of its own package
                back = imports.find_shortest_chain(importer=imported, imported=importer)
                if back and not all(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(back, back[1:])):
                    cycles.append(" -> ".join((importer, *back)))
    assert cycles == []


def test_a_new_module_must_take_its_place_in_the_layers(tmp_path):
    """The layers contract is exhaustive: a module it does not list fails, whatever it imports."""
    import shutil

    for package in ("helpers", "sandbox", "connect_rules"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "helpers" / "planted.py").write_text("from . import __main__\n")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "helpers.planted" in done.stdout and "not listed as layers" in done.stdout
