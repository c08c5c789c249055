"""Notebook 00's form: enter the 8x8 connection (or choose the sandbox), check it, save .env."""
from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets

from .client import Client
from .config import ENV_FILE, REGIONS, SANDBOX_ACCOUNT_ID, SANDBOX_SUBACCOUNT_ID, Secret, Settings, load_settings, write_env_file
from .errors import EightByEightError


def check_connection(client: Client) -> str:
    """One harmless read (the first page of groups, one item) to prove the settings work."""
    try:
        groups = client.contacts.count_groups()
    except EightByEightError as exc:
        return f"Connection FAILED: {exc}"
    return f"Connection OK: the Contacts API answered; the account has {groups} contact group(s)."


def setup_form(env_path: str | Path = ENV_FILE, *, current: Settings | None = None) -> widgets.VBox:
    current = current or load_settings()
    key = widgets.Password(description="API key", placeholder="from the API Keys page of 8x8 Connect")
    account = widgets.Text(description="Account id",
                           value="" if current.sandbox_mode else current.account_id, placeholder="your account id")
    subaccount = widgets.Text(description="Subaccount", value="" if current.sandbox_mode else current.subaccount_id,
                              placeholder="subaccount that receives WhatsApp messages")
    region = widgets.Dropdown(description="Region", options=list(REGIONS), value=current.region)
    use_sandbox = widgets.Checkbox(description="Use the sandbox (no key, nothing reaches 8x8)",
                                   value=current.sandbox_mode)
    button = widgets.Button(description="Check and save .env", button_style="primary")
    result = widgets.Output()

    def on_click(_):
        result.clear_output()
        with result:
            if use_sandbox.value:
                chosen = Settings(account_id=SANDBOX_ACCOUNT_ID, subaccount_id=SANDBOX_SUBACCOUNT_ID,
                                  region=region.value)
                print(f"Sandbox chosen: .env gets no key. {chosen.describe()}")
            else:
                if not (key.value and account.value and subaccount.value):
                    print("Enter the API key, the account id and the subaccount id, or tick 'Use the sandbox'.")
                    return
                chosen = Settings(api_key=Secret(key.value.strip()), account_id=account.value.strip(),
                                  subaccount_id=subaccount.value.strip(), region=region.value)
                with Client(chosen) as client:
                    outcome = check_connection(client)
                print(outcome)
                if outcome.startswith("Connection FAILED"):
                    print(".env was not written: fix the values above and try again.")
                    return
            write_env_file(chosen, env_path)
            print("Saved .env in the project folder (git-ignored, readable by you only). "
                  "Restart the kernel of the other notebooks so they read it.")
            key.value = ""  # the key does not linger in the widget state

    button.on_click(on_click)
    return widgets.VBox([use_sandbox, key, account, subaccount, region, button, result])


def settings_table(settings: Settings):
    """The settings, what each is for, and the value in use (the key only as set or not set)."""
    import pandas as pd

    from .config import SETTINGS_DOC

    values = {"EIGHTXEIGHT_API_KEY": "not set (sandbox)" if settings.sandbox_mode else "set (hidden)",
              "EIGHTXEIGHT_ACCOUNT_ID": settings.account_id, "EIGHTXEIGHT_SUBACCOUNT_ID": settings.subaccount_id,
              "EIGHTXEIGHT_REGION": settings.region,
              "EIGHTXEIGHT_BASE_URL": settings.base_url or "not set (region's URLs)"}
    return pd.DataFrame([{"setting": k, "in use": values[k], "meaning": v} for k, v in SETTINGS_DOC.items()]
                        ).set_index("setting")


def blacklist_offer(client: Client, outcome, *, mark: bool) -> widgets.Widget | str:
    """For an existing group that is not blacklisted: mark it when asked, else offer a button."""
    from .groups import mark_blacklisted

    if not outcome.needs_blacklist:
        return f"Group {outcome.group['id']} is blacklisted: nothing to decide."
    if mark:
        outcome.group = mark_blacklisted(client, outcome.group["id"])
        return f"Marked group {outcome.group['id']} as blacklisted (MARK_EXISTING_AS_BLACKLIST=True)."
    button = widgets.Button(description=f"Mark group {outcome.group['id']} blacklisted", button_style="warning")
    result = widgets.Output()

    def on_click(_):
        with result:
            outcome.group = mark_blacklisted(client, outcome.group["id"])
            print(f"Marked: group {outcome.group['id']} isBlacklist={outcome.group['isBlacklist']}.")
        button.disabled = True

    button.on_click(on_click)
    return widgets.VBox([widgets.HTML(f"<b>{outcome.message}</b>"), button, result])


def confirm_button(description: str, action, *, warning: str = "") -> widgets.Widget:
    """A button that runs ``action()`` once, on purpose; what it prints shows below it."""
    button = widgets.Button(description=description, button_style="danger", layout=widgets.Layout(width="auto"))
    result = widgets.Output()

    def on_click(_):
        button.disabled = True
        with result:
            action()

    button.on_click(on_click)
    return widgets.VBox([widgets.HTML(f"<b>{warning}</b>"), button, result] if warning else [button, result])
