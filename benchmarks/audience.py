"""Benchmark: the pre-send audience check of 1,000,000 rows against an opt-out group of 200,000 members.

    .venv/bin/python benchmarks/audience.py [--rows 1000000] [--members 200000] [--latency-ms 20] [--parallel N]

The sandbox runs in its own process with 20 ms of latency per request; the check runs in a fresh
process of its own (``python -m helpers audience``, as an operator runs it, without the ledger: no
workflows are deployed here), so the peak memory printed is the check's alone. The file: a
campaign export with 20% of its rows members of the group (written as people write numbers, with
spaces), 78% customers who may receive, 1% duplicates and 1% invalid cells. It prints the HTTP
requests, the wall time, the sequential latency floor (requests x latency) and their ratio, the
rows written to the send list, the time of the same check on a one-row file (the group's read
alone), and the peak memory (bound: 400 MiB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bulk_remove import numbers, prepare, start_sandbox  # noqa: E402
from helpers.runbook import SandboxControls  # noqa: E402

MEASURE = """
import resource, runpy, sys
sys.argv = ["helpers", *sys.argv[1:]]
try:
    runpy.run_module("helpers", run_name="__main__")
except SystemExit as end:
    code = end.code
print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", file=sys.stderr)
sys.exit(code)
"""


def write_audience(path: Path, rows: int, members: int) -> int:
    """The campaign file; answers how many rows may receive."""
    in_group, duplicates, invalid = rows // 5, rows // 100, rows // 100
    may_receive = rows - in_group - duplicates - invalid
    with path.open("w", encoding="utf-8") as handle:
        handle.write("customer,phone,segment\n")
        for i, n in enumerate(numbers(0, in_group)):
            handle.write(f"member {i},{n[:3]} {n[3:7]} {n[7:]},a\n")
        for i, n in enumerate(numbers(members, may_receive)):
            handle.write(f"customer {i},{n},b\n")
        for i, n in enumerate(numbers(members, duplicates)):
            handle.write(f"again {i},{n},b\n")
        for i in range(invalid):
            handle.write(f"broken {i},call me maybe,c\n")
    return may_receive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--parallel", type=int, default=None, help="requests in flight (default: the setting's, 4)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="audience-bench-"))
    print(f"Preparing a group of {args.members:,} members and an audience of {args.rows:,} rows ...", flush=True)
    prepare(tmp / "state.sqlite", args.members)
    expected = write_audience(tmp / "audience.csv", args.rows, args.members)
    process, url = start_sandbox(tmp / "state.sqlite", args.latency_ms)
    try:
        controls = SandboxControls(url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("EIGHTXEIGHT_")}
        env.update(EIGHTXEIGHT_BASE_URL=url, PYTHONPATH=str(ROOT))
        command = [
            sys.executable,
            "-c",
            MEASURE,
            "audience",
            str(tmp / "audience.csv"),
            "--out",
            str(tmp / "send.csv"),
            "--report",
            str(tmp / "left-out.csv"),
            "--no-ledger",
        ]
        if args.parallel:
            command += ["--parallel", str(args.parallel)]
        before = controls.stats().get("requests", 0)
        started = time.perf_counter()
        done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        requests = controls.stats()["requests"] - before
        if done.returncode not in (0, 1):
            raise SystemExit(f"the check failed ({done.returncode}): {done.stderr}")
        written = sum(1 for _ in (tmp / "send.csv").open()) - 1
        # The same check of a one-row file: the group's read (and the interpreter's start) alone,
        # the part of the wall time that no speed of the file's reading can remove.
        (tmp / "one.csv").write_text("phone\n+6591234567\n", encoding="utf-8")
        started = time.perf_counter()
        subprocess.run([*command[:4], str(tmp / "one.csv"), *command[5:]], cwd=tmp, env=env, capture_output=True)
        group_alone = time.perf_counter() - started
        floor = requests * args.latency_ms / 1000
        print(
            f"Audience check: {args.rows:,} rows against {args.members:,} members, {args.latency_ms:g} ms latency "
            "(a fresh process, interpreter start included)"
        )
        print(f"  send list: {written:,} rows (expected {expected:,}); exit {done.returncode} (1: some rows invalid)")
        print(f"  HTTP requests: {requests}")
        ratio = elapsed / floor if floor else None
        print(
            f"  wall time: {elapsed:.1f} s (sequential latency floor {floor:.1f} s); wall time / floor = "
            f"{ratio:.2f} (bound: 0.5: {'met' if ratio <= 0.5 else 'NOT met'})"
            if floor
            else f"  wall time: {elapsed:.1f} s"
        )
        print(
            f"  the group's read alone (a one-row file): {group_alone:.1f} s"
            + (f"; / floor = {group_alone / floor:.2f}" if floor else "")
        )
        peak = float(done.stderr.strip().splitlines()[-1].split()[-2])  # "peak memory: N MiB"
        print(f"  peak memory: {peak:.0f} MiB (bound: 400 MiB: {'met' if peak <= 400 else 'NOT met'})", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
