"""POST /_sandbox/seed: the sandbox's state in one JSON body, so that tests, benchmarks and
notebooks stop reaching into the sandbox's Python internals (as moto's seed and reset).

    {"account": "sandbox-account",                       # optional: the sandbox's account
     "groups": [{"name": "WhatsApp opt-out", "isBlacklist": true, "description": "...",
                 "members": ["+6591234567", ...]},       # members: new contacts, put in the group
                {"id": 11001, "members": [...]}],        # new members for a group that exists
     "contacts": ["+6598765432", ...],                   # contacts in no group
     "definitions": [{definitionInput}, ...],            # as POST .../definitions takes them
     "templates": [{registered template}, ...]}          # WhatsApp templates, as the templates list answers them

Everything is checked as the API checks it (group names, msisdn pattern, the definition's rules),
and all of it is refused (400) when any of it is wrong, before anything is made. Seeded contacts
must be new numbers: the seed makes state, it does not merge into what is there.
"""

from __future__ import annotations

from .automation.responses import definition_input
from .contacts.schema import check_msisdn, msisdn_key
from .defaults import SANDBOX_ACCOUNT_ID
from .errors import DuplicateGroupName, InvalidRequest
from .messaging.models import check_template

USAGE = (
    '{"groups": [{"name", "isBlacklist", "description", "members": [msisdn, ...]}], "contacts": [msisdn, ...], '
    '"definitions": [definitionInput, ...], "templates": [registered template, ...]}'
)


def seed_state(sandbox, body) -> dict:
    """Check the whole body first (nothing is made when any of it is wrong), then make it."""
    if not isinstance(body, dict) or set(body) - {"account", "groups", "contacts", "definitions", "templates"}:
        raise InvalidRequest(f"The seed body is {USAGE}.")
    account = body.get("account", SANDBOX_ACCOUNT_ID)
    if account not in set(sandbox.messaging.subaccounts.values()):
        raise InvalidRequest(f"Unknown account {account!r}.")
    groups, loose, definitions, templates = (
        body.get(k, []) for k in ("groups", "contacts", "definitions", "templates")
    )
    if not all(isinstance(x, list) for x in (groups, loose, definitions, templates)):
        raise InvalidRequest(f"groups, contacts, definitions and templates are lists: {USAGE}.")
    _check_numbers(sandbox, account, groups, loose)
    for template in templates:
        check_template(template)
    parsed = [definition_input({"accountId": account, **d} if isinstance(d, dict) else d, account) for d in definitions]
    for spec in parsed:
        sandbox.automation.validate(spec)
    made = {
        "groups": [_make_group(sandbox, account, group) for group in groups],
        "contacts": 0,
        "definitions": [],
        "templates": 0,
    }
    if loose:
        made["contacts"] = sandbox.contacts.add_contacts_bulk(account, loose)
    for spec in parsed:
        created = sandbox.automation.create(account, spec)
        made["definitions"].append(
            {"id": created["id"], "version": created["version"], "name": spec.name, "trigger": spec.trigger}
        )
    if templates:
        made["templates"] = sandbox.messaging.templates.seed(account, templates)
    return made


def _check_numbers(sandbox, account: str, groups: list, loose: list) -> None:
    """The groups' shapes, new names only, and new numbers only (each once)."""
    numbers, names = [], []
    for group in groups:
        _check_group(sandbox, account, group)
        numbers += group.get("members", [])
        if "id" not in group:
            names.append(group["name"].casefold())
    taken = [
        n for n in names if sandbox.store.query("SELECT 1 FROM groups WHERE account = ? AND name_key = ?", (account, n))
    ]
    if len(set(names)) != len(names) or taken:
        raise DuplicateGroupName()
    keys = [msisdn_key(check_msisdn(n)) for n in numbers + loose]
    if len(set(keys)) != len(keys):
        raise InvalidRequest("A number appears twice in the seed: each seeded contact is a new number.")
    existing = sandbox.contacts.existing_msisdn_keys(account, keys)
    if existing:
        raise InvalidRequest(f"{len(existing)} seeded number(s) are contacts already, e.g. +{sorted(existing)[0]}.")


def _make_group(sandbox, account: str, group: dict) -> dict:
    created = (
        sandbox.contacts.get_group(account, group["id"])
        if "id" in group
        else sandbox.contacts.create_group(
            account, group["name"], group.get("description"), bool(group.get("isBlacklist", False))
        )
    )
    members = group.get("members", [])
    if members:
        sandbox.contacts.add_members_bulk(account, created["id"], members)
    return {"id": created["id"], "name": created["name"], "members": len(members)}


def _check_group(sandbox, account: str, group) -> None:
    """A new group {"name", "isBlacklist", "description", "members"}, or {"id", "members"} of one that exists."""
    usage = f'Each group is {{"name", "isBlacklist", "description", "members"}} or {{"id", "members"}}: {USAGE}.'
    if not isinstance(group, dict) or not isinstance(group.get("members", []), list):
        raise InvalidRequest(usage)
    if "id" in group:
        if set(group) - {"id", "members"} or not isinstance(group["id"], int) or isinstance(group["id"], bool):
            raise InvalidRequest(usage)
        sandbox.contacts.get_group(account, group["id"])  # 404 when there is none
    elif not isinstance(group.get("name"), str) or set(group) - {"name", "isBlacklist", "description", "members"}:
        raise InvalidRequest(usage)
    else:
        sandbox.contacts.check_group_fields(group["name"], group.get("description"), name_required=True)
