"""The notebooks' widgets: notebook 00's form (enter the 8x8 connection, or choose the sandbox,
check it, save .env), the connection check, the offer to blacklist a group, and the one way every
notebook ends a dry run (``apply_or_confirm``: a job applies now, a person confirms with a button;
the outcome, read back, is shown and recorded)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from IPython.display import display

from .client import Client
from .config import (
    DEFAULT_BRAND,
    DEFAULT_SUPPORT,
    ENV_FILE,
    REGIONS,
    ConfigError,
    Secret,
    Settings,
    check_test_prefix,
    load_settings,
    save_settings,
    write_env_file,
)
from .errors import ConnectionCheckFailed, EightByEightError
from .record import record

if TYPE_CHECKING:  # for annotations only
    import pandas as pd
    from matplotlib.axes import Axes

    from .groups import GroupOutcome

LABELS = {"description_width": "11em"}  # wide enough for every label of the form
FIELD = widgets.Layout(width="36em")


def _count_groups(client: Client) -> int:
    """One harmless read (the first page of groups, one item) to prove the settings work, with short
    timeouts and few retries of its own: an unreachable API says so in seconds."""
    with Client(client.settings, timeout=(5, 10), retries=2, network_retries=1) as quick:
        return quick.contacts.count_groups()


def _connected(groups: int) -> str:
    return f"Connection OK: the Contacts API answered; the account has {groups} contact group(s)."


def check_connection(client: Client) -> str:
    """The connection check in one line: OK with what was read, or FAILED with why."""
    try:
        return _connected(_count_groups(client))
    except EightByEightError as exc:
        return f"Connection FAILED: {exc}"


def connection_verdict(client: Client) -> str:
    """Notebook 00's first line: the connection OK, or FAILED with why and what to do."""
    verdict = check_connection(client)
    if verdict.startswith("Connection OK"):
        return verdict
    return f"{verdict}\nFix it: the form below (or .env), then run this notebook again."


def require_connection(client: Client, *, quiet: bool = False) -> dict:
    """Print the connection check (``quiet``: only when it failed); stop (raise) when it failed, so a
    job stops here, not later. Answers what was read, as values for helpers.record: where, and the
    account's group count."""
    try:
        groups = _count_groups(client)
    except EightByEightError as exc:
        print(f"Connection FAILED: {exc}")
        raise ConnectionCheckFailed(
            f"Connection FAILED: {exc} Fix the settings (the form above, or .env), then run again."
        ).answered_by(exc) from None
    if not quiet:
        print(_connected(groups))
    settings = client.settings
    return {
        "connection": "ok",
        "sandbox": settings.sandbox_mode,
        "account": settings.account_id,
        "subaccount": settings.subaccount_id,
        "contact_groups": groups,
    }


