"""The command line's one definition: every command, its options in groups, each shared option
declared once. ``helpers.__main__`` parses with it and runs; the docs' command reference is
generated from it (docs/gen_reference.py)."""

from __future__ import annotations

import argparse

from .config import DEFAULT_NAME, MAX_PARALLEL

PROG = "python -m helpers"
DESCRIPTION = "The opt-out runbook's jobs. Changes are dry runs unless --apply is given."
FILE_HELP = "CSV (comma, semicolon or tab; UTF-8) or Excel .xlsx file"


# The files each command writes (<key> is <platform>-<account>-<subaccount>): shown by --help and in
# the docs' reference. Every CSV is formula-safe and readable by its owner only.
WRITES = {
    "sandbox": ["the local sandbox's state: .sandbox/state.sqlite (or --state FILE)"],
    "runbook": [
        "the executed notebooks and their files (Automation Builder JSON, test-messages.csv, the ledger, "
        "the send list): runs/<date-time>/ (or --output)",
        "with --refresh-committed: the committed notebooks in notebooks/, in place",
    ],
    "deploy": [
        "with --apply: what was deployed (brand, support, languages, channels, name, group), in .env",
        "with --builder-dir: the Automation Builder JSON files",
    ],
    "bulk-remove": [
        "the report: <reports-dir>/bulk-remove-<file>-group<id>-<time>.csv (or --report)",
        "with --apply: the journal for resuming: <reports-dir>/journals/",
    ],
    "bulk-add": [
        "the report: <reports-dir>/bulk-add-<file>-group<id>-<time>.csv (or --report)",
        "with --apply: the journal for resuming: <reports-dir>/journals/",
    ],
    "reconcile": ["with --ledger: the ledger as CSV", "with --apply: the repair journal: <reports-dir>/journals/"],
    "audience": [
        "the send list: --out (written whole, only once every row was checked)",
        "with --report: the rows left out, with reasons",
    ],
    "templates": ["nothing"],
    "check": [
        "the checkpoint: <reports-dir>/check-checkpoint-<key>.json",
        "opt-outs not yet in the group: <reports-dir>/open-opt-outs-<key>.json",
        "opt-outs without a phone number: <reports-dir>/opt-outs-without-number-<key>.json",
        "with --apply: the repair journal: <reports-dir>/journals/",
        "with --metrics FILE: a Prometheus textfile, replaced whole",
    ],
    "adopt": [
        "with --apply: the recovery's journal: <reports-dir>/journals/",
        "with --apply: the adopted group's name (EIGHTXEIGHT_OPT_OUT_GROUP), in .env",
    ],
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    commands = _Commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    for add in (_sandbox, _runbook, _deploy, _bulk, _reconcile, _audience, _templates, _check, _adopt):
        add(commands)
    return parser


class _Commands:
    """add_parser with each command's files written as its --help epilog."""

    def __init__(self, subparsers) -> None:
        self._subparsers = subparsers

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        epilog = "Writes: " + "; ".join(WRITES[name]) + "."
        return self._subparsers.add_parser(name, epilog=epilog, **kwargs)


# Options shared by several commands, each declared here once.


def _json(group) -> None:
    group.add_argument(
        "--json", action="store_true", help="print the result as JSON (its values: for scheduled jobs and monitoring)"
    )


def _parallel(group) -> None:
    group.add_argument(
        "--parallel",
        type=int,
        help=f"requests in flight at once (1..{MAX_PARALLEL}; default: EIGHTXEIGHT_PARALLEL_REQUESTS, else 4)",
    )


def _reports_dir(group, what: str) -> None:
    group.add_argument("--reports-dir", default="reports", help=f"folder for {what} (default: reports)")


def _name(group, what: str = "the workflows' name") -> None:
    group.add_argument("--name", help=f"{what} (default: EIGHTXEIGHT_WORKFLOW_NAME, else {DEFAULT_NAME!r})")


def _opt_out_list(group, *, by_id: bool = False, with_group: bool = True) -> None:
    if with_group:
        group.add_argument(
            "--group",
            help=("opt-out group: id, or exact name" if by_id else "the opt-out group's exact name")
            + " (default: EIGHTXEIGHT_OPT_OUT_GROUP, else the list "
            "--opt-out-list chooses)",
        )
    group.add_argument(
        "--subaccount", help="the subaccount whose workflows and list (default: EIGHTXEIGHT_SUBACCOUNT_ID)"
    )
    group.add_argument(
        "--opt-out-list",
        choices=("account", "subaccount"),
        help="account: the account-wide blacklisted group (8x8 enforces it); subaccount: the "
        "subaccount's own list 'Opt-out: <subaccount>' (the audience check enforces it). "
        "Default: EIGHTXEIGHT_OPT_OUT_LIST, else account",
    )


def _deployed(group, verb: str) -> None:
    """What the workflows are built from: deploy sets it, check compares against it."""
    group.add_argument(
        "--languages",
        help=f"the languages {verb}: ISO 639-1 codes separated by commas, e.g. "
        "en,es,zh (default: EIGHTXEIGHT_LANGUAGES, else en; English is always in)",
    )
    group.add_argument(
        "--channels", help=f"the channels {verb}, one workflow each (default: EIGHTXEIGHT_CHANNELS, else WhatsApp,SMS)"
    )
    group.add_argument("--brand", help=f"the brand {verb} in the answer to HELP (default: EIGHTXEIGHT_BRAND_NAME)")
    group.add_argument(
        "--support", help=f"the support contact {verb} in the answer to HELP (default: EIGHTXEIGHT_SUPPORT_CONTACT)"
    )


def _numbers_file(group) -> None:
    group.add_argument("file", help=FILE_HELP)
    group.add_argument("--column", help="column holding the numbers (default: found from the header or the values)")
    group.add_argument("--default-region", help="country of national numbers (written without +), e.g. SG, US, GB")
    group.add_argument("--country-column", help="column with each row's country (default: 'country' if present)")


def _window(group, default: str, *, since: bool = True) -> None:
    if since:
        group = group.add_mutually_exclusive_group()
    group.add_argument("--hours", type=float, help=f"the runs of the last N hours (default: {default})")
    if since:
        group.add_argument("--since", help="the runs from this ISO 8601 time, e.g. 2026-01-05T09:00:00Z")


# The commands, in the order the README lists them.


def _sandbox(commands) -> None:
    sandbox = commands.add_parser("sandbox", help="serve the 8x8 sandbox on 127.0.0.1 until stopped")
    local = sandbox.add_argument_group("the local sandbox (the one the notebooks and commands share)")
    local.add_argument("--stop", action="store_true", help="stop the local sandbox")
    local.add_argument("--reset", action="store_true", help="stop the local sandbox and delete its state")
    local.add_argument(
        "--sample",
        choices=("bulk-remove", "import"),
        help="put the sandbox's opt-out group at a sample file's starting point, as the runbook job "
        "does before notebook 05 (bulk-remove) or 06 (import), and say what changed",
    )
    local.add_argument("--serve-local", action="store_true", help=argparse.SUPPRESS)  # the background server
    served = sandbox.add_argument_group("a separate sandbox")
    served.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    served.add_argument(
        "--state",
        help="SQLite file for a separate sandbox (default: the local sandbox's own state, .sandbox/state.sqlite)",
    )
    served.add_argument("--deterministic", action="store_true", help="fixed ids and a frozen clock")
    faults = sandbox.add_argument_group("faults")
    faults.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request")
    faults.add_argument("--share-429", type=float, default=0.0, help="share of requests answered 429 (0..1)")
    faults.add_argument("--share-503", type=float, default=0.0, help="share of requests answered 503 (0..1)")


def _runbook(commands) -> None:
    runbook = commands.add_parser("runbook", help="execute every notebook in order into runs/<time>/")
    runbook.add_argument("--output", help="folder for the executed notebooks (default: runs/<time>/)")
    runbook.add_argument(
        "--refresh-committed",
        nargs="*",
        metavar="NOTEBOOK",
        help="maintainers: re-run each notebook alone on a fresh sandbox and save it in place (only "
        "those named, by their number, e.g. 07, when given)",
    )


def _deploy(commands) -> None:
    deploy = commands.add_parser(
        "deploy",
        help="build and deploy the opt-out workflows (notebook 03's job)",
        description="Builds the WhatsApp and SMS opt-out workflows for the chosen languages, checks every script "
        "against 8x8's rules and the definitions against the official schema, and prints per language what is "
        "deployed. Dry run by default; --apply creates the workflows or updates them in place (idempotent) and "
        "reads them back. Exit 0: done; 1: a script breaks 8x8's rules; 2: bad input, nothing deployed.",
    )
    built = deploy.add_argument_group("what is built")
    _name(built)
    _deployed(built, "deployed")
    where = deploy.add_argument_group("the opt-out list")
    _opt_out_list(where)
    change = deploy.add_argument_group("change and output")
    change.add_argument(
        "--apply",
        action="store_true",
        help="deploy (default: dry run); what was deployed is saved in .env for every later command",
    )
    change.add_argument("--builder-dir", help="also write the Automation Builder JSON files here")
    _json(change)


def _bulk(commands) -> None:
    for name, what in (
        ("bulk-remove", "remove the numbers of a file from the opt-out group (opt-ins)"),
        ("bulk-add", "add the numbers of a file to the opt-out group (an opt-out list)"),
    ):
        verb = (
            "removes memberships (never contacts)"
            if name == "bulk-remove"
            else "creates or merges each number's contact into the group"
        )
        bulk = commands.add_parser(
            name,
            help=what,
            description=f"{what[0].upper()}{what[1:]}. Dry run by default: reads, plans and writes "
            f"the report. --apply {verb}, then reads the group back to check every row. Exit 0: done; 1: some rows "
            "were invalid, or not as wanted at the check, or the run was interrupted (run it again to resume); "
            "2: nothing was changed (bad file or option, unknown group, another run on the group, 8x8 unreadable).",
        )
        source = bulk.add_argument_group("the file")
        _numbers_file(source)
        where = bulk.add_argument_group("the opt-out list")
        _opt_out_list(where, by_id=True)
        change = bulk.add_argument_group("change and output")
        change.add_argument("--apply", action="store_true", help="change the group (default: dry run)")
        change.add_argument("--report", help="report CSV (default: a new timestamped file in --reports-dir)")
        _reports_dir(change, "reports and journals")
        change.add_argument(
            "--journal",
            help="journal for resuming (default: in <reports-dir>/journals, named after "
            "the file's content, the group and the options)",
        )
        _json(change)
        speed = bulk.add_argument_group("speed")
        speed.add_argument("--chunk-size", type=int, default=500, help="numbers per chunk (1..500)")
        _parallel(speed)


def _reconcile(commands) -> None:
    rec = commands.add_parser(
        "reconcile",
        help="audit the opt-out workflows' runs against the group; repair lost opt-outs",
        description="Reads every run of the runbook's opt-out workflows (both channels) in the window and the "
        "opt-out group, and lists lost opt-outs (the Contacts call failed and the number is not in the group), "
        "opt-ins not applied, and opt-outs without a phone number. Dry run by default; --apply repairs (adds lost "
        "opt-outs; removes a member only when that number's latest message is an opt-in) and checks by reading the "
        "group back. Exit 0: nothing left lost; 1: some remain (each with its reason); 2: bad input or no "
        "workflow deployed.",
    )
    read = rec.add_argument_group("what is read")
    _window(read, "168, seven days")
    _name(read)
    _opt_out_list(read, with_group=False)
    change = rec.add_argument_group("change and output")
    change.add_argument("--apply", action="store_true", help="repair (default: dry run)")
    change.add_argument("--ledger", help="write the ledger as CSV here (default: no file)")
    _reports_dir(change, "the repair journal")
    _json(change)
    _parallel(rec.add_argument_group("speed"))


def _audience(commands) -> None:
    aud = commands.add_parser(
        "audience",
        help="check a campaign audience file against the opt-out group and the ledger; write SEND.csv",
        description="Reads the audience file (CSV or .xlsx), the opt-out group (in pages) and the opt-out "
        "workflows' runs (the ledger), and writes --out with the file's own header and rows, in order, for the numbers "
        "that may receive the campaign. Left out, each with its reason in --report: members of the group (and whether "
        "they opted out within the hour, before 8x8's blacklist sync), opt-outs the ledger knows that the group does "
        "not hold yet, invalid numbers, duplicates. Nothing is sent and nothing changes on 8x8. Exit 0: checked; 1: "
        "checked, some rows invalid; 2: nothing checked, and no send list written.",
    )
    source = aud.add_argument_group("the file")
    _numbers_file(source)
    source.add_argument(
        "--bsuid-column",
        help="column of WhatsApp BSUIDs (default: one named bsuid, channel_user_id, "
        "...): customers whose STOP came without a number are left out too",
    )
    lists = aud.add_argument_group("the opt-out lists and the ledger")
    lists.add_argument(
        "--group",
        help="opt-out group: id, or exact name (default: the account-wide blacklisted "
        "group; this subaccount's own list is checked too where it exists)",
    )
    lists.add_argument(
        "--subaccount",
        help="the subaccount the campaign is sent from (default: "
        "EIGHTXEIGHT_SUBACCOUNT_ID): its own list and its workflows' runs",
    )
    _window(lists, "168", since=False)
    lists.add_argument("--no-ledger", action="store_true", help="the group alone decides (no workflow runs read)")
    _name(lists, "the opt-out workflows' name, whose runs the ledger reads; a name given must be deployed")
    output = aud.add_argument_group("output")
    output.add_argument("--out", required=True, help="the send list to write (CSV)")
    output.add_argument("--report", help="CSV of the rows left out, with reasons (default: no file)")
    _reports_dir(output, "the health check's kept opt-outs without a number (--reports-dir of check)")
    _json(output)
    _parallel(aud.add_argument_group("speed"))


def _templates(commands) -> None:
    templates = commands.add_parser(
        "templates",
        help="check that the WhatsApp templates tell customers a way out the workflow understands",
        description="Reads the WhatsApp templates of each --channel and finds each one's way out: a word shown in "
        'its body or footer ("Reply STOP to unsubscribe", "Responde BAJA") or a quick-reply button ("Stop '
        'promotions"). Then asks the deployed WhatsApp workflow whether it takes that as an opt-out. Listed: '
        "marketing templates with no way out, and ways out the workflow misses, with what to do. Exit 0: every way "
        "out is understood; 1: some template needs action; 2: the templates could not be read.",
    )
    templates.add_argument("--channel", action="append", default=[], help="a WhatsApp channel id (repeat for more)")
    _name(templates)
    templates.add_argument(
        "--subaccount", help="the subaccount whose workflows judge (default: EIGHTXEIGHT_SUBACCOUNT_ID)"
    )


def _check(commands) -> None:
    check = commands.add_parser(
        "check",
        help="the health check to schedule: drift, canary, lost opt-outs (repaired with --apply)",
        description="Checks that both opt-out workflows are deployed, enabled and as the runbook builds them "
        "(same group, languages and HELP answer: give the options deploy was given); runs a canary through each "
        "(a test STOP and START from a reserved test number, read back from the group, which is left as it was); "
        "and finds opt-outs lost since the last check (a checkpoint in --reports-dir), repaired with --apply and "
        "read back. Exit 0: all is well; 1: something needs action (each line says what, and the fix); 2: the check "
        "could not run (nothing verified). The last line is a one-line summary.",
    )
    compared = check.add_argument_group("what the deployed workflows are compared with")
    _name(compared)
    _deployed(compared, "deployed")
    _opt_out_list(compared)
    read = check.add_argument_group("what is read and done")
    _window(read, "since the last check, else 168")
    read.add_argument("--apply", action="store_true", help="repair lost opt-outs and opt-ins not applied")
    read.add_argument("--no-canary", action="store_true", help="skip the test runs")
    output = check.add_argument_group("output")
    formats = output.add_mutually_exclusive_group()
    _json(formats)
    formats.add_argument(
        "--nagios",
        action="store_true",
        help="a Monitoring Plugins status line with performance data, and its exit codes: 0 OK, "
        "1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not run)",
    )
    output.add_argument(
        "--metrics",
        metavar="FILE",
        help="also write the check as a Prometheus textfile (node_exporter's textfile collector), "
        "replaced whole: lost opt-outs, the oldest open row's age, time to honour, the last "
        "successful check",
    )
    _reports_dir(output, "the checkpoint, the kept open rows and the repair journals")
    _parallel(check.add_argument_group("speed"))


def _adopt(commands) -> None:
    adopt = commands.add_parser(
        "adopt",
        help="coming from 8x8's tutorial: find the other opt-out flows and lists, recover what they lost",
        description="Reads every workflow on the subaccount's inbound triggers and classifies it (the runbook's, "
        "another opt-out flow, another flow that answers messages); for each other opt-out flow, its defects and "
        "its runs (who asked to stop, by the runbook's policy, and who no blacklisted group holds: lost); every "
        "blacklisted group with its size, and the one the runbook uses (the account's own, never a second one). "
        "Dry run by default. --apply recovers the lost opt-outs into that group (journaled, read back; nothing is "
        "sent to them), deploys the runbook's workflows if they are not there, and once they run and their canary "
        "passed, disables (never deletes) the other opt-out flows on the same triggers. Exit 0: nothing left to do; "
        "1: something needs action (or was left, each with why); 2: nothing done.",
    )
    read = adopt.add_argument_group("what is read")
    read.add_argument("--group", help="the blacklisted group to use when the account has several")
    _window(read, "90 days", since=False)
    _opt_out_list(read, with_group=False)
    change = adopt.add_argument_group("change and output")
    change.add_argument("--apply", action="store_true", help="recover, deploy, then disable (default: dry run)")
    _reports_dir(change, "the recovery's journal")
    _json(change)
