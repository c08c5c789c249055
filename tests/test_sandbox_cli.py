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
    process = subprocess.Popen([sys.executable, "-m", "helpers", "sandbox", *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
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
        created = requests.post(base_url + "/api/v1/accounts/acme/groups", json={"name": "Opt-out", "isBlacklist": True},
                                headers=headers, timeout=5)
        assert created.status_code == 201
    finally:
        stop(process)
    process, base_url = start("--state", str(state))
    try:
        found = requests.get(base_url + "/api/v1/accounts/acme/groups", params={"name": "opt"}, headers=headers,
                             timeout=5).json()
        assert [g["id"] for g in found["items"]] == [created.json()["id"]]
    finally:
        stop(process)


def test_fault_injection_from_the_command_line():
    process, base_url = start("--share-503", "1")
    try:
        answer = requests.get(base_url + "/api/v1/accounts/acme/groups", headers={"Authorization": "Bearer x"}, timeout=5)
        assert answer.status_code == 503 and answer.json()["code"] == 1503
    finally:
        stop(process)
