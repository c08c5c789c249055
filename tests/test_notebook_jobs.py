"""Notebooks run as jobs: papermill with parameters, as a scheduler would."""
from __future__ import annotations

from pathlib import Path

import papermill
import pytest

from support import sandbox_client

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def sandbox_mode(monkeypatch):
    for name in ("EIGHTXEIGHT_API_KEY", "EIGHTXEIGHT_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def outputs(notebook) -> str:
    return "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                     for cell in notebook.cells for o in cell.get("outputs", []))


def apply_job(name: str, tmp_path, **parameters):
    """A notebook run as a scheduled job with APPLY=True, its reports in tmp_path/reports."""
    return papermill.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                                      cwd=str(tmp_path), progress_bar=False, kernel_name="python3",
                                      parameters={"APPLY": True, "REPORTS_DIR": str(tmp_path / "reports"),
                                                  **parameters})


def test_bulk_removal_notebook_applies_when_a_job_asks(tmp_path):
    text = outputs(apply_job("05_bulk_remove_from_csv", tmp_path))
    assert "Dry run: nothing was changed" in text
    assert "Pass 1: 3 number(s) planned, sent in 1 chunk(s); 0 refused." in text and "3 removed" in text
    assert "Done: the check found no valid number of the file in the group." in text
    reports = sorted((tmp_path / "reports").glob("bulk-remove-sample_opt_ins-group*.csv"))
    assert len(reports) == 2  # the dry run's and the apply's: one report per run
    applied = next(r.read_text() for r in reports if ",removed" in r.read_text())
    assert applied.count(",removed") == 3 and applied.count(",invalid,") == 2


def test_import_notebook_applies_when_a_job_asks(tmp_path):
    text = outputs(apply_job("06_import_opt_out_list", tmp_path))
    assert "Plan: 5 to add, 1 already in group, 1 duplicate, 1 invalid" in text
    assert "Outcome: 5 added, 1 nothing to do, 1 invalid, 1 duplicate" in text
    assert "Done: the check found every valid number of the file in the group." in text


def test_audit_notebook_finds_and_repairs_lost_opt_outs_when_a_job_asks(tmp_path):
    text = outputs(apply_job("07_audit_and_repair_opt_outs", tmp_path, LEDGER_PATH=str(tmp_path / "ledger.csv")))
    assert "4 lost opt-out: add to the group:" in text and "1 cannot repair: no phone number:" in text
    assert "Applied: 4 added to the group (each confirmed by reading the group back)." in text
    ledger = (tmp_path / "ledger.csv").read_text()
    assert ledger.count("repaired: added to the group") == 4 and len(ledger.splitlines()) == 15


def test_group_notebook_takes_its_name_as_a_parameter(tmp_path):
    result = papermill.execute_notebook(str(ROOT / "notebooks" / "01_create_opt_out_group.ipynb"),
                                        str(tmp_path / "01.ipynb"), parameters={"OPT_OUT_GROUP_NAME": "SMS STOP list"},
                                        cwd=str(tmp_path), progress_bar=False, kernel_name="python3")
    assert "Created blacklisted group 'SMS STOP list'" in outputs(result)


