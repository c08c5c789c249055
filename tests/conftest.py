"""Fixtures: a real sandbox on 127.0.0.1 per test, and a client whose every request and
response is checked against 8x8's official definitions (when ../shared/8x8-api exists)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support import GROUP

from helpers import openapi as openapi_contract
from helpers.client import Client
from helpers.config import load_settings
from helpers.groups import ensure_opt_out_group
from helpers.runbook import SandboxControls
from helpers.workflow import build_opt_out_definitions, deploy_definitions
from sandbox import Sandbox

_CONTRACT = openapi_contract.Contract.load() if openapi_contract.available() else None


class ContractRecorder:
    """Checks each exchange of a client as it happens; can relax request checks for bad-input tests."""

    def __init__(self, contract):
        self.contract = contract
        self.check_requests = True

    @contextlib.contextmanager
    def sending_invalid_requests(self):
        self.check_requests = False
        try:
            yield
        finally:
            self.check_requests = True

    def attach(self, client: Client) -> Client:
        if self.contract is not None:
            client.session.hooks["response"].append(self._hook)
        return client

    def _hook(self, response, *args, **kwargs):
        request = response.request
        if self.check_requests:
            self.contract.check_request(request.method, request.url, request.body, request.headers.get("Content-Type"))
        self.contract.check_response(
            request.method, request.url, response.status_code, response.content, response.headers.get("Content-Type")
        )
        return response


@pytest.fixture
def contract():
    if _CONTRACT is None:
        pytest.skip(openapi_contract.MISSING_REASON)
    return _CONTRACT


@pytest.fixture
def recorder():
    return ContractRecorder(_CONTRACT)


@pytest.fixture
def sandbox():
    with Sandbox(deterministic=True) as running:
        yield running


@pytest.fixture
def settings(sandbox):
    return load_settings(env={}, env_file=None).with_base_url(sandbox.base_url)


@pytest.fixture
def make_client(settings, recorder):
    clients = []

    def make(custom_settings=None, **options):
        options.setdefault("backoff_factor", 0)
        options.setdefault("timeout", (2, 10))
        client = recorder.attach(Client(custom_settings or settings, **options))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


_FROM_WORKERS = {"requests": 0, "responses": 0}  # with pytest-xdist: the workers' counts, summed here


def pytest_sessionfinish(session):
    output = getattr(session.config, "workeroutput", None)  # set on an xdist worker only
    if output is not None and _CONTRACT is not None:
        output["contract"] = {"requests": _CONTRACT.requests_validated, "responses": _CONTRACT.responses_validated}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    for key, count in getattr(node, "workeroutput", {}).get("contract", {}).items():
        _FROM_WORKERS[key] += count


def pytest_terminal_summary(terminalreporter):
    if _CONTRACT is None:
        terminalreporter.write_line(f"OpenAPI contract checks skipped: {openapi_contract.MISSING_REASON}")
    else:
        terminalreporter.write_line(
            f"OpenAPI contract: {_CONTRACT.requests_validated + _FROM_WORKERS['requests']} requests and "
            f"{_CONTRACT.responses_validated + _FROM_WORKERS['responses']} responses validated against 8x8's "
            f"official definitions in {openapi_contract.SPEC_DIR}"
        )


# --- the opt-out group and both workflows deployed on the test's sandbox --------------------------
# (a module may define its own ``group`` or ``deployed``; pytest takes the nearer one)


@pytest.fixture
def group(client):
    return ensure_opt_out_group(client, GROUP).group


@pytest.fixture
def deployed(client, settings, group):
    return deploy_definitions(client, build_opt_out_definitions(settings, group["id"]))


@pytest.fixture
def controls(sandbox):
    return SandboxControls(sandbox.base_url)
