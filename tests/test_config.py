from __future__ import annotations

import pytest

from helpers.config import REGIONS, SANDBOX_ACCOUNT_ID, ConfigError, load_settings


def test_no_key_is_sandbox_mode_and_says_so():
    settings = load_settings(env={}, env_file=None)
    assert settings.sandbox_mode and settings.needs_embedded_sandbox
    assert settings.account_id == SANDBOX_ACCOUNT_ID
    assert settings.describe().startswith("SANDBOX MODE")


@pytest.mark.parametrize(
    "region,host",
    [
        ("asia", "https://contacts.8x8.com"),
        ("us", "https://contacts.us.8x8.com"),
        ("europe", "https://contacts.8x8.uk"),
        ("INDONESIA", "https://contacts.8x8.id"),
    ],
)
def test_region_picks_documented_base_urls(region, host):
    env = {
        "EIGHTXEIGHT_API_KEY": "k",
        "EIGHTXEIGHT_ACCOUNT_ID": "acme",
        "EIGHTXEIGHT_SUBACCOUNT_ID": "s",
        "EIGHTXEIGHT_REGION": region,
    }
    settings = load_settings(env=env, env_file=None)
    assert settings.base_urls()["contacts"] == host
    assert settings.base_urls()["chatapps"] == REGIONS[region.lower()]["chatapps"]
    assert settings.describe().startswith("LIVE MODE")


def test_base_url_overrides_every_api():
    settings = load_settings(env={"EIGHTXEIGHT_BASE_URL": "http://127.0.0.1:8088/"}, env_file=None)
    assert set(settings.base_urls().values()) == {"http://127.0.0.1:8088"}
    assert settings.sandbox_mode and not settings.needs_embedded_sandbox