def setup_form(env_path: str | Path = ENV_FILE, *, current: Settings | None = None) -> widgets.VBox:
    current = current or load_settings()
    key = widgets.Password(
        description="API key", placeholder="from the API Keys page of 8x8 Connect", style=LABELS, layout=FIELD
    )
    account = widgets.Text(
        description="Account id",
        value="" if current.sandbox_mode else current.account_id,
        placeholder="your account id",
        style=LABELS,
        layout=FIELD,
    )
    subaccount = widgets.Text(
        description="Subaccount id",
        value="" if current.sandbox_mode else current.subaccount_id,
        placeholder="the subaccount that receives your customers' messages",
        style=LABELS,
        layout=FIELD,
    )
    region = widgets.Dropdown(description="Region", options=list(REGIONS), value=current.region, style=LABELS)

    # what the HELP answer names and where test messages come from: saved beside the connection
    def deployed_field(description: str, value: str, default: str, placeholder: str) -> widgets.Text:
        return widgets.Text(
            description=description,
            value="" if value == default else value,
            placeholder=placeholder,
            style=LABELS,
            layout=FIELD,
        )

    brand = deployed_field("Brand", current.brand, DEFAULT_BRAND, "named in the answer to HELP, e.g. Acme Travel")
    support = deployed_field(
        "Support contact", current.support, DEFAULT_SUPPORT, "named in the answer to HELP, e.g. help@acme.example"
    )
    test_prefix = deployed_field(
        "Test numbers",
        current.test_prefix_setting,
        "",
        "yours: + and the digits before the last three (empty: a range set aside for fiction)",
    )
    use_sandbox = widgets.Checkbox(
        description="Use the sandbox (no key, nothing reaches 8x8)",
        value=current.sandbox_mode,
        indent=False,
        layout=FIELD,
    )
    button = widgets.Button(
        description="Check and save .env", button_style="primary", layout=widgets.Layout(width="auto")
    )
    result = widgets.Output()
    live_fields = (key, account, subaccount, region)

    def on_mode(change=None):
        for field in live_fields:  # the sandbox needs none of them: they cannot be edited by mistake
            field.disabled = use_sandbox.value
        button.description = "Save .env (sandbox)" if use_sandbox.value else "Check and save .env"

    use_sandbox.observe(on_mode, names="value")
    on_mode()

    def on_click(_):
        result.clear_output()
        button.disabled = True
        try:
            with result:
                save(use_sandbox.value)
        finally:
            button.disabled = False

    def save(sandbox: bool) -> None:
        try:
            deployed = {
                "EIGHTXEIGHT_BRAND_NAME": brand.value.strip(),
                "EIGHTXEIGHT_SUPPORT_CONTACT": support.value.strip(),
                "EIGHTXEIGHT_TEST_NUMBER_PREFIX": check_test_prefix(test_prefix.value),
            }
        except ConfigError as exc:
            print(f"{exc} .env was not written.")
            return
        if sandbox:
            chosen = Settings(languages=current.languages)  # the form changes the connection, nothing else
            write_env_file(chosen, env_path)
            save_settings(deployed, env_path)
            print(
                "Sandbox chosen: .env now holds no key and no account, so nothing reaches 8x8. "
                "Restart the kernel of the other notebooks so they read it."
            )
            return
        if not (key.value and account.value and subaccount.value):
            print("Enter the API key, the account id and the subaccount id, or tick 'Use the sandbox'.")
            return
        chosen = Settings(
            api_key=Secret(key.value.strip()),
            account_id=account.value.strip(),
            subaccount_id=subaccount.value.strip(),
            region=region.value,
            languages=current.languages,
        )
        print(f"Checking the connection to 8x8 region {region.value!r} (at most about 15 s) ...", flush=True)
        with Client(chosen, timeout=(5, 10), retries=1, network_retries=0) as client:
            outcome = check_connection(client)
        print(outcome)
        if outcome.startswith("Connection FAILED"):
            print(".env was not written: fix the values above and try again.")
            return
        write_env_file(chosen, env_path)
        save_settings(deployed, env_path)
        print(
            "Saved .env in the project folder (git-ignored, readable by you only). "
            "Restart the kernel of the other notebooks so they read it."
        )
        key.value = ""  # the key does not linger in the widget state

    button.on_click(on_click)
    return widgets.VBox([use_sandbox, key, account, subaccount, region, brand, support, test_prefix, button, result])


WRAP_AFTER = 30  # characters: a text column with longer cells wraps at word boundaries instead of being cut off
KEEP_WHOLE = 16  # characters: a column whose cells are all this short stays on one line (a time: 2026-01-05 12:00)


