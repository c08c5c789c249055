"""Benchmark: the two process-wide effects the library keeps, with and without each.

    .venv/bin/python benchmarks/process_effects.py [--rows 1000000]

1. ``helpers.openapi.import_jsonschema``: jsonschema imported without the IRI grammar it never uses
   here (the module entry it sets is removed again right after the import). Each timing is a fresh
   interpreter, three runs each, alternating.
2. ``helpers.concurrency.no_cycle_collection``: the cyclic garbage collector paused while a large
   file is read (and put back as it was). The same file of ``--rows`` numbers is read with the pause
   and with the pause replaced by nothing, three times each, alternating, in one process that holds
   a million other objects (as a notebook's kernel does).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import helpers.bulk.read as read  # noqa: E402

PLAIN = "import jsonschema"
WITHOUT_IRI = "from helpers.openapi import import_jsonschema; import_jsonschema()"


def interpreter_seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - started


def read_seconds(path: Path, pause) -> float:
    read.no_cycle_collection = pause
    started = time.perf_counter()
    read.read_numbers(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    plain, without = [], []
    for _ in range(3):
        plain.append(interpreter_seconds(PLAIN))
        without.append(interpreter_seconds(WITHOUT_IRI))
    print(
        f"import jsonschema in a fresh interpreter: {statistics.median(plain):.2f} s as installed, "
        f"{statistics.median(without):.2f} s without the IRI grammar (median of 3 each)"
    )

    held = [{"n": i} for i in range(1_000_000)]  # what a kernel holds: every collection walks it
    paused, free = read.no_cycle_collection, contextlib.nullcontext
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "numbers.csv"
        path.write_text("phone\n" + "".join(f"+6590{i % 1_000_000:06d}\n" for i in range(args.rows)))
        with_pause, without_pause = [], []
        for _ in range(3):
            with_pause.append(read_seconds(path, paused))
            without_pause.append(read_seconds(path, free))
    read.no_cycle_collection = paused
    print(
        f"read_numbers of {args.rows:,} rows beside {len(held):,} live objects: "
        f"{statistics.median(with_pause):.2f} s with the collector paused, "
        f"{statistics.median(without_pause):.2f} s without the pause (median of 3 each)"
    )


if __name__ == "__main__":
    main()
