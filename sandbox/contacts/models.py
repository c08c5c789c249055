"""Contacts API state and rules: groups, contacts, addresses, membership, blacklist, batches.

Choices where 8x8's text is silent, written down here:
- ``offset`` counts pages: offset=0 is the first page, offset=1 the next (``page`` = offset+1).
  The sandbox can be started with ``offset_mode="items"`` to answer the other reading, so the
  client is tested against both.
- Group names are unique per account regardless of case; ``?name=`` matches a case-insensitive
  substring.
- Two msisdns are the same address when their digits match ("+6512345678" = "6512345678").
- Removing a contact that is not a member is a no-op, so a removal can be safely repeated.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import threading
from array import array
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import AmbiguousContact, DuplicateGroupName, InvalidJobId, InvalidMsisdn, InvalidRequest, NotFound
from ..storage import Store

MSISDN_PATTERN = re.compile(r"^\+?[1-9][0-9]{6,14}$")
ADDRESS_KINDS = ("msisdn", "weChatUserId", "facebookUserId", "email", "zaloId", "lineId", "kakaoTalkId")
CONTACT_FIELDS = {"firstName": 200, "lastName": 200, "externalId": 50}
MAX_GROUPS_PER_CONTACT = 10
MAX_BATCH_FILE_BYTES = 30 * 1024 * 1024  # "The file size is limited to 30 Mb."
MAX_MEMBERSHIP_BATCH = 1000  # not documented: the sandbox's limit per membership request
GROUP_ID_START, CONTACT_ID_START = 11001, 41700001

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
    "UNION ALL SELECT account, match_key, added_at FROM msisdn_blacklist")


TEXT_OF_CONTACT = "lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.external_id, '') || ' ' || coalesce((SELECT group_concat(match_key, ' ') FROM addresses WHERE contact_id = c.id), ''))"


def msisdn_key(value: str) -> str:
    return value.lstrip("+")


def check_msisdn(value: Any) -> str:
    if not isinstance(value, str) or not MSISDN_PATTERN.match(value):
        raise InvalidMsisdn(value)
    return value


class ContactsBackend:
    def __init__(self, store: Store, *, offset_mode: str = "pages"):
        if offset_mode not in ("pages", "items"):
            raise ValueError("offset_mode is 'pages' or 'items'")
        self.store = store
        self.offset_mode = offset_mode
        store.add_schema(SCHEMA)
        # group id -> (version, member contact ids in order): any page, in any order, is a slice of it.
        # Rebuilt when the group's version moves, so a read sees the group as it is, offsets and all.
        self._member_order: dict[int, tuple[int, array]] = {}
        self._order_lock = threading.Lock()  # pages asked at once rebuild the order once, not once each
        with store.transaction() as db:  # a state file from before the index: fill it once
            if not db.execute("SELECT 1 FROM contact_text LIMIT 1").fetchone() and \
                    db.execute("SELECT 1 FROM contacts LIMIT 1").fetchone():
                db.execute("INSERT INTO contact_text (rowid, text) SELECT c.id, " +
                           TEXT_OF_CONTACT + " FROM contacts c")

    def _members_in_order(self, group_id: int) -> array:
        version = self.store.query("SELECT version FROM group_counts WHERE group_id = ?", (group_id,))
        version = version[0]["version"] if version else -1
        cached = self._member_order.get(group_id)
        if cached is None or cached[0] != version:
            with self._order_lock:
                cached = self._member_order.get(group_id)
                if cached is None or cached[0] != version:
                    ids = array("q", (r[0] for r in self.store.query(
                        "SELECT contact_id FROM memberships WHERE group_id = ? ORDER BY contact_id", (group_id,))))
                    cached = (version, ids)
                    self._member_order[group_id] = cached
        return cached[1]


    # --- paging -----------------------------------------------------------------------
    def page(self, total_count: int, total_filtered: int, limit: int, offset: int) -> tuple[int, dict]:
        """Row offset for the query, and the list envelope without ``items``."""
        start = offset * limit if self.offset_mode == "pages" else offset
        page = start // limit + 1
        start = min(start, 2**63 - 1)  # past every row: an empty page, never an overflow
        total_pages = math.ceil(total_filtered / limit) if total_filtered else 0
        return start, {"page": page, "totalPages": total_pages, "totalCount": total_count,
                       "totalFiltered": total_filtered, "hasPreviousPage": page > 1,
                       "hasNextPage": start + limit < total_filtered}

    # --- groups -----------------------------------------------------------------------
    def _group_row(self, account: str, group_id: int):
        rows = self.store.query("SELECT * FROM groups WHERE account = ? AND id = ?", (account, group_id))
        if not rows:
            raise NotFound(f"Unable to find group with id {group_id}")
        return rows[0]

    def _render_groups(self, rows) -> list[dict]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        counts = {r["group_id"]: r["members"] for r in self.store.query(
            f"SELECT group_id, members FROM group_counts WHERE group_id IN ({','.join('?' * len(ids))})", ids)}
        out = []
        for r in rows:
            group = {"id": r["id"], "contacts": counts.get(r["id"], 0), "createdAt": r["created_at"],
                     "name": r["name"], "isBlacklist": bool(r["is_blacklist"])}
            if r["description"] is not None:
                group["description"] = r["description"]
            out.append(group)
        return out

    def get_group(self, account: str, group_id: int) -> dict:
        return self._render_groups([self._group_row(account, group_id)])[0]

    def search_groups(self, account: str, name: str | None, limit: int, offset: int) -> dict:
        where, params = "account = ?", [account]
        total = self.store.query("SELECT COUNT(*) AS n FROM groups WHERE account = ?", (account,))[0]["n"]
        if name:
            where += " AND instr(name_key, ?) > 0"
            params.append(name.casefold())
        filtered = self.store.query(f"SELECT COUNT(*) AS n FROM groups WHERE {where}", params)[0]["n"]
        start, envelope = self.page(total, filtered, limit, offset)
        rows = self.store.query(f"SELECT * FROM groups WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
                                [*params, limit, start])
        return {"items": self._render_groups(rows), **envelope}

    @staticmethod
    def check_group_fields(name: Any = None, description: Any = None, *, name_required: bool) -> None:
        if name_required or name is not None:
            if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100 or len(name) > 100:
                raise InvalidRequest("Group 'name' is required: a string of 1 to 100 characters.")
        if description is not None and (not isinstance(description, str) or not 1 <= len(description) <= 100):
            raise InvalidRequest("Group 'description' must be a string of 1 to 100 characters.")

    def create_group(self, account: str, name: str, description: str | None, is_blacklist: bool) -> dict:
        self.check_group_fields(name, description, name_required=True)
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM groups WHERE account = ? AND name_key = ?",
                          (account, name.casefold())).fetchone():
                raise DuplicateGroupName()
            group_id = self.store.next_id("group", start=GROUP_ID_START)
            db.execute("INSERT INTO groups VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (group_id, account, name, name.casefold(), description, int(is_blacklist),
                        self.store.clock.iso()))
        return self.get_group(account, group_id)

    def update_group(self, account: str, group_id: int, operations: list[PatchOperation]) -> dict:
        """JSON Patch on name, description, isBlacklist (paths matched regardless of case)."""
        fields = {"/name": "name", "/description": "description", "/isblacklist": "isBlacklist"}
        with self.store.transaction() as db:
            row = self._group_row(account, group_id)
            group = {"name": row["name"], "description": row["description"], "isBlacklist": bool(row["is_blacklist"])}
            for op in operations:
                field = fields.get(op.path.lower())
                if field is None:
                    raise InvalidRequest(f"Path {op.path!r} cannot be changed; use /name, /description or /isBlacklist.")
                kind, value = op.op, op.value
                if field == "isBlacklist" and kind in ("add", "replace", "test"):
                    value = _as_bool(value)
                if kind in ("add", "replace"):
                    group[field] = value
                elif kind == "remove" and field == "description":
                    group[field] = None
                elif kind == "test":
                    if group[field] != value:
                        raise InvalidRequest(f"Test failed: {op.path} is not {value!r}; nothing was changed.")
                else:
                    raise InvalidRequest(f"Operation {kind!r} is not supported on {op.path!r}.")
            self.check_group_fields(group["name"], group["description"], name_required=True)
            clash = db.execute("SELECT 1 FROM groups WHERE account = ? AND name_key = ? AND id != ?",
                               (account, group["name"].casefold(), group_id)).fetchone()
            if clash:
                raise DuplicateGroupName()
            db.execute("UPDATE groups SET name = ?, name_key = ?, description = ?, is_blacklist = ? WHERE id = ?",
                       (group["name"], group["name"].casefold(), group["description"], int(group["isBlacklist"]),
                        group_id))
        return self.get_group(account, group_id)

    def delete_group(self, account: str, group_id: int) -> None:
        with self.store.transaction() as db:
            self._group_row(account, group_id)
            db.execute("DELETE FROM groups WHERE id = ?", (group_id,))

    # --- contacts ---------------------------------------------------------------------
    @staticmethod
    def _ids_clause(column: str, ids: list[int]) -> tuple[str, list[int]]:
        """SQL selecting ``ids`` by ``column``: a range when they are dense (a page of a group read
        is a slice of sorted ids: one index range scan instead of 500 lookups, twice as fast), else
        IN. A range can take rows of other ids: the caller keeps only its own."""
        low, high = min(ids), max(ids)
        if high - low < 2 * len(ids):
            return f"{column} BETWEEN ? AND ?", [low, high]
        return f"{column} IN ({','.join('?' * len(ids))})", ids

    def _render_contacts(self, rows: list[tuple]) -> list[dict]:
        """Contacts as the API answers them: three queries a page (rows, addresses, memberships) and
        one for the few groups they name."""
        if not rows:
            return []
        ids = [r[0] for r in rows]
        addresses: dict[int, dict] = {i: {} for i in ids}
        clause, params = self._ids_clause("contact_id", ids)
        for contact_id, kind, value in self.store.db_rows(f"SELECT contact_id, kind, value FROM addresses WHERE {clause}",
                                                          params):
            if contact_id in addresses:
                addresses[contact_id][kind] = value
        by_contact: dict[int, list] = {i: [] for i in ids}
        pairs = [(c, g) for c, g in self.store.db_rows(
            f"SELECT contact_id, group_id FROM memberships WHERE {clause}", params) if c in by_contact]
        groups: dict[int, dict] = {}
        named = sorted({g for _, g in pairs})
        if named:  # one dict per group, shared by the page's contacts (as _render_groups renders it)
            for group_id, name, description, blacklist, created, members in self.store.db_rows(
                    "SELECT g.id, g.name, g.description, g.is_blacklist, g.created_at, gc.members FROM groups g "
                    f"LEFT JOIN group_counts gc ON gc.group_id = g.id WHERE g.id IN ({','.join('?' * len(named))})",
                    named):
                group = {"id": group_id, "contacts": members or 0, "createdAt": created, "name": name,
                         "isBlacklist": bool(blacklist)}
                if description is not None:
                    group["description"] = description
                groups[group_id] = group
        for contact_id, group_id in sorted(pairs, key=lambda pair: pair[1]):  # each contact's groups by id
            by_contact[contact_id].append(groups[group_id])
        out = []
        for contact_id, created, first, last, external, country, custom in rows:  # CONTACT_COLUMNS
            contact: dict[str, Any] = {"id": contact_id, "createdAt": created}
            for key, value in (("firstName", first), ("lastName", last), ("externalId", external),
                               ("country", country)):
                if value is not None:
                    contact[key] = value
            if by_contact[contact_id]:  # the definition says minItems 1: omit an empty list
                contact["groups"] = by_contact[contact_id]
            contact["addresses"] = addresses[contact_id]
            contact["customAttributes"] = {} if custom == "{}" else json.loads(custom)
            out.append(contact)
        return out

    def get_contact(self, account: str, contact_id: int) -> dict:
        rows = self.store.db_rows(f"SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.account = ? AND c.id = ?",
                                  (account, contact_id))
        if not rows:
            raise NotFound(f"Unable to find contact with id {contact_id}")
        return self._render_contacts(rows)[0]

    def search_contacts(self, account: str, query: str | None, group_id: int | None, country: str | None,
                        limit: int, offset: int) -> dict:
        counted = self.store.query("SELECT contacts FROM account_counts WHERE account = ?", (account,))
        total = counted[0]["contacts"] if counted else 0
        where, params, source, order = ["c.account = ?"], [account], "contacts c", "c.id"
        if group_id is not None:
            if not self.store.query("SELECT 1 FROM groups WHERE account = ? AND id = ?", (account, group_id)):
                raise InvalidRequest(f"Unable to find group with id {group_id}")  # no 404 documented here
            source = "memberships m JOIN contacts c ON c.id = m.contact_id"
            order = "m.contact_id"  # the membership key's order: no sort of the whole group per page
            where.append("m.group_id = ?")
            params.append(group_id)
        if country:
            where.append("c.country = ?")
            params.append(country.upper())
        if query:
            needle = query.casefold().lstrip("+")
            if len(needle) >= 3 and not any(c in needle for c in "%_\\"):
                # Candidates from the trigram index (LIKE without ESCAPE: with it SQLite reads the whole
                # index); the exact test below still decides. Wildcard characters: the plain scan.
                where.append("c.id IN (SELECT rowid FROM contact_text WHERE text LIKE ?)")
                params.append(f"%{needle}%")
            where.append("(instr(lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || "
                         "coalesce(c.external_id, '')), ?) > 0 OR EXISTS (SELECT 1 FROM addresses a "
                         "WHERE a.contact_id = c.id AND instr(lower(a.match_key), ?) > 0))")
            params += [needle, needle]
        clause = " AND ".join(where)
        if group_id is not None and not country and not query:
            # The common read, a group's members page by page: a slice of the cached order.
            members = self._members_in_order(group_id)
            start, envelope = self.page(total, len(members), limit, offset)
            ids = members[start:start + limit].tolist()
            rows = []
            if ids:
                wanted = set(ids)
                clause, params = self._ids_clause("c.id", ids)
                rows = [r for r in self.store.db_rows(
                    f"SELECT {CONTACT_COLUMNS} FROM contacts c WHERE {clause} ORDER BY c.id", params) if r[0] in wanted]
            return {"items": self._render_contacts(rows), **envelope}
        filtered = self.store.query(f"SELECT COUNT(*) AS n FROM {source} WHERE {clause}", params)[0]["n"]
        start, envelope = self.page(total, filtered, limit, offset)
        rows = self.store.db_rows(f"SELECT {CONTACT_COLUMNS} FROM {source} WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
                                [*params, limit, start])
        return {"items": self._render_contacts(rows), **envelope}

    def upsert_contact(self, account: str, contact: ContactInput) -> tuple[dict, bool]:
        """Create (True) or merge into the one contact sharing an address (False)."""
        addresses = contact.addresses
        _check_addresses(addresses)
        fields, custom = _checked_fields(contact)
        group_ids = list(dict.fromkeys(contact.group_ids))
        with self.store.transaction() as db:
            for gid in group_ids:
                if not db.execute("SELECT 1 FROM groups WHERE account = ? AND id = ?", (account, gid)).fetchone():
                    # 8x8 documents no 404 for this operation: a bad group in the body is a bad request.
                    raise InvalidRequest(f"Unable to find group with id {gid}")
            matches = self._contacts_sharing(db, account, addresses)
            created = not matches
            now = self.store.clock.iso()
            if created:
                contact_id = self.store.next_id("contact", start=CONTACT_ID_START)
                db.execute("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (contact_id, account, now, fields.get("firstName"), fields.get("lastName"),
                            fields.get("externalId"), fields.get("country"), json.dumps(custom)))
            else:
                contact_id = matches.pop()
                row = db.execute("SELECT custom FROM contacts WHERE id = ?", (contact_id,)).fetchone()
                merged = {**json.loads(row["custom"]), **custom}
                db.execute("UPDATE contacts SET first_name = coalesce(?, first_name), last_name = coalesce(?, last_name), "
                           "external_id = coalesce(?, external_id), country = coalesce(?, country), custom = ? WHERE id = ?",
                           (fields.get("firstName"), fields.get("lastName"), fields.get("externalId"),
                            fields.get("country"), json.dumps(merged), contact_id))
            for kind, value in addresses.items():
                db.execute("INSERT INTO addresses VALUES (?, ?, ?, ?, ?) ON CONFLICT(contact_id, kind) "
                           "DO UPDATE SET value = excluded.value, match_key = excluded.match_key",
                           (contact_id, account, kind, value, _match_key(kind, value)))
            self._add_memberships(db, contact_id, group_ids, now)
        return self.get_contact(account, contact_id), created

    @staticmethod
    def _contacts_sharing(db, account: str, addresses: dict) -> set[int]:
        """The one contact sharing an address with ``addresses`` (empty: none); 409 for several."""
        matches = set()
        for kind, value in addresses.items():
            matches |= {r["contact_id"] for r in db.execute(
                "SELECT contact_id FROM addresses WHERE account = ? AND kind = ? AND match_key = ?",
                (account, kind, _match_key(kind, value)))}
        if len(matches) > 1:
            raise AmbiguousContact("More than one contact was found for the provided addresses.")
        return matches

    def _add_memberships(self, db, contact_id: int, group_ids: Iterable[int], now: str) -> None:
        # The documented limit of 10 groups applies to the create-contact body (upsert_contact);
        # 8x8 documents no error for membership requests, so the sandbox invents none.
        db.executemany("INSERT OR IGNORE INTO memberships VALUES (?, ?, ?)",
                       [(gid, contact_id, now) for gid in group_ids])

    def delete_contact(self, account: str, contact_id: int) -> None:
        with self.store.transaction() as db:
            if not db.execute("SELECT 1 FROM contacts WHERE account = ? AND id = ?", (account, contact_id)).fetchone():
                raise NotFound(f"Unable to find contact with id {contact_id}")
            db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))

    # --- membership -------------------------------------------------------------------
    @staticmethod
    def _contact_id_list(ids: list[int]) -> list[int]:
        if not ids:
            raise InvalidRequest('The body must be {"contacts": [contactId, ...]} with at least one integer id.')
        if len(ids) > MAX_MEMBERSHIP_BATCH:
            raise InvalidRequest(f"At most {MAX_MEMBERSHIP_BATCH} contacts per request; got {len(ids)}.")
        return list(dict.fromkeys(ids))

    def _check_contacts_exist(self, db, account: str, ids: list[int]) -> None:
        found = {r["id"] for r in db.execute(
            f"SELECT id FROM contacts WHERE account = ? AND id IN ({','.join('?' * len(ids))})", [account, *ids])}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"Unable to find contact(s) with id {', '.join(map(str, missing[:10]))}")

    def add_members(self, account: str, group_id: int, contact_ids: list[int]) -> dict:
        ids = self._contact_id_list(contact_ids)
        with self.store.transaction() as db:
            self._group_row(account, group_id)
            self._check_contacts_exist(db, account, ids)
            now = self.store.clock.iso()
            for cid in ids:
                self._add_memberships(db, cid, [group_id], now)
        return self.get_group(account, group_id)

    def remove_members(self, account: str, group_id: int, contact_ids: list[int]) -> dict:
        """Take contacts out of a group; the contacts stay. Non-members are ignored."""
        ids = self._contact_id_list(contact_ids)
        with self.store.transaction() as db:
            self._group_row(account, group_id)
            self._check_contacts_exist(db, account, ids)
            db.executemany("DELETE FROM memberships WHERE group_id = ? AND contact_id = ?",
                           [(group_id, cid) for cid in ids])
        return self.get_group(account, group_id)

    def add_members_bulk(self, account: str, group_id: int, msisdns: Iterable[str]) -> int:
        """Sandbox-only seeding: create contacts for ``msisdns`` and put them in the group, fast."""
        self._group_row(account, group_id)
        return self.add_contacts_bulk(account, msisdns, group_id=group_id)

    def add_contacts_bulk(self, account: str, msisdns: Iterable[str], *, group_id: int | None = None) -> int:
        """Sandbox-only seeding: one new contact per number (in ``group_id`` if given), fast."""
        msisdns = list(msisdns)
        now = self.store.clock.iso()
        with self.store.transaction() as db:
            ids = self.store.next_ids("contact", len(msisdns), start=CONTACT_ID_START)
            db.executemany("INSERT INTO contacts(id, account, created_at) VALUES (?, ?, ?)",
                           [(cid, account, now) for cid in ids])
            db.executemany("INSERT INTO addresses VALUES (?, ?, 'msisdn', ?, ?)",
                           [(cid, account, m, msisdn_key(m)) for cid, m in zip(ids, msisdns)])
            if group_id is not None:
                db.executemany("INSERT INTO memberships VALUES (?, ?, ?)", [(group_id, cid, now) for cid in ids])
        return len(msisdns)

    def existing_msisdn_keys(self, account: str, keys: list[str]) -> set[str]:
        """Which of these numbers (digits) are addresses of contacts already."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            found |= {row[0] for row in self.store.db_rows(
                f"SELECT match_key FROM addresses WHERE account = ? AND kind = 'msisdn' AND match_key IN "
                f"({','.join('?' * len(chunk))})", [account, *chunk])}
        return found

    # --- blacklist ----------------------------------------------------------------------
    def blacklist_msisdn(self, account: str, msisdn: str) -> None:
        check_msisdn(msisdn)
        with self.store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO msisdn_blacklist VALUES (?, ?, ?)",
                       (account, msisdn_key(msisdn), self.store.clock.iso()))

    def blocked_since(self, account: str, msisdn: str) -> str | None:
        """When this number became blocked for the account (blacklisted group or msisdn), or None."""
        rows = self.store.query(f"SELECT min(since) AS since FROM ({BLOCKED_NUMBERS}) WHERE account = ? AND match_key = ?",
                                (account, msisdn_key(msisdn)))
        return rows[0]["since"] if rows else None

    # --- batches ------------------------------------------------------------------------
    def delete_contacts_batch(self, account: str, ids: list[int], msisdns: list[str], everything: bool) -> dict:
        if not (ids or msisdns or everything):
            raise InvalidRequest("Name the contacts to delete with 'ids' or 'msisdns' (or 'all': true).")
        for m in msisdns:
            check_msisdn(m)
        job = {"id": self.store.new_uuid("batch"), "type": "deleteContacts", "status": "queued",
               "createdAt": self.store.clock.iso()}
        with self.store.transaction() as db:
            if everything:
                db.execute("DELETE FROM contacts WHERE account = ?", (account,))
            else:
                targets = set(ids)
                for m in msisdns:
                    targets |= {r["contact_id"] for r in db.execute(
                        "SELECT contact_id FROM addresses WHERE account = ? AND kind = 'msisdn' AND match_key = ?",
                        (account, msisdn_key(m)))}
                db.executemany("DELETE FROM contacts WHERE account = ? AND id = ?", [(account, t) for t in targets])
            # The sandbox does the work at once; the job reads "completed" from now on.
            db.execute("INSERT INTO batches VALUES (?, ?, ?, 'completed', ?)",
                       (job["id"], account, job["type"], job["createdAt"]))
        return job

    def create_contacts_batch(self, account: str, file_name: str, data: bytes, group_ids: list[int],
                              has_header: bool, columns: list[str]) -> dict:
        """Create or merge one contact per row and put each in the groups (contacts_api.json,
        batch-upload-contacts). The sandbox does the work at once; the job reads "completed" (or
        "failed" when no row could be used). Like 8x8's job it does not say which rows made it in.

        The sandbox's choices where 8x8's text is silent, the strict side: a file is CSV (UTF-8,
        comma-separated) or Excel .xlsx by its name; the old binary .xls is refused; the columns
        are msisdn and the contact fields (firstName, lastName, externalId, country), anything else
        is refused; a row whose number is not an msisdn is skipped."""
        if len(data) > MAX_BATCH_FILE_BYTES:
            raise InvalidRequest(f"The file is {len(data)} bytes; at most 30 MB ({MAX_BATCH_FILE_BYTES}).")
        if len(group_ids) > MAX_GROUPS_PER_CONTACT:
            raise InvalidRequest(f"Contacts can be added to {MAX_GROUPS_PER_CONTACT} groups at most.")
        for group_id in group_ids:
            self._group_row(account, group_id)
        header, body = _batch_table(file_name, data, has_header, columns)
        made = 0
        for row in body:
            values = {name: str(value).strip() for name, value in zip(header, row) if value not in (None, "")}
            number = values.pop("msisdn", "")
            try:
                self.upsert_contact(account, ContactInput(addresses={"msisdn": number}, fields=values,
                                                          group_ids=list(group_ids)))
                made += 1
            except (InvalidMsisdn, InvalidRequest, AmbiguousContact):
                continue  # 8x8's job does not report rows; neither does the sandbox's
        file_type = "csv" if file_name.lower().endswith(".csv") else "xls"
        job = {"fileName": file_name, "fileType": file_type, "id": self.store.new_uuid("batch"),
               "type": "createContacts", "status": "queued", "createdAt": self.store.clock.iso()}
        with self.store.transaction() as db:
            db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?)",
                       (job["id"], account, job["type"], "completed" if made else "failed", job["createdAt"]))
        return job

    def get_batch(self, account: str, batch_id: str) -> dict:
        rows = self.store.query("SELECT * FROM batches WHERE account = ? AND id = ?", (account, batch_id))
        if not rows:
            raise InvalidJobId()
        r = rows[0]
        return {"id": r["id"], "type": r["type"], "status": r["status"], "createdAt": r["created_at"]}

    def list_batches(self, account: str, batch_type: str | None, limit: int, offset: int) -> dict:
        where, params = "account = ?", [account]
        total = self.store.query("SELECT COUNT(*) AS n FROM batches WHERE account = ?", (account,))[0]["n"]
        if batch_type:
            where += " AND type = ?"
            params.append(batch_type)
        filtered = self.store.query(f"SELECT COUNT(*) AS n FROM batches WHERE {where}", params)[0]["n"]
        start, envelope = self.page(total, filtered, limit, offset)
        rows = self.store.query(f"SELECT id FROM batches WHERE {where} ORDER BY created_at, id LIMIT ? OFFSET ?",
                                [*params, limit, start])
        return {"items": [self.get_batch(account, r["id"]) for r in rows], **envelope}


