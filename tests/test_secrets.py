"""The API key never shows in a repr, an error, a log line or a file other than .env."""

from __future__ import annotations

import logging
import pickle
from dataclasses import replace

import pytest

from helpers.client import Client
from helpers.config import Secret, load_settings, write_env_file
from helpers.errors import EightByEightError

KEY = "live-key-3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


@pytest.fixture
def live_settings(sandbox):
    # A "live" key pointed at the sandbox, which does not accept it: every call fails with 401.
    env = {
        "EIGHTXEIGHT_API_KEY": KEY,
        "EIGHTXEIGHT_ACCOUNT_ID": "acme",
        "EIGHTXEIGHT_SUBACCOUNT_ID": "acme_wa",
        "EIGHTXEIGHT_BASE_URL": sandbox.base_url,
    }
    return load_settings(env=env, env_file=None)


def test_key_not_in_reprs(live_settings):
    client = Client(live_settings)
    for text in (
        repr(live_settings),
        str(live_settings),
        f"{live_settings.api_key}",
        repr(client),
        repr(client.session.auth),
        live_settings.describe(),
        str(vars(client)),
    ):
        assert KEY not in text
    with pytest.raises(TypeError):
        pickle.dumps(live_settings.api_key)


def test_key_not_in_errors_or_logs(live_settings, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client(live_settings, backoff_factor=0)
    with pytest.raises(EightByEightError) as info:
        client.contacts.create_group("x")
    text = str(info.value) + repr(info.value) + repr(info.value.body)
    assert KEY not in text and KEY not in caplog.text
    assert "/groups" in caplog.text  # logging was on: the check above means something


def test_transport_error_does_not_carry_the_key(live_settings, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client(replace(live_settings, base_url="http://127.0.0.1:9"), retries=0)
    with pytest.raises(EightByEightError) as info:
        client.contacts.get_group(1)
    assert KEY not in str(info.value) and KEY not in caplog.text and info.value.__cause__ is None


def test_env_file_is_the_only_place_the_key_is_written(live_settings, tmp_path):
    path = write_env_file(live_settings, tmp_path / ".env")
    assert KEY in path.read_text() and (path.stat().st_mode & 0o777) == 0o600
    assert load_settings(env={}, env_file=path).api_key == Secret(KEY)
