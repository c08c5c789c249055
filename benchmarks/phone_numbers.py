"""Benchmark: phone numbers to E.164, the fast path against the full parse.

    .venv/bin/python benchmarks/phone_numbers.py [--mixed 1000000]

Prints the throughput of both, and of the fast path for a whole column (e164_many, in the reader's
blocks), on numbers as export files hold them (international, spaced), then compares the three on
``--mixed`` numbers of every region and format (the test suite's generator,
tests/test_numbers_fast_path.py) and prints how many differ (it must be 0).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_numbers_fast_path import compare  # noqa: E402

from helpers.bulk.read import STEP_ROWS  # noqa: E402
from helpers.numbers import InvalidNumber, _to_e164, e164_many  # noqa: E402


def throughput(numbers: list[str], fast: bool) -> float:
    started = time.perf_counter()
    for raw in numbers:
        try:
            _to_e164(raw, None, fast=fast)
        except InvalidNumber:
            pass
    return len(numbers) / (time.perf_counter() - started)


def column_throughput(numbers: list[str]) -> float:
    started = time.perf_counter()
    for start in range(0, len(numbers), STEP_ROWS):
        e164_many(numbers[start : start + STEP_ROWS], True)
    return len(numbers) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixed", type=int, default=1_000_000)
    args = parser.parse_args()
    sample = [f"+65 90{i % 1_000_000:06d}" if i % 2 else f"+6590{i % 1_000_000:06d}" for i in range(200_000)]
    full, fast, column = throughput(sample, False), throughput(sample, True), column_throughput(sample)
    print(
        f"International numbers (200,000, half spaced): full parse {full:,.0f}/s, fast path {fast:,.0f}/s "
        f"({fast / full:.1f}x), as a column {column:,.0f}/s ({column / full:.1f}x)"
    )
    workers, per = 2, -(-args.mixed // 16)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(compare, range(100, 116), [per] * 16))
    total = sum(n for n, _ in results)
    differ = [d for _, ds in results for d in ds]
    print(
        f"Mixed formats, every region: {total:,} numbers through the three paths in "
        f"{time.perf_counter() - started:.0f} s on {workers} processes: {len(differ)} differ"
    )
    for row in differ[:10]:
        print("  ", row)


if __name__ == "__main__":
    main()
