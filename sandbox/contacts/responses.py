"""Contacts API over HTTP: parse the request, call the backend, render the answer."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequest
from ..http import MAX_INT64, Request, Response
from .models import ContactsBackend
from .schema import CONTACT_FIELDS, ContactInput, PatchOperation, check_msisdn

LIMIT = dict(low=1, high=500)  # documented range of `limit`
MAX_INT32 = 2**31 - 1
# contacts_api.json types `offset` as int32; the sandbox's offset counts pages and the answer's page
# is offset + 1, so the largest offset keeps that an int32 too.
MAX_OFFSET = MAX_INT32 - 1


def _paging(request: Request) -> tuple[int, int]:
    return request.int_arg("limit", 20, **LIMIT), request.int_arg("offset", 0, low=0, high=MAX_OFFSET)


def _int_param(request: Request, name: str) -> int:
    raw = request.params[name]
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_INT64:
        raise InvalidRequest(f"{name} must be an integer from 0 to {MAX_INT64}, got {raw[:40]!r}.")
    return int(raw)


def search_groups(backend: ContactsBackend, request: Request) -> Response:
    limit, offset = _paging(request)
    return Response(200, backend.search_groups(request.params["accountId"], request.arg("name"), limit, offset))


def _object(request: Request, usage: str) -> dict:
    body = request.json()
    if not isinstance(body, dict):
        raise InvalidRequest(f"The body must be a JSON object: {usage}.")
    return body


def _id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT64


def _string(body: dict, key: str, what: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{key!r} must be {what}.")
    return value


def create_group(backend: ContactsBackend, request: Request) -> Response:
    body = _object(request, "'name', 'description', 'isBlacklist'")
    name = body.get("name")
    if not isinstance(name, str):
        raise InvalidRequest("Group 'name' is required: a string of 1 to 100 characters.")
    description = _string(body, "description", "a string of 1 to 100 characters")
    is_blacklist = body.get("isBlacklist", False)
    if not isinstance(is_blacklist, bool):
        raise InvalidRequest("'isBlacklist' must be true or false.")
    return Response(201, backend.create_group(request.params["accountId"], name, description, is_blacklist))


def get_group(backend: ContactsBackend, request: Request) -> Response:
    return Response(200, backend.get_group(request.params["accountId"], _int_param(request, "groupId")))


def update_group(backend: ContactsBackend, request: Request) -> Response:
    group_id = _int_param(request, "groupId")
    operations = request.json()
    if (
        not isinstance(operations, list)
        or not operations
        or not all(isinstance(op, dict) and isinstance(op.get("path"), str) for op in operations)
    ):
        raise InvalidRequest(
            "The body must be a JSON Patch array, e.g. "
            '[{"op": "replace", "path": "/isBlacklist", "value": true}]; each needs op and path.'
        )
    parsed = [PatchOperation(op.get("op"), op["path"], op.get("value")) for op in operations]
    return Response(200, backend.update_group(request.params["accountId"], group_id, parsed))


def delete_group(backend: ContactsBackend, request: Request) -> Response:
    backend.delete_group(request.params["accountId"], _int_param(request, "groupId"))
    return Response(204)


def _contact_ids(request: Request) -> list[int]:
    ids = _object(request, '{"contacts": [contactId, ...]}').get("contacts")
    if not isinstance(ids, list) or not all(_id(i) for i in ids):
        raise InvalidRequest(f'The body must be {{"contacts": [contactId, ...]}}: integer ids from 0 to {MAX_INT64}.')
    return ids


def add_members(backend: ContactsBackend, request: Request) -> Response:
    group_id, account = _int_param(request, "groupId"), request.params["accountId"]
    group = backend.add_members(account, group_id, _contact_ids(request))
    # 8x8's guide: "Returns 201 Created with location header" (examples/contacts.json, add_members_response)
    return Response(201, group, {"Location": f"/api/v1/accounts/{account}/groups/{group_id}"})


def remove_members(backend: ContactsBackend, request: Request) -> Response:
    group_id = _int_param(request, "groupId")
    return Response(200, backend.remove_members(request.params["accountId"], group_id, _contact_ids(request)))


def search_contacts(backend: ContactsBackend, request: Request) -> Response:
    limit, offset = _paging(request)
    group_id = request.int_arg("groupId", None, low=0)
    body = backend.search_contacts(
        request.params["accountId"], request.arg("query"), group_id, request.arg("country"), limit, offset
    )
    return Response(200, body)


def upsert_contact(backend: ContactsBackend, request: Request) -> Response:
    body = _object(request, "'addresses' and optional 'groups', names, 'customAttributes'")
    addresses = body.get("addresses")
    if not isinstance(addresses, dict) or not all(isinstance(v, str) for v in addresses.values()):
        raise InvalidRequest('\'addresses\' must be an object of strings, e.g. {"msisdn": "+6591234567"}.')
    fields = {key: _string(body, key, "a string") for key in (*CONTACT_FIELDS, "country") if key in body}
    custom = body.get("customAttributes", {})
    if not isinstance(custom, dict):
        raise InvalidRequest("'customAttributes' must be an object.")
    groups = body.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, dict) and _id(g.get("id")) for g in groups):
        raise InvalidRequest("'groups' must be a list of objects like {\"id\": 11344}.")
    contact_input = ContactInput(
        addresses=addresses,
        fields={k: v for k, v in fields.items() if v is not None},
        custom_attributes=custom,
        group_ids=[g["id"] for g in groups],
    )
    account = request.params["accountId"]
    contact, created = backend.upsert_contact(account, contact_input)
    if not created:
        return Response(200, contact)
    # 8x8's guide: "Returns 201 Created with location header" (examples/contacts.json, create_contact_response)
    return Response(201, contact, {"Location": f"/api/v1/accounts/{account}/contacts/{contact['id']}"})


def get_contact(backend: ContactsBackend, request: Request) -> Response:
    return Response(200, backend.get_contact(request.params["accountId"], _int_param(request, "contactId")))


def delete_contact(backend: ContactsBackend, request: Request) -> Response:
    backend.delete_contact(request.params["accountId"], _int_param(request, "contactId"))
    return Response(204)


def blacklist_msisdn(backend: ContactsBackend, request: Request) -> Response:
    backend.blacklist_msisdn(request.params["accountId"], check_msisdn(request.params["msisdn"]))
    return Response(200)


def delete_contacts_batch(backend: ContactsBackend, request: Request) -> Response:
    body = _object(request, '{"ids": [...], "msisdns": [...]} or {"all": true}')
    ids, msisdns = body.get("ids") or [], body.get("msisdns") or []
    if (
        not isinstance(ids, list)
        or not isinstance(msisdns, list)
        or not all(_id(i) for i in ids)
        or not all(isinstance(m, str) for m in msisdns)
    ):
        raise InvalidRequest("'ids' must be integers and 'msisdns' strings.")
    return Response(
        202, backend.delete_contacts_batch(request.params["accountId"], ids, msisdns, body.get("all") is True)
    )


def create_contacts_batch(backend: ContactsBackend, request: Request) -> Response:
    """multipart/form-data: ``file`` (CSV or Excel), ``groups`` ("11566,88996"), ``fileHasHeader``,
    ``fileColumns`` (contacts_api.json, batch-upload-contacts)."""
    form = request.form()
    upload = form.get("file")
    if not isinstance(upload, tuple):
        raise InvalidRequest("'file' is required: a CSV or Excel file, as a multipart/form-data file part.")
    file_name, data = upload
    extra = sorted(set(form) - {"file", "groups", "fileHasHeader", "fileColumns"})
    if extra:
        raise InvalidRequest(f"Unknown form field(s): {', '.join(extra)}.")
    texts = {k: v for k, v in form.items() if k != "file"}
    if any(not isinstance(v, str) for v in texts.values()):
        raise InvalidRequest("groups, fileHasHeader and fileColumns are text fields, not files.")
    raw_groups = [g.strip() for g in texts.get("groups", "").split(",") if g.strip()]
    if not all(g.isascii() and g.isdigit() and int(g) <= MAX_INT64 for g in raw_groups):
        raise InvalidRequest("'groups' is a comma-separated list of group ids, e.g. 11566,88996.")
    has_header = texts.get("fileHasHeader", "true").strip().lower()
    if has_header not in ("true", "false"):
        raise InvalidRequest("'fileHasHeader' is true or false.")
    columns = [c.strip() for c in texts.get("fileColumns", "").split(",") if c.strip()]
    job = backend.create_contacts_batch(
        request.params["accountId"], file_name or "", data, [int(g) for g in raw_groups], has_header == "true", columns
    )
    return Response(202, job)


def get_batch(backend: ContactsBackend, request: Request) -> Response:
    return Response(200, backend.get_batch(request.params["accountId"], request.params["batchId"]))


def list_batches(backend: ContactsBackend, request: Request) -> Response:
    limit, offset = _paging(request)
    return Response(200, backend.list_batches(request.params["accountId"], request.arg("type"), limit, offset))
