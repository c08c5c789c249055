"""The Contacts store's tables and the shapes and limits of what the API takes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidMsisdn

MSISDN_PATTERN = re.compile(r"^\+?[1-9][0-9]{6,14}$")


ADDRESS_KINDS = ("msisdn", "weChatUserId", "facebookUserId", "email", "zaloId", "lineId", "kakaoTalkId")


CONTACT_FIELDS = {"firstName": 200, "lastName": 200, "externalId": 50}


MAX_GROUPS_PER_CONTACT = 10


MAX_BATCH_FILE_BYTES = 30 * 1024 * 1024  # "The file size is limited to 30 Mb."


GROUP_ID_START, CONTACT_ID_START = 11001, 41700001  # the first ids, as in 8x8's examples
MAX_MEMBERSHIP_BATCH = 1000  # not documented: the sandbox's limit per membership request


# What _render_contacts reads, in this order (rows as plain tuples: faster than sqlite3.Row).
CONTACT_COLUMNS = "c.id, c.created_at, c.first_name, c.last_name, c.external_id, c.country, c.custom"


SCHEMA = """
CREATE TABLE IF NOT EXISTS groups (
    id INTEGER PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
    description TEXT, is_blacklist INTEGER NOT NULL, created_at TEXT NOT NULL,
    UNIQUE (account, name_key));
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY, account TEXT NOT NULL, created_at TEXT NOT NULL,
    first_name TEXT, last_name TEXT, external_id TEXT, country TEXT, custom TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS addresses (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    account TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, match_key TEXT NOT NULL,
    PRIMARY KEY (contact_id, kind));
CREATE INDEX IF NOT EXISTS addresses_by_key ON addresses (account, kind, match_key);
CREATE TABLE IF NOT EXISTS memberships (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    added_at TEXT NOT NULL, PRIMARY KEY (group_id, contact_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_by_contact ON memberships (contact_id);
CREATE TABLE IF NOT EXISTS msisdn_blacklist (
    account TEXT NOT NULL, match_key TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (account, match_key));
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL);
-- Counts kept current by triggers, so that a page costs what the page costs, not what the group
-- or the account costs: members per group (with a version that moves on every change, which
-- invalidates the cached member order), contacts per account.
CREATE TABLE IF NOT EXISTS group_counts (group_id INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
    members INTEGER NOT NULL, version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS account_counts (account TEXT PRIMARY KEY, contacts INTEGER NOT NULL);
INSERT OR IGNORE INTO group_counts (group_id, members)
    SELECT id, (SELECT COUNT(*) FROM memberships WHERE group_id = groups.id) FROM groups;
INSERT OR IGNORE INTO account_counts SELECT account, COUNT(*) FROM contacts GROUP BY account;
CREATE TRIGGER IF NOT EXISTS group_counted AFTER INSERT ON groups BEGIN
    INSERT OR IGNORE INTO group_counts (group_id, members) VALUES (NEW.id, 0); END;
CREATE TRIGGER IF NOT EXISTS member_added AFTER INSERT ON memberships BEGIN
    UPDATE group_counts SET members = members + 1, version = version + 1 WHERE group_id = NEW.group_id; END;
CREATE TRIGGER IF NOT EXISTS member_removed AFTER DELETE ON memberships BEGIN
    UPDATE group_counts SET members = members - 1, version = version + 1 WHERE group_id = OLD.group_id; END;
CREATE TRIGGER IF NOT EXISTS contact_counted AFTER INSERT ON contacts BEGIN
    INSERT INTO account_counts VALUES (NEW.account, 1)
        ON CONFLICT(account) DO UPDATE SET contacts = contacts + 1; END;
CREATE TRIGGER IF NOT EXISTS contact_uncounted AFTER DELETE ON contacts BEGIN
    UPDATE account_counts SET contacts = contacts - 1 WHERE account = OLD.account; END;
-- The search text of each contact (names, external id, every address), in a trigram index: the
-- `query` search (any substring) looks up candidates there instead of reading every contact.
CREATE VIRTUAL TABLE IF NOT EXISTS contact_text USING fts5(text, tokenize='trigram');
CREATE TRIGGER IF NOT EXISTS contact_text_added AFTER INSERT ON contacts BEGIN
    INSERT INTO contact_text (rowid, text) VALUES (NEW.id, lower(coalesce(NEW.first_name, '') || ' ' || coalesce(NEW.last_name, '') || ' ' || coalesce(NEW.external_id, '') || ' ' || coalesce((SELECT group_concat(match_key, ' ') FROM addresses WHERE contact_id = NEW.id), ''))); END;
CREATE TRIGGER IF NOT EXISTS contact_text_changed AFTER UPDATE ON contacts BEGIN
    DELETE FROM contact_text WHERE rowid = OLD.id;
    INSERT INTO contact_text (rowid, text) VALUES (NEW.id, lower(coalesce(NEW.first_name, '') || ' ' || coalesce(NEW.last_name, '') || ' ' || coalesce(NEW.external_id, '') || ' ' || coalesce((SELECT group_concat(match_key, ' ') FROM addresses WHERE contact_id = NEW.id), ''))); END;
CREATE TRIGGER IF NOT EXISTS contact_text_removed AFTER DELETE ON contacts BEGIN
    DELETE FROM contact_text WHERE rowid = OLD.id; END;
CREATE TRIGGER IF NOT EXISTS address_text_added AFTER INSERT ON addresses BEGIN
    DELETE FROM contact_text WHERE rowid = NEW.contact_id;
    INSERT INTO contact_text (rowid, text) SELECT c.id, lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.external_id, '') || ' ' || coalesce((SELECT group_concat(match_key, ' ') FROM addresses WHERE contact_id = c.id), '')) FROM contacts c WHERE c.id = NEW.contact_id; END;
