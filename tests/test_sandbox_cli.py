"""`python -m helpers sandbox` as a person or a job would run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def start(*args):
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers", "sandbox", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    base_url = process.stdout.readline().strip()
    assert base_url.startswith("http://127.0.0.1:"), process.stderr.read()
    return process, base_url


def stop(process):
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_state_file_keeps_groups_across_restarts(tmp_path):
    state = tmp_path / "sandbox.sqlite"
    headers = {"Authorization": "Bearer sandbox-api-key"}
    process, base_url = start("--state", str(state), "--latency-ms", "1")
    try:
        created = requests.post(
            base_url + "/api/v1/accounts/acme/groups",
            json={"name": "Opt-out", "isBlacklist": True},
            headers=headers,
            timeout=5,
        )
        assert created.status_code == 201
    finally:
        stop(process)
    process, base_url = start("--state", str(state))
    try:
        found = requests.get(
            base_url + "/api/v1/accounts/acme/groups", params={"name": "opt"}, headers=headers, timeout=5
        ).json()
        assert [g["id"] for g in found["items"]] == [created.json()["id"]]
    finally:
        stop(process)


def test_fault_injection_from_the_command_line():
    process, base_url = start("--share-503", "1")
    try:
        answer = requests.get(
            base_url + "/api/v1/accounts/acme/groups", headers={"Authorization": "Bearer x"}, timeout=5
        )
        assert answer.status_code == 503 and answer.json()["code"] == 1503
    finally:
        stop(process)


def test_deploy_command_previews_then_deploys_the_chosen_languages(tmp_path):
    """Notebook 03's job as a command: a dry run deploys nothing; --apply deploys and reads back."""
    import json

    process, base_url = start("--state", str(tmp_path / "sandbox.sqlite"))
    env = {k: v for k, v in os.environ.items() if k != "EIGHTXEIGHT_API_KEY"}
    env.update(EIGHTXEIGHT_BASE_URL=base_url, EIGHTXEIGHT_LANGUAGES="es", PYTHONPATH=str(ROOT))
    headers = {"Authorization": "Bearer sandbox-api-key"}
    definitions = base_url + "/api/v1/accounts/sandbox-account/definitions"

    def deploy(*args):
        return subprocess.run(
            [sys.executable, "-m", "helpers", "deploy", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    try:
        requests.post(
            base_url + "/api/v1/accounts/sandbox-account/groups",
            headers=headers,
            timeout=5,
            json={"name": "WhatsApp opt-out", "isBlacklist": True},
        ).raise_for_status()
        preview = deploy("--languages", "de", "--json")
        assert preview.returncode == 0, preview.stderr
        values = json.loads(preview.stdout)
        assert values["languages"] == ["en", "de"] and values["dry_run"] and values["broken_scripts"] == 0
        assert requests.get(definitions, headers=headers, timeout=5).json() == []
        for_people = deploy("--languages", "de")  # the same, as lines for people
        assert "de (German)" in for_people.stdout and "Dry run: nothing was deployed" in for_people.stdout
        applied = deploy("--apply", "--json")  # the setting: English and Spanish
        assert applied.returncode == 0, applied.stderr
        values = json.loads(applied.stdout)
        assert values["languages"] == ["en", "es"]
        assert {c: (d["action"], d["version"], d["status"]) for c, d in values["deployed"].items()} == {
            "WhatsApp": ("created", 1, "enabled"),
            "SMS": ("created", 1, "enabled"),
        }
        deployed = requests.get(definitions, headers=headers, timeout=5).json()
        assert {d["id"] for d in deployed} == {d["definition_id"] for d in values["deployed"].values()}
        assert len(deployed) == 2 and all("baja" in json.dumps(d["definition"]) for d in deployed)
        wrong = deploy("--languages", "es,xx")
        assert wrong.returncode == 2 and "unknown language code(s) 'xx'" in wrong.stderr
        assert "Traceback" not in wrong.stderr
    finally:
        stop(process)