class ReadableTable:
    """A DataFrame shown for people: every cell whole (pandas cuts text at 50 characters with "..."),
    long text wrapped between words, left-aligned, and the table as wide as the page, no wider. The
    same text every run (no random ids), so nbval compares it; ``frame`` is the data."""

    def __init__(self, frame: pd.DataFrame, *, index: bool = False) -> None:
        self.frame = frame
        self.index = index

    def _repr_html_(self) -> str:
        import html

        import pandas as pd

        shown = self.frame.reset_index() if self.index else self.frame
        long = {
            c
            for c in shown.columns
            if not pd.api.types.is_numeric_dtype(shown[c].dtype) and shown[c].astype(str).str.len().max() > WRAP_AFTER
        }
        short = {c for c in shown.columns if shown[c].astype(str).str.len().max() <= KEEP_WHOLE}
        style = {
            c: "text-align:left;vertical-align:top;"
            + (
                "white-space:nowrap"
                if c in short  # times, numbers, statuses: on one line
                else "white-space:normal;overflow-wrap:break-word;word-break:normal"
                + (";min-width:10em" if c in long else "")
            )
            for c in shown.columns
        }
        head = "".join(f'<th style="text-align:left">{html.escape(str(c))}</th>' for c in shown.columns)
        rows = "".join(
            "<tr>"
            + "".join(f'<td style="{style[c]}">{html.escape(str(v))}</td>' for c, v in zip(shown.columns, row))
            + "</tr>"
            for row in shown.itertuples(index=False)
        )
        return (
            f'<table style="table-layout:auto;width:100%;max-width:100%"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )

    def __repr__(self) -> str:
        return self.frame.to_string(index=self.index, max_colwidth=80)


def whole_counts(chart: Axes, axis: str = "y") -> Axes:
    """A chart's count axis in whole numbers (matplotlib would step by 0.25 for a few rows)."""
    from matplotlib.ticker import MaxNLocator

    (chart.yaxis if axis == "y" else chart.xaxis).set_major_locator(MaxNLocator(integer=True))
    return chart


def in_run_folder(frame: pd.DataFrame, name: str, what: str) -> str:
    """``frame`` written as CSV to the run's folder (formula-safe, owner-readable); the line that says
    how many rows of ``what`` are there, and where."""
    import pandas as pd

    from .paths import run_folder, shown
    from .reports import write_report

    path = write_report(frame if isinstance(frame.index, pd.RangeIndex) else frame.reset_index(), run_folder() / name)
    return f"The {len(frame)} {what}, in full: {shown(path)}"


def readable(frame: pd.DataFrame, *, index: bool = False) -> ReadableTable:
    """``frame`` for a notebook's output: whole cells, long text wrapped, within the page."""
    return ReadableTable(frame, index=index)


def settings_table(settings: Settings) -> pd.DataFrame:
    """The settings, what each is for, and the value in use (the key only as set or not set)."""
    import pandas as pd

    from .config import SETTINGS_DOC, deployed_values

    values = {
        "EIGHTXEIGHT_API_KEY": "not set (sandbox)" if settings.sandbox_mode else "set (hidden)",
        "EIGHTXEIGHT_ACCOUNT_ID": settings.account_id,
        "EIGHTXEIGHT_ACCOUNT_UUID": settings.account_uuid or "not set",
        "EIGHTXEIGHT_SUBACCOUNT_ID": settings.subaccount_id,
        "EIGHTXEIGHT_REGION": settings.region,
        "EIGHTXEIGHT_BASE_URL": settings.base_url or "not set (region's URLs)",
        "EIGHTXEIGHT_PARALLEL_REQUESTS": str(settings.parallel),
        "EIGHTXEIGHT_LANGUAGES": ",".join(settings.languages),
        "EIGHTXEIGHT_OPT_OUT_LIST": settings.opt_out_list,
        "EIGHTXEIGHT_HONOUR_WITHIN_BUSINESS_DAYS": str(settings.honour_business_days),
        "EIGHTXEIGHT_CONFIRM_WITHIN_MINUTES": str(settings.confirm_minutes),
        **{k: v or "not set" for k, v in deployed_values(settings).items() if k != "EIGHTXEIGHT_LANGUAGES"},
        "EIGHTXEIGHT_TEST_NUMBER_PREFIX": settings.test_number_prefix,
    }
    return pd.DataFrame([{"setting": k, "in use": values[k], "meaning": v} for k, v in SETTINGS_DOC.items()]).set_index(
        "setting"
    )


def blacklist_offer(client: Client, outcome: GroupOutcome, *, mark: bool) -> widgets.Widget | None:
    """For an existing group that is not blacklisted: mark it when asked, else offer a button.
    What is decided without a button is printed (once), and nothing is returned."""
    from .groups import is_subaccount_list, mark_blacklisted, who_enforces

    if is_subaccount_list(outcome.group.get("name", "")):
        print(f"Group {outcome.group['id']}: {who_enforces(outcome.group['name'])} Nothing to decide.")
        return None
    if not outcome.needs_blacklist:
        print(f"Group {outcome.group['id']} is blacklisted: nothing to decide.")
        return None
    if mark:
        outcome.group = mark_blacklisted(client, outcome.group["id"])
        print(
            f"Marked group {outcome.group['id']} as blacklisted, read back: isBlacklist={outcome.group['isBlacklist']}."
        )
        return None
    button = widgets.Button(description=f"Mark group {outcome.group['id']} blacklisted", button_style="warning")
    result = widgets.Output()

    def on_click(_):
        with result:
            outcome.group = mark_blacklisted(client, outcome.group["id"])
            print(f"Marked: group {outcome.group['id']} isBlacklist={outcome.group['isBlacklist']}.")
        button.disabled = True

    button.on_click(on_click)
    return widgets.VBox([widgets.HTML(f"<b>{outcome.message}</b>"), button, result])


def confirm_button(
    description: str,
    action: Callable[[], object],
    *,
    warning: str = "",
    count: int | None = None,
    confirm_over: int = 5,
    platform: str = "8x8",
) -> widgets.Widget:
    """A button that runs ``action()`` once, on purpose; what it prints shows below it.

    When ``count`` (how many memberships will change) is more than ``confirm_over``, a first
    click only asks again, naming the count; the second, explicit click runs it. Once it ran,
    the dry-run ``warning`` gives way to a line saying the outcome is below.
    """
    note = widgets.HTML(f"<b>{warning}</b>")
    button = widgets.Button(description=description, button_style="danger", layout=widgets.Layout(width="auto"))
    confirm = widgets.Button(
        description=f"Yes: change {count} memberships",
        button_style="danger",
        layout=widgets.Layout(width="auto", display="none"),
    )
    cancel = widgets.Button(description="Cancel", layout=widgets.Layout(width="auto", display="none"))
    result = widgets.Output()
    done: list[bool] = []

    def run(_=None):
        if done:  # once only, however many clicks arrive
            return
        done.append(True)
        for b in (button, confirm, cancel):
            b.disabled = True
        confirm.layout.display = cancel.layout.display = "none"
        note.value = "<b>Working: changing the group, then reading it back ...</b>"
        with result:
            try:
                action()
            except Exception as exc:  # said here, in the notebook, not lost in a widget's log
                note.value = "<b>Stopped: see below. Run the cell again to resume; nothing is done twice.</b>"
                print(f"error: {exc}")
                return
        note.value = f"<b>Done: the outcome below was read back from {platform}.</b>"

    def first_click(_):
        if count is not None and count > confirm_over:
            button.disabled = True
            note.value = f"<b>This changes {count} memberships. Press the red button again to confirm, or Cancel.</b>"
            confirm.layout.display = cancel.layout.display = "inline-flex"
        else:
            run()

    def on_cancel(_):
        button.disabled = False
        confirm.layout.display = cancel.layout.display = "none"
        note.value = f"<b>{warning}</b>"

    button.on_click(first_click)
    confirm.on_click(run)
    cancel.on_click(on_cancel)
    return widgets.VBox([note, widgets.HBox([button, confirm, cancel]), result])


def apply_or_confirm(
    apply_now: bool, label: str, count: int, work: Callable[[], Any], *, platform: str = "8x8"
) -> widgets.Widget | None:
    """The last step of a dry run, one way for every notebook: nothing to do (no button); a job
    (``apply_now``): do it now; a person: a button labelled ``label`` that does it once. ``platform``
    names where the outcome was read back from (Settings.platform_name).

    ``work()`` does the change and answers a result with ``lines()``, ``table()`` and ``values()``
    (a bulk run, a reconciliation), shown once it has been read back and recorded as ``applied``."""
    if count == 0:
        print("Nothing to change: the dry run above found nothing to do.")
        return None

    def run_and_show() -> None:
        done = work()
        print("\n".join(done.lines()))
        display(readable(done.table()))
        record(applied=done.values())

    if apply_now:
        run_and_show()
        return None
    return confirm_button(
        label, run_and_show, count=count, warning="Dry run so far: nothing has been changed.", platform=platform
    )
