"""Contacts batch jobs: create contacts from an uploaded CSV or .xlsx file, delete in bulk, and the
jobs' status (mixed into ContactsBackend, whose groups and contacts they use)."""

from __future__ import annotations

import csv
import io

from ..errors import AmbiguousContact, InvalidJobId, InvalidMsisdn, InvalidRequest
from .schema import CONTACT_FIELDS, MAX_BATCH_FILE_BYTES, MAX_GROUPS_PER_CONTACT, ContactInput, check_msisdn, msisdn_key


class Batches:
    """The batch jobs of ContactsBackend."""

    def delete_contacts_batch(self, account: str, ids: list[int], msisdns: list[str], everything: bool) -> dict:
        if not (ids or msisdns or everything):
            raise InvalidRequest("Name the contacts to delete with 'ids' or 'msisdns' (or 'all': true).")
        for m in msisdns:
            check_msisdn(m)
        job = {
            "id": self.store.new_uuid("batch"),
            "type": "deleteContacts",
            "status": "queued",
            "createdAt": self.store.clock.iso(),
        }
        with self.store.transaction() as db:
            if everything:
                db.execute("DELETE FROM contacts WHERE account = ?", (account,))
            else:
                targets = set(ids)
                for m in msisdns:
                    targets |= {
                        r["contact_id"]
                        for r in db.execute(
                            "SELECT contact_id FROM addresses WHERE account = ? AND kind = 'msisdn' AND match_key = ?",
                            (account, msisdn_key(m)),
                        )
                    }
                db.executemany("DELETE FROM contacts WHERE account = ? AND id = ?", [(account, t) for t in targets])
            # The sandbox does the work at once; the job reads "completed" from now on.
            db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, 'completed', ?)",
                (job["id"], account, job["type"], job["createdAt"]),
            )
        return job

    def create_contacts_batch(
        self, account: str, file_name: str, data: bytes, group_ids: list[int], has_header: bool, columns: list[str]
    ) -> dict:
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
                self.upsert_contact(
                    account, ContactInput(addresses={"msisdn": number}, fields=values, group_ids=list(group_ids))
                )
                made += 1
            except (InvalidMsisdn, InvalidRequest, AmbiguousContact):
                continue  # 8x8's job does not report rows; neither does the sandbox's
        file_type = "csv" if file_name.lower().endswith(".csv") else "xls"
        job = {
            "fileName": file_name,
            "fileType": file_type,
            "id": self.store.new_uuid("batch"),
            "type": "createContacts",
            "status": "queued",
            "createdAt": self.store.clock.iso(),
        }
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?)",
                (job["id"], account, job["type"], "completed" if made else "failed", job["createdAt"]),
            )
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
        rows = self.store.query(
            f"SELECT id FROM batches WHERE {where} ORDER BY created_at, id LIMIT ? OFFSET ?", [*params, limit, start]
        )
        return {"items": [self.get_batch(account, r["id"]) for r in rows], **envelope}


def _batch_table(file_name: str, data: bytes, has_header: bool, columns: list[str]) -> tuple[list[str], list]:
    """An uploaded file's column names and rows: the columns are msisdn and the contact fields."""
    if not has_header and not columns:
        raise InvalidRequest("'fileColumns' is mandatory when 'fileHasHeader' is false.")
    rows = _table_rows(file_name, data)
    header = columns or [str(c or "").strip() for c in (rows[0] if rows else [])]
    known = {"msisdn", *CONTACT_FIELDS, "country"}
    unknown = [c for c in header if c not in known]
    if unknown or "msisdn" not in header:
        raise InvalidRequest(
            f"The columns are msisdn and {', '.join(sorted(known - {'msisdn'}))}; "
            + (f"unknown: {', '.join(unknown)}." if unknown else "msisdn is missing.")
        )
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
    raise InvalidRequest(
        "The file must be CSV (.csv) or Excel (.xlsx), named so; the sandbox does not read the old binary .xls."
    )
