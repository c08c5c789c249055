"""Retries: proven with 429 and 503 answers injected by the sandbox."""

from __future__ import annotations

import pytest
import urllib3.util.retry
from support import seed_members

from helpers.errors import RateLimited, ServerError


@pytest.fixture
def group(client):
    return client.contacts.create_group("Opt-out list", is_blacklist=True)


def test_safe_request_is_retried_on_429_and_503(client, sandbox, group):
    sandbox.faults.inject(429, 503, 503)
    sandbox.reset_stats()
    assert client.contacts.get_group(group["id"])["id"] == group["id"]
    assert sandbox.request_count() == 4  # three refused, one served
    assert sandbox.request_count("contacts.get_group") == 1


def test_post_is_retried_on_429_but_not_on_503(client, sandbox):
    sandbox.faults.inject(429, method="POST")
    assert client.contacts.create_group("A")["name"] == "A"
    sandbox.faults.inject(503, method="POST")
    sandbox.reset_stats()
    with pytest.raises(ServerError) as info:
        client.contacts.create_group("B")
    assert info.value.status == 503 and info.value.code == 1503
    assert sandbox.request_count() == 1  # reported, not repeated: the POST may have been done
    assert [g["name"] for g in client.contacts.search_groups()] == ["A"]


def test_retry_after_is_honoured(client, sandbox, group, monkeypatch):
    slept = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", slept.append)
    sandbox.faults.configure(retry_after=7)
    sandbox.faults.inject(429, 503)
    client.contacts.get_group(group["id"])
    assert slept == [7, 7]


def test_backoff_grows_without_retry_after(make_client, sandbox, group, monkeypatch):
    slept = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", slept.append)
    sandbox.faults.configure(retry_after=None)
    sandbox.faults.inject(503, 503, 503)
    make_client(backoff_factor=0.5).contacts.get_group(group["id"])
    assert slept == sorted(slept) and slept[-1] > slept[0] > 0


def test_gives_up_after_the_retries_with_8x8s_error(make_client, sandbox, group):
    sandbox.faults.inject(*([429] * 4))
    sandbox.reset_stats()
    with pytest.raises(RateLimited) as info:
        make_client(retries=3).contacts.get_group(group["id"])
    assert info.value.status == 429 and info.value.code == 1429 and info.value.error_id
    assert sandbox.request_count() == 4


def test_a_share_of_faults_still_completes_a_paged_read(client, sandbox, settings, group):
    seed_members(sandbox, group["id"], [f"+659{i:07d}" for i in range(2000)])
    sandbox.faults.configure(share_429=0.2, share_503=0.2)
    assert len(list(client.contacts.group_members(group["id"]))) == 2000
    assert sandbox.request_count("status 429") + sandbox.request_count("status 503") > 0


def test_a_long_retry_after_is_capped_and_said(client, sandbox, group, monkeypatch):
    slept = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", slept.append)
    sandbox.faults.configure(retry_after=120)
    sandbox.faults.inject(*[429] * 6)
    with pytest.raises(RateLimited, match=r"it asked to wait 120 s; retries wait at most 30 s each"):
        client.contacts.get_group(group["id"])
    assert slept and max(slept) == 30.0


def _serve(handler_class):
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_redirect_is_an_error_never_followed(settings):
    import http.server

    from helpers.client import Client
    from helpers.errors import UnexpectedResponse

    seen = []

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            seen.append(self.command)
            self.send_response(302)
            self.send_header("Location", "https://example.invalid/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_DELETE = do_POST = _answer

        def log_message(self, *args):
            pass

    server = _serve(Redirecting)
    try:
        client = Client(settings.with_base_url(f"http://127.0.0.1:{server.server_port}"))  # no contract check:
        # a redirect is no answer of 8x8's, which is the point
        with pytest.raises(UnexpectedResponse, match="answered 302, a redirect to https://example.invalid/elsewhere"):
            client.contacts.remove_from_group(5, [1])
        assert seen == ["DELETE"]  # not followed as a GET
    finally:
        server.shutdown()


def test_an_unreachable_api_fails_after_few_attempts(settings):
    import socket

    from helpers.client import Client
    from helpers.errors import TransportError

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Client(settings.with_base_url(f"http://127.0.0.1:{port}"), backoff_factor=0)
    with pytest.raises(TransportError, match="connection refused.*Check that the sandbox is running there"):
        client.contacts.count_groups()
    assert client.session.adapters["http://"].max_retries.connect == 1


def test_proxy_settings_are_read_once_and_still_honoured(monkeypatch):
    """The client reads HTTPS_PROXY and the CA bundle once (not per request), and keeps NO_PROXY."""
    from helpers.client import Client
    from helpers.config import load_settings

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    live = {"EIGHTXEIGHT_API_KEY": "k", "EIGHTXEIGHT_ACCOUNT_ID": "a", "EIGHTXEIGHT_SUBACCOUNT_ID": "s"}
    with Client(load_settings(env=live, env_file=None)) as client:
        assert client.session.trust_env is False
        assert client.session.proxies["https"] == "http://proxy.example:3128"
        assert client.session.verify == "/etc/ssl/certs/ca-certificates.crt"
    monkeypatch.setenv("NO_PROXY", "contacts.8x8.com")  # one host bypasses the proxy: requests decides per URL
    with Client(load_settings(env=live, env_file=None)) as client:
        assert client.session.trust_env is True


def test_json_beyond_what_the_fast_reader_takes_is_still_read():
    import requests

    from helpers.client import decode_json

    response = requests.Response()
    response._content = b'{"name": "\\ud800", "ok": true}'  # a lone surrogate: orjson refuses it, json reads it
    response.status_code = 200
    assert decode_json(response, "GET", "/x") == {"name": "\ud800", "ok": True}
