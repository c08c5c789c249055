"""The ledger's row model: its columns, what a row matched and the action it needs, and the window
and deadlines rows are judged in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

import pandas as pd

from ..client import Client
from ..config import DEFAULT_CONFIRM_MINUTES, DEFAULT_HONOUR_BUSINESS_DAYS
from ..errors import BadInput

if TYPE_CHECKING:  # for annotations only
    from ..config import Settings

DEFAULT_HOURS = 7 * 24


# The health check's reserved test numbers (``check``'s canary; the North American 555-01XX
# range is set aside for fiction: no customer has one). One per channel. Their runs are tests.
CANARY_NUMBERS = {"WhatsApp": "+12025550142", "SMS": "+12025550143"}


class LedgerRow(TypedDict):
    """One message an opt-out workflow handled, as the ledger holds it (a row of Ledger.rows)."""

    time: str  # when 8x8 received it (the trigger's time), ISO
    number: str  # the customer's number in E.164, "" when the webhook had none
    channel_user_id: str  # the channel's id of the customer (on WhatsApp v3: the BSUID)
    channel: str  # WhatsApp, Viber, RCS or SMS
    subaccount: str
    text: str  # what they wrote (or the button's title)
    matched: str  # Matched
    contacts_answer: str  # the workflow's Contacts call, as recorded ("HTTP 201 (try 2)")
    confirmation_sent: str  # yes / no / recorded (delivery not read), and why
    member_now: bool | None  # in the group as read
    awaiting_sync: bool  # in the group, but 8x8's hourly blacklist sync may not have it yet
    action: str  # Action, "" when none
    # time to honour (opt-outs): "time" is when it was received
    in_group_at: str  # when 8x8 stated or an earlier check saw it in the group
    honoured_by: str  # first try, retry N, repair; or not measured
    confirmation_sent_at: str
    blacklist_sync_at: str  # the hourly sync after in_group_at
    late: str  # the deadlines missed, "" when none
    workflow_id: str  # the run
    status: str  # the run's status: Complete, Runnable, Terminated
    version: int | None  # the definition version it ran
    group_id: int  # the group the run's workflow adds to


COLUMNS = list(LedgerRow.__annotations__)  # Ledger.rows' columns, in this order


class Matched(StrEnum):
    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"
    OTHER = "other"


class Action(StrEnum):
    NONE = ""
    ADD = "lost opt-out: add to the group"
    REMOVE = "opt-in not applied: remove from the group"
    NO_NUMBER = "cannot repair: no phone number"
    LEFT_SINCE = "note: left the group after a successful opt-out"
    SUPERSEDED = "superseded by a later message"
    IN_PROGRESS = "in progress: the workflow retries the call"
    TEST = "test number: not a customer"
    REDELIVERY = "note: the same message delivered again (same umid): counted once"
    REPAIRED_ADD = "repaired: added to the group"
    REPAIRED_REMOVE = "repaired: removed from the group"


REPAIRS = (Action.ADD, Action.REMOVE)


UNRESOLVED = (Action.ADD, Action.REMOVE, Action.NO_NUMBER)


def latest_words(rows: pd.DataFrame, key: str = "number") -> pd.DataFrame:
    """The rule of the whole runbook: per ``key`` (a number, or a channel user id), only the latest
    opt-out or opt-in counts. The rows (oldest first) that are that latest word, one per key."""
    decided = rows[rows["matched"].isin([Matched.OPT_OUT, Matched.OPT_IN]) & rows[key].ne("")]
    return decided.drop_duplicates(key, keep="last")


class BadWindow(BadInput):
    """--hours or --since cannot be used (exit code 2)."""


def iso(when: datetime) -> str:
    """8x8's timestamp shape: 2022-04-18T07:39:55.52Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-4] + "Z"


def parse_time(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(text).strip().replace("z", "Z"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` business days (Monday to Friday) after ``start``; public holidays are not known, so
    the deadline may be a day early where one falls in between (the strict side)."""
    when = start
    left = days
    while left > 0:
        when += timedelta(days=1)
        if when.weekday() < 5:
            left -= 1
    return when


@dataclass(frozen=True)
class Deadlines:
    """The deadlines the ledger flags (settings EIGHTXEIGHT_HONOUR_WITHIN_BUSINESS_DAYS and
    EIGHTXEIGHT_CONFIRM_WITHIN_MINUTES)."""

    honour_business_days: int = DEFAULT_HONOUR_BUSINESS_DAYS
    confirm_minutes: int = DEFAULT_CONFIRM_MINUTES

    @classmethod
    def of(cls, settings: Settings) -> Deadlines:
        return cls(settings.honour_business_days, settings.confirm_minutes)


@dataclass
class Window:
    start: datetime
    end: datetime  # the platform's "now" when the ledger was read

    def iso(self, when: datetime) -> str:
        return iso(when)

    def describe(self) -> str:
        return f"{self.iso(self.start)} to {self.iso(self.end)}"


def window_of(
    client: Client, window: Window | None, hours: float | None = None, since: str | datetime | None = None
) -> Window:
    """The window given, or the one ``hours`` or ``since`` make (:func:`make_window`): one way only."""
    if window is not None and (hours is not None or since is not None):
        raise BadInput("Give the window, or hours or since: one way only.")
    return window or make_window(client, hours=hours, since=since)


def make_window(client: Client, *, hours: float | None = None, since: str | datetime | None = None) -> Window:
    """From ``since`` (ISO 8601) or the last ``hours`` (default 7 days) to the platform's now."""
    if hours is not None and since is not None:
        raise BadWindow("Give --hours or --since, not both.")
    # The Date header tells whole seconds: the platform's now lies within that second, so the window
    # ends with it (a run started a fraction after the whole second is not left out).
    end = client.platform_time() + timedelta(milliseconds=990)
    if since is not None:
        if isinstance(since, str):
            try:
                start = datetime.fromisoformat(since.strip().replace("z", "Z"))
            except ValueError:
                raise BadWindow(
                    f"--since {since!r} is not an ISO 8601 time: write it like 2026-01-05T09:00:00Z."
                ) from None
        else:
            start = since
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    else:
        hours = DEFAULT_HOURS if hours is None else hours
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 366:
            raise BadWindow(f"--hours must be a number of hours from 1 to {24 * 366}, not {hours!r}.")
        start = end - timedelta(hours=hours)
    if start > end:
        raise BadWindow(f"--since {since} is after the platform's time now ({Window(end, end).iso(end)}).")
    return Window(start, end)


ALREADY = "HTTP 200 (already in the group: not added or confirmed again)"


_OPT_OUT, _OPT_IN = Matched.OPT_OUT.value, Matched.OPT_IN.value


def _succeeded(answer: str) -> bool:
    return answer.startswith("HTTP 2")


# A confirmation whose umid the run recorded, its delivery status not read: the send was accepted,
# nothing more is known. "yes" is said only from a delivery status read back that is not a failure.
RECORDED_ONLY = "recorded (delivery not read)"


NOT_MEASURED = "time in the group not measured (8x8 stated none and no earlier check saw it)"
