"""Opt-out lists per subaccount: one subaccount on the account-wide blacklist, another on a list of its own."""

from __future__ import annotations

import pytest
from support import command, members

from helpers.audience import check_audience
from helpers.config import load_settings
from helpers.errors import ConfigError
from helpers.groups import ensure_opt_out_group, opt_out_list_name
from helpers.ledger import build_ledger
from helpers.runbook import SandboxControls
from helpers.workflow import build_opt_out_definitions, deploy_definitions
from sandbox import Sandbox

ACCOUNT = "sandbox-account"
BRAND_A, BRAND_B = "brand-a", "brand-b"  # A: account (the blacklisted group); B: its own list


@pytest.fixture
def two_brands():
    with Sandbox(deterministic=True, subaccounts={BRAND_A: ACCOUNT, BRAND_B: ACCOUNT}) as sandbox:
        yield sandbox


def test_each_stop_lands_on_its_subaccounts_list_and_the_audience_is_checked_per_subaccount(
    two_brands, make_client, tmp_path
):
    base = load_settings(env={}, env_file=None).with_base_url(two_brands.base_url)
    brand_a = make_client(base.for_subaccount(BRAND_A, "account"))
    brand_b = make_client(base.for_subaccount(BRAND_B, "subaccount"))
    assert opt_out_list_name(brand_b.settings) == "Opt-out: brand-b"
    blacklist = ensure_opt_out_group(brand_a, opt_out_list_name(brand_a.settings)).group
    deploy_definitions(brand_a, build_opt_out_definitions(brand_a.settings, blacklist["id"]))
    # B's list and workflows through the commands an operator runs
    deployed = command(
        two_brands, "deploy", "--subaccount", BRAND_B, "--opt-out-list", "subaccount", "--apply", cwd=tmp_path
    )
    assert deployed.returncode == 0, deployed.stderr
    assert "'Opt-out: brand-b' is a subaccount's own list, not blacklisted" in deployed.stdout
    own = brand_b.contacts.get_group(next(brand_b.contacts.search_groups("Opt-out: brand-b"))["id"])
    assert own["isBlacklist"] is False and blacklist["isBlacklist"] is True  # read back from the sandbox

    controls = SandboxControls(two_brands.base_url)
    runs = {}
    for msisdn, text, subaccount in (
        ("+6590000301", "STOP", BRAND_A),
        ("+6590000302", "STOP", BRAND_B),
        ("+6590000303", "STOP", BRAND_A),
        ("+6590000303", "STOP", BRAND_B),
        ("+6590000303", "START", BRAND_B),
    ):
        runs.setdefault(subaccount, []).extend(controls.deliver_inbound(msisdn, text, subaccount=subaccount))
        controls.advance_clock(seconds=60)
    # inbound messages reach the workflows of their own subaccount only
    definitions = {s: {r["definitionId"] for r in started} for s, started in runs.items()}
    assert (
        len(definitions[BRAND_A]) == len(definitions[BRAND_B]) == 1 and not definitions[BRAND_A] & definitions[BRAND_B]
    )
    assert members(brand_a, blacklist) == {"+6590000301", "+6590000303"}
    assert members(brand_b, own) == {"+6590000302"}  # 303 opted back in on B: off B's list, still on the blacklist
    assert set(build_ledger(brand_b).rows["number"]) == {"+6590000302", "+6590000303"}  # B's runs only

    audience = tmp_path / "audience.csv"
    audience.write_text("name,phone\nA1,+6590000301\nB2,+6590000302\nC3,+6590000303\nD4,+6590000304\n")
    on_a = check_audience(brand_a, audience, out=tmp_path / "send-a.csv", ledger=build_ledger(brand_a))
    assert (tmp_path / "send-a.csv").read_text().splitlines() == ["name,phone", "B2,+6590000302", "D4,+6590000304"]
    on_b = check_audience(brand_b, audience, out=tmp_path / "send-b.csv", ledger=build_ledger(brand_b))
    assert (tmp_path / "send-b.csv").read_text().splitlines() == ["name,phone", "D4,+6590000304"]
    assert dict(zip(on_b.left_out["msisdn"], on_b.left_out["reason"])) == {
        "+6590000301": "in the opt-out group",
        "+6590000302": "in this subaccount's own opt-out list",
        "+6590000303": "in the opt-out group",
    }
    assert [g["name"] for g, _ in on_a.groups] == ["WhatsApp opt-out"]
    assert [g["name"] for g, _ in on_b.groups] == ["WhatsApp opt-out", "Opt-out: brand-b"]
    # the same from the command line, per subaccount
    by_command = command(
        two_brands, "audience", audience, "--out", tmp_path / "send-b2.csv", "--subaccount", BRAND_B, cwd=tmp_path
    )
    assert by_command.returncode == 0, by_command.stderr
    assert (tmp_path / "send-b2.csv").read_text() == (tmp_path / "send-b.csv").read_text()
    assert "only sends that go through the audience check" in by_command.stdout


def test_an_unknown_opt_out_list_is_a_clear_error():
    with pytest.raises(ConfigError, match="account or subaccount"):
        load_settings(env={"EIGHTXEIGHT_OPT_OUT_LIST": "brand"}, env_file=None)
    assert load_settings(env={"EIGHTXEIGHT_OPT_OUT_LIST": "Subaccount"}, env_file=None).opt_out_list == "subaccount"


def test_an_opt_out_list_from_elsewhere_imports_into_a_subaccounts_own_list(two_brands, make_client, tmp_path):
    brand_b = make_client(
        load_settings(env={}, env_file=None).with_base_url(two_brands.base_url).for_subaccount(BRAND_B, "subaccount")
    )
    own = ensure_opt_out_group(brand_b).group
    assert own["name"] == "Opt-out: brand-b" and own["isBlacklist"] is False
    listed = tmp_path / "opted_out_elsewhere.csv"
    listed.write_text("phone\n+6590000401\n+6590000402\n")
    imported = command(
        two_brands,
        "bulk-add",
        listed,
        "--subaccount",
        BRAND_B,
        "--opt-out-list",
        "subaccount",
        "--apply",
        "--reports-dir",
        tmp_path / "reports",
        cwd=tmp_path,
    )
    assert imported.returncode == 0, imported.stderr
    assert members(brand_b, own) == {"+6590000401", "+6590000402"}  # read back from the sandbox
