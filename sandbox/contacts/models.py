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

import json
import math
import threading
from array import array
from collections.abc import Iterable
from typing import Any

from ..errors import AmbiguousContact, InvalidRequest, NotFound
from ..storage import Store
from .batches import Batches
from .groups import Groups
from .schema import (
    ADDRESS_KINDS,
    BLOCKED_NUMBERS,
    CONTACT_COLUMNS,
    CONTACT_FIELDS,
    CONTACT_ID_START,
    MAX_GROUPS_PER_CONTACT,
    MAX_MEMBERSHIP_BATCH,
    SCHEMA,
    TEXT_OF_CONTACT,
    ContactInput,
    check_msisdn,
    msisdn_key,
)


class ContactsBackend(Groups, Batches):
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
            if (
                not db.execute("SELECT 1 FROM contact_text LIMIT 1").fetchone()
                and db.execute("SELECT 1 FROM contacts LIMIT 1").fetchone()
            ):
                db.execute(
                    "INSERT INTO contact_text (rowid, text) SELECT c.id, " + TEXT_OF_CONTACT + " FROM contacts c"
                )

    def _members_in_order(self, group_id: int) -> array:
        version = self.store.query("SELECT version FROM group_counts WHERE group_id = ?", (group_id,))
        version = version[0]["version"] if version else -1
        cached = self._member_order.get(group_id)
        if cached is None or cached[0] != version:
            with self._order_lock:
                cached = self._member_order.get(group_id)
                if cached is None or cached[0] != version:
                    ids = array(
                        "q",
                        (
                            r[0]
                            for r in self.store.query(
                                "SELECT contact_id FROM memberships WHERE group_id = ? ORDER BY contact_id", (group_id,)
                            )
                        ),
                    )
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
        return start, {
            "page": page,
            "totalPages": total_pages,
            "totalCount": total_count,
            "totalFiltered": total_filtered,
            "hasPreviousPage": page > 1,
            "hasNextPage": start + limit < total_filtered,
        }

    # --- groups -----------------------------------------------------------------------

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
        for contact_id, kind, value in self.store.db_rows(
            f"SELECT contact_id, kind, value FROM addresses WHERE {clause}", params
        ):
            if contact_id in addresses:
                addresses[contact_id][kind] = value
        by_contact: dict[int, list] = {i: [] for i in ids}
        pairs = [
            (c, g)
            for c, g in self.store.db_rows(f"SELECT contact_id, group_id FROM memberships WHERE {clause}", params)
            if c in by_contact
        ]
        groups: dict[int, dict] = {}
        named = sorted({g for _, g in pairs})
        if named:  # one dict per group, shared by the page's contacts (as _render_groups renders it)
            for group_id, name, description, blacklist, created, members in self.store.db_rows(
                "SELECT g.id, g.name, g.description, g.is_blacklist, g.created_at, gc.members FROM groups g "
                f"LEFT JOIN group_counts gc ON gc.group_id = g.id WHERE g.id IN ({','.join('?' * len(named))})",
                named,
            ):
                group = {
                    "id": group_id,
                    "contacts": members or 0,
                    "createdAt": created,
                    "name": name,
                    "isBlacklist": bool(blacklist),
                }
                if description is not None:
                    group["description"] = description
                groups[group_id] = group
        for contact_id, group_id in sorted(pairs, key=lambda pair: pair[1]):  # each contact's groups by id
            by_contact[contact_id].append(groups[group_id])
        out = []
        for contact_id, created, first, last, external, country, custom in rows:  # CONTACT_COLUMNS
            contact: dict[str, Any] = {"id": contact_id, "createdAt": created}
            for key, value in (
                ("firstName", first),
                ("lastName", last),
                ("externalId", external),
                ("country", country),
            ):
                if value is not None:
                    contact[key] = value
            if by_contact[contact_id]:  # the definition says minItems 1: omit an empty list
                contact["groups"] = by_contact[contact_id]
            contact["addresses"] = addresses[contact_id]
            contact["customAttributes"] = {} if custom == "{}" else json.loads(custom)
            out.append(contact)
        return out

    def get_contact(self, account: str, contact_id: int) -> dict:
        rows = self.store.db_rows(
            f"SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.account = ? AND c.id = ?", (account, contact_id)
        )
        if not rows:
            raise NotFound(f"Unable to find contact with id {contact_id}")
        return self._render_contacts(rows)[0]

    def search_contacts(
        self, account: str, query: str | None, group_id: int | None, country: str | None, limit: int, offset: int
    ) -> dict:
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
            where.append(
                "(instr(lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || "
                "coalesce(c.external_id, '')), ?) > 0 OR EXISTS (SELECT 1 FROM addresses a "
                "WHERE a.contact_id = c.id AND instr(lower(a.match_key), ?) > 0))"
            )
            params += [needle, needle]
        clause = " AND ".join(where)
        if group_id is not None and not country and not query:
            # The common read, a group's members page by page: a slice of the cached order.
            members = self._members_in_order(group_id)
            start, envelope = self.page(total, len(members), limit, offset)
            ids = members[start : start + limit].tolist()
            rows = []
            if ids:
                wanted = set(ids)
                clause, params = self._ids_clause("c.id", ids)
                rows = [
                    r
                    for r in self.store.db_rows(
                        f"SELECT {CONTACT_COLUMNS} FROM contacts c WHERE {clause} ORDER BY c.id", params
                    )
                    if r[0] in wanted
                ]
            return {"items": self._render_contacts(rows), **envelope}
        filtered = self.store.query(f"SELECT COUNT(*) AS n FROM {source} WHERE {clause}", params)[0]["n"]
        start, envelope = self.page(total, filtered, limit, offset)
        rows = self.store.db_rows(
            f"SELECT {CONTACT_COLUMNS} FROM {source} WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, start],
        )
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
                db.execute(
                    "INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        contact_id,
                        account,
                        now,
                        fields.get("firstName"),
                        fields.get("lastName"),
                        fields.get("externalId"),
                        fields.get("country"),
                        json.dumps(custom),
                    ),
                )
            else:
                contact_id = matches.pop()
                row = db.execute("SELECT custom FROM contacts WHERE id = ?", (contact_id,)).fetchone()
                merged = {**json.loads(row["custom"]), **custom}
                db.execute(
                    "UPDATE contacts SET first_name = coalesce(?, first_name), last_name = coalesce(?, last_name), "
                    "external_id = coalesce(?, external_id), country = coalesce(?, country), custom = ? WHERE id = ?",
                    (
                        fields.get("firstName"),
                        fields.get("lastName"),
                        fields.get("externalId"),
                        fields.get("country"),
                        json.dumps(merged),
                        contact_id,
                    ),
                )
            for kind, value in addresses.items():
                db.execute(
                    "INSERT INTO addresses VALUES (?, ?, ?, ?, ?) ON CONFLICT(contact_id, kind) "
                    "DO UPDATE SET value = excluded.value, match_key = excluded.match_key",
                    (contact_id, account, kind, value, _match_key(kind, value)),
                )
            self._add_memberships(db, contact_id, group_ids, now)
        return self.get_contact(account, contact_id), created

    @staticmethod
    def _contacts_sharing(db, account: str, addresses: dict) -> set[int]:
        """The one contact sharing an address with ``addresses`` (empty: none); 409 for several."""
        matches = set()
        for kind, value in addresses.items():
            matches |= {
                r["contact_id"]
                for r in db.execute(
                    "SELECT contact_id FROM addresses WHERE account = ? AND kind = ? AND match_key = ?",
                    (account, kind, _match_key(kind, value)),
                )
            }
        if len(matches) > 1:
            raise AmbiguousContact("More than one contact was found for the provided addresses.")
        return matches

    def _add_memberships(self, db, contact_id: int, group_ids: Iterable[int], now: str) -> None:
        # The documented limit of 10 groups applies to the create-contact body (upsert_contact);
        # 8x8 documents no error for membership requests, so the sandbox invents none.
        db.executemany(
            "INSERT OR IGNORE INTO memberships VALUES (?, ?, ?)", [(gid, contact_id, now) for gid in group_ids]
        )

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
        found = {
            r["id"]
            for r in db.execute(
                f"SELECT id FROM contacts WHERE account = ? AND id IN ({','.join('?' * len(ids))})", [account, *ids]
            )
        }
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
            db.executemany(
                "DELETE FROM memberships WHERE group_id = ? AND contact_id = ?", [(group_id, cid) for cid in ids]
            )
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
            db.executemany(
                "INSERT INTO contacts(id, account, created_at) VALUES (?, ?, ?)", [(cid, account, now) for cid in ids]
            )
            db.executemany(
                "INSERT INTO addresses VALUES (?, ?, 'msisdn', ?, ?)",
                [(cid, account, m, msisdn_key(m)) for cid, m in zip(ids, msisdns)],
            )
            if group_id is not None:
                db.executemany("INSERT INTO memberships VALUES (?, ?, ?)", [(group_id, cid, now) for cid in ids])
        return len(msisdns)

    def existing_msisdn_keys(self, account: str, keys: list[str]) -> set[str]:
        """Which of these numbers (digits) are addresses of contacts already."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            found |= {
                row[0]
                for row in self.store.db_rows(
                    f"SELECT match_key FROM addresses WHERE account = ? AND kind = 'msisdn' AND match_key IN "
                    f"({','.join('?' * len(chunk))})",
                    [account, *chunk],
                )
            }
        return found

    # --- blacklist ----------------------------------------------------------------------
    def blacklist_msisdn(self, account: str, msisdn: str) -> None:
        check_msisdn(msisdn)
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO msisdn_blacklist VALUES (?, ?, ?)",
                (account, msisdn_key(msisdn), self.store.clock.iso()),
            )

    def blocked_since(self, account: str, msisdn: str) -> str | None:
        """When this number became blocked for the account (blacklisted group or msisdn), or None."""
        rows = self.store.query(
            f"SELECT min(since) AS since FROM ({BLOCKED_NUMBERS}) WHERE account = ? AND match_key = ?",
            (account, msisdn_key(msisdn)),
        )
        return rows[0]["since"] if rows else None


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
