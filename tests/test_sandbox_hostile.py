"""The sandbox stays up and answers 4xx, never 500 or a dropped connection, whatever it is sent."""

from __future__ import annotations

import socket

import pytest
import requests

from helpers.config import SANDBOX_API_KEY
from sandbox import Sandbox
from sandbox.server import MAX_BODY_BYTES

AUTH = {"Authorization": f"Bearer {SANDBOX_API_KEY}"}
ACCOUNT = "/api/v1/accounts/sandbox-account"


@pytest.fixture
def state_sandbox(tmp_path):
    with Sandbox(state=str(tmp_path / "state.sqlite"), deterministic=True) as sandbox:
        yield sandbox


def healthy(base_url: str) -> None:
    """Every later request still works: the server and its state are intact."""
    assert requests.get(f"{base_url}/_sandbox/health", timeout=5).status_code == 200
    answer = requests.get(f"{base_url}{ACCOUNT}/groups", headers=AUTH, timeout=5)
    assert answer.status_code == 200, answer.text
    clock = requests.post(f"{base_url}/_sandbox/clock", json={"advanceSeconds": 1}, headers=AUTH, timeout=5)
    assert clock.status_code == 200, clock.text


@pytest.mark.parametrize(
    "body",
    [
        {"advanceSeconds": 1e12},
        {"advanceSeconds": -1},
        {"advanceSeconds": True},
        {"advanceSeconds": "3600"},
        [1],
        "x",
        7,
    ],
)
def test_clock_refuses_what_it_cannot_do(state_sandbox, body):
    answer = requests.post(f"{state_sandbox.base_url}/_sandbox/clock", json=body, headers=AUTH, timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == 1000
    healthy(state_sandbox.base_url)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_clock_refuses_non_finite_numbers(state_sandbox, literal):
    answer = requests.post(
        f"{state_sandbox.base_url}/_sandbox/clock",
        data=b'{"advanceSeconds": ' + literal + b"}",
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=5,
    )
    assert answer.status_code == 400
    healthy(state_sandbox.base_url)


@pytest.mark.parametrize(
    "path,params",
    [
        (f"{ACCOUNT}/groups/{10**23}", None),
        (f"{ACCOUNT}/contacts/{10**23}", None),
        (f"{ACCOUNT}/groups/１２", None),  # full-width digits are digits to Python, not to 8x8
        (f"{ACCOUNT}/groups", {"offset": str(2**63)}),
        (f"{ACCOUNT}/groups", {"offset": str(2**64 + 5)}),
        (f"{ACCOUNT}/contacts", {"groupId": str(10**23)}),
        (f"{ACCOUNT}/definitions", {"limit": "501"}),
        (f"{ACCOUNT}/definitions", {"offset": str(2**63)}),
    ],
)
def test_huge_ids_and_offsets_are_400(sandbox, path, params):
    answer = requests.get(f"{sandbox.base_url}{path}", params=params, headers=AUTH, timeout=5)
    assert answer.status_code == 400, answer.text
    healthy(sandbox.base_url)


def test_the_largest_offset_is_an_empty_page_and_one_beyond_int32_is_refused(sandbox):
    """contacts_api.json types offset as int32: its largest value is an empty page, beyond it a 400."""
    answer = requests.get(
        f"{sandbox.base_url}{ACCOUNT}/groups",
        params={"offset": str(2**31 - 2), "limit": "500"},
        headers=AUTH,
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["items"] == []
    assert answer.json()["page"] == 2**31 - 1  # the page number stays an int32 too
    beyond = requests.get(
        f"{sandbox.base_url}{ACCOUNT}/groups",
        params={"offset": str(2**63 - 1), "limit": "500"},
        headers=AUTH,
        timeout=5,
    )
    assert beyond.status_code == 400 and beyond.json()["code"] == 1000


@pytest.mark.parametrize("path", ["/_sandbox/faults", "/_sandbox/inbound", "/_sandbox/clock"])
@pytest.mark.parametrize("raw", [b"[1]", b'"x"', b"7", b"[]"])
def test_control_bodies_that_are_not_objects_are_400(sandbox, path, raw):
    answer = requests.post(
        f"{sandbox.base_url}{path}", data=raw, timeout=5, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    healthy(sandbox.base_url)


@pytest.mark.parametrize(
    "path,body",
    [
        ("/_sandbox/faults", {"latencyMs": -1}),
        ("/_sandbox/faults", {"share503": 2}),
        ("/_sandbox/faults", {"inject": [500]}),
        ("/_sandbox/faults", {"inject": 429}),
        ("/_sandbox/faults", {"retryAfter": 1e9}),
        ("/_sandbox/faults", {"latencyMs": 10**9}),
        ("/_sandbox/inbound", {"msisdn": 5, "text": "STOP"}),
        ("/_sandbox/inbound", {"msisdn": "+6591234567"}),
        ("/_sandbox/inbound", {"text": "x", "channel": "fax"}),
        ("/_sandbox/inbound", {"text": "x", "button": "Stop"}),
    ],
)
def test_control_fields_out_of_range_are_400(sandbox, path, body):
    answer = requests.post(f"{sandbox.base_url}{path}", json=body, headers=AUTH, timeout=5)
    assert answer.status_code == 400, answer.text
    healthy(sandbox.base_url)


def test_controls_take_the_api_key(sandbox):
    for method, path in (("POST", "clock"), ("POST", "faults"), ("GET", "stats"), ("GET", "messages")):
        answer = requests.request(method, f"{sandbox.base_url}/_sandbox/{path}", json={}, timeout=5)
        assert answer.status_code == 401 and answer.json()["code"] == 1200, path
        wrong = requests.request(
            method, f"{sandbox.base_url}/_sandbox/{path}", json={}, timeout=5, headers={"Authorization": "Bearer wrong"}
        )
        assert wrong.status_code == 401
    assert requests.get(f"{sandbox.base_url}/_sandbox/health", timeout=5).status_code == 200


def test_json_nested_100000_deep_is_400(sandbox):
    body = b"[" * 100_000 + b"]" * 100_000
    answer = requests.post(
        f"{sandbox.base_url}{ACCOUNT}/groups",
        data=body,
        timeout=10,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400 and "nested too deeply" in answer.json()["message"]
    healthy(sandbox.base_url)


def raw_exchange(base_url: str, request: bytes, timeout: float = 5) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize(
    "length,status", [(b"abc", b"400"), (b"-5", b"400"), (b"1e3", b"400"), (str(MAX_BODY_BYTES + 1).encode(), b"413")]
)
def test_bad_content_length_is_answered_not_dropped(sandbox, length, status):
    request = (
        b"POST /api/v1/accounts/sandbox-account/groups HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer " + SANDBOX_API_KEY.encode() + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + length + b"\r\n\r\n{}"
    )
    answer = raw_exchange(sandbox.base_url, request)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    healthy(sandbox.base_url)


def test_a_body_shorter_than_its_length_does_not_hang_the_server(sandbox):
    request = (
        b"POST /api/v1/accounts/sandbox-account/groups HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        b"Content-Type: application/json\r\n\r\n{}"
    )
    host, port = sandbox.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)  # and then says nothing more: this connection waits, the others do not
        healthy(sandbox.base_url)


@pytest.mark.parametrize(
    "path,body",
    [
        (f"{ACCOUNT}/contacts", {"addresses": {"msisdn": "+6591234567"}, "groups": [{"id": 10**23}]}),
        (f"{ACCOUNT}/contacts", {"addresses": {"msisdn": 6591234567}}),
        (f"{ACCOUNT}/contacts", {"addresses": {"msisdn": "+6591234567"}, "firstName": ["x"]}),
        (f"{ACCOUNT}/groups/11001/contacts", {"contacts": [10**23]}),
        (f"{ACCOUNT}/groups/11001/contacts", {"contacts": [True]}),
        (f"{ACCOUNT}/contacts/batches/deleteContacts", {"ids": [10**23]}),
        (f"{ACCOUNT}/groups", {"name": "x", "description": 5}),
    ],
)
def test_body_ids_and_fields_of_the_wrong_type_or_size_are_400(sandbox, path, body):
    requests.post(
        f"{sandbox.base_url}{ACCOUNT}/groups", json={"name": "g", "isBlacklist": True}, headers=AUTH, timeout=5
    )
    answer = requests.post(f"{sandbox.base_url}{path}", json=body, headers=AUTH, timeout=5)
    assert answer.status_code == 400, answer.text
    healthy(sandbox.base_url)