def _check_addresses(addresses: dict) -> None:
    """A create-contact body's addresses: at least one known kind, each non-empty, a valid msisdn."""
    if not any(addresses.get(k) for k in ADDRESS_KINDS):
        raise InvalidRequest(f"'addresses' must name at least one of: {', '.join(ADDRESS_KINDS)}.")
    unknown = sorted(set(addresses) - set(ADDRESS_KINDS))
    if unknown:
        raise InvalidRequest(f"Unknown address type(s): {', '.join(unknown)}.")
    if "msisdn" in addresses:
        check_msisdn(addresses["msisdn"])
    for kind, value in addresses.items():
        if not value or len(value) > 320:
            raise InvalidRequest(f"Address {kind!r} must be a non-empty string.")


def _checked_fields(contact: ContactInput) -> tuple[dict, dict]:
    """A create-contact body's fields (their lengths as the schema gives them, the country upper
    case) and custom attributes, checked; the number of groups too."""
    fields = {}
    for key, max_len in CONTACT_FIELDS.items():
        if key in contact.fields:
            if not 1 <= len(contact.fields[key]) <= max_len:
                raise InvalidRequest(f"{key!r} must be a string of 1 to {max_len} characters.")
            fields[key] = contact.fields[key]
    if "country" in contact.fields:
        if len(contact.fields["country"]) != 2:
            raise InvalidRequest("'country' must be a two-letter country code, e.g. SG.")
        fields["country"] = contact.fields["country"].upper()
    if len(contact.custom_attributes) > 50:
        raise InvalidRequest("'customAttributes' must be an object of at most 50 properties.")
    if len(contact.group_ids) > MAX_GROUPS_PER_CONTACT:
        raise InvalidRequest(f"'groups' lists at most {MAX_GROUPS_PER_CONTACT} groups; got {len(contact.group_ids)}.")
    return fields, contact.custom_attributes


