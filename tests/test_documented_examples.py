"""8x8's documented examples (../shared/8x8-api/examples/) replayed against the sandbox: it answers
and delivers as 8x8's text shows. Skips cleanly when the examples are not beside the project."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.openapi import SPEC_DIR
from helpers.sandbox import inbound_webhook

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


@pytest.mark.parametrize("channel,file,name,text", [
    ("whatsapp", "inbound_chatapps.json", "v3_whatsapp_text_all_user_fields", "STOP"),
    ("viber", "inbound_chatapps.json", "v3_viber_msisdn_only", "STOP"),
    ("sms", "inbound_sms.json", "sms_inbound", "STOP"),
])
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
    delivered = inbound_webhook(sandbox.store, "sandbox-subaccount", "+6591234567", None, "whatsapp",
                                button={"id": "option-2", "title": "FAQ"})
    assert delivered["payload"]["content"] == documented["payload"]["content"]
    assert delivered["payload"]["type"] == documented["payload"]["type"] == "Interactive"


def test_an_sms_says_its_encoding_and_parts_as_8x8_counts_them(sandbox):
    from helpers.sandbox.messaging.webhooks import sms_parts

    assert sms_parts("STOP") == ("GSM7", 1)
    assert sms_parts("x" * 160) == ("GSM7", 1) and sms_parts("x" * 161) == ("GSM7", 2)
    assert sms_parts("退订") == ("UCS2", 1) and sms_parts("退" * 71) == ("UCS2", 2)
    assert sms_parts("€" * 80) == ("GSM7", 1) and sms_parts("€" * 81) == ("GSM7", 2)  # extension: two each


def test_a_viber_customers_stop_reaches_the_opt_out_group(client, controls, group, deployed):
    controls.deliver_inbound("+6591230000", "STOP", channel="viber")
    assert {c["addresses"]["msisdn"] for c in client.contacts.group_members(group["id"])} == {"+6591230000"}


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
