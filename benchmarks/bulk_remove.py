"""Benchmark: bulk removal of a 100,000-row CSV from an opt-out group of 200,000 members.

    .venv/bin/python benchmarks/bulk_remove.py [--rows 100000] [--members 200000] [--latency-ms 20]

The sandbox runs in its own process (``python -m helpers sandbox``) with 20 ms of latency per
request, so the figures printed for this process (time, memory) are the client's alone. It
prints: HTTP requests against the allowed bound, wall time, rows per second, the sequential
latency floor (requests x latency) and the ratio of the wall time to it, peak memory; the same
with one request at a time; the naive way (look up and remove number by number) on a sample;
the audience check (100,000 numbers against 100,000 members) the same way; the time to read a
1,000,000-member group; and, with --million, the peak memory of planning 1,000,000 rows (the
bound is 400 MiB).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.bulk import bulk_remove  # noqa: E402
from helpers.client import Client  # noqa: E402
from helpers.config import load_settings  # noqa: E402
from helpers.groups import read_group  # noqa: E402
from helpers.runbook import SandboxControls  # noqa: E402
from sandbox import Sandbox  # noqa: E402

GROUP = "WhatsApp opt-out"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def numbers(start: int, count: int) -> list[str]:
    return [f"+6590{n:06d}" if n < 1_000_000 else f"+6581{n - 1_000_000:06d}" for n in range(start, start + count)]


def prepare(state: Path, members: int) -> int:
    """A state file holding the opt-out group and its members (through the sandbox's seed control)."""
    with Sandbox(state=str(state), deterministic=True) as sandbox:
        client = Client(load_settings(env={}, env_file=None).with_base_url(sandbox.base_url))
        group = client.contacts.create_group(GROUP, is_blacklist=True)
        controls = SandboxControls(sandbox.base_url)  # the seed control, over HTTP
        for start in range(0, members, 50_000):
            controls.seed(groups=[{"id": group["id"], "members": numbers(start, min(50_000, members - start))}])
        return group["id"]


def write_csv(path: Path, rows: int, members: int) -> None:
    """95% members, 4% outsiders, 0.5% duplicates, 0.5% invalid: a realistic export."""
    in_group = int(rows * 0.95)
    outsiders = int(rows * 0.04)
    duplicates = int(rows * 0.005)
    invalid = rows - in_group - outsiders - duplicates
    lines = ["name,phone"]
    lines += [f"member {i},{n[:3]} {n[3:7]} {n[7:]}" for i, n in enumerate(numbers(0, in_group))]
    lines += [f"outsider {i},{n}" for i, n in enumerate(numbers(members, outsiders))]
    lines += [f"again {i},{n}" for i, n in enumerate(numbers(0, duplicates))]
    lines += [f"broken {i},call me maybe" for i in range(invalid)]
    path.write_text("\n".join(lines) + "\n")


def start_sandbox(state: Path, latency_ms: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "helpers",
            "sandbox",
            "--state",
            str(state),
            "--latency-ms",
            str(latency_ms),
            "--deterministic",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return process, process.stdout.readline().strip()


def naive(client: Client, group_id: int, sample: list[str]) -> float:
    """Number by number: find the contact in the group, then remove it. Seconds per row."""
    started = time.perf_counter()
    for msisdn in sample:
        found = next(iter(client.contacts.search_contacts(msisdn, group_id=group_id, limit=1)), None)
        if found:
            client.contacts.remove_from_group(group_id, [found["id"]])
    return (time.perf_counter() - started) / len(sample)


def million(members: int) -> None:
    """Plan 1,000,000 rows in a fresh process (the file and the group are made beforehand, elsewhere)
    and report that process's peak memory: the reading streams, so the bound is 400 MiB."""
    tmp = Path(tempfile.mkdtemp(prefix="bulk-million-"))
    group_id = prepare(tmp / "state.sqlite", members)
    write_csv(tmp / "million.csv", 1_000_000, members)
    process, url = start_sandbox(tmp / "state.sqlite", 0)
    code = f"""
import resource, sys, time
sys.path.insert(0, {str(ROOT)!r})
from helpers.bulk import Mode
from helpers.bulk.plan import make_plan
from helpers.bulk.read import open_numbers
from helpers.client import Client
from helpers.config import load_settings
started = time.perf_counter()
client = Client(load_settings(env={{}}, env_file=None).with_base_url({url!r}))
data = open_numbers({str(tmp / "million.csv")!r})
plan = make_plan(client, client.contacts.get_group({group_id}), data, Mode.REMOVE)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"1,000,000 rows planned against {members:,} members in {{time.perf_counter() - started:.1f}} s: "
      f"{{len(plan.pending):,}} to remove; peak memory {{peak:.0f}} MiB (bound: 400 MiB): "
      f"{{'within' if peak <= 400 else 'OVER'}} the bound")
"""
    try:
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    finally:
        process.terminate()
        process.wait(timeout=10)


def one_run(args, state: Path, csv_path: Path, parallel: int) -> tuple[float, int]:
    """Bulk removal on a fresh copy of the prepared state; prints its figures; (wall time, requests)."""
    copy = state.with_name(f"run-{parallel}.sqlite")
    shutil.copy(state, copy)
    process, url = start_sandbox(copy, args.latency_ms)
    try:
        settings = load_settings(env={}, env_file=None).with_base_url(url).with_parallel(parallel)
        controls = SandboxControls(url)
        client = Client(settings)
        base_rss = peak_rss_mib()
        before = controls.stats().get("requests", 0)
        started = time.perf_counter()
        run = bulk_remove(
            client,
            csv_path,
            GROUP,
            apply=True,
            report_path=copy.with_suffix(".csv"),
            chunk_size=args.chunk_size,
            progress=False,
        )
        elapsed = time.perf_counter() - started
        requests = controls.stats()["requests"] - before
        counts = run.applied.counts()
        left = args.members - counts.get("removed", 0)
        # the plan reads the group, the chunks go, the check reads back what is left: every outcome is read
        bound = math.ceil(args.members / 500) + math.ceil(args.rows / args.chunk_size) + math.ceil(left / 500) + 10
        floor = requests * args.latency_ms / 1000
        print(
            f"Bulk removal, {args.rows:,} rows against {args.members:,} members, {args.latency_ms:g} ms latency, "
            f"{parallel} request(s) at once:"
        )
        print(f"  outcome: {counts}")
        print(
            f"  HTTP requests: {requests} (bound {bound} = ceil({args.members}/500) to plan + "
            f"ceil({args.rows}/{args.chunk_size}) chunks + ceil({left}/500) to check + 10): "
            f"{'within' if requests <= bound else 'OVER'} the bound"
        )
        print(f"  wall time: {elapsed:.1f} s; {args.rows / elapsed:,.0f} rows/s")
        print(
            f"  sequential latency floor: {requests} x {args.latency_ms:g} ms = {floor:.1f} s; "
            f"wall time / floor = {elapsed / floor:.2f}"
        )
        print(
            f"  peak memory of this process: {peak_rss_mib():.0f} MiB (before the run: {base_rss:.0f} MiB)", flush=True
        )
        if parallel == 1:
            # The naive way, on a sample of numbers: put them back first, then look up and remove one by one.
            sample = numbers(0, args.naive_sample)
            group_id = client.contacts.get_group(run.plan.group["id"])["id"]
            for msisdn in sample:
                client.contacts.upsert_contact(msisdn, group_ids=[group_id])
            per_row = naive(client, group_id, sample)
            naive_total = per_row * args.rows
            print(
                f"Naive way (look up with contacts?query=, trigram-indexed, then remove, number by number) on "
                f"{args.naive_sample} rows: {per_row * 1000:.1f} ms/row; for {args.rows:,} rows about "
                f"{naive_total / 60:.1f} min and {2 * args.rows:,} requests"
            )
        return elapsed, requests
    finally:
        process.terminate()
        process.wait(timeout=10)


def audience_check(latency_ms: float, size: int = 100_000) -> None:
    """The pre-send check: an audience of ``size`` numbers (half of them opted out, mixed formats)
    against a group of ``size`` members, at ``latency_ms``, 4 requests at once and one at a time."""
    import pandas as pd

    from helpers.suppression import filter_audience

    tmp = Path(tempfile.mkdtemp(prefix="audience-"))
    group_id = prepare(tmp / "state.sqlite", size)
    audience = pd.DataFrame(
        {
            "msisdn": [f"+65 90{i:06d}" if i % 2 else f"+6590{i:06d}" for i in range(0, size, 2)]
            + [f"+6581{i:06d}" for i in range(size // 2)]
        }
    )
    process, url = start_sandbox(tmp / "state.sqlite", latency_ms)
    try:
        controls = SandboxControls(url)
        for parallel in (4, 1):
            client = Client(load_settings(env={}, env_file=None).with_base_url(url).with_parallel(parallel))
            before = controls.stats().get("requests", 0)
            started = time.perf_counter()
            send_to, removed = filter_audience(client, group_id, audience)
            elapsed = time.perf_counter() - started
            requests = controls.stats()["requests"] - before
            floor = requests * latency_ms / 1000
            print(
                f"Audience check, {size:,} numbers against {size:,} members, {latency_ms:g} ms latency, "
                f"{parallel} request(s) at once: {len(removed):,} opted out, {len(send_to):,} to send to; "
                f"HTTP requests: {requests}; wall time: {elapsed:.1f} s; sequential latency floor: {floor:.1f} s; "
                f"wall time / floor = {elapsed / floor:.2f}",
                flush=True,
            )
    finally:
        process.terminate()
        process.wait(timeout=10)


def group_read(members: int) -> None:
    """Read a group of ``members`` at no added latency, 4 requests at once, and print the time."""
    tmp = Path(tempfile.mkdtemp(prefix="group-read-"))
    group_id = prepare(tmp / "state.sqlite", members)
    process, url = start_sandbox(tmp / "state.sqlite", 0)
    try:
        client = Client(load_settings(env={}, env_file=None).with_base_url(url))
        started = time.perf_counter()
        snapshot = read_group(client, group_id)
        print(
            f"Reading a group of {members:,} members (no added latency, {client.parallel} at once): "
            f"{len(snapshot.keys):,} read in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument(
        "--group-read", type=int, default=1_000_000, help="members of the group read at the end (0: skip)"
    )
    parser.add_argument("--million", action="store_true", help="also plan 1,000,000 rows and report peak memory")
    parser.add_argument("--million-only", action="store_true", help="only the 1,000,000-row plan")
    args = parser.parse_args()

    if args.million_only:
        million(args.members)
        return
    tmp = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    print(f"Preparing a group of {args.members:,} members and a {args.rows:,}-row CSV ...", flush=True)
    prepare(tmp / "state.sqlite", args.members)
    write_csv(tmp / "opt_ins.csv", args.rows, args.members)
    parallel_time, parallel_requests = one_run(args, tmp / "state.sqlite", tmp / "opt_ins.csv", 4)
    sequential_time, _ = one_run(args, tmp / "state.sqlite", tmp / "opt_ins.csv", 1)
    print(
        f"4 at once against one at a time: {parallel_time:.1f} s against {sequential_time:.1f} s "
        f"({sequential_time / parallel_time:.1f}x)"
    )
    audience_check(args.latency_ms)
    if args.group_read:
        group_read(args.group_read)
    if args.million:
        million(args.members)


if __name__ == "__main__":
    main()
