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

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
