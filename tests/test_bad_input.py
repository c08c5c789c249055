"""Bad requests get 8x8's documented error and change nothing in the sandbox."""

from __future__ import annotations

import pytest
import requests

from helpers.config import SANDBOX_API_KEY, Secret
from helpers.errors import BadRequest, EightByEightError, NotFound, Unauthorized


def snapshot(sandbox) -> dict:
    """Every row of every table: what 'nothing changed' is checked against."""
    tables = [
        r["name"]
        for r in sandbox.store.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('counters', 'meta')"
        )
    ]
    return {t: sorted((tuple(r) for r in sandbox.store.query(f"SELECT * FROM {t}")), key=repr) for t in tables}


@pytest.fixture
def seeded(client, sandbox):
    group = client.contacts.create_group("Opt-out list", is_blacklist=True)
    client.contacts.upsert_contact("+6512345678", group_ids=[group["id"]])
    return group, snapshot(sandbox)


def raw(sandbox, method, path, *, token=SANDBOX_API_KEY, **kwargs):
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(
        method, sandbox.base_url + "/api/v1/accounts/sandbox-account" + path, headers=headers, timeout=5, **kwargs
    )


@pytest.mark.parametrize("token", [None, "wrong-key", ""])
def test_missing_or_wrong_key_is_401_code_1200(sandbox, seeded, token, contract):
    response = raw(sandbox, "POST", "/groups", token=token, json={"name": "x"})
    assert response.status_code == 401 and response.json()["code"] == 1200
    contract.check_response("POST", response.url, 401, response.content, response.headers["Content-Type"])
    assert snapshot(sandbox) == seeded[1]


def test_client_with_wrong_key_raises_unauthorized_with_a_hint(make_client, settings, seeded, sandbox):
    from dataclasses import replace

    wrong = replace(settings, api_key=Secret("not-the-key"))
    with pytest.raises(Unauthorized) as info:
        list(make_client(wrong).contacts.search_groups())
    assert info.value.code == 1200 and "EIGHTXEIGHT_API_KEY" in str(info.value)
    assert "not-the-key" not in str(info.value)


@pytest.mark.parametrize("msisdn", ["12345", "+0123456789", "65-1234-5678", "", "+1234567890123456"])
def test_invalid_msisdn_is_400_code_1002(client, recorder, sandbox, seeded, msisdn):
    with recorder.sending_invalid_requests(), pytest.raises(BadRequest) as info:
        client.contacts.upsert_contact(msisdn)
    assert info.value.code == (1002 if msisdn else 1000)
    assert snapshot(sandbox) == seeded[1]


def test_unknown_group_is_404_where_documented_else_400(client, sandbox, seeded):
    for call in (
        lambda: client.contacts.get_group(999),
        lambda: client.contacts.add_to_group(999, [1]),
        lambda: client.contacts.remove_from_group(999, [1]),
        lambda: client.contacts.update_group(999, [{"op": "replace", "path": "/name", "value": "x"}]),
        lambda: client.contacts.delete_group(999),
    ):
        with pytest.raises(NotFound) as info:
            call()
        assert info.value.code == 1300 and "999" in info.value.message
    # The official definition documents no 404 for these two: the group is a bad value in the request.
    for call in (
        lambda: client.contacts.upsert_contact("+6599999999", group_ids=[999]),
        lambda: list(client.contacts.group_members(999)),
    ):
        with pytest.raises(BadRequest, match="group with id 999"):
            call()
    assert snapshot(sandbox) == seeded[1]


@pytest.mark.parametrize("limit", ["0", "501", "-1", "many"])
def test_out_of_range_limit_is_400(sandbox, seeded, limit, contract):
    response = raw(sandbox, "GET", "/groups", params={"limit": limit})
    assert response.status_code == 400 and response.json()["code"] == 1000
    contract.check_response("GET", response.url, 400, response.content, response.headers["Content-Type"])


def test_malformed_json_is_400_and_changes_nothing(sandbox, seeded, contract):
    response = raw(sandbox, "POST", "/groups", data=b'{"name": "half', headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "Malformed JSON" in response.json()["message"]
    contract.check_response("POST", response.url, 400, response.content, response.headers["Content-Type"])
    assert snapshot(sandbox) == seeded[1]


def test_wrong_content_type_is_400_and_changes_nothing(sandbox, seeded):
    group_id = seeded[0]["id"]
    response = raw(
        sandbox,
        "DELETE",
        f"/groups/{group_id}/contacts",
        data=b'{"contacts": [41700001]}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 400 and "Content-Type" in response.json()["message"]
    assert snapshot(sandbox) == seeded[1]


def test_patch_that_fails_halfway_changes_nothing(client, recorder, sandbox, seeded):
    other = client.contacts.create_group("Other")
    before = snapshot(sandbox)
    with recorder.sending_invalid_requests(), pytest.raises(EightByEightError):
        client.contacts.update_group(
            other["id"],
            [
                {"op": "replace", "path": "/description", "value": "new"},
                {"op": "replace", "path": "/name", "value": "Opt-out list"},
            ],
        )
    assert snapshot(sandbox) == before


def test_more_than_ten_groups_in_a_new_contact_is_refused(client, recorder, sandbox):
    groups = [client.contacts.create_group(f"g{i}")["id"] for i in range(11)]
    before = snapshot(sandbox)
    with recorder.sending_invalid_requests(), pytest.raises(BadRequest, match="at most 10"):
        client.contacts.upsert_contact("+6512345678", group_ids=groups)
    assert snapshot(sandbox) == before
