"""The docs' reference, generated from the code at every build (mkdocs-gen-files), so it cannot drift:
the commands from the argparse parser, the settings from the settings table, the exit codes from the
one table, the files each command writes, the sandbox's API and controls. The tutorial's pages are
the committed notebooks, copied in as they are (mkdocs-jupyter renders them with their outputs)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import config  # noqa: E402
from helpers.__main__ import EXIT_CODES  # noqa: E402
from helpers.cli import PROG, WRITES, build_parser  # noqa: E402
from sandbox.automation import urls as automation_urls  # noqa: E402
from sandbox.contacts import urls as contacts_urls  # noqa: E402
from sandbox.control import CONTROLS  # noqa: E402
from sandbox.messaging import urls as messaging_urls  # noqa: E402


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def option_names(action: argparse.Action) -> str:
    names = action.option_strings or [action.dest]
    shown = ", ".join(f"`{n}`" for n in names)
    if action.choices and action.option_strings:
        shown += " {" + ", ".join(map(str, action.choices)) + "}"
    elif action.nargs != 0 and action.option_strings:
        shown += f" `{action.metavar or action.dest.upper()}`"
    return shown


def commands_page() -> str:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    out = [
        "# Commands",
        "",
        f"Every job is `{PROG} COMMAND`. {parser.description}",
        "Generated from the parser (`helpers/cli.py`); `--help` prints the same.",
        "",
    ]
    out += ["| command | what it does |", "|---|---|"]
    out += [f"| [`{name}`](#{name}) | {cell(helps[name])} |" for name in subparsers.choices]
    for name, command in subparsers.choices.items():
        out += [
            "",
            f"## {name}",
            "",
            "```",
            command.format_usage().strip(),
            "```",
            "",
            cell(command.description or helps[name]),
            "",
        ]
        for group in command._action_groups:
            actions = [
                a
                for a in group._group_actions
                if a.help != argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)
            ]
            if not actions:
                continue
            out += [f"**{group.title[0].upper()}{group.title[1:]}**", "", "| option | meaning |", "|---|---|"]
            out += [f"| {option_names(a)} | {cell(a.help or '')} |" for a in actions]
            out.append("")
        out += ["**Writes**", ""] + [f"- {cell(w)}" for w in WRITES[name]]
    return "\n".join(out) + "\n"


def settings_page() -> str:
    out = [
        "# Settings",
        "",
        "Read from the environment, then from `.env` (the environment wins). Generated from "
        "the settings table (`helpers/config.py`, `SETTINGS_DOC`).",
        "",
        "| setting | meaning |",
        "|---|---|",
    ]
    out += [f"| `{name}` | {cell(meaning)} |" for name, meaning in config.SETTINGS_DOC.items()]
    out += [
        "",
        "## Read by the harness",
        "",
        "Set by the runbook job and the tests, not by operators (`helpers/config.py`, `OTHER_VARIABLES`).",
        "",
        "| variable | meaning |",
        "|---|---|",
    ]
    out += [f"| `{name}` | {cell(meaning)} |" for name, meaning in config.OTHER_VARIABLES_DOC.items()]
    return "\n".join(out) + "\n"


def exit_codes_page() -> str:
    out = [
        "# Exit codes",
        "",
        "A command that finishes ends with 0 (all is well, or done) or 1 (something needs action: each line says "
        "what, and the fix). A command that fails ends with the code of the first row below that the failure is "
        "(`helpers/__main__.py`, `EXIT_CODES`). 2 means nothing was done: fix the input or the settings, or wait, "
        "and run it again.",
        "",
        "| failure | code | meaning |",
        "|---|---|---|",
    ]
    out += [f"| `{kind.__name__}` | {code} | {cell((kind.__doc__ or '').strip())} |" for kind, code in EXIT_CODES]
    out += [
        "",
        "`check --nagios` uses the Monitoring Plugins' codes instead: 0 OK, 1 WARNING, 2 CRITICAL, "
        "3 UNKNOWN (the check could not run).",
        "",
        "Each command's own description in [Commands](commands.md) says what its 0, 1 and 2 mean.",
    ]
    return "\n".join(out) + "\n"


def files_page() -> str:
    out = [
        "# Files each command writes",
        "",
        "`<key>` is `<platform>-<account>-<subaccount>`. Every CSV is "
        "formula-safe and readable by its owner only. Generated from `helpers/cli.py` (`WRITES`).",
        "",
    ]
    for name, files in WRITES.items():
        out += [f"## {name}", ""] + [f"- {cell(f)}" for f in files] + [""]
    return "\n".join(out)


def path_of(pattern: str) -> str:
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern).replace("\\", "")


def sandbox_page() -> str:
    out = [
        "# The sandbox's API",
        "",
        "What the sandbox serves on 127.0.0.1, generated from its routes "
        "(`sandbox/*/urls.py`) and its controls (`sandbox/control.py`). See also "
        "[the sandbox explained](../explanation/sandbox.md).",
        "",
    ]
    for title, module in (
        ("Contacts", contacts_urls),
        ("Automation", automation_urls),
        ("Messaging Apps", messaging_urls),
    ):
        out += [f"## {title}", "", "| method | path | handler |", "|---|---|---|"]
        out += [
            f"| {method} | `{path_of(pattern)}` | {handler.__name__.replace('_', ' ')} |"
            for method, pattern, handler in module.url_patterns
        ]
        out.append("")
    out += [
        "## Controls",
        "",
        "Sandbox-only, under `/_sandbox/`. They take the API's Bearer key (`sandbox-api-key`).",
        "",
        "| method | path | what it does |",
        "|---|---|---|",
    ]
    out += [f"| {method} | `{path}` | {cell(what)} |" for method, path, _, what in CONTROLS]
    return "\n".join(out) + "\n"


PAGES = {
    "reference/commands.md": commands_page,
    "reference/settings.md": settings_page,
    "reference/exit-codes.md": exit_codes_page,
    "reference/files.md": files_page,
    "reference/sandbox-api.md": sandbox_page,
}

for page, make in PAGES.items():
    with mkdocs_gen_files.open(page, "w") as handle:
        handle.write(make())
    mkdocs_gen_files.set_edit_path(page, "gen_reference.py")

for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
    with mkdocs_gen_files.open(f"tutorial/{notebook.name}", "wb") as handle:
        handle.write(notebook.read_bytes())