def _match_key(kind: str, value: str) -> str:
    return msisdn_key(value) if kind == "msisdn" else value.casefold()


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # 8x8's own example sends "true" as a string
    raise InvalidRequest(f"isBlacklist must be true or false, got {value!r}.")


def _batch_table(file_name: str, data: bytes, has_header: bool, columns: list[str]) -> tuple[list[str], list]:
    """An uploaded file's column names and rows: the columns are msisdn and the contact fields."""
    if not has_header and not columns:
        raise InvalidRequest("'fileColumns' is mandatory when 'fileHasHeader' is false.")
    rows = _table_rows(file_name, data)
    header = columns or [str(c or "").strip() for c in (rows[0] if rows else [])]
    known = {"msisdn", *CONTACT_FIELDS, "country"}
    unknown = [c for c in header if c not in known]
    if unknown or "msisdn" not in header:
        raise InvalidRequest(f"The columns are msisdn and {', '.join(sorted(known - {'msisdn'}))}; "
                             + (f"unknown: {', '.join(unknown)}." if unknown else "msisdn is missing."))
    return header, rows[1:] if has_header else rows


def _table_rows(file_name: str, data: bytes) -> list[list]:
    """The rows of an uploaded CSV or .xlsx file."""
    name = file_name.lower()
    if name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidRequest("The CSV file is not UTF-8.") from None
        return [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    if name.endswith(".xlsx"):
        import openpyxl

        try:
            sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise InvalidRequest("The Excel file cannot be read as .xlsx.") from None
        return [list(row) for row in sheet.iter_rows(values_only=True) if any(c not in (None, "") for c in row)]
    raise InvalidRequest("The file must be CSV (.csv) or Excel (.xlsx), named so; the sandbox does not read "
                         "the old binary .xls.")
