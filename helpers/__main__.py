"""Command line: ``python -m helpers sandbox|runbook|deploy|bulk-remove|bulk-add|reconcile|audience|templates|check|adopt``."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time


NAME_HELP = "the workflows' name (default: EIGHTXEIGHT_WORKFLOW_NAME, else 'Opt-out keyword')"
JSON_HELP = "print the result as JSON (its values: for scheduled jobs and monitoring)"


def exit_code_for(exc: BaseException) -> int:
    """The exit code a failure ends a command with: the first row of the table below it is an instance of."""
    from .errors import (APIError, BadInput, ConnectionCheckFailed, EightByEightError, NotOnSandbox, RunInProgress,
                         RunInterrupted, TransportError, UnexpectedResponse, WorkflowNotDeployed)

    # The one table of exit codes. 2: nothing was done, because the input, the settings or the
    # situation is wrong, or 8x8 failed before anything changed (fix it, or wait, and run again);
    # 1: work was interrupted part-way (RunInterrupted, whatever caused it) or some of it failed.
    exit_codes = ((RunInterrupted, 1), (BadInput, 2), (WorkflowNotDeployed, 2), (ConnectionCheckFailed, 2),
                  (RunInProgress, 2), (NotOnSandbox, 2), (APIError, 2), (TransportError, 2), (UnexpectedResponse, 2),
                  (EightByEightError, 1))
    return next((code for kind, code in exit_codes if isinstance(exc, kind)), 1)


def _sandbox(args: argparse.Namespace) -> int:
    from . import local_sandbox
    from sandbox import Sandbox

    if args.reset or args.stop:
        was = local_sandbox.stop()
        if args.reset:
            local_sandbox.reset()
        print(("Stopped the local sandbox" if was else "The local sandbox was not running") +
              ("; its state is deleted: the next use starts from nothing." if args.reset else "."))
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
            print(f"The local sandbox is already running (pid {info['pid']}, state {local_sandbox.STATE}); it "
                  "stops by itself when idle, or with --stop.", file=sys.stderr, flush=True)
            return 0
        print(f"8x8 sandbox (the local one, state {local_sandbox.STATE}); Ctrl-C to stop.", file=sys.stderr,
              flush=True)
        return local_sandbox.serve_local(args.port or local_sandbox.PREFERRED_PORT)
    sandbox = Sandbox(port=args.port, state=args.state, deterministic=args.deterministic,
                      latency_ms=args.latency_ms)
    sandbox.faults.configure(share_429=args.share_429, share_503=args.share_503)
    stopped = []
    # before the address is announced: a SIGTERM sent as soon as it is read still stops cleanly
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    sandbox.start()
    print(sandbox.base_url, flush=True)  # first line of stdout: where to point EIGHTXEIGHT_BASE_URL
    print(f"8x8 sandbox serving on {sandbox.base_url} (state: {args.state or 'in memory'}); "
          "Ctrl-C to stop.", file=sys.stderr, flush=True)
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
            raise NotOnSandbox("--sample sets up the sandbox's samples; with EIGHTXEIGHT_API_KEY set nothing is set up "
                               "on 8x8")
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
        print("Run the same command again: it starts from what 8x8 holds then (a bulk run resumes its journal), "
              "so nothing is done twice.", file=sys.stderr)
    elif isinstance(exc, (APIError, TransportError, UnexpectedResponse)):  # part-way failures are RunInterrupted
        print("Nothing was changed.", file=sys.stderr)
    if as_json:
        print(json.dumps({"error": str(exc), "error_class": type(exc).__name__, "status": exc.status,
                          "code": exc.code, "error_id": exc.error_id, "exit_code": code}, indent=2))
    return code


def _show(result, as_json: bool) -> int:
    """A result for people (its lines) or, with --json, its values (for scheduled jobs and monitoring)."""
    import json

    print(json.dumps(result.values(), indent=2) if as_json else "\n".join(result.lines()))
    return result.exit_code


def _add_list_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--subaccount", help="the subaccount whose workflows and list (default: "
                                              "EIGHTXEIGHT_SUBACCOUNT_ID)")
    command.add_argument("--opt-out-list", choices=("account", "subaccount"),
                         help="account: the account-wide blacklisted group (8x8 enforces it); subaccount: the "
                              "subaccount's own list 'Opt-out: <subaccount>' (the audience check enforces it). "
                              "Default: EIGHTXEIGHT_OPT_OUT_LIST, else account")


def _list_of(args: argparse.Namespace) -> dict:
    """The subaccount and opt-out list a command was given, for connect()."""
    return {"subaccount": getattr(args, "subaccount", None), "opt_out_list": getattr(args, "opt_out_list", None)}


def _bulk(args: argparse.Namespace) -> int:
    from .bulk import bulk_add, bulk_remove
    from .errors import EightByEightError
    from .groups import opt_out_list_name
    from .runbook import connect

    work = bulk_remove if args.command == "bulk-remove" else bulk_add
    try:
        runbook = connect(quiet=args.json, parallel=args.parallel, **_list_of(args))
        group = opt_out_list_name(runbook.settings, args.group)
        run = work(runbook.client, args.file, group, column=args.column, default_region=args.default_region,
                   country_column=args.country_column, apply=args.apply, report_path=args.report,
                   reports_dir=args.reports_dir, journal_path=args.journal, chunk_size=args.chunk_size)
    except EightByEightError as exc:
        return _failed(exc, args.json)
    return _show(run, args.json)


def _reconcile(args: argparse.Namespace) -> int:
    from .errors import EightByEightError, WorkflowNotDeployed
    from .reconcile import reconcile
    from .runbook import connect

    try:
        runbook = connect(quiet=args.json, parallel=args.parallel, **_list_of(args))
        result = reconcile(runbook.client, name=args.name, hours=args.hours, since=args.since, apply=args.apply,
                           ledger_path=args.ledger, reports_dir=args.reports_dir, progress=False)
    except EightByEightError as exc:  # WorkflowNotDeployed: nothing to reconcile, exit 2
        return _failed(exc, args.json)
    return _show(result, args.json)


def _audience(args: argparse.Namespace) -> int:
    """Check a campaign audience file; exit 0 checked, 1 checked with invalid rows, 2 nothing checked."""
    from .audience import campaign_ledger, check_audience, clear_outputs
    from .errors import BadInput, EightByEightError
    from .runbook import connect

    try:
        clear_outputs(args.file, args.out, args.report)  # first: a check that fails later leaves no stale list
        runbook = connect(quiet=args.json, parallel=args.parallel, **_list_of(args))
        ledger, ledger_note = campaign_ledger(runbook.client, name=args.name, hours=args.hours, use=not args.no_ledger)
        if ledger is None and args.name is not None and not args.no_ledger:  # a typo must not drop the ledger unseen
            raise BadInput(f"{ledger_note}. --name {args.name!r} asks for those workflows' runs: check the name (notebook "
                           "03's WORKFLOW_NAME), or give --no-ledger to let the group alone decide.")
        if ledger_note and not args.no_ledger:
            print(f"note: no ledger ({ledger_note}); the group alone decides.", file=sys.stderr)
        result = check_audience(runbook.client, args.file, args.group, out=args.out, column=args.column,
                                default_region=args.default_region, country_column=args.country_column,
                                ledger=ledger, ledger_note=ledger_note, report=args.report,
                                bsuid_column=args.bsuid_column, reports_dir=args.reports_dir)
    except EightByEightError as exc:  # whatever the error: nothing was checked, exit 2
        gone = f" ({args.out} does not exist)" if args.out and not os.path.exists(args.out) else ""  # there: the file read, or a folder
        return _failed(exc, args.json, code=2, then=f"No send list was written{gone}: nothing was checked.")
    return _show(result, args.json)


def _templates(args: argparse.Namespace) -> int:
    """Exit 0: every template's way out is understood; 1: some template needs action; 2: not read."""
    from .errors import EightByEightError
    from .runbook import connect
    from .templates import check_templates

    try:
        runbook = connect(**_list_of(args))
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
    from .runbook import connect

    options = CheckOptions(group=args.group, name=args.name, languages=args.languages, brand=args.brand,
                           support=args.support, hours=args.hours, since=args.since, apply=args.apply,
                           canary=not args.no_canary)
    try:
        if args.channels is not None:
            from .config import parse_channels

            options.channels = parse_channels(args.channels)
        runbook = connect(quiet=args.json or args.nagios, parallel=args.parallel, **_list_of(args))
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
    from .deploy import deploy_opt_out
    from .errors import EightByEightError
    from .groups import opt_out_list_name
    from .policy import KeywordPolicy
    from .runbook import connect
    from .config import parse_channels
    from .workflow import WorkflowOptions

    try:
        runbook = connect(quiet=args.json, **_list_of(args))
        languages = args.languages if args.languages is not None else runbook.settings.languages
        channels = parse_channels(args.channels) if args.channels is not None else None
        options = WorkflowOptions.of(runbook.settings, name=args.name, channels=channels, brand=args.brand,
                                     support=args.support)
        result = deploy_opt_out(runbook.client, opt_out_list_name(runbook.settings, args.group),
                                KeywordPolicy(languages=languages), options, apply=args.apply,
                                builder_dir=args.builder_dir)
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
    from .runbook import connect
    from .workflow import WorkflowOptions

    def deploy(client):
        return deploy_opt_out(client, opt_out_list_name(client.settings), KeywordPolicy(languages=client.settings.languages),
                              WorkflowOptions.of(client.settings), apply=True)

    try:
        runbook = connect(quiet=args.json, **_list_of(args))
        result = adopt(runbook.client, apply=args.apply, group=args.group, hours=args.hours,
                       reports_dir=args.reports_dir, canary=run_canary, deploy=deploy)
    except EightByEightError as exc:
        return _failed(exc, args.json)
    return _show(result, args.json)


