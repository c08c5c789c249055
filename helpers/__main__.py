"""Command line: ``python -m helpers sandbox|runbook|deploy|bulk-remove|bulk-add|reconcile|audience|templates|check|adopt``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import TYPE_CHECKING

from .errors import (
    APIError,
    BadInput,
    ConnectionCheckFailed,
    EightByEightError,
    NotOnSandbox,
    RunInProgress,
    RunInterrupted,
    TransportError,
    UnexpectedResponse,
    WorkflowNotDeployed,
)

if TYPE_CHECKING:
    from .runbook import Runbook

# The one table of exit codes, for a command that ends on a failure: the first row the failure is an
# instance of. 2: nothing was done, because the input, the settings or the situation is wrong, or 8x8
# failed before anything changed (fix it, or wait, and run again); 1: work was interrupted part-way
# (RunInterrupted, whatever caused it) or some of it failed. A command that finishes says 0 (all is
# well) or 1 (something needs action) itself; the docs' reference lists both (docs/gen_reference.py).
EXIT_CODES = (
    (RunInterrupted, 1),
    (BadInput, 2),
    (WorkflowNotDeployed, 2),
    (ConnectionCheckFailed, 2),
    (RunInProgress, 2),
    (NotOnSandbox, 2),
    (APIError, 2),
    (TransportError, 2),
    (UnexpectedResponse, 2),
    (EightByEightError, 1),
)


def exit_code_for(exc: BaseException) -> int:
    """The exit code a failure ends a command with (EXIT_CODES)."""
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), 1)


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox import Sandbox

    from . import local_sandbox

    if args.reset or args.stop:
        was = local_sandbox.stop()
        if args.reset:
            local_sandbox.reset()
        print(
            ("Stopped the local sandbox" if was else "The local sandbox was not running")
            + ("; its state is deleted: the next use starts from nothing." if args.reset else ".")
        )
        return 0
    if args.serve_local:
        return local_sandbox.serve_local(args.port)
    if args.sample:
        return _sample(args.sample)
    local = not (args.state or args.deterministic or local_sandbox.wants_fresh())
    if local:  # the operator's one local 8x8, shared with the notebooks and the commands
        info = local_sandbox.running()
        if info:
            print(info["url"], flush=True)
            print(
                f"The local sandbox is already running (pid {info['pid']}, state {local_sandbox.STATE}); it "
                "stops by itself when idle, or with --stop.",
                file=sys.stderr,
                flush=True,
            )
            return 0
        print(f"8x8 sandbox (the local one, state {local_sandbox.STATE}); Ctrl-C to stop.", file=sys.stderr, flush=True)
        return local_sandbox.serve_local(args.port or local_sandbox.PREFERRED_PORT)
    sandbox = Sandbox(port=args.port, state=args.state, deterministic=args.deterministic, latency_ms=args.latency_ms)
    sandbox.faults.configure(share_429=args.share_429, share_503=args.share_503)
    stopped = []
    # before the address is announced: a SIGTERM sent as soon as it is read still stops cleanly
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    sandbox.start()
    print(sandbox.base_url, flush=True)  # first line of stdout: where to point EIGHTXEIGHT_BASE_URL
    print(
        f"8x8 sandbox serving on {sandbox.base_url} (state: {args.state or 'in memory'}); Ctrl-C to stop.",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stopped:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    sandbox.close()
    return 0


def _sample(name: str) -> int:
    """The sandbox's group at a sample's starting point, as the runbook job sets it before notebook 05 or 06."""
    from .demo import SAMPLES, prepare_sample
    from .errors import EightByEightError, NotOnSandbox
    from .runbook import connect

    try:
        runbook = connect(quiet=True)
        if not runbook.on_sandbox:
            raise NotOnSandbox(
                "--sample sets up the sandbox's samples; with EIGHTXEIGHT_API_KEY set nothing is set up on 8x8"
            )
        print(prepare_sample(runbook, SAMPLES[name].notebook))
    except EightByEightError as exc:
        return _failed(exc)
    return 0


def _runbook(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .errors import EightByEightError
    from .runbook import refresh_committed_outputs, run_runbook

    try:
        if args.refresh_committed is not None:
            refresh_committed_outputs(args.refresh_committed or None)
        else:
            run_runbook(Path(args.output) if args.output else None)
    except EightByEightError as exc:  # settings: one clear message, no traceback
        return _failed(exc)
    return 0


def _failed(exc, as_json: bool = False, *, code: int | None = None, then: str | None = None) -> int:
    """One clear message (no traceback) on stderr and the exit code of its class (or ``code``: a
    command's own promise); with --json, also the failure as values on stdout, so that a job
    reading JSON never gets an empty answer. ``then``: a line the command adds after the error."""
    import json

    from .errors import APIError, RunInterrupted, TransportError, UnexpectedResponse

    code = exit_code_for(exc) if code is None else code
    print(f"error: {exc}", file=sys.stderr)
    if then:
        print(then, file=sys.stderr)
    if isinstance(exc, RunInterrupted):
        print(
            "Run the same command again: it starts from what 8x8 holds then (a bulk run resumes its journal), "
            "so nothing is done twice.",
            file=sys.stderr,
        )
    elif isinstance(exc, (APIError, TransportError, UnexpectedResponse)):  # part-way failures are RunInterrupted
        print("Nothing was changed.", file=sys.stderr)
    if as_json:
        print(
            json.dumps(
                {
                    "error": str(exc),
                    "error_class": type(exc).__name__,
                    "status": exc.status,
                    "code": exc.code,
                    "error_id": exc.error_id,
                    "exit_code": code,
                },
                indent=2,
            )
        )
    return code


def _show(result, as_json: bool) -> int:
    """A result for people (its lines) or, with --json, its values (for scheduled jobs and monitoring)."""
    import json

    print(json.dumps(result.values(), indent=2) if as_json else "\n".join(result.lines()))
    return result.exit_code


def _connect(args: argparse.Namespace, *, quiet: bool | None = None) -> Runbook:
    """connect() with what a command was given: its subaccount and opt-out list, its --parallel, and
    quiet under --json (stdout is then the values alone) unless ``quiet`` says otherwise."""
    from .runbook import connect

    return connect(
        quiet=getattr(args, "json", False) if quiet is None else quiet,
        parallel=getattr(args, "parallel", None),
        subaccount=getattr(args, "subaccount", None),
        opt_out_list=getattr(args, "opt_out_list", None),
    )


def _bulk(args: argparse.Namespace) -> int:
    from .bulk import bulk_add, bulk_remove
    from .errors import EightByEightError
    from .groups import opt_out_list_name

    work = bulk_remove if args.command == "bulk-remove" else bulk_add
    try:
        runbook = _connect(args)
        group = opt_out_list_name(runbook.settings, args.group)
        run = work(
            runbook.client,
            args.file,
            group,
            column=args.column,
            default_region=args.default_region,
            country_column=args.country_column,
            apply=args.apply,
            report_path=args.report,
            reports_dir=args.reports_dir,
            journal_path=args.journal,
            chunk_size=args.chunk_size,
        )
    except EightByEightError as exc:
        return _failed(exc, args.json)
    return _show(run, args.json)


def _reconcile(args: argparse.Namespace) -> int:
    from .errors import EightByEightError
    from .reconcile import reconcile

    try:
        runbook = _connect(args)
        result = reconcile(
            runbook.client,
            name=args.name,
            hours=args.hours,
            since=args.since,
            apply=args.apply,
            ledger_path=args.ledger,
            reports_dir=args.reports_dir,
            progress=False,
        )
    except EightByEightError as exc:  # WorkflowNotDeployed: nothing to reconcile, exit 2
        return _failed(exc, args.json)
    return _show(result, args.json)


def _audience(args: argparse.Namespace) -> int:
    """Check a campaign audience file; exit 0 checked, 1 checked with invalid rows, 2 nothing checked."""
    from .audience import campaign_ledger, check_audience, clear_outputs
    from .errors import BadInput, EightByEightError

    try:
        clear_outputs(args.file, args.out, args.report)  # first: a check that fails later leaves no stale list
        runbook = _connect(args)
        ledger, ledger_note = campaign_ledger(runbook.client, name=args.name, hours=args.hours, use=not args.no_ledger)
        if ledger is None and args.name is not None and not args.no_ledger:  # a typo must not drop the ledger unseen
            raise BadInput(
                f"{ledger_note}. --name {args.name!r} asks for those workflows' runs: check the name (notebook "
                "03's WORKFLOW_NAME), or give --no-ledger to let the group alone decide."
            )
        if ledger_note and not args.no_ledger:
            print(f"note: no ledger ({ledger_note}); the group alone decides.", file=sys.stderr)
        result = check_audience(
            runbook.client,
            args.file,
            args.group,
            out=args.out,
            column=args.column,
            default_region=args.default_region,
            country_column=args.country_column,
            ledger=ledger,
            ledger_note=ledger_note,
            report=args.report,
            bsuid_column=args.bsuid_column,
            reports_dir=args.reports_dir,
        )
    except EightByEightError as exc:  # whatever the error: nothing was checked, exit 2
        gone = (
            f" ({args.out} does not exist)" if args.out and not os.path.exists(args.out) else ""
        )  # there: the file read, or a folder
        return _failed(exc, args.json, code=2, then=f"No send list was written{gone}: nothing was checked.")
    return _show(result, args.json)


def _templates(args: argparse.Namespace) -> int:
    """Exit 0: every template's way out is understood; 1: some template needs action; 2: not read."""
    from .errors import EightByEightError
    from .templates import check_templates

    try:
        runbook = _connect(args, quiet=False)
        result = check_templates(runbook.client, args.channel, name=args.name)
    except EightByEightError as exc:
        return _failed(exc, code=2, then="The templates could not be checked: nothing is verified.")
    print(result.table().to_string(index=False))
    print("\n".join(result.lines()))
    return result.exit_code


def _check(args: argparse.Namespace) -> int:
    """The scheduled health check: drift, canary, lost opt-outs; exit 0 ok, 1 action needed, 2 could not run."""
    from .errors import EightByEightError
    from .health import CheckOptions, HealthReport, run_check

    options = CheckOptions(
        group=args.group,
        name=args.name,
        languages=args.languages,
        brand=args.brand,
        support=args.support,
        hours=args.hours,
        since=args.since,
        apply=args.apply,
        canary=not args.no_canary,
    )
    try:
        if args.channels is not None:
            from .config import parse_channels

            options.channels = parse_channels(args.channels)
        runbook = _connect(args, quiet=args.json or args.nagios)
        if args.languages is not None:
            from .languages import parse_languages

            options.languages = parse_languages(args.languages)
        report = run_check(runbook.client, options, reports_dir=args.reports_dir)
        labels = {"subaccount": runbook.settings.subaccount_id}
    except EightByEightError as exc:
        report = HealthReport(could_not_run=f"{exc}")
        labels = {}
    if args.metrics:
        from .health import write_metrics

        try:
            write_metrics(report, args.metrics, labels)
        except OSError as exc:  # the check's own verdict still stands; the file is said as not written
            print(f"error: --metrics {args.metrics} could not be written ({exc.strerror or exc})", file=sys.stderr)
            if not args.nagios:
                return max(report.exit_code, 2)
    if args.nagios:
        print(report.nagios())
        return report.nagios_code
    return _show(report, args.json)


def _deploy(args: argparse.Namespace) -> int:
    """Notebook 03's job: build both workflows for the chosen languages, check them, deploy on --apply."""
    from .config import parse_channels
    from .deploy import deploy_opt_out
    from .errors import EightByEightError
    from .groups import opt_out_list_name
    from .policy import KeywordPolicy
    from .workflow import WorkflowOptions

    try:
        runbook = _connect(args)
        languages = args.languages if args.languages is not None else runbook.settings.languages
        channels = parse_channels(args.channels) if args.channels is not None else None
        options = WorkflowOptions.of(
            runbook.settings, name=args.name, channels=channels, brand=args.brand, support=args.support
        )
        result = deploy_opt_out(
            runbook.client,
            opt_out_list_name(runbook.settings, args.group),
            KeywordPolicy(languages=languages),
            options,
            apply=args.apply,
            builder_dir=args.builder_dir,
        )
    except EightByEightError as exc:
        return _failed(exc, args.json)
    return _show(result, args.json)


def _adopt(args: argparse.Namespace) -> int:
    """Coming from 8x8's tutorial: exit 0 nothing to do (or all done), 1 something needs action, 2 nothing done."""
    from .adopt import adopt
    from .deploy import deploy_opt_out
    from .errors import EightByEightError
    from .groups import opt_out_list_name
    from .health import run_canary
    from .policy import KeywordPolicy
    from .workflow import WorkflowOptions

    def deploy(client):
        return deploy_opt_out(
            client,
            opt_out_list_name(client.settings),
            KeywordPolicy(languages=client.settings.languages),
            WorkflowOptions.of(client.settings),
            apply=True,
        )

    try:
        runbook = _connect(args)
        result = adopt(
            runbook.client,
            apply=args.apply,
            group=args.group,
            hours=args.hours,
            reports_dir=args.reports_dir,
            canary=run_canary,
            deploy=deploy,
        )
    except EightByEightError as exc:
        return _failed(exc, args.json)
    return _show(result, args.json)


RUNS = {
    "sandbox": _sandbox,
    "runbook": _runbook,
    "deploy": _deploy,
    "bulk-remove": _bulk,
    "bulk-add": _bulk,
    "reconcile": _reconcile,
    "audience": _audience,
    "templates": _templates,
    "check": _check,
    "adopt": _adopt,
}


def main(argv: list[str] | None = None) -> int:
    from .cli import build_parser

    args = build_parser().parse_args(argv)
    return RUNS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
