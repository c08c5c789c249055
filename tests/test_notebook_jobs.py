"""Notebooks run as jobs: papermill with parameters, as a scheduler would. What a notebook did is
read from the values it records (helpers.record), never from the prose it prints."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import papermill
import pytest
from support import sandbox_client

from helpers.record import recorded

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def sandbox_mode(monkeypatch):
    for name in ("EIGHTXEIGHT_API_KEY", "EIGHTXEIGHT_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def apply_job(name: str, tmp_path, **parameters):
    """A notebook run as a scheduled job with APPLY=True, its reports in tmp_path/reports, alone on a
    fresh sandbox holding what the runbook job leaves before it (runbook.LEFT_BY_EARLIER_NOTEBOOKS)."""
    with mock.patch.dict(os.environ, {"EIGHTXEIGHT_SANDBOX_NOTEBOOK": name}):
        return papermill.execute_notebook(
            str(ROOT / "notebooks" / f"{name}.ipynb"),
            str(tmp_path / f"{name}.ipynb"),
            cwd=str(tmp_path),
            progress_bar=False,
            kernel_name="python3",
            parameters={"APPLY": True, "REPORTS_DIR": str(tmp_path / "reports"), **parameters},
        )


def test_bulk_removal_notebook_applies_when_a_job_asks(tmp_path):
    values = recorded(apply_job("05_bulk_remove_from_csv", tmp_path))
    assert values["plan"]["dry_run"]
    assert values["plan"]["plan"] == {"to remove": 3, "not in group": 6, "duplicate": 1, "invalid": 2}
    applied = values["applied"]
    assert not applied["dry_run"] and applied["passes"] == 1 and applied["exit_code"] == 1  # 1: invalid rows
    # read back: the three out, and no valid number of the file left in the group
    assert applied["outcome"] == {"removed": 3, "nothing to do": 6, "invalid": 2, "duplicate": 1}
    reports = sorted((tmp_path / "reports").glob("bulk-remove-sample_opt_ins-group*.csv"))
    assert len(reports) == 2  # the dry run's and the apply's: one report per run
    applied = next(r.read_text() for r in reports if ",removed" in r.read_text())
    assert applied.count(",removed") == 3 and applied.count(",invalid,") == 2


def test_import_notebook_applies_when_a_job_asks(tmp_path):
    values = recorded(apply_job("06_import_opt_out_list", tmp_path))
    assert values["plan"]["plan"] == {"to add": 5, "already in group": 1, "duplicate": 1, "invalid": 1}
    assert values["applied"]["outcome"] == {"added": 5, "nothing to do": 1, "invalid": 1, "duplicate": 1}


def test_audit_notebook_finds_and_repairs_lost_opt_outs_when_a_job_asks(tmp_path):
    values = recorded(apply_job("07_audit_and_repair_opt_outs", tmp_path, LEDGER_PATH=str(tmp_path / "ledger.csv")))
    assert values["audit"]["actions"]["lost opt-out: add to the group"] == 4
    assert values["audit"]["actions"]["cannot repair: no phone number"] == 1
    assert values["applied"]["repaired"] == {"added to the group": 4} and values["applied"]["remaining"] == 1
    ledger = (tmp_path / "ledger.csv").read_text()
    assert ledger.count("repaired: added to the group") == 4 and len(ledger.splitlines()) == 15


def test_group_notebook_takes_its_name_as_a_parameter(tmp_path):
    result = papermill.execute_notebook(
        str(ROOT / "notebooks" / "01_create_opt_out_group.ipynb"),
        str(tmp_path / "01.ipynb"),
        parameters={"OPT_OUT_GROUP_NAME": "SMS STOP list"},
        cwd=str(tmp_path),
        progress_bar=False,
        kernel_name="python3",
    )
    values = recorded(result)
    assert values["group_name"] == "SMS STOP list" and values["created"] and values["blacklisted"]


def test_second_run_of_notebooks_01_to_03_changes_nothing(tmp_path, monkeypatch):
    """Against one sandbox, as an operator re-running the runbook: same group, same definition."""
    from sandbox import Sandbox

    with Sandbox(deterministic=True) as sandbox:
        monkeypatch.setenv("EIGHTXEIGHT_BASE_URL", sandbox.base_url)
        runs = []
        for run in (1, 2):
            values = {}
            for name in ("01_create_opt_out_group", "02_find_group_id", "03_build_and_deploy_workflow"):
                done = papermill.execute_notebook(
                    str(ROOT / "notebooks" / f"{name}.ipynb"),
                    str(tmp_path / f"{run}-{name}.ipynb"),
                    cwd=str(tmp_path),
                    parameters={"DEFINITION_DIR": str(tmp_path)} if name.startswith("03") else {},
                    progress_bar=False,
                    kernel_name="python3",
                )
                values[name[:2]] = recorded(done)
            runs.append(values)
        first, second = runs
        assert first["01"]["created"] and not second["01"]["created"]  # the second run found the group
        assert {r[n]["group_id"] for r in runs for n in ("01", "02", "03")} == {first["01"]["group_id"]}
        assert {c: d["action"] for c, d in first["03"]["deployed"].items()} == {"WhatsApp": "created", "SMS": "created"}
        assert {c: d["action"] for c, d in second["03"]["deployed"].items()} == {
            "WhatsApp": "unchanged",
            "SMS": "unchanged",
        }
        assert {(c, d["definition_id"], d["version"]) for c, d in second["03"]["deployed"].items()} == {
            (c, d["definition_id"], 1) for c, d in first["03"]["deployed"].items()
        }
        assert len(list(sandbox_client(sandbox).automation.list_definitions())) == 2
        assert sorted(p.name for p in tmp_path.glob("opt_out_workflow_*.json")) == [
            "opt_out_workflow_sms.json",
            "opt_out_workflow_whatsapp.json",
        ]


def test_notebook_04_after_a_customised_03_keeps_the_deployed_workflows(tmp_path, monkeypatch):
    """03 deploys the languages and words it is given; 04 tests what 03 deployed and never reverts the
    live workflows to the defaults."""
    import json

    from sandbox import Sandbox

    with Sandbox(deterministic=True) as sandbox:
        monkeypatch.setenv("EIGHTXEIGHT_BASE_URL", sandbox.base_url)
        ran = {}
        for name, parameters in (
            (
                "03_build_and_deploy_workflow",
                {"EXTRA_OPT_OUT_WORDS": ["ARRET"], "LANGUAGES": ["es", "ja"], "DEFINITION_DIR": str(tmp_path)},
            ),
            ("04_test_opt_outs", {}),
        ):
            ran[name] = papermill.execute_notebook(
                str(ROOT / "notebooks" / f"{name}.ipynb"),
                str(tmp_path / f"{name}.ipynb"),
                cwd=str(tmp_path),
                parameters=parameters,
                progress_bar=False,
                kernel_name="python3",
            )
        deployed = list(sandbox_client(sandbox).automation.list_definitions())
        assert len(deployed) == 2 and {d["version"] for d in deployed} == {1}
        assert all("arret" in json.dumps(d["definition"]) and "baja" in json.dumps(d["definition"]) for d in deployed)
        assert recorded(ran["03_build_and_deploy_workflow"])["languages"] == ["en", "es", "ja"]
        tests = recorded(ran["04_test_opt_outs"])["tests"]  # 04 tested what 03 deployed, every message as expected
        assert tests["as_expected"] == tests["messages"] and tests["by_channel"]["WhatsApp opt-out"] > 0
        assert {k.split(" on ")[0] for k in tests["answered_on"]} == {"WhatsApp", "SMS", "Viber", "RCS"}


def test_audience_notebook_as_a_job_writes_exactly_the_rows_that_may_receive(tmp_path):
    send, left_out = tmp_path / "send.csv", tmp_path / "left-out.csv"
    send.write_text("customer,phone\nStale,+6500000000\n")  # yesterday's list: never mistaken for today's
    done = papermill.execute_notebook(
        str(ROOT / "notebooks" / "08_check_campaign_audience.ipynb"),
        str(tmp_path / "08.ipynb"),
        cwd=str(tmp_path),
        progress_bar=False,
        kernel_name="python3",
        parameters={"SEND_LIST_PATH": str(send), "REPORT_PATH": str(left_out)},
    )
    # the file's own rows, cells as written, in order: those neither in the group nor opted out per the ledger
    assert send.read_text().splitlines() == [
        "customer,phone,segment,bsuid",
        "Ben,6598765432,silver,",
        "Farid,+44 7400 900123,silver,",
    ]
    import csv

    with left_out.open(newline="", encoding="utf-8-sig") as handle:
        reasons = {row["row"]: row["reason"] for row in csv.DictReader(handle)}
    assert {row: reason.split(":")[0].split(";")[0].split(" (")[0] for row, reason in reasons.items()} == {
        "2": "in the opt-out group",
        "4": "in the opt-out group",  # written +65 9123 4567 and 0044 7911 123456
        "5": "opted out",  # its STOP's Contacts calls all failed: only the ledger knows
        "6": "in the opt-out group",  # and within the sync hour, said in the reason
        "8": "invalid",
        "9": "duplicate",
        "10": "invalid",  # n/a, Ben again, a formula cell
        "11": "opted out",
    }  # Jun's STOP came by BSUID, without a number: only the ledger, by BSUID, knows it
    assert "within the hour" in reasons["6"]
    values = recorded(done)["audience"]
    assert values["left_out"] == reasons and values["counts"]["may receive"] == 2 and values["exit_code"] == 1
    assert reasons["11"].startswith("opted out (the ledger has the STOP of this row's WhatsApp BSUID")


def test_the_audience_notebook_that_cannot_reach_8x8_leaves_no_stale_send_list(tmp_path, monkeypatch):
    import socket

    with socket.socket() as closed:  # a port nothing listens on: the job fails at connect()
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("EIGHTXEIGHT_BASE_URL", f"http://127.0.0.1:{closed.getsockname()[1]}")
    send = tmp_path / "send.csv"
    send.write_text("customer,phone\nStale,+6500000000\n")  # yesterday's list
    with pytest.raises(papermill.PapermillExecutionError):
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "08_check_campaign_audience.ipynb"),
            str(tmp_path / "08.ipynb"),
            cwd=str(tmp_path),
            progress_bar=False,
            kernel_name="python3",
            parameters={"SEND_LIST_PATH": str(send)},
        )
    assert not send.exists()


def test_a_failed_connection_check_stops_the_runbook_job_at_00(tmp_path, monkeypatch, capsys):
    import socket

    from helpers.errors import NotebookFailed
    from helpers.runbook import run_runbook

    with socket.socket() as closed:  # a port nothing listens on: no sandbox, no 8x8
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("EIGHTXEIGHT_BASE_URL", f"http://127.0.0.1:{closed.getsockname()[1]}")
    import papermill

    before, seen_while_running = dict(os.environ), []
    execute = papermill.execute_notebook

    def watched(*args, **kwargs):
        seen_while_running.append(os.environ.get("EIGHTXEIGHT_RUN_DIR"))
        return execute(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", watched)
    from helpers.runbook import KernelsAhead

    started, start = [], KernelsAhead._start
    monkeypatch.setattr(KernelsAhead, "_start", lambda self: started.append(start(self)) or started[-1])
    with pytest.raises(NotebookFailed, match="Stopped at 00_setup.ipynb"):
        run_runbook(tmp_path / "run")
    # 00's kernel and the one started ahead for 01: the job left neither running
    assert len(started) == 2 and not any(kernel.is_alive() for kernel in started)
    # the kernels got the job's environment; this process kept its own, also while the job ran
    assert seen_while_running == [before.get("EIGHTXEIGHT_RUN_DIR")] and dict(os.environ) == before
    said = capsys.readouterr().out
    assert "FAILED  00_setup.ipynb" in said and "ConnectionCheckFailed" in said and "01_" not in said
    assert sorted(p.name for p in (tmp_path / "run").glob("*.ipynb")) == ["00_setup.ipynb"]


def test_a_second_runbook_job_at_once_is_refused_before_any_notebook(tmp_path, monkeypatch):
    """Two runbook jobs on one sandbox judged each other's work: the second failed at notebook 04,
    a test number taken out by the first between its STOP and its read-back."""
    from helpers.client import Client
    from helpers.config import load_settings
    from helpers.errors import RunInProgress
    from helpers.runbook import RunbookLock, run_runbook

    monkeypatch.setenv("EIGHTXEIGHT_BASE_URL", "http://127.0.0.1:9")  # never called: the refusal comes first
    with RunbookLock(Client(load_settings())):
        with pytest.raises(RunInProgress, match="Another runbook job .* this one ran no notebook"):
            run_runbook(tmp_path / "run")
    assert not (tmp_path / "run").exists()


class FakeClient:
    """A kernel client that records the code it was given."""

    def __init__(self, kernel):
        self.kernel = kernel

    def start_channels(self):
        pass

    def wait_for_ready(self, timeout):
        assert self.kernel.running

    def execute(self, code, **kw):
        self.kernel.executed.append((code, kw))

    def get_shell_msg(self, timeout):
        return {"content": {"status": "ok"}}

    def stop_channels(self):
        pass


class FakeKernel:
    """A kernel manager that records what was done to it."""

    made: list[FakeKernel] = []

    def __init__(self, **kw):
        self.running, self.clients, self.has_kernel, self.executed = False, [], False, []
        FakeKernel.made.append(self)

    def client(self):
        self.clients.append(FakeClient(self))
        return self.clients[-1]

    def start_kernel(self, **kw):
        self.running = self.has_kernel = True

    def shutdown_kernel(self, now):
        self.running = False


def test_each_notebook_gets_a_kernel_of_its_own_started_one_ahead_and_none_is_left_running():
    from helpers.runbook import PRELOADED, KernelsAhead

    FakeKernel.made = []
    with KernelsAhead(FakeKernel, 3) as kernels:
        first = kernels.next()
        assert len(FakeKernel.made) == 2 and all(k.running for k in FakeKernel.made)  # the second's, ahead
        # warmed up, silently, and its warm-up client gone before the notebook's comes
        assert first.executed == [(PRELOADED, {"silent": True, "store_history": False})] and first.clients == []
        second = kernels.next()
        assert second is not first and len(FakeKernel.made) == 3  # the third's, ahead
        third = kernels.next()
        assert len({id(first), id(second), id(third)}) == 3 and len(FakeKernel.made) == 3  # none past the last
        fourth = kernels.next()  # asked for one more than said: started then, none ahead
        assert fourth is not third and len(FakeKernel.made) == 4
    assert not any(k.running for k in FakeKernel.made)

    FakeKernel.made = []
    with pytest.raises(KeyboardInterrupt), KernelsAhead(FakeKernel, 9) as kernels:
        kernels.next()
        raise KeyboardInterrupt  # a job stopped during its first notebook
    assert len(FakeKernel.made) == 2 and not any(k.running for k in FakeKernel.made)
