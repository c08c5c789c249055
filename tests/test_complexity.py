"""No function of the project above cyclomatic complexity 20 (radon's grade D starts at 21)."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 20
PACKAGES = ("helpers", "sandbox", "connect_rules", "tests", "benchmarks")


def test_no_function_above_complexity_20():
    files = [ROOT / "dev.py", *(p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py")))]
    above = [
        f"{path.relative_to(ROOT)}:{block.lineno} {block.fullname} ({block.complexity})"
        for path in files
        for block in cc_visit(path.read_text(encoding="utf-8"))
        if block.complexity > LIMIT
    ]
    assert above == [], "split these into functions that each do one thing:\n" + "\n".join(above)
