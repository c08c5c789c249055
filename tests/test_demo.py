"""The sandbox's sample starting points (notebooks 05 and 06): the same plan on every run."""
from __future__ import annotations

from helpers.bulk import bulk_add, bulk_remove
from helpers.demo import SAMPLES, sample_path, set_starting_point
from helpers.groups import ensure_opt_out_group
from helpers.runbook import Runbook

from support import members


def plan_counts(client, group_id, tmp_path, sample):
    run = (bulk_remove if sample == "bulk-remove" else bulk_add)(client, sample_path(sample), group_id,
                                                                  default_region="SG", reports_dir=tmp_path, progress=False)
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
    bulk_remove(client, sample_path("bulk-remove"), group_id, default_region="SG", apply=True, reports_dir=tmp_path,
                progress=False)
    bulk_add(client, sample_path("import"), group_id, default_region="SG", apply=True, reports_dir=tmp_path,
             progress=False)
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
