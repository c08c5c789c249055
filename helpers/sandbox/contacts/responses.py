"""Contacts API over HTTP: parse the request, call the backend, render the answer."""
from __future__ import annotations

from ..errors import InvalidRequest
from ..http import MAX_INT64, Request, Response
from .models import ContactsBackend, check_msisdn

LIMIT = dict(low=1, high=500)  # documented range of `limit`


def _paging(request: Request) -> tuple[int, int]:
    return request.int_arg("limit", 20, **LIMIT), request.int_arg("offset", 0, low=0)


def _int_param(request: Request, name: str) -> int:
    raw = request.params[name]
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_INT64:
        raise InvalidRequest(f"{name} must be an integer from 0 to {MAX_INT64}, got {raw[:40]!r}.")
    return int(raw)


def search_groups(backend: ContactsBackend, request: Request) -> Response:
    limit, offset = _paging(request)
    return Response(200, backend.search_groups(request.params["accountId"], request.arg("name"), limit, offset))


def create_group(backend: ContactsBackend, request: Request) -> Response:
    return Response(201, backend.create_group(request.params["accountId"], request.json()))


def get_group(backend: ContactsBackend, request: Request) -> Response:
    return Response(200, backend.get_group(request.params["accountId"], _int_param(request, "groupId")))


def update_group(backend: ContactsBackend, request: Request) -> Response:
    group_id = _int_param(request, "groupId")
    return Response(200, backend.update_group(request.params["accountId"], group_id, request.json()))


def delete_group(backend: ContactsBackend, request: Request) -> Response:
    backend.delete_group(request.params["accountId"], _int_param(request, "groupId"))
    return Response(204)


def add_members(backend: ContactsBackend, request: Request) -> Response:
    group_id = _int_param(request, "groupId")
    return Response(201, backend.add_members(request.params["accountId"], group_id, request.json()))


def remove_members(backend: ContactsBackend, request: Request) -> Response:
    group_id = _int_param(request, "groupId")
    return Response(200, backend.remove_members(request.params["accountId"], group_id, request.json()))


def search_contacts(backend: ContactsBackend, request: Request) -> Response:
    limit, offset = _paging(request)
    group_id = request.int_arg("groupId", None, low=0)
    body = backend.search_contacts(request.params["accountId"], request.arg("query"), group_id,
                                   request.arg("country"), limit, offset)
    return Response(200, body)


def upsert_contact(backend: ContactsBackend, request: Request) -> Response:
    contact, created = backend.upsert_contact(request.params["accountId"], request.json())
    return Response(201 if created else 200, contact)


def get_contact(backend: ContactsBackend, request: Request) -> Response:
    return Response(200, backend.get_contact(request.params["accountId"], _int_param(request, "contactId")))


def delete_contact(backend: ContactsBackend, request: Request) -> Response:
    backend.delete_contact(request.params["accountId"], _int_param(request, "contactId"))
    return Response(204)


def blacklist_msisdn(backend: ContactsBackend, request: Request) -> Response:
    backend.blacklist_msisdn(request.params["accountId"], check_msisdn(request.params["msisdn"]))
    return Response(200)


def delete_contacts_batch(backend: ContactsBackend, request: Request) -> Response:
    return Response(202, backend.delete_contacts_batch(request.params["accountId"], request.json()))


def get_batch(backend: ContactsBackend, request: Request) -> Response:
    return Response(200, backend.get_batch(request.params["accountId"], request.params["batchId"]))


def list_batches(backend: ContactsBackend, request: Request) -> Response:
    limit, offset = _paging(request)
    return Response(200, backend.list_batches(request.params["accountId"], request.arg("type"), limit, offset))
