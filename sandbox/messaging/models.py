"""Messaging Apps API state: sent messages, and the blacklist as messaging sees it.

8x8 syncs the Contacts blacklist to messaging hourly. The sandbox keeps a snapshot of the
blocked numbers, taken at each full hour of its clock: when the clock is moved across an
hour, or at the first send after one (wall-clock mode). A number added to a blacklisted
group keeps receiving messages until the next sync; a removed one stays blocked as long.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..contacts.models import ContactsBackend
from ..contacts.schema import BLOCKED_NUMBERS, check_msisdn, msisdn_key
from ..defaults import SANDBOX_ACCOUNT_ID, SANDBOX_ACCOUNT_UUID
from ..errors import InvalidMsisdn, InvalidRequest, NotAuthenticated, NotFound, UnknownSubaccount
from ..storage import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    umid TEXT PRIMARY KEY, subaccount TEXT NOT NULL, account TEXT NOT NULL, msisdn TEXT, channel TEXT NOT NULL,
    type TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL, state TEXT NOT NULL,
    error_code INTEGER, error_message TEXT, detail TEXT, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blacklist_snapshot (account TEXT NOT NULL, match_key TEXT NOT NULL,
    PRIMARY KEY (account, match_key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS templates (account TEXT NOT NULL, channel_id TEXT NOT NULL, name TEXT NOT NULL,
    language TEXT NOT NULL, body TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (account, channel_id, name, language));
"""
# A message to a blacklisted number: delivery error 15; the status's errorMessage and detail as 8x8
# documents them (examples/messaging.json, dr_undelivered_15; detail is one of rejected_by_operator,
# delivered_to_operator, delivered_to_recipient, undelivered_to_recipient).
BLOCKED = (15, "Invalid destination", "rejected_by_operator")