def main(argv: list[str] | None = None) -> int:
    from .config import DEFAULT_NAME

    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="serve the 8x8 sandbox on 127.0.0.1 until stopped")
    sandbox.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    sandbox.add_argument("--state", help="SQLite file for a separate sandbox (default: the local sandbox's own "
                                         "state, .sandbox/state.sqlite, shared with the notebooks and commands)")
    sandbox.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request")
    sandbox.add_argument("--share-429", type=float, default=0.0, help="share of requests answered 429 (0..1)")
    sandbox.add_argument("--share-503", type=float, default=0.0, help="share of requests answered 503 (0..1)")
    sandbox.add_argument("--deterministic", action="store_true", help="fixed ids and a frozen clock")
    sandbox.add_argument("--stop", action="store_true", help="stop the local sandbox (the one the notebooks share)")
    sandbox.add_argument("--reset", action="store_true", help="stop the local sandbox and delete its state")
    sandbox.add_argument("--sample", choices=("bulk-remove", "import"),
                         help="put the sandbox's opt-out group at a sample file's starting point, as the runbook job "
                              "does before notebook 05 (bulk-remove) or 06 (import), and say what changed")
    sandbox.add_argument("--serve-local", action="store_true", help=argparse.SUPPRESS)  # the background server
    sandbox.set_defaults(run=_sandbox)

    runbook = commands.add_parser("runbook", help="execute every notebook in order into runs/<time>/")
    runbook.add_argument("--output", help="folder for the executed notebooks (default: runs/<time>/)")
    runbook.add_argument("--refresh-committed", nargs="*", metavar="NOTEBOOK",
                         help="maintainers: re-run each notebook alone on a fresh sandbox and save it in place (only "
                              "those named, by their number, e.g. 07, when given)")
    runbook.set_defaults(run=_runbook)

    deploy = commands.add_parser(
        "deploy", help="build and deploy the opt-out workflows (notebook 03's job)",
        description="Builds the WhatsApp and SMS opt-out workflows for the chosen languages, checks every script "
        "against 8x8's rules and the definitions against the official schema, and prints per language what is "
        "deployed. Dry run by default; --apply creates the workflows or updates them in place (idempotent) and "
        "reads them back. Exit 0: done; 1: a script breaks 8x8's rules; 2: bad input, nothing deployed.")
    deploy.add_argument("--group", help="name of the opt-out group (default: the list --opt-out-list chooses)")
    _add_list_options(deploy)
    deploy.add_argument("--languages", help="ISO 639-1 codes separated by commas, e.g. en,es,zh (default: "
                                            "EIGHTXEIGHT_LANGUAGES, else en; English is always in)")
    deploy.add_argument("--name", help=NAME_HELP)
    deploy.add_argument("--channels", help="channels, one workflow each (default: EIGHTXEIGHT_CHANNELS, else "
                                           "WhatsApp,SMS)")
    deploy.add_argument("--brand", help="named in the answer to HELP (default: EIGHTXEIGHT_BRAND_NAME)")
    deploy.add_argument("--support", help="support contact named in the answer to HELP (default: "
                                          "EIGHTXEIGHT_SUPPORT_CONTACT)")
    deploy.add_argument("--builder-dir", help="also write the Automation Builder JSON files here")
    deploy.add_argument("--apply", action="store_true", help="deploy (default: dry run); what was deployed is "
                                                              "saved in .env for every later command")
    deploy.add_argument("--json", action="store_true", help=JSON_HELP)
    deploy.set_defaults(run=_deploy)

    for name, what in (("bulk-remove", "remove the numbers of a file from the opt-out group (opt-ins)"),
                       ("bulk-add", "add the numbers of a file to the opt-out group (an opt-out list)")):
        verb = "removes memberships (never contacts)" if name == "bulk-remove" else \
            "creates or merges each number's contact into the group"
        bulk = commands.add_parser(
            name, help=what, description=f"{what[0].upper()}{what[1:]}. Dry run by default: reads, plans and writes "
            f"the report. --apply {verb}, then reads the group back to check every row. Exit 0: done; 1: some rows "
            "were invalid, or not as wanted at the check, or the run was interrupted (run it again to resume); "
            "2: nothing was changed (bad file or option, unknown group, another run on the group, 8x8 unreadable).")
        bulk.add_argument("file", help="CSV (comma, semicolon or tab; UTF-8) or Excel .xlsx file")
        bulk.add_argument("--group", help="opt-out group: id, or exact name (default: the list --opt-out-list chooses)")
        _add_list_options(bulk)
        bulk.add_argument("--column", help="column holding the numbers (default: found from the header or the values)")
        bulk.add_argument("--default-region", help="country of national numbers (written without +), e.g. SG, US, GB")
        bulk.add_argument("--country-column", help="column with each row's country (default: 'country' if present)")
        bulk.add_argument("--apply", action="store_true", help="change the group (default: dry run)")
        bulk.add_argument("--json", action="store_true", help=JSON_HELP)
        bulk.add_argument("--report", help="report CSV (default: a new timestamped file in --reports-dir)")
        bulk.add_argument("--reports-dir", default="reports", help="folder for reports and journals (default: reports)")
        bulk.add_argument("--journal", help="journal for resuming (default: in <reports-dir>/journals, named after "
                                            "the file's content, the group and the options)")
        bulk.add_argument("--chunk-size", type=int, default=500, help="numbers per chunk (1..500)")
        bulk.add_argument("--parallel", type=int, help="requests in flight at once (1..16; default: "
                                                       "EIGHTXEIGHT_PARALLEL_REQUESTS, else 4)")
        bulk.set_defaults(run=_bulk)

    rec = commands.add_parser(
        "reconcile", help="audit the opt-out workflows' runs against the group; repair lost opt-outs",
        description="Reads every run of the runbook's opt-out workflows (both channels) in the window and the "
        "opt-out group, and lists lost opt-outs (the Contacts call failed and the number is not in the group), "
        "opt-ins not applied, and opt-outs without a phone number. Dry run by default; --apply repairs (adds lost "
        "opt-outs; removes a member only when that number's latest message is an opt-in) and checks by reading the "
        "group back. Exit 0: nothing left lost; 1: some remain (each with its reason); 2: bad input or no "
        "workflow deployed.")
    window = rec.add_mutually_exclusive_group()
    window.add_argument("--hours", type=float, help="the last N hours (default: 168, seven days)")
    window.add_argument("--since", help="from this ISO 8601 time, e.g. 2026-01-05T09:00:00Z")
    rec.add_argument("--apply", action="store_true", help="repair (default: dry run)")
    rec.add_argument("--json", action="store_true", help=JSON_HELP)
    rec.add_argument("--ledger", help="write the ledger as CSV here (default: no file)")
    rec.add_argument("--name", help=NAME_HELP)
    _add_list_options(rec)
    rec.add_argument("--reports-dir", default="reports", help="folder for the repair journal (default: reports)")
    rec.add_argument("--parallel", type=int, help="requests in flight at once (1..16; default 4)")
    rec.set_defaults(run=_reconcile)

    aud = commands.add_parser(
        "audience", help="check a campaign audience file against the opt-out group and the ledger; write SEND.csv",
        description="Reads the audience file (CSV or .xlsx), the opt-out group (in pages) and the opt-out "
        "workflows' runs (the ledger), and writes --out with the file's own header and rows, in order, for the numbers "
        "that may receive the campaign. Left out, each with its reason in --report: members of the group (and whether "
        "they opted out within the hour, before 8x8's blacklist sync), opt-outs the ledger knows that the group does "
        "not hold yet, invalid numbers, duplicates. Nothing is sent and nothing changes on 8x8. Exit 0: checked; 1: "
        "checked, some rows invalid; 2: nothing checked, and no send list written.")
    aud.add_argument("file", help="CSV (comma, semicolon or tab; UTF-8) or Excel .xlsx file")
    aud.add_argument("--out", required=True, help="the send list to write (CSV)")
    aud.add_argument("--group", help="opt-out group: id, or exact name (default: 'WhatsApp opt-out', the account-wide "
                                     "blacklisted group; this subaccount's own list is checked too where it exists)")
    aud.add_argument("--subaccount", help="the subaccount the campaign is sent from (default: "
                                          "EIGHTXEIGHT_SUBACCOUNT_ID): its own list and its workflows' runs")
    aud.add_argument("--column", help="column holding the numbers (default: found from the header or the values)")
    aud.add_argument("--default-region", help="country of national numbers (written without +), e.g. SG, US, GB")
    aud.add_argument("--country-column", help="column with each row's country (default: 'country' if present)")
    aud.add_argument("--bsuid-column", help="column of WhatsApp BSUIDs (default: one named bsuid, channel_user_id, "
                                           "...): customers whose STOP came without a number are left out too")
    aud.add_argument("--report", help="CSV of the rows left out, with reasons (default: no file)")
    aud.add_argument("--reports-dir", default="reports", help="the health check's folder (--reports-dir of check): "
                                                              "its kept opt-outs without a number are read there")
    aud.add_argument("--hours", type=float, help="the ledger's window: the last N hours (default: 168)")
    aud.add_argument("--json", action="store_true", help=JSON_HELP)
    aud.add_argument("--no-ledger", action="store_true", help="the group alone decides (no workflow runs read)")
    aud.add_argument("--name", help="the opt-out workflows' name, whose runs the ledger reads (default: "
                                    f"EIGHTXEIGHT_WORKFLOW_NAME, else {DEFAULT_NAME!r}; a name given must be deployed)")
    aud.add_argument("--parallel", type=int, help="requests in flight at once (1..16; default 4)")
    aud.set_defaults(run=_audience)

    templates = commands.add_parser(
        "templates", help="check that the WhatsApp templates tell customers a way out the workflow understands",
        description="Reads the WhatsApp templates of each --channel and finds each one's way out: a word shown in "
        "its body or footer (\"Reply STOP to unsubscribe\", \"Responde BAJA\") or a quick-reply button (\"Stop "
        "promotions\"). Then asks the deployed WhatsApp workflow whether it takes that as an opt-out. Listed: "
        "marketing templates with no way out, and ways out the workflow misses, with what to do. Exit 0: every way "
        "out is understood; 1: some template needs action; 2: the templates could not be read.")
    templates.add_argument("--channel", action="append", default=[], help="a WhatsApp channel id (repeat for more)")
    templates.add_argument("--name", help=NAME_HELP)
    templates.add_argument("--subaccount", help="the subaccount whose workflows judge (default: EIGHTXEIGHT_SUBACCOUNT_ID)")
    templates.set_defaults(run=_templates)

    check = commands.add_parser(
        "check", help="the health check to schedule: drift, canary, lost opt-outs (repaired with --apply)",
        description="Checks that both opt-out workflows are deployed, enabled and as the runbook builds them "
        "(same group, languages and HELP answer: give the options deploy was given); runs a canary through each "
        "(a test STOP and START from a reserved test number, read back from the group, which is left as it was); "
        "and finds opt-outs lost since the last check (a checkpoint in --reports-dir), repaired with --apply and "
        "read back. Exit 0: all is well; 1: something needs action (each line says what, and the fix); 2: the check "
        "could not run (nothing verified). The last line is a one-line summary.")
    check.add_argument("--apply", action="store_true", help="repair lost opt-outs and opt-ins not applied")
    output = check.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=JSON_HELP)
    output.add_argument("--nagios", action="store_true",
                        help="a Monitoring Plugins status line with performance data, and its exit codes: 0 OK, "
                             "1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not run)")
    check.add_argument("--metrics", metavar="FILE",
                       help="also write the check as a Prometheus textfile (node_exporter's textfile collector), "
                            "replaced whole: lost opt-outs, the oldest open row's age, time to honour, the last "
                            "successful check")
    check_window = check.add_mutually_exclusive_group()
    check_window.add_argument("--hours", type=float, help="runs of the last N hours (default: since the last check, "
                                                          "else 168)")
    check_window.add_argument("--since", help="runs from this ISO 8601 time")
    check.add_argument("--group", help="name of the opt-out group (default: the list --opt-out-list chooses)")
    _add_list_options(check)
    check.add_argument("--name", help=NAME_HELP)
    check.add_argument("--languages", help="the languages deployed (default: EIGHTXEIGHT_LANGUAGES, else en)")
    check.add_argument("--channels", help="the channels deployed (default: EIGHTXEIGHT_CHANNELS, else WhatsApp,SMS)")
    check.add_argument("--brand", help="the brand deployed (default: EIGHTXEIGHT_BRAND_NAME)")
    check.add_argument("--support", help="the support contact deployed (default: EIGHTXEIGHT_SUPPORT_CONTACT)")
    check.add_argument("--no-canary", action="store_true", help="skip the test runs")
    check.add_argument("--reports-dir", default="reports", help="folder of the checkpoint and repair journals")
    check.add_argument("--parallel", type=int, help="requests in flight at once (1..16; default 4)")
    check.set_defaults(run=_check)

    adopt = commands.add_parser(
        "adopt", help="coming from 8x8's tutorial: find the other opt-out flows and lists, recover what they lost",
        description="Reads every workflow on the subaccount's inbound triggers and classifies it (the runbook's, "
        "another opt-out flow, another flow that answers messages); for each other opt-out flow, its defects and "
        "its runs (who asked to stop, by the runbook's policy, and who no blacklisted group holds: lost); every "
        "blacklisted group with its size, and the one the runbook uses (the account's own, never a second one). "
        "Dry run by default. --apply recovers the lost opt-outs into that group (journaled, read back; nothing is "
        "sent to them), deploys the runbook's workflows if they are not there, and once they run and their canary "
        "passed, disables (never deletes) the other opt-out flows on the same triggers. Exit 0: nothing left to do; "
        "1: something needs action (or was left, each with why); 2: nothing done.")
    adopt.add_argument("--apply", action="store_true", help="recover, deploy, then disable (default: dry run)")
    adopt.add_argument("--group", help="the blacklisted group to use when the account has several")
    adopt.add_argument("--hours", type=float, help="the runs of the last N hours (default: 90 days)")
    _add_list_options(adopt)
    adopt.add_argument("--reports-dir", default="reports", help="folder for the recovery's journal (default: reports)")
    adopt.add_argument("--json", action="store_true", help=JSON_HELP)
    adopt.set_defaults(run=_adopt)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
