"""The client against a running sandbox over real HTTP: the Contacts API the runbook needs."""

from __future__ import annotations

import time

import pytest
from support import seed_members

from helpers.errors import BadRequest, Conflict, NotFound


def test_group_lifecycle(client):
    group = client.contacts.create_group("Opt-out list", "Customers who replied STOP", is_blacklist=True)
    assert group["name"] == "Opt-out list" and group["isBlacklist"] is True and group["contacts"] == 0
    assert client.contacts.get_group(group["id"]) == group

    renamed = client.contacts.update_group(group["id"], [{"op": "replace", "path": "/name", "value": "Opt-outs"}])
    assert renamed["name"] == "Opt-outs"

    client.contacts.delete_group(group["id"])
    with pytest.raises(NotFound) as info:
        client.contacts.get_group(group["id"])
    assert info.value.code == 1300 and info.value.error_id


def test_duplicate_group_name_is_409_code_5003(client):
    client.contacts.create_group("Opt-out list", is_blacklist=True)
    with pytest.raises(Conflict) as info:
        client.contacts.create_group("Opt-out list", is_blacklist=True)
    assert (info.value.status, info.value.code) == (409, 5003)
    assert "same name" in info.value.message


def test_group_search_by_full_or_partial_name(client):
    for name in ("Opt-out list", "VIP customers", "opt-out (old)"):
        client.contacts.create_group(name)
    assert [g["name"] for g in client.contacts.search_groups("Opt-out list")] == ["Opt-out list"]
    assert [g["name"] for g in client.contacts.search_groups("opt-out")] == ["Opt-out list", "opt-out (old)"]
    assert len(list(client.contacts.search_groups())) == 3
    assert list(client.contacts.search_groups("nothing like it")) == []


def test_mark_group_blacklisted_with_json_patch_as_documented(client):
    group = client.contacts.create_group("Not yet blacklisted")
    # The operation exactly as the official definition's example writes it.
    patched = client.contacts.update_group(group["id"], [{"op": "replace", "path": "/isblacklist", "value": "true"}])
    assert patched["isBlacklist"] is True


def test_contact_create_201_then_merge_200_by_address(client):
    group = client.contacts.create_group("Opt-out list", is_blacklist=True)
    first, created = client.contacts.upsert_contact("+6512345678", group_ids=[group["id"]])
    assert created is True
    again, created = client.contacts.upsert_contact("6512345678", firstName="Ann")
    assert created is False and again["id"] == first["id"] and again["firstName"] == "Ann"
    assert [g["id"] for g in again["groups"]] == [group["id"]]


def test_membership_removal_keeps_the_contact(client):
    group = client.contacts.create_group("Opt-out list", is_blacklist=True)
    contact, _ = client.contacts.upsert_contact("+6512345678")
    assert client.contacts.add_to_group(group["id"], [contact["id"]])["contacts"] == 1
    assert client.contacts.remove_from_group(group["id"], [contact["id"]])["contacts"] == 0
    kept = client.contacts.get_contact(contact["id"])
    assert kept["addresses"]["msisdn"] == "+6512345678" and "groups" not in kept
    # Removing again is harmless (a resumed run may repeat a chunk).
    assert client.contacts.remove_from_group(group["id"], [contact["id"]])["contacts"] == 0


def test_search_contacts_by_query_and_group(client, sandbox, settings):
    group = client.contacts.create_group("Opt-out list", is_blacklist=True)
    seed_members(sandbox, group["id"], [f"+659{i:07d}" for i in range(1203)])
    outsider, _ = client.contacts.upsert_contact("+4420700000", firstName="Zed")
    members = list(client.contacts.group_members(group["id"]))
    assert len(members) == 1203 and len({m["id"] for m in members}) == 1203
    assert [c["id"] for c in client.contacts.search_contacts("Zed")] == [outsider["id"]]
    assert [c["addresses"]["msisdn"] for c in client.contacts.search_contacts("4420700000")] == ["+4420700000"]


def test_blacklist_one_msisdn(client, sandbox, settings):
    client.contacts.blacklist_msisdn("+6512345678")
    assert sandbox.contacts.blocked_since(settings.account_id, "+6512345678") is not None
    with pytest.raises(BadRequest) as info:
        client.contacts.blacklist_msisdn("12345")
    assert info.value.code == 1002


def test_batch_delete_and_status(client):
    contact, _ = client.contacts.upsert_contact("+6512345678")
    job = client.contacts.delete_contacts_batch(msisdns=["+6512345678"])
    assert job["type"] == "deleteContacts" and job["status"] == "queued"
    assert client.contacts.batch_status(job["id"])["status"] == "completed"
    with pytest.raises(NotFound):
        client.contacts.get_contact(contact["id"])
    with pytest.raises(NotFound) as info:
        client.contacts.batch_status("3f0e2b1c-0000-4000-8000-000000000000")
    assert info.value.code == 4018
    with pytest.raises(ValueError):
        client.contacts.delete_contacts_batch()


