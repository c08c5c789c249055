"""Opt-outs lost at the source: 40 customers per channel send STOP while 40% of the workflows'
add-to-group answers fail (503) for 30 minutes of platform time; how many are in the group
afterwards, with no reconcile run? The workflow's own retries (Wait steps) decide it.

    .venv/bin/python benchmarks/lost_at_source.py [--customers 40] [--share 0.4] [--minutes 30]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.client import Client
from helpers.config import load_settings
from helpers.groups import ensure_opt_out_group
from helpers.ledger import build_ledger
from helpers.runbook import SandboxControls
from helpers.workflow import build_opt_out_definitions, deploy_definitions
from sandbox import Sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--share", type=float, default=0.4)
    parser.add_argument("--minutes", type=float, default=30)
    args = parser.parse_args()
    for channel in ("whatsapp", "sms"):
        with Sandbox(deterministic=True) as sandbox:
            settings = load_settings(env={}, env_file=None).with_base_url(sandbox.base_url)
            client, controls = Client(settings), SandboxControls(sandbox.base_url)
            group = ensure_opt_out_group(client, "WhatsApp opt-out").group
            deploy_definitions(client, build_opt_out_definitions(settings, group["id"]))
            controls.fail_share(args.share, method="POST", path_contains="/contacts")
            numbers = [f"+65912{i:05d}" for i in range(args.customers)]
            spacing = args.minutes * 60 / (2 * args.customers)  # customers over the first half of the window
            for number in numbers:
                controls.deliver_inbound(number, "STOP", channel=channel)
                controls.advance_clock(seconds=spacing)
            controls.advance_clock(seconds=args.minutes * 60 - spacing * args.customers)
            at_end_of_failures = len(
                {c["addresses"]["msisdn"] for c in client.contacts.group_members(group["id"])} & set(numbers)
            )
            controls.fail_share(0.0)
            controls.advance_clock(hours=1)
            members = {c["addresses"]["msisdn"] for c in client.contacts.group_members(group["id"])} & set(numbers)
            ways = build_ledger(client).rows.query("matched == 'opt-out'")["honoured_by"].value_counts().to_dict()
            print(
                f"{channel}: {args.customers} customers, {args.share:.0%} of add-to-group answers failing for "
                f"{args.minutes:g} min: {at_end_of_failures} in the group when the failures stop, "
                f"{len(members)} an hour later (no reconcile run); 503 answers: "
                f"{sandbox.request_count('status 503')}; honoured by: {ways}"
            )


if __name__ == "__main__":
    main()