def test_second_run_of_notebooks_01_to_03_changes_nothing(tmp_path, monkeypatch):
    """Against one sandbox, as an operator re-running the runbook: same group, same definition."""
    import re

    from helpers.sandbox import Sandbox

    with Sandbox(deterministic=True) as sandbox:
        monkeypatch.setenv("EIGHTXEIGHT_BASE_URL", sandbox.base_url)
        texts = []
        for run in (1, 2):
            text = ""
            for name in ("01_create_opt_out_group", "02_find_group_id", "03_build_and_deploy_workflow"):
                done = papermill.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"),
                                                  str(tmp_path / f"{run}-{name}.ipynb"), cwd=str(tmp_path),
                                                  parameters={"DEFINITION_DIR": str(tmp_path)}
                                                  if name.startswith("03") else {},
                                                  progress_bar=False, kernel_name="python3")
                text += outputs(done)
            texts.append(text)
        groups = [set(re.findall(r"id (\d+)", t)) for t in texts]
        definitions = [re.findall(r"(created|updated|unchanged): definition ([0-9a-f-]+), version (\d+)", t) for t in texts]
        assert groups[0] == groups[1] and len(groups[0]) == 1
        assert [d[0] for d in definitions[0]] == ["created", "created"]  # WhatsApp and SMS
        assert {d[0] for d in definitions[1]} == {"unchanged"}
        assert {(d[1], d[2]) for d in definitions[0] + definitions[1]} == {(d[1], "1") for d in definitions[0]}
        assert "already exists" in texts[1] and "Created" not in texts[1]
        assert len(list(sandbox_client(sandbox).automation.list_definitions())) == 2
        assert sorted(p.name for p in tmp_path.glob("opt_out_workflow_*.json")) == [
            "opt_out_workflow_sms.json", "opt_out_workflow_whatsapp.json"]


def test_notebook_04_after_a_customised_03_keeps_the_deployed_workflows(tmp_path, monkeypatch):
    """03 deploys the languages and words it is given; 04 tests what 03 deployed and never reverts the
    live workflows to the defaults."""
    import json

    from helpers.sandbox import Sandbox

    with Sandbox(deterministic=True) as sandbox:
        monkeypatch.setenv("EIGHTXEIGHT_BASE_URL", sandbox.base_url)
        ran = {}
        for name, parameters in (("03_build_and_deploy_workflow", {"EXTRA_OPT_OUT_WORDS": ["ARRET"],
                                                                   "LANGUAGES": ["es", "ja"],
                                                                   "DEFINITION_DIR": str(tmp_path)}),
                                 ("04_test_opt_outs", {})):
            ran[name] = papermill.execute_notebook(
                str(ROOT / "notebooks" / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"), cwd=str(tmp_path),
                parameters=parameters, progress_bar=False, kernel_name="python3")
        deployed = list(sandbox_client(sandbox).automation.list_definitions())
        assert len(deployed) == 2 and {d["version"] for d in deployed} == {1}
        assert all("arret" in json.dumps(d["definition"]) and "baja" in json.dumps(d["definition"])
                   for d in deployed)
        shown = outputs(ran["03_build_and_deploy_workflow"])
        assert "Languages: en, es, ja" in shown and "es (Spanish)" in shown and "ja (Japanese)" in shown


def test_audience_notebook_as_a_job_writes_exactly_the_rows_that_may_receive(tmp_path):
    send, left_out = tmp_path / "send.csv", tmp_path / "left-out.csv"
    send.write_text("customer,phone\nStale,+6500000000\n")  # yesterday's list: never mistaken for today's
    papermill.execute_notebook(str(ROOT / "notebooks" / "08_check_campaign_audience.ipynb"),
                               str(tmp_path / "08.ipynb"), cwd=str(tmp_path), progress_bar=False,
                               kernel_name="python3",
                               parameters={"SEND_LIST_PATH": str(send), "REPORT_PATH": str(left_out)})
    # the file's own rows, cells as written, in order: those neither in the group nor opted out per the ledger
    assert send.read_text().splitlines() == ["customer,phone,segment", "Ben,6598765432,silver",
                                             "Farid,+44 7400 900123,silver", "Jun,+6587654321,silver"]
    import csv
    with left_out.open(newline="", encoding="utf-8-sig") as handle:
        reasons = {row["row"]: row["reason"] for row in csv.DictReader(handle)}
    assert {row: reason.split(":")[0].split(";")[0].split(" (")[0] for row, reason in reasons.items()} == {
        "2": "in the opt-out group", "4": "in the opt-out group",  # written +65 9123 4567 and 0044 7911 123456
        "5": "opted out",  # its STOP's Contacts calls all failed: only the ledger knows
        "6": "in the opt-out group",  # and within the sync hour, said in the reason
        "8": "invalid", "9": "duplicate", "10": "invalid"}  # n/a, Ben again, a formula cell
    assert "within the hour" in reasons["6"]