@pytest.mark.parametrize("offset_mode", ["pages", "items"])
def test_pagination_yields_every_item_once_whatever_offset_means(offset_mode, make_client, settings):
    from sandbox import Sandbox

    with Sandbox(deterministic=True, offset_mode=offset_mode) as other:
        client = make_client(settings.with_base_url(other.base_url))
        group = client.contacts.create_group("Big", is_blacklist=True)
        seed_members(other, group["id"], [f"+659{i:07d}" for i in range(257)])
        for limit in (1, 7, 100, 500):
            ids = [c["id"] for c in client.contacts.group_members(group["id"], limit=limit)]
            assert len(ids) == len(set(ids)) == 257, (offset_mode, limit)


def test_limit_outside_1_to_500_is_refused(client):
    with pytest.raises(ValueError):
        list(client.contacts.search_groups(limit=501))
    with pytest.raises(ValueError):
        list(client.contacts.search_groups(limit=0))


def test_member_counts_are_kept_current(client, sandbox, settings):
    """Counts are kept by triggers, not recounted per request: they must stay exact through every change."""
    group = client.contacts.create_group("Counted", is_blacklist=True)
    other = client.contacts.create_group("Other")
    seed_members(sandbox, group["id"], [f"+659{i:07d}" for i in range(10)])
    ids = [c["id"] for c in client.contacts.group_members(group["id"])]
    client.contacts.add_to_group(group["id"], ids[:3])  # already members: nothing changes
    client.contacts.add_to_group(other["id"], ids[:4])
    client.contacts.remove_from_group(group["id"], ids[:2])
    sandbox.contacts.delete_contact(settings.account_id, ids[5])  # a deleted contact leaves its groups
    client.contacts.upsert_contact("+6581234567", group_ids=[group["id"]])
    assert client.contacts.get_group(group["id"])["contacts"] == 10 - 2 - 1 + 1 == 8
    assert client.contacts.get_group(other["id"])["contacts"] == 4
    page = client.json(
        "contacts",
        "GET",
        f"/api/v1/accounts/{settings.account_id}/contacts",
        params={"groupId": group["id"], "limit": 3, "offset": 0},
    )
    assert page["totalFiltered"] == 8 and page["totalCount"] == 10 - 1 + 1 and page["totalPages"] == 3
    assert len(list(client.contacts.group_members(group["id"]))) == 8


def test_pages_read_in_parallel_give_every_member_once(make_client, settings, sandbox):
    sequential, parallel = make_client(settings.with_parallel(1)), make_client(settings.with_parallel(4))
    group = sequential.contacts.create_group("Big", is_blacklist=True)
    seed_members(sandbox, group["id"], [f"+659{i:07d}" for i in range(2345)])
    one = [c["id"] for c in sequential.contacts.group_members(group["id"], limit=100)]
    sandbox.reset_stats()
    four = [c["id"] for c in parallel.contacts.group_members(group["id"], limit=100)]
    assert four == one and len(set(four)) == 2345
    assert sandbox.request_count("contacts.search_contacts") == 24  # every page once


def test_other_work_runs_only_while_a_page_is_on_its_way(make_client, settings, sandbox):
    """The ``idle`` work (the audience file's reading) is called only while the next page has not
    come, stops being called once it answers False, and changes nothing that is read."""
    client = make_client(settings.with_parallel(4))
    group = client.contacts.create_group("Big", is_blacklist=True)
    seed_members(sandbox, group["id"], [f"+659{i:07d}" for i in range(800)])
    sandbox.faults.configure(latency_ms=25)  # every page is on its way for a while
    plain = [c["id"] for c in client.contacts.group_members(group["id"], limit=100)]
    calls, left = [], 5

    def idle() -> bool:
        nonlocal left
        calls.append(left)
        left -= 1
        return left > 0

    assert [c["id"] for c in client.contacts.group_members(group["id"], limit=100, idle=idle)] == plain
    assert calls == [5, 4, 3, 2, 1]  # called while waiting, never again after its False
    calls.clear()

    def step() -> bool:  # a step of a millisecond, with steps left
        time.sleep(0.001)
        calls.append(1)
        return True

    assert len(list(client.contacts.group_members(group["id"], limit=100, idle=step))) == 800
    assert len(calls) >= 10  # work with steps left goes on while pages are on their way


def test_the_first_429_drops_to_one_request_at_a_time(make_client, settings, sandbox):
    client = make_client(settings.with_parallel(4))
    group = client.contacts.create_group("Busy", is_blacklist=True)
    seed_members(sandbox, group["id"], [f"+659{i:07d}" for i in range(1000)])
    sandbox.faults.inject(429, method="GET", path_contains="/contacts")
    assert len(list(client.contacts.group_members(group["id"], limit=100))) == 1000
    assert client.parallel == 1


def test_parallel_setting_is_checked():
    from helpers.config import ConfigError, load_settings

    assert load_settings(env={"EIGHTXEIGHT_PARALLEL_REQUESTS": "8"}, env_file=None).parallel == 8
    for bad in ("0", "17", "four"):
        with pytest.raises(ConfigError, match="from 1 to 16"):
            load_settings(env={"EIGHTXEIGHT_PARALLEL_REQUESTS": bad}, env_file=None)