def _channel_id(subaccount: str, channel: str) -> str:
    """A stable id for the sandbox's one channel of each kind per subaccount."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:{subaccount}:{channel}"))


@dataclass(frozen=True)
class OutboundMessage:
    """A message to send, as responses.py parsed it from the wire."""

    msisdn: Any
    kind: str
    content: dict
    client_message_id: str | None = None
    channel_user_id: str | None = None  # a WhatsApp BSUID: 8x8's send API accepts it alone
    country: str | None = None  # with a national msisdn (business_messaging_api.json's example)
    channels: tuple[str, ...] = ()  # the send's fallback override, in order; empty: the subaccount's default


class MessagingBackend:
    def __init__(self, store: Store, contacts: ContactsBackend, subaccounts: dict[str, str]):
        self.store = store
        self.contacts = contacts
        self.subaccounts = dict(subaccounts)  # subaccount id -> account id
        store.add_schema(SCHEMA)
        self.templates = Templates(store, lambda: sorted(set(self.subaccounts.values())))
        if "channel_user_id" not in {row["name"] for row in store.query("PRAGMA table_info(messages)")}:
            store.add_schema("ALTER TABLE messages ADD COLUMN channel_user_id TEXT;")  # an older state file
        if store.get_meta("blacklist_synced_at") is None:
            store.set_meta("blacklist_synced_at", self._hour(store.clock.now()).isoformat())

    def account_for(self, subaccount: str) -> str:
        if subaccount not in self.subaccounts:
            raise UnknownSubaccount(subaccount)
        return self.subaccounts[subaccount]

    @staticmethod
    def _hour(when: datetime) -> datetime:
        return when.replace(minute=0, second=0, microsecond=0)

    def sync_blacklist_if_due(self) -> bool:
        """Take the hourly snapshot if a full hour has passed since the last one."""
        due = self._hour(self.store.clock.now())
        if due.isoformat() <= self.store.get_meta("blacklist_synced_at"):
            return False
        with self.store.transaction() as db:
            db.execute("DELETE FROM blacklist_snapshot")
            # The snapshot is the one taken at the hour ``due``: a number blocked after it (the sandbox
            # catches up at its first send, or after a restart) waits for the next hour, as on 8x8.
            db.execute(
                f"INSERT OR IGNORE INTO blacklist_snapshot SELECT account, match_key FROM ({BLOCKED_NUMBERS}) "
                "WHERE since <= ?",
                (self.store.clock.iso(due),),
            )
            db.execute("UPDATE meta SET value = ? WHERE key = 'blacklist_synced_at'", (due.isoformat(),))
        return True

    def last_sync(self) -> str:
        return self.store.get_meta("blacklist_synced_at")

    def is_blocked(self, account: str, msisdn: str) -> bool:
        return bool(
            self.store.query(
                "SELECT 1 FROM blacklist_snapshot WHERE account = ? AND match_key = ?", (account, msisdn_key(msisdn))
            )
        )

    def send(self, subaccount: str, message: OutboundMessage, *, channel: str = "WhatsApp") -> dict:
        """Record a send. ``channel``: the subaccount's default fallback, which the sandbox models as
        one channel; a ``channels`` override in the message decides instead (its first channel is
        the one tried first, and the sandbox delivers on the first)."""
        channel = message.channels[0] if message.channels else channel
        account = self.account_for(subaccount)
        msisdn = _e164(message.msisdn, message.country) if message.msisdn is not None else None
        kind, content = message.kind, message.content
        if kind.lower() == "text" and not isinstance(content.get("text"), str):
            raise InvalidRequest("A text message needs content.text.")
        self.sync_blacklist_if_due()
        now = self.store.clock.iso()
        umid = self.store.new_uuid("umid")
        # msisdn takes precedence when both are given (8x8's BSUID page). A message to a BSUID alone
        # is not checked against the blacklist: the Contacts API holds numbers, not BSUIDs.
        blocked = msisdn is not None and self.is_blocked(account, msisdn)
        code, error_message, detail = BLOCKED if blocked else (None, None, None)
        with self.store.transaction() as db:
            seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM messages").fetchone()[0]
            db.execute(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    umid,
                    subaccount,
                    account,
                    msisdn,
                    channel,
                    kind,
                    json.dumps(content),
                    now,
                    "undelivered" if blocked else "delivered",
                    code,
                    error_message,
                    detail,
                    seq,
                    message.channel_user_id,
                ),
            )
        answer = {
            "umid": umid,
            "user": _user(msisdn, message.channel_user_id),
            "status": {"state": "queued", "timestamp": now},
        }
        if message.client_message_id:
            answer["clientMessageId"] = message.client_message_id
        return answer

    def _render(self, row) -> dict:
        status = {"state": row["state"], "timestamp": row["created_at"]}
        if row["error_code"] is not None:
            status.update(errorCode=row["error_code"], errorMessage=row["error_message"], detail=row["detail"])
        return {
            "umid": row["umid"],
            "subAccountId": row["subaccount"],
            "channel": row["channel"],
            "channelId": _channel_id(row["subaccount"], row["channel"]),
            "step": 1,
            "direction": "outbound",
            "status": status,
            "user": _user(row["msisdn"], row["channel_user_id"]),
            "contentType": row["type"].capitalize(),
            "content": "**MASKED**",
            "createdAt": row["created_at"],
        }

    def get(self, subaccount: str, umid: str) -> dict:
        self.account_for(subaccount)
        rows = self.store.query("SELECT * FROM messages WHERE subaccount = ? AND umid = ?", (subaccount, umid))
        if not rows:
            raise NotFound(f"Message {umid} not found")
        return {"data": [self._render(rows[0])]}

    def sent(self) -> list[dict]:
        """Every message sent, oldest first, with its text (sandbox-only view)."""
        rows = self.store.query("SELECT * FROM messages ORDER BY seq")
        return [{**self._render(r), "content": json.loads(r["content"])} for r in rows]


def _user(msisdn: str | None, channel_user_id: str | None) -> dict:
    return {k: v for k, v in (("msisdn", msisdn), ("channelUserId", channel_user_id)) if v is not None}


def _e164(msisdn: str, country: str | None) -> str:
    """The number in E.164: as given, or (with ``user.country``) a national number read in that country."""
    if country is None or msisdn.startswith("+"):
        return check_msisdn(msisdn)
    import phonenumbers

    try:
        parsed = phonenumbers.parse(msisdn, country.upper())
    except phonenumbers.NumberParseException:
        raise InvalidMsisdn(msisdn) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidMsisdn(msisdn)
    return check_msisdn(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


# --- WhatsApp templates (GET /api/v1/accounts/{accountId}/channels/{channelId}/templates) ------------
# The registered-template schema of business_messaging_api.json: its enums and lengths, checked when
# the sandbox is seeded, so that a template the sandbox serves is one 8x8 could hold.
ACCOUNT_UUID_PATTERN = re.compile(r"^[0-9A-Fa-f]{8}[-]?(?:[0-9A-Fa-f]{4}[-]?){3}[0-9A-Fa-f]{12}$")
COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
HEADER_FORMATS = ("Text", "Image", "Video", "Document", "Location")
BUTTON_TYPES = ("PHONE_NUMBER", "URL", "QUICK_REPLY", "OTP", "COPY_CODE", "FLOW", "VOICE_CALL", "REQUEST_CONTACT_INFO")
MAX_BUTTON_TEXT = 20


def account_uuid(account: str) -> str:
    """The UUID the management API knows an account by: the sandbox account's own, else one derived."""
    return (
        SANDBOX_ACCOUNT_UUID
        if account == SANDBOX_ACCOUNT_ID
        else str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-account:{account}"))
    )


