"""The sandbox's starting points for the runbook's sample files (notebooks 05 and 06).

A sample plan is only worth showing if it is the same on the first run and the tenth. So, on
the sandbox only, before a notebook plans its sample file, the opt-out group is put back to the
sample's starting point for the numbers of that file: the customers the sample says opted out
earlier are in the group, every other number of the file is not. What was changed is said in
one line, so nothing happens behind the operator's back; numbers outside the file are never
touched. On 8x8 this does nothing at all: a real group is never "set up" for a demo.

This is demo set-up, not an operator's step, so no notebook calls it: the runbook job does
before each notebook (``prepare_sample``), ``python -m helpers sandbox --sample NAME`` does for a
person in JupyterLab, and a fresh sandbox for a notebook alone (nbval) is seeded with it
(``fresh_sandbox_seed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bulk.read import read_numbers
from .config import PROJECT_ROOT
from .errors import VerificationFailed
from .groups import DEFAULT_GROUP_NAME, opt_out_group_id
from .numbers import digits_key
from .suppression import member_ids


@dataclass(frozen=True)
class Sample:
    notebook: str  # the notebook that plans it
    parameter: str  # that notebook's parameter naming the file
    file: str  # relative to notebooks/
    opted_out_earlier: tuple[str, ...]  # in the group at the start, E.164
    default_region: str = "SG"


SAMPLES = {
    # Three of the file's customers opted out earlier, plus one customer who is not in the file.
    "bulk-remove": Sample(
        "05_bulk_remove_from_csv",
        "CSV_PATH",
        "data/sample_opt_ins.csv",
        ("+6591234567", "+6591234569", "+447911123456", "+6588880001"),
    ),
    # One of the list's numbers is already in the group.
    "import": Sample("06_import_opt_out_list", "LIST_PATH", "data/sample_opt_out_list.csv", ("+6591234567",)),
}


def sample_path(name: str) -> Path:
    return _in_notebooks(SAMPLES[name].file)


def _in_notebooks(path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_absolute() else PROJECT_ROOT / "notebooks" / path


def _sample_of(notebook: str) -> str | None:
    return next((name for name, sample in SAMPLES.items() if sample.notebook == notebook), None)


def prepare_sample(runbook: Any, notebook: str, parameters: dict | None = None) -> str | None:
    """Before ``notebook`` runs with ``parameters`` (a job's): on the sandbox, when it will plan its
    sample file (its default), put its group at the sample's starting point and answer what changed;
    otherwise (on 8x8, another notebook, another file) do nothing and answer None."""
    name, parameters = _sample_of(notebook), parameters or {}
    if name is None or not runbook.on_sandbox:
        return None
    path = _in_notebooks(parameters.get(SAMPLES[name].parameter, SAMPLES[name].file))
    group_id = opt_out_group_id(runbook.client, parameters.get("OPT_OUT_GROUP_NAME"), create_if_missing=True)
    return set_starting_point(runbook, group_id, name, path)


def fresh_sandbox_seed(notebook: str) -> dict | None:
    """For a notebook executed alone on a fresh sandbox (nbval, the committed outputs): the seed
    control's body for its sample's starting point, in the group notebook 01 makes; None: no sample."""
    name = _sample_of(notebook)
    if name is None:
        return None
    return {"groups": [notebook_01_group(SAMPLES[name].opted_out_earlier)]}


def notebook_01_group(members: tuple[str, ...] = ()) -> dict:
    """The group notebook 01 makes (its defaults), as the seed control takes it, with these members."""
    return {
        "name": DEFAULT_GROUP_NAME,
        "isBlacklist": True,
        "description": "Customers who replied STOP",
        "members": list(members),
    }


def _starting_point_line(wanted: int, added: list[str], taken_out: list[str]) -> str:
    """What set_starting_point changed (read back), in one line."""
    if not added and not taken_out:
        return (
            f"Sandbox sample: the group holds the {wanted} customer(s) this sample says opted out earlier, "
            "and none of the file's other numbers."
        )
    changes = []
    if added:
        changes.append(
            f"added the {len(added)} customer(s) who, in this sample, opted out earlier ({', '.join(added)})"
        )
    if taken_out:
        changes.append(
            f"took out {len(taken_out)} of the file's numbers an earlier session added ({', '.join(taken_out)})"
        )
    return (
        "Sandbox sample: " + " and ".join(changes) + " (read back), so that this plan is the same on every run. "
        "Numbers outside the sample file were not touched; `python -m helpers sandbox --reset` starts the "
        "sandbox from nothing."
    )


def set_starting_point(runbook: Any, group_id: int, name: str, path: str | Path) -> str | None:
    """On the sandbox, when ``path`` is sample ``name``'s file, put the group back to the sample's
    starting point and answer what changed, in one line; on 8x8, or for any other file, do nothing
    and answer None."""
    if not runbook.on_sandbox or Path(path).resolve() != sample_path(name).resolve():
        return None
    sample = SAMPLES[name]
    client = runbook.client
    wanted = {digits_key(n) for n in sample.opted_out_earlier}
    rows = read_numbers(sample_path(name), default_region=sample.default_region).valid
    others = sorted({m for m in rows["msisdn"] if digits_key(m) not in wanted})
    added = [n for n in sample.opted_out_earlier if not member_ids(client, group_id, n)]
    for msisdn in added:
        client.contacts.upsert_contact(msisdn, group_ids=[group_id])
    taken_out = [n for n in others if member_ids(client, group_id, n)]
    for msisdn in taken_out:
        client.contacts.remove_from_group(group_id, member_ids(client, group_id, msisdn))  # the contact is kept
    # said only as read back: every sample opt-out a member, none of the file's other numbers
    missing = [n for n in sample.opted_out_earlier if not member_ids(client, group_id, n)]
    still = [n for n in others if member_ids(client, group_id, n)]
    if missing or still:
        raise VerificationFailed(
            f"the sandbox's sample could not be set up: read back, {', '.join(missing) or 'none'} "
            f"not in group {group_id} and {', '.join(still) or 'none'} still in it. Run "
            "`python -m helpers sandbox --reset` and try again."
        )
    return _starting_point_line(len(wanted), added, taken_out)


# Notebook 03's sandbox sample of WhatsApp templates: one of each case the template check tells apart.
SAMPLE_CHANNEL_ID = "0c8f3d52-6a1e-4b7f-9d20-5e6f7a8b9c0d"  # a WhatsApp channel of the sandbox's account
SAMPLE_TEMPLATES = (
    {
        "templateName": "spring_sale",
        "language": "en",
        "category": "MARKETING",
        "components": [
            {"type": "BODY", "text": "Spring sale: 20% off everything this week, {{1}}!"},
            {"type": "FOOTER", "text": "Reply STOP to unsubscribe"},
        ],
    },
    {
        "templateName": "flash_sale",
        "language": "en",
        "category": "MARKETING",
        "components": [
            {"type": "BODY", "text": "Flash sale for the next 2 hours only."},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Shop now"},
                    {"type": "QUICK_REPLY", "text": "Stop promotions"},
                ],
            },
        ],
    },
    {
        "templateName": "oferta_primavera",
        "language": "es",
        "category": "MARKETING",
        "components": [
            {"type": "BODY", "text": "¡Rebajas de primavera! 20% en todo, {{1}}."},
            {"type": "FOOTER", "text": "Responde BAJA para no recibir más mensajes"},
        ],
    },
    {
        "templateName": "weekend_deals",
        "language": "en",
        "category": "MARKETING",
        "components": [
            {"type": "BODY", "text": "Weekend deals are here: shop now at example.com"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Shop now"}]},
        ],
    },
    {
        "templateName": "order_shipped",
        "language": "en",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your order {{1}} has shipped."}],
    },
)


def sample_templates(runbook: Any) -> list[str]:
    """On the sandbox: register the sample templates on the sample channel (again: the same five)
    and say so; answers [the channel id]. On 8x8: nothing, and [] (give your own channel ids)."""
    if not runbook.on_sandbox:
        return []
    runbook.sandbox.seed(templates=[{"channelId": SAMPLE_CHANNEL_ID, **t} for t in SAMPLE_TEMPLATES])
    print(
        f"Sandbox sample: {len(SAMPLE_TEMPLATES)} WhatsApp templates registered on channel {SAMPLE_CHANNEL_ID} "
        "(on 8x8, give your channels' ids in TEMPLATE_CHANNELS)."
    )
    return [SAMPLE_CHANNEL_ID]
