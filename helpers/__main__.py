"""Command line: ``python -m helpers sandbox|runbook|bulk-remove``."""
from __future__ import annotations

import argparse
import signal
import sys
import time


def _sandbox(args: argparse.Namespace) -> int:
    from .sandbox import Sandbox

    sandbox = Sandbox(port=args.port, state=args.state, deterministic=args.deterministic,
                      latency_ms=args.latency_ms)
    sandbox.faults.configure(share_429=args.share_429, share_503=args.share_503)
    sandbox.start()
    print(sandbox.base_url, flush=True)  # first line of stdout: where to point EIGHTXEIGHT_BASE_URL
    print(f"8x8 sandbox serving on {sandbox.base_url} (state: {args.state or 'in memory'}); "
          "Ctrl-C to stop.", file=sys.stderr, flush=True)
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    try:
        while not stopped:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    sandbox.close()
    return 0


def _runbook(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .runbook import refresh_committed_outputs, run_runbook

    if args.refresh_committed:
        refresh_committed_outputs()
    else:
        run_runbook(Path(args.output) if args.output else None)
    return 0


def _bulk_remove(args: argparse.Namespace) -> int:
    from .bulk import BadFile, bulk_remove
    from .config import ConfigError
    from .errors import EightByEightError
    from .runbook import connect

    try:
        runbook = connect()
        run = bulk_remove(runbook.client, args.file, args.group, column=args.column,
                          default_region=args.default_region, country_column=args.country_column,
                          apply=args.apply, report_path=args.report, journal_path=args.journal,
                          chunk_size=args.chunk_size)
    except (BadFile, LookupError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except EightByEightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("Nothing more was sent. Run the same command again: finished chunks are not repeated.", file=sys.stderr)
        return 1
    print("\n".join(run.lines()))
    return run.exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="serve the 8x8 sandbox on 127.0.0.1 until stopped")
    sandbox.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    sandbox.add_argument("--state", help="SQLite file that keeps the state across restarts (default: in memory)")
    sandbox.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request")
    sandbox.add_argument("--share-429", type=float, default=0.0, help="share of requests answered 429 (0..1)")
    sandbox.add_argument("--share-503", type=float, default=0.0, help="share of requests answered 503 (0..1)")
    sandbox.add_argument("--deterministic", action="store_true", help="fixed ids and a frozen clock")
    sandbox.set_defaults(run=_sandbox)

    runbook = commands.add_parser("runbook", help="execute every notebook in order into runs/<time>/")
    runbook.add_argument("--output", help="folder for the executed notebooks (default: runs/<time>/)")
    runbook.add_argument("--refresh-committed", action="store_true",
                         help="maintainers: re-run each notebook alone on a fresh sandbox and save it in place")
    runbook.set_defaults(run=_runbook)

    bulk = commands.add_parser("bulk-remove", help="remove the numbers of a CSV file from the opt-out group",
                               description="Dry run by default: reads, plans and writes the report. --apply removes "
                                           "memberships (never contacts). Exit 0: done; 1: some rows failed or "
                                           "were invalid; 2: bad input, nothing changed.")
    bulk.add_argument("file", help="CSV file (comma, semicolon or tab; UTF-8)")
    bulk.add_argument("--group", required=True, help="opt-out group: id, or exact name of the blacklisted group")
    bulk.add_argument("--column", help="column holding the numbers (default: found from the header or the values)")
    bulk.add_argument("--default-region", help="country for national numbers, e.g. SG, US, GB")
    bulk.add_argument("--country-column", help="column with each row's country (default: 'country' if present)")
    bulk.add_argument("--apply", action="store_true", help="remove the memberships (default: dry run)")
    bulk.add_argument("--report", help="report CSV (default: reports/bulk-remove-<file>-group<id>.csv)")
    bulk.add_argument("--journal", help="journal for resuming (default: beside the report)")
    bulk.add_argument("--chunk-size", type=int, default=500, help="contacts per removal request (1..500)")
    bulk.set_defaults(run=_bulk_remove)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