@pytest.mark.parametrize(
    "env,words",
    [
        ({"EIGHTXEIGHT_REGION": "mars"}, "not a region"),
        ({"EIGHTXEIGHT_BASE_URL": "localhost:80"}, "not an http"),
        ({"EIGHTXEIGHT_API_KEY": "k"}, "EIGHTXEIGHT_ACCOUNT_ID"),
        ({"EIGHTXEIGHT_API_KEY": "k", "EIGHTXEIGHT_ACCOUNT_ID": "a"}, "EIGHTXEIGHT_SUBACCOUNT_ID"),
        ({"EIGHTXEIGHT_APIKEY": "k"}, "Unknown setting"),
        (
            {"EIGHTXEIGHT_LANGUAGES": "es,klingon"},
            r"EIGHTXEIGHT_LANGUAGES: unknown language code\(s\) 'klingon'.*es \(Spanish\)",
        ),
    ],
)
def test_bad_settings_say_what_to_do(env, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(env=env, env_file=None)


def test_environment_wins_over_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("EIGHTXEIGHT_ACCOUNT_ID=from-file\nEIGHTXEIGHT_REGION=us\n")
    settings = load_settings(env={"EIGHTXEIGHT_ACCOUNT_ID": "from-env"}, env_file=env_file)
    assert (settings.account_id, settings.region) == ("from-env", "us")


def test_env_file_in_the_project_root_is_found_from_the_notebooks_folder(tmp_path, monkeypatch):
    from helpers import config

    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    monkeypatch.delenv("EIGHTXEIGHT_ENV_FILE", raising=False)  # the test run's own .env otherwise
    (tmp_path / "notebooks").mkdir()
    (tmp_path / ".env").write_text("EIGHTXEIGHT_ACCOUNT_ID=from-root\n")
    monkeypatch.chdir(tmp_path / "notebooks")
    assert load_settings(env={}).account_id == "from-root"
    (tmp_path / "notebooks" / ".env").write_text("EIGHTXEIGHT_ACCOUNT_ID=from-here\n")
    assert load_settings(env={}).account_id == "from-here"  # the current folder first


def test_setup_form_builds_without_a_person():
    from helpers.ui import setup_form

    form = setup_form()
    assert [type(w).__name__ for w in form.children] == [
        "Checkbox",
        "Password",
        "Text",
        "Text",
        "Dropdown",
        "Text",
        "Text",
        "Text",
        "Button",
        "Output",
    ]


def test_setup_form_saves_the_sandbox_choice_without_a_key(tmp_path):
    from helpers.ui import setup_form

    target = tmp_path / ".env"
    form = setup_form(target, current=load_settings(env={}, env_file=None))
    use_sandbox, key, account, subaccount, region, brand, support, prefix, button, _ = form.children
    assert all(field.disabled for field in (key, account, subaccount, region))  # nothing to type by mistake
    brand.value, support.value, prefix.value = "Acme Travel", "help@acme.example", "+6591234"
    button.click()  # "Save .env (sandbox)"
    saved = load_settings(env={}, env_file=target)  # what the HELP answer names and the test numbers: saved too
    assert (saved.brand, saved.support, saved.test_number_prefix) == ("Acme Travel", "help@acme.example", "+6591234")
    text = target.read_text()
    assert "EIGHTXEIGHT_API_KEY=" not in text and "ACCOUNT_ID" not in text  # a key added later needs its account
    assert load_settings(env={}, env_file=target).sandbox_mode
    with pytest.raises(ConfigError, match="EIGHTXEIGHT_ACCOUNT_ID is not"):  # a key added later: no sandbox account
        load_settings(env={"EIGHTXEIGHT_API_KEY": "k"}, env_file=target)
    use_sandbox.value = False
    assert not any(field.disabled for field in (key, account, subaccount, region))


def test_setup_form_refuses_to_save_a_key_that_does_not_work(tmp_path, sandbox):
    from helpers.ui import setup_form

    target = tmp_path / ".env"
    form = setup_form(target, current=load_settings(env={}, env_file=None))
    use_sandbox, key, account, subaccount, region, *_, button, _ = form.children
    use_sandbox.value = False
    key.value, account.value, subaccount.value = "wrong-key", "acme", "acme-wa"
    # The form talks to the region's real URLs; point it at the sandbox through a base URL instead.
    import helpers.ui as ui

    real_settings = ui.Settings
    ui.Settings = lambda **kw: real_settings(**kw, base_url=sandbox.base_url)
    try:
        button.click()
    finally:
        ui.Settings = real_settings
    assert not target.exists()
    assert key.value == "wrong-key"  # left for the person to correct; nothing was saved


def test_languages_setting_keeps_english_first():
    assert load_settings(env={}, env_file=None).languages == ("en",)
    assert load_settings(env={"EIGHTXEIGHT_LANGUAGES": " ES, zh ,es"}, env_file=None).languages == ("en", "es", "zh")


def test_every_notebook_takes_what_is_deployed_from_the_settings():
    """Going live needed a committed notebook edited: the job passed LANGUAGES alone. Every parameter a
    setting holds defaults to None (the setting), in every notebook that has it."""
    import ast
    import json

    from helpers.runbook import notebook_paths

    from_settings = {
        "WORKFLOW_NAME",
        "LANGUAGES",
        "CHANNELS",
        "BRAND_NAME",
        "SUPPORT_CONTACT",
        "TEST_NUMBER_PREFIX",
        "OPT_OUT_GROUP_NAME",
        "OPT_OUT_LIST",
    }
    seen = set()
    for path in notebook_paths():
        cells = json.loads(path.read_text())["cells"]
        source = "".join("".join(c["source"]) for c in cells if "parameters" in c["metadata"].get("tags", []))
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and node.targets[0].id in from_settings:
                seen.add(node.targets[0].id)
                assert isinstance(node.value, ast.Constant) and node.value.value is None, (
                    path.name,
                    node.targets[0].id,
                )
    assert seen == from_settings


def test_what_is_deployed_is_read_from_the_settings_and_checked():
    settings = load_settings(
        env={
            "EIGHTXEIGHT_BRAND_NAME": "Acme",
            "EIGHTXEIGHT_SUPPORT_CONTACT": "help@acme.test",
            "EIGHTXEIGHT_CHANNELS": "sms",
            "EIGHTXEIGHT_WORKFLOW_NAME": "Acme opt-out",
            "EIGHTXEIGHT_TEST_NUMBER_PREFIX": "+6591234",
        },
        env_file=None,
    )
    assert (settings.brand, settings.support, settings.channels, settings.workflow_name) == (
        "Acme",
        "help@acme.test",
        ("SMS",),
        "Acme opt-out",
    )
    assert settings.test_number_prefix == "+6591234"
    assert load_settings(env={}, env_file=None).test_number_prefix == "+6591000"  # the sandbox's
    live = load_settings(
        env={"EIGHTXEIGHT_API_KEY": "k", "EIGHTXEIGHT_ACCOUNT_ID": "a", "EIGHTXEIGHT_SUBACCOUNT_ID": "s"}, env_file=None
    )
    assert live.test_number_prefix == "+447700900"  # on 8x8: Ofcom's drama range, no customer's
    for bad in ({"EIGHTXEIGHT_CHANNELS": "WhatsApp,Telegram"}, {"EIGHTXEIGHT_TEST_NUMBER_PREFIX": "6591"}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            load_settings(env=bad, env_file=None)


def test_a_deploy_saves_what_it_deployed_and_keeps_every_other_line(tmp_path):
    from dotenv import dotenv_values

    from helpers.config import save_settings

    env = tmp_path / ".env"
    env.write_text("# mine\nEIGHTXEIGHT_OPT_OUT_LIST=subaccount\nEIGHTXEIGHT_BRAND_NAME=Old\n")
    save_settings({"EIGHTXEIGHT_BRAND_NAME": 'Acme "Shop" #1', "EIGHTXEIGHT_SUPPORT_CONTACT": "help@acme.test"}, env)
    assert env.read_text().splitlines()[:2] == ["# mine", "EIGHTXEIGHT_OPT_OUT_LIST=subaccount"]
    assert dotenv_values(env) == {
        "EIGHTXEIGHT_OPT_OUT_LIST": "subaccount",
        "EIGHTXEIGHT_BRAND_NAME": 'Acme "Shop" #1',
        "EIGHTXEIGHT_SUPPORT_CONTACT": "help@acme.test",
    }
    assert env.stat().st_mode & 0o777 == 0o600
    save_settings({"EIGHTXEIGHT_BRAND_NAME": ""}, env)  # empty: back to the default
    assert "EIGHTXEIGHT_BRAND_NAME" not in dotenv_values(env)


def test_saving_the_connection_keeps_every_other_setting_of_the_env_file(tmp_path):
    """Notebook 00's form re-entering a key rewrote .env with the connection alone: the subaccount's
    own opt-out list, the deadlines, the parallel requests and the operator's comments were gone, and
    the next deploy went back to the account-wide list without a word."""
    from helpers.config import Secret, Settings, write_env_file

    env = tmp_path / ".env"
    env.write_text(
        "# our 8x8 set-up\nEIGHTXEIGHT_API_KEY=old-key\nEIGHTXEIGHT_ACCOUNT_ID=acme\n"
        "EIGHTXEIGHT_SUBACCOUNT_ID=brand-a\nEIGHTXEIGHT_ACCOUNT_UUID=uuid-of-acme\n"
        "export EIGHTXEIGHT_OPT_OUT_LIST=subaccount\nEIGHTXEIGHT_CONFIRM_WITHIN_MINUTES='3'\n"
        "EIGHTXEIGHT_PARALLEL_REQUESTS=2\nEIGHTXEIGHT_BASE_URL=http://127.0.0.1:9\n"
    )
    write_env_file(
        Settings(api_key=Secret("new-key"), account_id="acme", subaccount_id="brand-b", region="europe"), env
    )
    saved = load_settings(env={}, env_file=env)
    assert saved.api_key == Secret("new-key") and saved.subaccount_id == "brand-b" and saved.region == "europe"
    assert (saved.opt_out_list, saved.confirm_minutes, saved.parallel) == ("subaccount", 3, 2)
    assert saved.account_uuid == "uuid-of-acme" and saved.base_url is None  # same account; the region decides
    assert env.read_text().count("EIGHTXEIGHT_API_KEY") == 1 and "# our 8x8 set-up" in env.read_text()
    write_env_file(Settings(api_key=Secret("k"), account_id="another", subaccount_id="x"), env)
    assert "uuid-of-acme" not in env.read_text()  # another account: its UUID would read another's templates
    write_env_file(Settings(), env)  # the sandbox chosen
    sandbox = load_settings(env={}, env_file=env)
    assert sandbox.sandbox_mode and sandbox.opt_out_list == "subaccount" and "new-key" not in env.read_text()
