"""WhatsApp templates: does each tell customers a way out that the deployed workflow understands?"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers.demo import SAMPLE_CHANNEL_ID, SAMPLE_TEMPLATES
from helpers.errors import BadInput, SandboxControlError, Unauthorized
from helpers.policy import KeywordPolicy
from helpers.templates import check_templates
from helpers.workflow import build_opt_out_definitions, deploy_definitions

OTHER_CHANNEL = "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"


@pytest.fixture
def samples(controls):
    controls.seed(templates=[{"channelId": SAMPLE_CHANNEL_ID, **t} for t in SAMPLE_TEMPLATES])
    return SAMPLE_CHANNEL_ID


def by_name(check):
    return {f.template: f for f in check.findings}


def test_each_templates_way_out_judged_by_the_deployed_workflow(client, settings, group, deployed, samples):
    check = check_templates(client, [samples])
    found = by_name(check)
    assert found["spring_sale"].way_out == 'text "STOP"' and found["spring_sale"].understood is True
    assert found["flash_sale"].way_out == 'button "Stop promotions"' and found["flash_sale"].understood is True
    spanish = found["oferta_primavera"]  # English only is deployed: BAJA would be lost
    assert spanish.way_out == 'text "BAJA"' and spanish.understood is False and "add es to LANGUAGES" in spanish.action
    assert found["weekend_deals"].understood is None and found["weekend_deals"].way_out == ""
    assert "Reply STOP to unsubscribe" in found["weekend_deals"].action  # marketing without a way out
    assert found["order_shipped"].action == ""  # a utility message needs none
    assert check.exit_code == 1 and [f.template for f in check.problems] == ["oferta_primavera", "weekend_deals"]
    # Spanish deployed: the same template is understood now
    deploy_definitions(client, build_opt_out_definitions(settings, group["id"], KeywordPolicy(languages=("es",))))
    assert by_name(check_templates(client, [samples]))["oferta_primavera"].understood is True


def test_scripts_without_capitals_and_words_that_are_no_way_out(client, settings, group, deployed, controls):
    controls.seed(
        templates=[
            {
                "channelId": OTHER_CHANNEL,
                "templateName": "thai_promo",
                "language": "th",
                "category": "MARKETING",
                "components": [
                    {"type": "BODY", "text": "ลดราคา 50% วันนี้เท่านั้น"},
                    {"type": "FOOTER", "text": "หากไม่ต้องการรับข้อความ พิมพ์ ยกเลิก"},
                ],
            },
            {
                "channelId": OTHER_CHANNEL,
                "templateName": "confirm",
                "language": "en",
                "category": "MARKETING",
                "components": [{"type": "BODY", "text": "Reply YES to confirm your booking."}],
            },
        ]
    )
    found = by_name(check_templates(client, [OTHER_CHANNEL]))
    assert found["thai_promo"].way_out == 'text "ยกเลิก"' and "add th to LANGUAGES" in found["thai_promo"].action
    assert found["confirm"].way_out == "" and found["confirm"].understood is None  # YES is no opt-out
    deploy_definitions(client, build_opt_out_definitions(settings, group["id"], KeywordPolicy(languages=("th",))))
    assert by_name(check_templates(client, [OTHER_CHANNEL]))["thai_promo"].understood is True


def test_the_sandbox_serves_templates_as_8x8_defines_them(client, controls, make_client, settings):
    with pytest.raises(Unauthorized, match="EIGHTXEIGHT_ACCOUNT_UUID"):  # the account's UUID, not its name
        make_client(settings.__class__(**{**settings.__dict__, "account_uuid": "sandbox-account"})).messaging.templates(
            SAMPLE_CHANNEL_ID
        )
    with pytest.raises(Unauthorized):
        make_client(
            settings.__class__(**{**settings.__dict__, "account_uuid": "00000000-0000-4000-8000-000000000000"})
        ).messaging.templates(SAMPLE_CHANNEL_ID)
    assert client.messaging.templates(OTHER_CHANNEL) == []
    with pytest.raises(SandboxControlError, match="1 to 20 characters"):  # a button title as 8x8 limits it
        controls.seed(
            templates=[
                {
                    "channelId": OTHER_CHANNEL,
                    "templateName": "t",
                    "language": "en",
                    "components": [
                        {
                            "type": "BUTTONS",
                            "buttons": [{"type": "QUICK_REPLY", "text": "Stop all promotional messages"}],
                        }
                    ],
                }
            ]
        )
    with pytest.raises(BadInput, match="channel id"):
        check_templates(client, [])


def command(sandbox, *args, cwd):
    env = {**os.environ, "EIGHTXEIGHT_BASE_URL": sandbox.base_url}
    env.pop("EIGHTXEIGHT_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "helpers", "templates", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_exits_0_1_or_2(sandbox, client, controls, deployed, samples, tmp_path):
    needs_action = command(sandbox, "--channel", samples, cwd=tmp_path)
    assert needs_action.returncode == 1, needs_action.stderr
    assert 'oferta_primavera (es, MARKETING): text "BAJA", not understood' in needs_action.stdout
    assert needs_action.stdout.strip().splitlines()[-1].startswith("Summary: 2 way(s) out understood, 2 template(s)")
    controls.seed(templates=[{"channelId": OTHER_CHANNEL, **SAMPLE_TEMPLATES[0]}])
    fine = command(sandbox, "--channel", OTHER_CHANNEL, cwd=tmp_path)
    assert fine.returncode == 0 and fine.stdout.strip().endswith("understood by the deployed workflow.")
    unread = command(sandbox, cwd=tmp_path)
    assert unread.returncode == 2 and "--channel" in unread.stderr and "Traceback" not in unread.stderr


def test_a_channel_without_any_template_is_never_ok(sandbox, client, deployed, samples, tmp_path):
    """A mistyped channel id (8x8 documents no 404 there: it reads as a channel without templates)
    said "Summary: ok, every way out (0) is understood", exit 0, over nothing read."""
    check = check_templates(client, ["a-mistyped-channel"])
    assert check.exit_code == 1 and len(check.problems) == 1 and check.problems[0].none_read
    done = command(sandbox, "--channel", "a-mistyped-channel", "--channel", samples, cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert "- no template was read on channel a-mistyped-channel: check the channel id" in done.stdout
    assert "5 template(s) read." in lines and not lines[-1].startswith("Summary: ok")
