"""/_sandbox/seed and /_sandbox/reset: state made and cleared over HTTP, as moto's controls."""

from __future__ import annotations

import pytest
from support import members

from helpers.errors import SandboxControlError
from helpers.workflow import build_opt_out_definitions


def test_seed_makes_groups_members_contacts_and_definitions_in_one_call(client, settings, controls):
    definition = build_opt_out_definitions(settings, 11001)["SMS"]
    made = controls.seed(
        groups=[
            {"name": "WhatsApp opt-out", "isBlacklist": True, "members": ["+6591000001", "+6591000002"]},
            {"name": "VIP"},
        ],
        contacts=["+6591000003"],
        definitions=[definition],
    )
    group_id = made["groups"][0]["id"]
    assert [(g["name"], g["members"]) for g in made["groups"]] == [("WhatsApp opt-out", 2), ("VIP", 0)]
    assert members(client, group_id) == {"+6591000001", "+6591000002"}
    assert client.contacts.get_group(group_id)["isBlacklist"] is True
    assert len(list(client.contacts.search_contacts())) == 3
    listed = list(client.automation.list_definitions())
    assert [d["id"] for d in listed] == [made["definitions"][0]["id"]] and listed[0]["trigger"] == "inbound_sms"
    controls.seed(groups=[{"id": group_id, "members": ["+6591000004"]}])  # more members for a group that exists
    assert len(members(client, group_id)) == 3


@pytest.mark.parametrize(
    "seed,message",
    [
        ({"groups": [{"name": "A", "members": ["12"]}]}, "1002"),  # not an msisdn
        ({"groups": [{"name": "A", "members": ["+6591000001"]}], "contacts": ["+6591000001"]}, "twice"),
        ({"groups": [{"name": "A"}, {"name": "a"}]}, "409"),  # names are unique, whatever the case
        ({"groups": [{"id": 999, "members": ["+6591000001"]}]}, "404"),
        ({"definitions": [{"trigger": "inbound_sms", "definition": {"name": "x", "steps": []}}]}, "5001"),
        ({"widgets": []}, "seed body"),
    ],
)
def test_a_bad_seed_makes_nothing(client, controls, seed, message):
    with pytest.raises(SandboxControlError, match=message):
        controls._call("POST", "seed", seed)
    assert list(client.contacts.search_groups()) == [] and list(client.contacts.search_contacts()) == []


def test_a_seeded_number_that_is_a_contact_already_is_refused(client, controls):
    client.contacts.upsert_contact("+6591000001")
    with pytest.raises(SandboxControlError, match="contacts already"):
        controls.seed(contacts=["+6591000001"])


def test_reset_clears_everything_and_starts_the_ids_and_clock_again(client, controls):
    first = controls.seed(groups=[{"name": "WhatsApp opt-out", "members": ["+6591000001"]}])["groups"][0]["id"]
    controls.advance_clock(hours=5)
    controls.reset()
    assert list(client.contacts.search_groups()) == [] and list(client.contacts.search_contacts()) == []
    assert client.platform_time().isoformat() == "2026-01-05T09:00:00+00:00"  # deterministic: the epoch again
    again = controls.seed(groups=[{"name": "WhatsApp opt-out"}])["groups"][0]["id"]
    assert again == first  # ids start again too