CREATE TRIGGER IF NOT EXISTS address_text_changed AFTER UPDATE ON addresses BEGIN
    DELETE FROM contact_text WHERE rowid = NEW.contact_id;
    INSERT INTO contact_text (rowid, text) SELECT c.id, lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.external_id, '') || ' ' || coalesce((SELECT group_concat(match_key, ' ') FROM addresses WHERE contact_id = c.id), '')) FROM contacts c WHERE c.id = NEW.contact_id; END;
CREATE TRIGGER IF NOT EXISTS address_text_removed AFTER DELETE ON addresses BEGIN
    DELETE FROM contact_text WHERE rowid = OLD.contact_id;
    INSERT INTO contact_text (rowid, text) SELECT c.id, lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.external_id, '') || ' ' || coalesce((SELECT group_concat(match_key, ' ') FROM addresses WHERE contact_id = c.id), '')) FROM contacts c WHERE c.id = OLD.contact_id; END;
"""


@dataclass(frozen=True)
class ContactInput:
    """A contact as POST /contacts sends it, parsed by responses.py (types checked there)."""

    addresses: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)  # firstName, lastName, externalId, country
    custom_attributes: dict = field(default_factory=dict)
    group_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PatchOperation:
    op: Any
    path: str
    value: Any = None


# Every number blocked now, per account: members of a blacklisted group, and blacklisted msisdns.
# The one definition of "blocked": Contacts answers from it, messaging's hourly snapshot copies it.
BLOCKED_NUMBERS = (
    "SELECT a.account AS account, a.match_key AS match_key, m.added_at AS since FROM addresses a "
    "JOIN memberships m ON m.contact_id = a.contact_id JOIN groups g ON g.id = m.group_id AND g.is_blacklist = 1 "
    "WHERE a.kind = 'msisdn' "
    "UNION ALL SELECT account, match_key, added_at FROM msisdn_blacklist"
)


TEXT_OF_CONTACT = "lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.external_id, '') || ' ' || coalesce((SELECT group_concat(match_key, ' ') FROM addresses WHERE contact_id = c.id), ''))"


def msisdn_key(value: str) -> str:
    return value.lstrip("+")


def check_msisdn(value: Any) -> str:
    if not isinstance(value, str) or not MSISDN_PATTERN.match(value):
        raise InvalidMsisdn(value)
    return value
