"""What several test modules share: the opt-out group's name and a read of its members, a command
run against a test's sandbox, and a browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

GROUP = "WhatsApp opt-out"


def members(client, group) -> set[str]:
    """The numbers in the group (a group dict or its id), read from the sandbox."""
    group_id = group["id"] if isinstance(group, dict) else group
    return {c["addresses"]["msisdn"] for c in client.contacts.group_members(group_id)}


def seed_members(sandbox, group_id: int, numbers) -> int:
    """New contacts for ``numbers``, put in the group, through the sandbox's seed control (HTTP)."""
    from helpers.runbook import SandboxControls

    return SandboxControls(sandbox.base_url).seed(groups=[{"id": group_id, "members": list(numbers)}])["groups"][0][
        "members"
    ]


def sandbox_client(sandbox):
    """A client of that sandbox, as a notebook pointed at it would have (no key: sandbox mode)."""
    from helpers.client import Client
    from helpers.config import load_settings

    return Client(load_settings(env={}, env_file=None).with_base_url(sandbox.base_url))


def tutorial_definitions(settings, group_id: int) -> list[dict]:
    """8x8's Opt-Out template as its two tutorials publish it (examples/opt_out_tutorials.json): a Branch on
    "STOP" anywhere, case-sensitive; the add-to-group request with ``{{data.payload.recipient.channelId}}``
    as the number; and a confirmation sent right after, whatever the Contacts call answered. No retry."""
    contacts = f"{settings.base_urls()['contacts']}/api/v1/accounts/{settings.account_id}/contacts"
    add = {
        "url": contacts,
        "method": "POST",
        "headers": {"Content-Type": "application/json", "Authorization": "Bearer sandbox-api-key"},
        "body": {"groups": [{"id": group_id}], "addresses": {"msisdn": "{{data.payload.recipient.channelId}}"}},
    }
    whatsapp = [
        {
            "id": "branch",
            "stepType": "Branch",
            "selectNextStep": {"add_contact": "{{stringContains(data.payload.content.text, 'STOP')}}"},
        },
        {"id": "add_contact", "stepType": "HttpRequest", "inputs": add, "nextStepId": "opt_out_message"},
        {
            "id": "opt_out_message",
            "stepType": "ChatAppsMessage",
            "inputs": {
                "subAccountId": settings.subaccount_id,
                "user": {"msisdn": "{{data.payload.user.msisdn}}"},
                "type": "text",
                "content": {"text": "You have been opted out."},
            },
        },
    ]
    sms = [
        {
            "id": "branch",
            "stepType": "Branch",
            "selectNextStep": {"add_contact": "{{stringContains(data.payload.body, 'STOP')}}"},
        },
        {"id": "add_contact", "stepType": "HttpRequest", "inputs": add, "nextStepId": "opt_out_message"},
        {
            "id": "opt_out_message",
            "stepType": "SMS",
            "inputs": {
                "subAccountId": settings.subaccount_id,
                "source": "{{data.payload.destination}}",
                "destination": "{{data.payload.source}}",
                "text": "You have been opted out.",
            },
        },
    ]
    return [
        {
            "subAccountId": settings.subaccount_id,
            "trigger": trigger,
            "status": "enabled",
            "definition": {"name": "Opt-Out", "steps": steps},
        }
        for trigger, steps in (("inbound_chat_apps", whatsapp), ("inbound_sms", sms))
    ]


def command(sandbox, *args, cwd, timeout: float = 180):
    """`python -m helpers ARGS` in a fresh process against ``sandbox`` (no API key), from ``cwd``."""
    env = {**os.environ, "EIGHTXEIGHT_BASE_URL": sandbox.base_url}
    env.pop("EIGHTXEIGHT_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "helpers", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = (
    "no Chromium on this machine: .ci/run installs Debian's chromium when it runs as root; "
    "install it with `apt-get install chromium`"
)


@contextmanager
def chromium() -> Iterator:
    """Debian's Chromium driven by Playwright, for a module's fixture. Where there is none, the test
    skips and says why (pytest -rs prints it)."""
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (requirements.txt has it)"
    )
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