def check_template(template) -> dict:
    """A registered template as the seed gives it; InvalidRequest naming what is wrong."""
    usage = (
        'Each template is {"channelId", "templateName", "language", "category", "components": [{"type": '
        '"BODY", "text"}, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text"}]}], "status"}.'
    )
    if not isinstance(template, dict):
        raise InvalidRequest(usage)
    for key, limit in (("channelId", 36), ("templateName", 200), ("language", 5)):
        if not isinstance(template.get(key), str) or not 1 <= len(template[key]) <= limit:
            raise InvalidRequest(f"'{key}' must be a string of 1 to {limit} characters. {usage}")
    try:
        uuid.UUID(template["channelId"])
    except ValueError:
        raise InvalidRequest(f"'channelId' must be a UUID, got {template['channelId']!r}.") from None
    components = template.get("components")
    if not isinstance(components, list) or not components:
        raise InvalidRequest(f"'components' must be a non-empty list. {usage}")
    for component in components:
        _check_component(component, usage)
    for key in ("category", "status", "languageName"):
        if key in template and not isinstance(template[key], str):
            raise InvalidRequest(f"'{key}' must be a string.")
    if "channelName" in template and (
        not isinstance(template["channelName"], str) or not 1 <= len(template["channelName"]) <= 36
    ):
        raise InvalidRequest("'channelName' must be a string of 1 to 36 characters.")  # the schema's maxLength
    return template


def _check_component(component, usage: str) -> None:
    if not isinstance(component, dict) or component.get("type") not in COMPONENT_TYPES:
        raise InvalidRequest(f"A component's 'type' is one of {', '.join(COMPONENT_TYPES)}. {usage}")
    kind = component["type"]
    if kind in ("BODY", "FOOTER") and not isinstance(component.get("text"), str):
        raise InvalidRequest(f"A {kind} component needs 'text' (a string).")
    if kind == "HEADER" and component.get("format") not in HEADER_FORMATS:
        raise InvalidRequest(f"A HEADER component's 'format' is one of {', '.join(HEADER_FORMATS)}.")
    if kind == "BUTTONS":
        buttons = component.get("buttons")
        if not isinstance(buttons, list) or not buttons:
            raise InvalidRequest("A BUTTONS component needs 'buttons' (a non-empty list).")
        for button in buttons:
            _check_button(button)


def _check_button(button) -> None:
    if not isinstance(button, dict) or button.get("type") not in BUTTON_TYPES:
        raise InvalidRequest(f"A button's 'type' is one of {', '.join(BUTTON_TYPES)}.")
    text = button.get("text")
    if button["type"] != "VOICE_CALL" and (not isinstance(text, str) or not 1 <= len(text) <= MAX_BUTTON_TEXT):
        raise InvalidRequest(f"A button's 'text' is 1 to {MAX_BUTTON_TEXT} characters, got {text!r}.")


class Templates:
    """The WhatsApp templates of each account's channels, as the seed control registers them."""

    def __init__(self, store: Store, accounts):
        self.store = store
        self.accounts = accounts  # callable: the account names the sandbox serves

    def seed(self, account: str, templates: list) -> int:
        checked = [check_template(t) for t in templates]
        now = self.store.clock.iso()
        with self.store.transaction() as db:
            for t in checked:
                seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM templates").fetchone()[0]
                stored = {
                    "channelId": t["channelId"],
                    "channelName": t.get("channelName", "WhatsApp channel"),
                    "templateName": t["templateName"],
                    "language": t["language"],
                    "languageName": t.get("languageName", t["language"]),
                    "components": t["components"],
                    "category": t.get("category", "MARKETING"),
                    "categoryName": t.get("category", "MARKETING").title(),
                    "status": t.get("status", "APPROVED"),
                    "statusName": t.get("status", "APPROVED").title(),
                    "createdAt": now,
                    "updatedAt": now,
                }
                db.execute(
                    "INSERT OR REPLACE INTO templates VALUES (?, ?, ?, ?, ?, ?)",
                    (account, t["channelId"].lower(), t["templateName"], t["language"], json.dumps(stored), seq),
                )
        return len(checked)

    def list(self, account_id: str, channel_id: str) -> dict:
        # The strict reading of the definition's pattern: the management API takes the account's UUID,
        # not the account name the other APIs take. It documents 200, 401 and 500 only, so an accountId
        # that is not the UUID of an account the key serves (the name included) is refused as 401.
        wanted = account_id.replace("-", "").lower() if ACCOUNT_UUID_PATTERN.match(account_id) else None
        account = next((a for a in self.accounts() if account_uuid(a).replace("-", "") == wanted), None)
        if account is None:
            raise NotAuthenticated()
        rows = self.store.query(
            "SELECT body FROM templates WHERE account = ? AND channel_id = ? ORDER BY seq",
            (account, channel_id.lower()),
        )
        return {"templates": [json.loads(r["body"]) for r in rows]}
