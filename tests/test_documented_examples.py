"""8x8's documented examples (../shared/8x8-api/examples/) replayed against the sandbox: it answers
and delivers as 8x8's text shows. Skips cleanly when the examples are not beside the project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.openapi import SPEC_DIR
from sandbox import inbound_webhook

EXAMPLES = Path(SPEC_DIR) / "examples"
# Fields 8x8 documents as present only sometimes: a WhatsApp username, the umid a reply answers.
SOMETIMES = {"payload.user.username", "payload.replyToUmid"}


def example(file: str, name: str) -> dict:
    path = EXAMPLES / file
    if not path.is_file():
        pytest.skip(f"8x8's documented examples are not at {EXAMPLES}")
    return json.loads(path.read_text(encoding="utf-8"))["examples"][name]["json"]


def fields(body, prefix: str = "") -> set[str]:
    """Every field path of a JSON object ("payload.user.msisdn")."""
    out = set()
    for key, value in body.items():
        path = f"{prefix}{key}"
        out.add(path)
        if isinstance(value, dict):
            out |= fields(value, path + ".")
    return out


@pytest.mark.parametrize(
    "channel,file,name,text",
    [
        ("whatsapp", "inbound_chatapps.json", "v3_whatsapp_text_all_user_fields", "STOP"),
        ("viber", "inbound_chatapps.json", "v3_viber_msisdn_only", "STOP"),
        ("sms", "inbound_sms.json", "sms_inbound", "STOP"),
    ],
)
def test_the_sandboxs_inbound_deliveries_carry_every_documented_field(sandbox, channel, file, name, text):
    documented = example(file, name)
    delivered = inbound_webhook(sandbox.store, "sandbox-subaccount", "+6591234567", text, channel)
    assert fields(documented) - SOMETIMES <= fields(delivered), "a documented field is missing"
    assert fields(delivered) <= fields(documented), "a field 8x8 does not document"
    for key in ("version", "namespace", "eventType", "description"):
        assert delivered.get(key) == documented.get(key)
    if channel != "sms":
        assert delivered["payload"]["recipient"]["channel"] == channel


def test_a_documented_quick_reply_tap_has_the_documented_shape(sandbox):
    documented = example("inbound_chatapps.json", "whatsapp_button_reply")
    delivered = inbound_webhook(
        sandbox.store, "sandbox-subaccount", "+6591234567", None, "whatsapp", button={"id": "option-2", "title": "FAQ"}
    )
    assert delivered["payload"]["content"] == documented["payload"]["content"]
    assert delivered["payload"]["type"] == documented["payload"]["type"] == "Interactive"


def test_an_sms_says_its_encoding_and_parts_as_8x8_counts_them(sandbox):
    from sandbox.messaging.webhooks import sms_parts

    assert sms_parts("STOP") == ("GSM7", 1)
    assert sms_parts("x" * 160) == ("GSM7", 1) and sms_parts("x" * 161) == ("GSM7", 2)
    assert sms_parts("退订") == ("UCS2", 1) and sms_parts("退" * 71) == ("UCS2", 2)
    assert sms_parts("€" * 80) == ("GSM7", 1) and sms_parts("€" * 81) == ("GSM7", 2)  # extension: two each


def test_a_viber_customers_stop_reaches_the_opt_out_group(client, controls, group, deployed):
    controls.deliver_inbound("+6591230000", "STOP", channel="viber")
    assert {c["addresses"]["msisdn"] for c in client.contacts.group_members(group["id"])} == {"+6591230000"}


@pytest.mark.parametrize("channel,app", [("whatsapp", "WhatsApp"), ("viber", "Viber"), ("rcs", "RCS")])
def test_each_chat_apps_customer_is_answered_on_the_app_they_wrote_on(client, controls, group, deployed, channel, app):
    """The confirmation is the Messaging Apps send with its ``channels`` override, not the
    ChatAppsMessage step (no channel input: the subaccount's default fallback would answer)."""
    (run,) = controls.deliver_inbound("+6591230001", "STOP", channel=channel)
    umid = run["data"]["opt_out_confirmation"]
    assert client.messaging.get_message(umid)["channel"] == app  # read back from the Messaging Apps API
    assert [m["channel"] for m in controls.sent()] == [app]


def test_the_send_refuses_a_channel_override_8x8_does_not_define(client, recorder):
    from helpers.errors import BadRequest

    body = {"user": {"msisdn": "+6591230002"}, "type": "text", "content": {"text": "hi"}}
    with recorder.sending_invalid_requests():
        for channels, says in (
            ([{"channel": "whatsapp"}], "one of SMS, WhatsApp"),
            ([], "non-empty"),
            ([{"channel": "Viber", "fallbackAfter": 5}], "fallbackAfter"),
            ([{"channel": "Viber", "successStatus": "Seen"}], "successStatus"),
            ([{"channel": "Viber", "priority": 1}], "not priority"),
        ):
            with pytest.raises(BadRequest) as info:
                client.json(
                    "chatapps",
                    "POST",
                    f"/api/v1/subaccounts/{client.settings.subaccount_id}/messages",
                    json={**body, "channels": channels},
                )
            assert says in info.value.message
    answer = client.json(
        "chatapps",
        "POST",
        f"/api/v1/subaccounts/{client.settings.subaccount_id}/messages",
        json={**body, "channels": [{"channel": "Viber", "fallbackAfter": 60}, {"channel": "SMS"}]},
    )
    assert client.messaging.get_message(answer["umid"])["channel"] == "Viber"


@pytest.mark.parametrize("name", ["oas_definition_created", "ui_export_whatsapp_survey", "ui_export_sms_survey"])
def test_the_client_reads_a_definitions_id_and_version_where_8x8s_documents_put_them(name):
    """The schema puts id and version at the top; its own example and every Builder export put them
    inside "definition" (NOTES.md, "Where 8x8's documents disagree"): the client reads both."""
    from helpers.client import definition_identity

    documented = example("automation_definitions.json", name)
    read = definition_identity(documented)
    assert (read["id"], read["version"]) == (documented["definition"]["id"], documented["definition"]["version"])
    top = {**documented, "id": "top-level-id", "version": 7}
    assert (definition_identity(top)["id"], definition_identity(top)["version"]) == ("top-level-id", 7)


# --- Messaging Apps: 8x8's documented sends, accepted or refused as documented ----------------------

AUTH = {"Authorization": "Bearer sandbox-api-key"}


def send(sandbox, body):
    import requests

    return requests.post(
        f"{sandbox.base_url}/api/v1/subaccounts/sandbox-subaccount/messages", json=body, headers=AUTH, timeout=10
    )


@pytest.mark.parametrize(
    "name",
    [
        "send_legacy_msisdn_only",
        "send_bsuid_only",
        "send_both_ids_template",
        "oas_send_whatsapp_text",
        "oas_national_numbers",
    ],
)
def test_every_documented_send_is_accepted_with_the_documented_answer(sandbox, name):
    answer = send(sandbox, example("messaging.json", name))
    assert answer.status_code == 200, answer.text
    documented = example("messaging.json", "oas_send_response")
    assert set(answer.json()) | {"clientMessageId"} >= set(documented) and answer.json()["status"]["state"] == "queued"


def test_a_national_number_with_its_country_is_sent_to_its_e164_form(sandbox):
    body = example("messaging.json", "oas_national_numbers")  # 07700900123 in GB
    assert send(sandbox, body).json()["user"] == {"msisdn": "+447700900123"}


def test_a_message_to_a_bsuid_alone_is_addressed_by_it(sandbox):
    body = example("messaging.json", "send_bsuid_only")
    assert send(sandbox, body).json()["user"] == {"channelUserId": body["user"]["channelUserId"]}


@pytest.mark.parametrize(
    "change,code",
    [
        (lambda b: b.update(type="sticker"), 1000),  # not in the documented enum
        (lambda b: b.update(type="Text"), 1000),  # the enum's case (the RCS guide's "Text")
        (lambda b: b["content"].update(text="x" * 35_001), 3006),
        (lambda b: b.update(clientMessageId="c" * 51), 3009),
        (lambda b: b.update(user={}), 1000),  # neither msisdn nor channelUserId
    ],
)
def test_a_send_beyond_the_documented_limits_is_refused_with_its_code(sandbox, change, code):
    body = json.loads(json.dumps(example("messaging.json", "send_legacy_msisdn_only")))
    change(body)
    answer = send(sandbox, body)
    assert answer.status_code == 400 and answer.json()["code"] == code


def test_the_limits_themselves_are_accepted(sandbox):
    limits = example("messaging.json", "oas_send_limits")
    body = {
        "user": {"msisdn": "+6591234567"},
        "type": "text",
        "content": {"text": "x" * limits["text_maxLength"]},
        "clientMessageId": "c" * limits["clientMessageId_maxLength"],
    }
    assert send(sandbox, body).status_code == 200


def test_a_blacklisted_customers_status_reads_as_8x8_documents_it(client, sandbox, controls):
    group = client.contacts.create_group("WhatsApp opt-out", is_blacklist=True)
    client.contacts.upsert_contact("+6591234567", group_ids=[group["id"]])
    controls.advance_clock(hours=1)  # the hourly blacklist sync
    umid = send(sandbox, {"user": {"msisdn": "+6591234567"}, "type": "text", "content": {"text": "offer"}}).json()[
        "umid"
    ]
    status = client.messaging.get_message(umid)["status"]
    documented = example("messaging.json", "dr_undelivered_15")["payload"]["status"]
    assert status["errorCode"] == documented["errorCode"] == 15
    assert status["errorMessage"] == documented["errorMessage"] == "Invalid destination"
    assert status["detail"] in (
        "rejected_by_operator",
        "delivered_to_operator",
        "delivered_to_recipient",
        "undelivered_to_recipient",
    )


# --- Automation and Contacts ----------------------------------------------------------------------


def test_a_wait_for_reply_step_without_outputs_is_refused(client, settings, recorder):
    from helpers.errors import BadRequest

    step = {"id": "ask", "stepType": "WaitForReply", "inputs": {"from": "+6591234567", "channel": "whatsapp"}}
    definition = {
        "accountId": settings.account_id,
        "subAccountId": settings.subaccount_id,
        "trigger": "inbound_chat_apps",
        "status": "disabled",
        "definition": {"name": "ask", "steps": [step]},
    }
    with recorder.sending_invalid_requests(), pytest.raises(BadRequest, match="needs outputs") as refused:
        client.automation.create_definition(definition)
    assert refused.value.code == 5001
    step["outputs"] = {"reply": {}}  # the schema requires "reply", typed an object
    assert client.automation.create_definition(definition)["version"] == 1


def test_creating_a_contact_and_adding_members_answer_with_a_location(sandbox, client):
    import requests

    base = f"{sandbox.base_url}/api/v1/accounts/sandbox-account"
    created = requests.post(f"{base}/contacts", json={"addresses": {"msisdn": "+6591234567"}}, headers=AUTH, timeout=5)
    assert (
        created.status_code == 201
        and created.headers["Location"] == f"/api/v1/accounts/sandbox-account/contacts/{created.json()['id']}"
    )
    group = client.contacts.create_group("VIP")
    added = requests.post(
        f"{base}/groups/{group['id']}/contacts", json={"contacts": [created.json()["id"]]}, headers=AUTH, timeout=5
    )
    assert added.status_code == 201 and added.headers["Location"].endswith(f"/groups/{group['id']}")


def test_the_documented_batch_upload_creates_or_merges_contacts_into_the_groups(sandbox, client):
    import requests

    documented = example("contacts.json", "oas_batch_upload_with_header")
    groups = [client.contacts.create_group(name) for name in ("A", "B")]
    form = {**documented, "groups": ",".join(str(g["id"]) for g in groups), "fileHasHeader": "true"}
    form.pop("file")
    csv_text = "msisdn,firstName\n+6591234567,Ana\nnot a number,Bo\n+6591234568,Cy\n"
    base = f"{sandbox.base_url}/api/v1/accounts/sandbox-account"
    answer = requests.post(
        f"{base}/contacts/batches/createContacts",
        data=form,
        headers=AUTH,
        timeout=10,
        files={"file": ("contacts.csv", csv_text, "text/csv")},
    )
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert (job["type"], job["fileType"], job["fileName"]) == ("createContacts", "csv", "contacts.csv")
    assert client.contacts.batch_status(job["id"])["status"] == "completed"
    for group in groups:
        assert {c["addresses"]["msisdn"] for c in client.contacts.group_members(group["id"])} == {
            "+6591234567",
            "+6591234568",
        }
    no_header = requests.post(
        f"{base}/contacts/batches/createContacts",
        data={"fileHasHeader": "false"},
        files={"file": ("c.csv", "+6591234569,Di\n", "text/csv")},
        headers=AUTH,
        timeout=10,
    )
    assert no_header.status_code == 400 and "fileColumns" in no_header.json()["message"]
    with_columns = requests.post(
        f"{base}/contacts/batches/createContacts",
        data={"fileHasHeader": "false", "fileColumns": "msisdn, firstName"},
        files={"file": ("c.csv", "+6591234569,Di\n", "text/csv")},
        headers=AUTH,
        timeout=10,
    )
    assert with_columns.status_code == 202
    assert any(c["addresses"]["msisdn"] == "+6591234569" for c in client.contacts.search_contacts("6591234569"))
