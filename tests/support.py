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
