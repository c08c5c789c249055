"""What several test modules share: the opt-out group's name and a read of its members."""
from __future__ import annotations

GROUP = "WhatsApp opt-out"


def members(client, group) -> set[str]:
    """The numbers in the group (a group dict or its id), read from the sandbox."""
    group_id = group["id"] if isinstance(group, dict) else group
    return {c["addresses"]["msisdn"] for c in client.contacts.group_members(group_id)}


def seed_members(sandbox, group_id: int, numbers) -> int:
    """New contacts for ``numbers``, put in the group, through the sandbox's seed control (HTTP)."""
    from helpers.runbook import SandboxControls

    return SandboxControls(sandbox.base_url).seed(groups=[{"id": group_id, "members": list(numbers)}])["groups"][0]["members"]


def sandbox_client(sandbox):
    """A client of that sandbox, as a notebook pointed at it would have (no key: sandbox mode)."""
    from helpers.client import Client
    from helpers.config import load_settings

    return Client(load_settings(env={}, env_file=None).with_base_url(sandbox.base_url))
