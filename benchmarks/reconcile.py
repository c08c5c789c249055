"""Benchmark: reconcile 100,000 workflow runs against an opt-out group of 200,000 members.

    .venv/bin/python benchmarks/reconcile.py [--instances 100000] [--members 200000] [--latency-ms 20] [--parallel N]

The sandbox runs in its own process with 20 ms of latency per request; its state is made
beforehand (members through the seed control; runs stored directly, which no control makes). The runs are shaped as the
deployed workflows record them: 80% WhatsApp, 20% SMS; most opt-outs honoured, 3% lost (the
Contacts call answered 503 and the number is not in the group), 5% opt-ins, 2% other texts.
It prints the requests, the wall time, the sequential latency floor, and this process's peak
memory, for the dry run (building the ledger) and for --apply (repairing the lost ones).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bulk_remove import numbers, start_sandbox  # noqa: E402
from helpers.client import Client  # noqa: E402
from helpers.config import load_settings  # noqa: E402
from helpers.ledger import build_ledger  # noqa: E402
from helpers.reconcile import reconcile  # noqa: E402
from helpers.runbook import SandboxControls  # noqa: E402
from helpers.workflow import build_opt_out_definitions, deploy_definitions, inbound_payload  # noqa: E402
from sandbox import Sandbox  # noqa: E402

GROUP = "WhatsApp opt-out"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_data(n: int, msisdn: str, channel: str, kind: str, when: str) -> dict:
    text = {"honoured": "STOP", "lost": "STOP", "opt-in": "START", "other": "Where is my order?"}[kind]
    data = {
        **inbound_payload(msisdn, text, channel=channel, umid=f"00000000-0000-4000-8000-{n:012d}", timestamp=when),
        "accountId": "sandbox-account",
        "subAccountId": "sandbox-subaccount",
        "triggeredAt": when,
    }
    if kind == "honoured":
        data.update(opt_out_response_code=201, opt_out_confirmation=f"umid-{n}")
    elif kind == "lost":
        data.update(opt_out_response_code=503)
    elif kind == "opt-in":
        data.update(opt_in_contact_id=None)  # was not a member: nothing to remove
    return data


def prepare(state: Path, instances: int, members: int) -> None:
    with Sandbox(state=str(state), deterministic=True) as sandbox:
        settings = load_settings(env={}, env_file=None).with_base_url(sandbox.base_url)
        client = Client(settings)
        group = client.contacts.create_group(GROUP, is_blacklist=True)
        controls = SandboxControls(sandbox.base_url)  # the seed control, over HTTP
        for start in range(0, members, 50_000):
            controls.seed(groups=[{"id": group["id"], "members": numbers(start, min(50_000, members - start))}])
        deployed = deploy_definitions(client, build_opt_out_definitions(settings, group["id"]))
        begin = datetime(2026, 1, 5, 9, tzinfo=UTC) - timedelta(days=6)
        batch = {"WhatsApp": [], "SMS": []}
        for n in range(instances):
            channel = "SMS" if n % 5 == 4 else "WhatsApp"
            share = n % 100
            kind = "lost" if share < 3 else "opt-in" if share < 8 else "other" if share < 10 else "honoured"
            # honoured opt-outs are members; lost ones and the rest are numbers outside the group
            msisdn = numbers(n % members, 1)[0] if kind == "honoured" else f"+6581{n:06d}"
            when = (begin + timedelta(seconds=5 * n)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-4] + "Z"
            batch[channel].append(
                {"status": "Complete", "startedAt": when, "data": run_data(n, msisdn, channel.lower(), kind, when)}
            )
        for channel, runs in batch.items():
            for start in range(0, len(runs), 20_000):
                sandbox.automation.seed_instances(
                    "sandbox-account", deployed[channel].definition_id, runs[start : start + 20_000]
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument(
        "--parallel", type=int, default=None, help="requests in flight at once (default: the setting's default, 4)"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    print(f"Preparing {args.instances:,} workflow runs and a group of {args.members:,} members ...", flush=True)
    prepare(tmp / "state.sqlite", args.instances, args.members)
    process, url = start_sandbox(tmp / "state.sqlite", args.latency_ms)
    try:
        client = Client(load_settings(env={}, env_file=None).with_base_url(url).with_parallel(args.parallel))
        print(f"Requests in flight at once: {client.settings.parallel}")
        controls = SandboxControls(url)
        for label, apply in (("dry run (the ledger)", False), ("--apply (repair the lost)", True)):
            before = controls.stats().get("requests", 0)
            started = time.perf_counter()
            result = reconcile(client, apply=apply, reports_dir=tmp / "reports")
            elapsed = time.perf_counter() - started
            requests = controls.stats()["requests"] - before
            ledger = result.ledger
            print(
                f"Reconcile {label}: {len(ledger.rows):,} runs against {args.members:,} members, "
                f"{args.latency_ms:g} ms latency"
            )
            repaired = sum(result.repaired.values())
            print(
                f"  lost opt-outs found: {len(ledger.lost) + repaired:,}; repaired (read back): {repaired:,}; "
                f"left: {len(result.remaining):,}"
            )
            print(f"  HTTP requests: {requests}")
            floor = requests * args.latency_ms / 1000
            print(
                f"  wall time: {elapsed:.1f} s (sequential latency floor {floor:.1f} s); wall time / floor = "
                f"{elapsed / floor:.2f}"
                if floor
                else f"  wall time: {elapsed:.1f} s"
            )
            print(f"  peak memory of this process: {peak_rss_mib():.0f} MiB", flush=True)
        # What a scheduled `check` reads after its checkpoint: only the runs of the last hour, and the
        # membership of their numbers (looked up one by one when that is cheaper than the group).
        for hours in (1, 0.1):
            before = controls.stats().get("requests", 0)
            started = time.perf_counter()
            ledger = build_ledger(client, hours=hours)
            elapsed = time.perf_counter() - started
            print(
                f"Incremental ledger of the last {hours:g} hour(s) (as `check` reads after its checkpoint): "
                f"{len(ledger.rows):,} runs; HTTP requests: {controls.stats()['requests'] - before}; "
                f"wall time: {elapsed:.2f} s",
                flush=True,
            )
    finally:
        process.terminate()
        process.wait(timeout=10)
        os.environ.pop("EIGHTXEIGHT_BASE_URL", None)


if __name__ == "__main__":
    main()
