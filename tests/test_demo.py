"""The sandbox's sample starting points (notebooks 05 and 06): the same plan on every run, set up
by the runbook job, the sandbox command or a fresh sandbox's seed, never by a notebook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import members

from helpers.bulk import bulk_add, bulk_remove
from helpers.demo import SAMPLES, fresh_sandbox_seed, prepare_sample, sample_path, set_starting_point
from helpers.groups import ensure_opt_out_group, opt_out_group_id
from helpers.runbook import Runbook

ROOT = Path(__file__).resolve().parents[1]


def plan_counts(client, group_id, tmp_path, sample):
    run = (bulk_remove if sample == "bulk-remove" else bulk_add)(
        client, sample_path(sample), group_id, default_region="SG", reports_dir=tmp_path, progress=False
    )
    return run.plan.summary()["rows"].to_dict()


def test_the_plans_are_the_same_on_the_first_run_and_after_the_buttons_were_pressed(client, settings, tmp_path, capsys):
    runbook = Runbook(settings, client)
    group_id = ensure_opt_out_group(client, "WhatsApp opt-out").group["id"]
    client.contacts.upsert_contact("+6597000001", group_ids=[group_id])  # a customer outside the samples
    first = {}
    for sample in SAMPLES:
        set_starting_point(runbook, group_id, sample, sample_path(sample))
        first[sample] = plan_counts(client, group_id, tmp_path, sample)
    assert first["bulk-remove"]["to remove"] == 3 and first["import"]["to add"] == 5
    # an operator pressed both buttons in an earlier session
    bulk_remove(
        client,
        sample_path("bulk-remove"),
        group_id,
        default_region="SG",
        apply=True,
        reports_dir=tmp_path,
        progress=False,
    )
    bulk_add(
        client, sample_path("import"), group_id, default_region="SG", apply=True, reports_dir=tmp_path, progress=False
    )
    capsys.readouterr()
    for sample in SAMPLES:
        said = set_starting_point(runbook, group_id, sample, sample_path(sample))
        assert plan_counts(client, group_id, tmp_path, sample) == first[sample]
        assert said.startswith("Sandbox sample: ") and "sandbox --reset" in said
    assert "+6597000001" in members(client, group_id)  # numbers outside the sample files are never touched
    again = set_starting_point(runbook, group_id, "import", sample_path("import"))
    assert again.startswith("Sandbox sample: the group holds the 1 customer(s)")


def test_nothing_happens_on_8x8_or_for_another_file(client, settings, tmp_path, monkeypatch):
    runbook = Runbook(settings, client)
    group_id = ensure_opt_out_group(client, "WhatsApp opt-out").group["id"]
    other = tmp_path / "mine.csv"
    other.write_text("phone\n+6591234567\n")
    assert set_starting_point(runbook, group_id, "bulk-remove", other) is None
    monkeypatch.setattr(type(settings), "sandbox_mode", property(lambda self: False))
    assert set_starting_point(runbook, group_id, "bulk-remove", sample_path("bulk-remove")) is None
    assert members(client, group_id) == set()


def test_the_job_prepares_the_notebook_that_plans_its_sample_and_no_other(client, settings, tmp_path):
    runbook = Runbook(settings, client)
    said = prepare_sample(runbook, "05_bulk_remove_from_csv", {"APPLY": True})  # the group is made when missing
    group_id = opt_out_group_id(client)
    assert said.startswith("Sandbox sample: added the 4 customer(s)")
    assert members(client, group_id) == set(SAMPLES["bulk-remove"].opted_out_earlier)
    other = tmp_path / "mine.csv"
    other.write_text("phone\n+6591234569\n")
    assert prepare_sample(runbook, "05_bulk_remove_from_csv", {"CSV_PATH": str(other)}) is None  # the job's own file
    assert prepare_sample(runbook, "04_send_test_opt_outs", {}) is None
    assert members(client, group_id) == set(SAMPLES["bulk-remove"].opted_out_earlier)


def test_a_notebook_alone_on_a_fresh_sandbox_finds_its_samples_starting_point(client, settings, sandbox, tmp_path):
    assert fresh_sandbox_seed("04_send_test_opt_outs") is None
    sandbox_controls = Runbook(settings, client).sandbox
    sandbox_controls.seed(**fresh_sandbox_seed("06_import_opt_out_list"))
    group_id = opt_out_group_id(client)
    assert members(client, group_id) == set(SAMPLES["import"].opted_out_earlier)
    assert plan_counts(client, group_id, tmp_path, "import") == {
        "to add": 5,
        "already in group": 1,
        "duplicate": 1,
        "invalid": 1,
    }


def test_the_sandbox_command_sets_a_sample_up_for_a_person_in_jupyterlab(client, sandbox, tmp_path):
    env = {**os.environ, "EIGHTXEIGHT_BASE_URL": sandbox.base_url}
    env.pop("EIGHTXEIGHT_API_KEY", None)
    command = [sys.executable, "-m", "helpers", "sandbox", "--sample", "bulk-remove"]
    first = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Sandbox sample: added the 4 customer(s)")
    assert members(client, opt_out_group_id(client)) == set(SAMPLES["bulk-remove"].opted_out_earlier)
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stdout.startswith("Sandbox sample: the group holds the 4 customer(s)")
    helps = subprocess.run(
        [sys.executable, "-m", "helpers", "sandbox", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    ).stdout
    assert "{" + ",".join(SAMPLES) + "}" in helps  # the command offers every sample the job prepares
    on_8x8 = subprocess.run(
        command,
        cwd=tmp_path,
        env={
            **env,
            "EIGHTXEIGHT_API_KEY": "k" * 30,
            "EIGHTXEIGHT_ACCOUNT_ID": "acme",
            "EIGHTXEIGHT_SUBACCOUNT_ID": "acme_wa",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert on_8x8.returncode == 2 and "nothing is set up on 8x8" in on_8x8.stderr
