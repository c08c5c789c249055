"""A requests-based client for the 8x8 APIs the runbook uses.

One :class:`requests.Session` per client, configured once: Bearer auth, timeouts, and
retries through urllib3's ``Retry`` on the adapter. Requests safe to repeat (GET, PUT,
DELETE, HEAD, OPTIONS) are retried on 429 and 5xx; every request is retried on 429, which
8x8 sends before doing any work. Retry-After is honoured. Failures raise the typed
exceptions of :mod:`helpers.errors`, with 8x8's error code, message and errorId.
"""
from __future__ import annotations

import email.utils
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from operator import methodcaller
from typing import Any
from urllib.parse import quote

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .config import Secret, Settings
from .errors import (
    APIError,
    BadInput,
    ConfigError,
    NotFound,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
    error_for_status,
)

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500  # documented maximum of `limit`
_END = object()
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = (429, 500, 502, 503, 504)


MAX_RETRY_AFTER = 30.0  # seconds: a longer Retry-After is not slept in full (the error says what 8x8 asked)


class _RetryPolicy(Retry):
    """Retry 429 whatever the method (the platform did nothing); 5xx only for safe methods.
    A Retry-After is honoured up to MAX_RETRY_AFTER seconds."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            return True
        return super().is_retry(method, status_code, has_retry_after)

    on_429: Callable[[], None] | None = None  # told of every 429, retried or not (the client slows down)

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), MAX_RETRY_AFTER)

    def new(self, **kw):
        copy = super().new(**kw)
        copy.on_429 = self.on_429
        return copy

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if response is not None and response.status == 429 and self.on_429 is not None:
            self.on_429()
        return super().increment(method, url, response, error, _pool, _stacktrace)


class _BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: Secret):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(********)"


class Client:
    """Entry point: ``Client(settings).contacts``, ``.automation``, ``.messaging``."""

    def __init__(self, settings: Settings, *, timeout: tuple[float, float] = (5.0, 20.0),
                 retries: int = 5, network_retries: int = 1, backoff_factor: float = 0.5, backoff_max: float = 10.0,
                 pool_size: int = 16):
        """``retries``: for 429 and 5xx answers; ``network_retries``: for no answer (refused, timed
        out), kept low so that an unreachable API fails in seconds, not minutes."""
        self.settings = settings
        self.timeout = timeout
        self.base_urls = settings.base_urls()
        self.session = requests.Session()
        self.session.auth = _BearerAuth(Secret(settings.bearer_token()))
        self.session.headers.update({"Accept": "application/json", "User-Agent": "8x8-opt-out-runbook"})
        _read_environment_once(self.session, self.base_urls.values())
        retry = _RetryPolicy(
            total=retries + network_retries, connect=network_retries, read=network_retries, status=retries,
            other=0, redirect=0,
            allowed_methods=SAFE_METHODS, status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor, backoff_max=backoff_max,
            respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
        )
        retry.on_429 = self._slow_down
        adapter = HTTPAdapter(max_retries=retry, pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # Requests in flight at once (page reads, bulk chunks): the setting, until the first 429, then
        # one at a time for the rest of this client's life (the retry honours Retry-After, capped).
        self.parallel = settings.parallel
        self._flight = threading.Condition()  # requests in flight, across every thread of this client
        self._in_flight = 0
        account = quote(settings.account_id, safe="")
        self.contacts = ContactsAPI(self, account)
        self.automation = AutomationAPI(self, account)
        self.messaging = MessagingAPI(self, quote(settings.subaccount_id, safe=""))

    def _slow_down(self) -> None:
        if self.parallel > 1:
            log.warning("8x8 answered 429: one request at a time from now on")
            self.parallel = 1

    def in_parallel(self, work: Callable[[Any], Any], items: Iterable[Any], *,
                    idle: Callable[[], bool] | None = None) -> Iterator[Any]:
        """``work(item)`` for each item, up to ``self.parallel`` at once, results in the items' order.

        The bound is read before each new request, so a 429 seen by any of them makes the rest
        go one at a time. An exception is raised in order, after the results before it.
        ``idle``: called while the next result is not there yet, until it answers False (other work
        of the caller's, in small steps: this thread would only wait).
        """
        pending: deque = deque()
        items = iter(items)
        exhausted = False

        def top_up() -> None:
            nonlocal exhausted
            while not exhausted and len(pending) < max(1, self.parallel):
                item = next(items, _END)
                if item is _END:
                    exhausted = True
                    return
                pending.append(pool.submit(work, item))

        with ThreadPoolExecutor(max_workers=max(1, self.settings.parallel), thread_name_prefix="8x8") as pool:
            while True:
                top_up()
                if not pending:
                    return
                while idle is not None and not pending[0].done():
                    if not idle():
                        idle = None  # its work is done
                try:
                    result = pending[0].result()
                except BaseException:
                    for future in pending:  # those not started yet never start; those running finish
                        future.cancel()
                    raise
                pending.popleft()
                top_up()  # the next request starts before the caller works on this result
                yield result

    def __repr__(self) -> str:
        mode = "sandbox" if self.settings.sandbox_mode else "live"
        return f"Client(mode={mode!r}, contacts={self.base_urls['contacts']!r}, account={self.settings.account_id!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, api: str, method: str, path: str, *, params: dict | None = None,
                json: Any = None, ok: Iterable[int] = (200, 201, 202, 204)) -> requests.Response:
        """Send one request to ``api`` (contacts, chatapps, automation); raise on error statuses."""
        url = self.base_urls[api] + path
        with self._flight:  # at most ``parallel`` requests in flight, whichever threads send them
            while self._in_flight >= max(1, self.parallel):
                self._flight.wait()
            self._in_flight += 1
        try:
            return self._send(api, method, path, url, params, json, ok)
        finally:
            with self._flight:
                self._in_flight -= 1
                self._flight.notify()

    def _send(self, api: str, method: str, path: str, url: str, params, json, ok) -> requests.Response:
        started = time.monotonic()
        try:
            # Never follow a redirect: 8x8's APIs do not send them, and requests would turn a
            # redirected DELETE or POST into a GET that "succeeds".
            response = self.session.request(method, url, params=params, json=json, timeout=self.timeout,
                                            allow_redirects=False)
        except requests.RequestException as exc:
            # The message of a requests exception carries the URL only, never headers.
            where = ("Check that the sandbox is running there." if self.settings.sandbox_mode else
                     "Check the network, and EIGHTXEIGHT_REGION / EIGHTXEIGHT_BASE_URL.")
            raise TransportError(f"{method} {path}: no answer from {self.base_urls[api]} after "
                                 f"{time.monotonic() - started:.0f} s ({_reason(exc)}). {where}") from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        if 300 <= response.status_code < 400:
            target = response.headers.get("Location", "no Location")
            raise UnexpectedResponse(f"{method} {path} answered {response.status_code}, a redirect to {target}; "
                                     "8x8's APIs never redirect, so nothing was followed. Check EIGHTXEIGHT_BASE_URL "
                                     "(https, the right host).")
        if response.status_code not in ok:
            raise _api_error(response, method, path)
        return response

    def json(self, api: str, method: str, path: str, **kwargs) -> Any:
        return decode_json(self.request(api, method, path, **kwargs), method, path)

    def paginate(self, api: str, path: str, params: dict | None = None, *, limit: int = MAX_PAGE_SIZE,
                 id_key: str | Callable[[dict], Any] = "id", idle: Callable[[], bool] | None = None) -> Iterator[dict]:
        """Yield every item of a paged list once (``idle``: as :meth:`in_parallel`'s, while pages are on their way).

        Contacts answers ``{"items": [...], "hasNextPage": ...}``; Automation answers a plain
        array (a short page is the last). 8x8's text leaves open whether ``offset`` counts pages
        or items. This asks for offset=1 after the first page and reads the answer: if it
        overlaps the first page, offsets count items and the walk continues by item count;
        else by page. It stops on the last page, an empty page, or a page with nothing new.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadInput(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
        seen: set = set()
        offset, counts_items = 0, None
        identity = id_key if callable(id_key) else methodcaller("get", id_key)

        def page(at: int):
            return self.json(api, "GET", path, params={**(params or {}), "limit": limit, "offset": at})

        def fresh_of(items: list) -> list:
            """The items not yielded before (each id once, even twice on one page)."""
            keys = list(map(identity, items))
            if len(set(keys)) == len(keys) and seen.isdisjoint(keys):  # a page of new items: C loops only
                seen.update(keys)
                return items
            fresh = []
            for item in items:
                key = identity(item)
                if key not in seen:
                    seen.add(key)
                    fresh.append(item)
            return fresh

        while True:
            body = page(offset)
            items, more = _page_items(body, limit)
            deciding = counts_items is None and offset > 0  # the offset=1 page: does it overlap the first?
            overlap = deciding and any(identity(item) in seen for item in items)
            fresh = fresh_of(items)
            yield from fresh
            if not items or not fresh or not more:
                return
            if deciding:
                counts_items = overlap
                total = body.get("totalFiltered") if isinstance(body, dict) else None
                if isinstance(total, int) and self.parallel > 1:
                    # The rest of the pages at once (up to self.parallel in flight), in order. Pages
                    # that a shrinking list no longer fills come back short or empty: harmless.
                    starts = range(len(seen), total, limit) if counts_items else \
                        range(offset + 1, -(-total // limit))
                    for rest in self.in_parallel(page, starts, idle=idle):
                        yield from fresh_of((rest or {}).get("items") or [])
                    return
            offset = len(seen) if counts_items else offset + 1

    def platform_time(self, api: str = "automation") -> datetime:
        """What time the platform says it is (its Date header): windows of time are the platform's."""
        response = self.request(api, "GET", f"/api/v1/accounts/{quote(self.settings.account_id, safe='')}"
                                            "/definitions", params={"limit": 1, "offset": 0})
        try:
            return email.utils.parsedate_to_datetime(response.headers["Date"])
        except (KeyError, TypeError, ValueError):
            return datetime.now(UTC)


def _page_items(body, limit: int) -> tuple[list, bool]:
    """(items, more pages?) of a page: Automation's plain array (a short page is the last), or
    Contacts' {"items", "hasNextPage"}."""
    if isinstance(body, list):
        return body, len(body) >= limit
    return (body or {}).get("items") or [], bool((body or {}).get("hasNextPage"))


def _read_environment_once(session: requests.Session, urls: Iterable[str]) -> None:
    """requests reads the proxy and CA-bundle variables on every request (a scan of os.environ,
    about 0.7 ms: a sixth of a page read's cost here). Read them once, for the client's own base
    URLs; when the proxies differ between them (NO_PROXY naming one host), keep requests' way."""
    found = {tuple(sorted(requests.utils.get_environ_proxies(url).items())) for url in urls}
    if len(found) != 1:
        return
    session.trust_env = False  # also: no ~/.netrc credentials in place of the API key
    session.proxies.update(dict(found.pop()))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle


def _reason(exc: requests.RequestException) -> str:
    """What went wrong, in words, without the exception's long nested repr."""
    text = str(exc)
    for marker, words in (("timed out", "timed out"), ("Read timed out", "timed out"),
                          ("Connection refused", "connection refused"), ("Name or service not known", "unknown host"),
                          ("Temporary failure in name resolution", "unknown host"),
                          ("No route to host", "no route to host"), ("Max retries exceeded", "no answer")):
        if marker in text:
            return f"{type(exc).__name__}: {words}"
    return type(exc).__name__


def decode_json(response: requests.Response, method: str, path: str) -> Any:
    """The body of a success answer; UnexpectedResponse when it is not JSON (never a bare ValueError)."""
    if not response.content:
        return None
    try:  # orjson: strict RFC 8259, several times faster on 500-contact pages; json for what it refuses
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()  # e.g. a lone surrogate escape, which orjson refuses
    except ValueError:
        kind = response.headers.get("Content-Type") or "no content type"
        raise UnexpectedResponse(
            f"{method} {path} answered {response.status_code} with a body that is not JSON ({kind}, "
            f"{len(response.content)} bytes), so it is not 8x8's API: check EIGHTXEIGHT_BASE_URL and "
            "EIGHTXEIGHT_REGION, and any proxy in between.") from None


def _api_error(response: requests.Response, method: str, path: str) -> APIError:
    code = message = error_id = None
    try:
        body = response.json()
    except ValueError:
        body = response.text[:500]
    if isinstance(body, dict):
        code, message, error_id = body.get("code"), body.get("message"), body.get("errorId")
    return error_for_status(response.status_code)(
        response.status_code, method, path, code=code, message=message or response.reason or "",
        error_id=error_id, body=body, retry_after=response.headers.get("Retry-After"))


class ContactsAPI:
    """Contacts API: groups, contacts, membership, blacklist and batches."""

    def __init__(self, client: Client, account: str):
        self._client = client
        self._base = f"/api/v1/accounts/{account}"

    def _call(self, method: str, path: str, **kwargs) -> Any:
        return self._client.json("contacts", method, self._base + path, **kwargs)

    # Groups
    def search_groups(self, name: str | None = None, *, limit: int = MAX_PAGE_SIZE) -> Iterator[dict]:
        """Every group whose name contains ``name`` (all pages)."""
        params = {"name": name} if name else {}
        return self._client.paginate("contacts", self._base + "/groups", params, limit=limit)

    def count_groups(self) -> int:
        """How many groups the account has: one small read (a harmless connection check)."""
        return self._call("GET", "/groups", params={"limit": 1, "offset": 0})["totalCount"]

    def create_group(self, name: str, description: str | None = None, *, is_blacklist: bool = False) -> dict:
        body: dict[str, Any] = {"name": name, "isBlacklist": is_blacklist}
        if description:
            body["description"] = description
        return self._call("POST", "/groups", json=body)

    def get_group(self, group_id: int) -> dict:
        return self._call("GET", f"/groups/{int(group_id)}")

    def update_group(self, group_id: int, operations: list[dict]) -> dict:
        """Apply JSON Patch operations, e.g. ``[{"op": "replace", "path": "/isBlacklist", "value": True}]``."""
        return self._call("PATCH", f"/groups/{int(group_id)}", json=operations)

    def delete_group(self, group_id: int) -> None:
        self._call("DELETE", f"/groups/{int(group_id)}")

    # Contacts
    def upsert_contact(self, msisdn: str | None = None, *, addresses: dict | None = None,
                       group_ids: Iterable[int] = (), **fields) -> tuple[dict, bool]:
        """Create a contact, or merge into the one sharing an address. Returns (contact, created)."""
        addresses = dict(addresses or {})
        if msisdn is not None:
            addresses["msisdn"] = msisdn
        body: dict[str, Any] = {"addresses": addresses, **fields}
        groups = [{"id": int(g)} for g in group_ids]
        if groups:
            body["groups"] = groups
        response = self._client.request("contacts", "POST", self._base + "/contacts", json=body, ok=(200, 201))
        return decode_json(response, "POST", self._base + "/contacts"), response.status_code == 201

    def get_contact(self, contact_id: int) -> dict:
        return self._call("GET", f"/contacts/{int(contact_id)}")

    def search_contacts(self, query: str | None = None, *, group_id: int | None = None,
                        country: str | None = None, limit: int = MAX_PAGE_SIZE,
                        idle: Callable[[], bool] | None = None) -> Iterator[dict]:
        params: dict[str, Any] = {}
        if query:
            params["query"] = query
        if group_id is not None:
            params["groupId"] = int(group_id)
        if country:
            params["country"] = country
        return self._client.paginate("contacts", self._base + "/contacts", params, limit=limit, idle=idle)

    def group_members(self, group_id: int, *, limit: int = MAX_PAGE_SIZE,
                      idle: Callable[[], bool] | None = None) -> Iterator[dict]:
        """Every contact in the group (all pages; ``idle``: see Client.in_parallel)."""
        return self.search_contacts(group_id=group_id, limit=limit, idle=idle)

    # Membership: never deletes contacts
    def add_to_group(self, group_id: int, contact_ids: Iterable[int]) -> dict:
        return self._call("POST", f"/groups/{int(group_id)}/contacts", json={"contacts": [int(c) for c in contact_ids]})

    def remove_from_group(self, group_id: int, contact_ids: Iterable[int]) -> dict:
        """Take contacts out of the group. The contacts themselves are kept."""
        return self._call("DELETE", f"/groups/{int(group_id)}/contacts", json={"contacts": [int(c) for c in contact_ids]})

    def blacklist_msisdn(self, msisdn: str) -> None:
        self._call("POST", f"/contacts/blacklist/{quote(msisdn, safe='')}")

    # Batches
    def delete_contacts_batch(self, *, ids: Iterable[int] = (), msisdns: Iterable[str] = ()) -> dict:
        """Delete whole contacts (not only memberships). Never use it to undo an opt-out."""
        body = {"ids": [int(i) for i in ids], "msisdns": list(msisdns)}
        if not body["ids"] and not body["msisdns"]:
            raise BadInput("delete_contacts_batch needs ids or msisdns; it never deletes every contact")
        return self._call("POST", "/contacts/batches/deleteContacts", json=body)

    def batch_status(self, batch_id: str) -> dict:
        return self._call("GET", f"/batches/{quote(batch_id, safe='')}")


def definition_identity(answer: Any) -> Any:
    """A definition as 8x8 answers it, with ``id`` and ``version`` at the top level.

    8x8's documents disagree (NOTES.md, "Where 8x8's documents disagree"): the schema puts them
    at the top level, the schema's own example and every Builder export inside ``definition``.
    Both readings are accepted; the top level wins where both are given."""
    if not isinstance(answer, dict):
        return answer
    inner = answer.get("definition") if isinstance(answer.get("definition"), dict) else {}
    lifted = {key: inner[key] for key in ("id", "version") if answer.get(key) is None and key in inner}
    return {**answer, **lifted} if lifted else answer


class AutomationAPI:
    """Automation API: workflow definitions and their runs."""

    def __init__(self, client: Client, account: str):
        self._client = client
        self._base = f"/api/v1/accounts/{account}/definitions"

    def _call(self, method: str, path: str = "", **kwargs) -> Any:
        return self._client.json("automation", method, self._base + path, **kwargs)

    def list_definitions(self, *, page_size: int = 100) -> Iterator[dict]:
        """Every definition of the account (all pages)."""
        # paginate dedupes by a top-level id: lift it first where 8x8 put it inside "definition"
        return (definition_identity(d) for d in self._client.paginate(
            "automation", self._base, limit=page_size, id_key=lambda d: definition_identity(d).get("id")))

    def versions(self, definition_id: str) -> list[int]:
        """The versions of a definition, oldest first."""
        return list(self.definition_versions(definition_id))

    def definition_versions(self, definition_id: str) -> dict[int, dict]:
        """Every version of a definition (the API answers them all), oldest first."""
        answer = [definition_identity(d) for d in self._call("GET", f"/{quote(definition_id, safe='')}") or []]
        return {int(d["version"]): d for d in sorted(answer, key=lambda d: int(d["version"]))}

    def list_workflows(self, definition_id: str, *, version: int | None = None, status: str | None = None,
                       started_from: str | None = None, started_to: str | None = None,
                       limit: int = MAX_PAGE_SIZE) -> Iterator[dict]:
        """The runs of one version (default: the latest) of a definition, newest first, all pages.

        ``started_from`` / ``started_to``: ISO 8601 bounds of the start time; ``status``:
        Runnable, Suspended, Complete or Terminated. Instances carry their ``data`` (the trigger's
        payload and every step output), not their step logs (``get_workflow`` has those).
        """
        params: dict[str, Any] = {}
        for name, value in (("version", version), ("status", status), ("startTimeFrom", started_from),
                            ("startTimeTo", started_to)):
            if value is not None:
                params[name] = value
        return self._client.paginate("automation", self._base + f"/{quote(definition_id, safe='')}/workflows",
                                     params, limit=limit, id_key="workflowId")

    def create_definition(self, definition: dict) -> dict:
        return definition_identity(self._call("POST", json=definition))

    def get_definition(self, definition_id: str) -> dict:
        """The newest version of a definition (the API answers a list of versions)."""
        versions = [definition_identity(d) for d in self._call("GET", f"/{quote(definition_id, safe='')}") or []]
        if not versions:
            raise NotFound(404, "GET", self._base + f"/{definition_id}", message="no such definition")
        return max(versions, key=lambda d: d.get("version", 0))

    def update_definition(self, definition_id: str, definition: dict) -> dict:
        return definition_identity(self._call("PUT", f"/{quote(definition_id, safe='')}", json=definition))

    def delete_definition(self, definition_id: str) -> None:
        self._call("DELETE", f"/{quote(definition_id, safe='')}")

    def start_workflow(self, definition_id: str, data: dict) -> str:
        """Start a test run with a webhook-shaped body; returns the new workflow id."""
        path = self._base + f"/{quote(definition_id, safe='')}/workflows"
        response = self._client.request("automation", "POST", path, json=data, ok=(201,))
        location = response.headers.get("Location", "")
        workflow_id = location.rstrip("/").rsplit("/", 1)[-1]
        if not workflow_id:
            raise TransportError(f"POST {path} answered 201 without a Location header")
        return workflow_id

    def get_workflow(self, definition_id: str, workflow_id: str, *, include_logs: bool = True) -> dict:
        return self._call("GET", f"/{quote(definition_id, safe='')}/workflows/{quote(workflow_id, safe='')}",
                          params={"includeLogs": str(include_logs).lower()})

    def workflow_errors(self, definition_id: str, workflow_id: str) -> list[dict]:
        return self._call("GET", f"/{quote(definition_id, safe='')}/workflows/{quote(workflow_id, safe='')}/errors") or []


class MessagingAPI:
    """Messaging Apps API: send a message from the configured subaccount."""

    def __init__(self, client: Client, subaccount: str):
        self._client = client
        self._base = f"/api/v1/subaccounts/{subaccount}"

    def _path(self, subaccount: str | None) -> str:
        return f"/api/v1/subaccounts/{quote(subaccount, safe='')}" if subaccount else self._base

    def send_text(self, msisdn: str, text: str, *, subaccount: str | None = None) -> dict:
        """Send a text (from another subaccount of the account when named)."""
        body = {"user": {"msisdn": msisdn}, "type": "text", "content": {"text": text}}
        return self._client.json("chatapps", "POST", self._path(subaccount) + "/messages", json=body)

    def templates(self, channel_id: str) -> list[dict]:
        """The WhatsApp templates registered on a channel (the management API, by the account's UUID)."""
        account = self._client.settings.account_uuid
        if not account:
            raise ConfigError("Reading WhatsApp templates needs the account's UUID: set EIGHTXEIGHT_ACCOUNT_UUID "
                              "(8x8 Connect, account settings).")
        path = f"/api/v1/accounts/{quote(account, safe='')}/channels/{quote(channel_id, safe='')}/templates"
        try:
            return (self._client.json("chatapps", "GET", path) or {}).get("templates") or []
        except Unauthorized as exc:
            raise Unauthorized(exc.status, exc.method, exc.path, exc.code,
                               f"{exc.message}. The templates are read by the account's UUID: check "
                               f"EIGHTXEIGHT_ACCOUNT_UUID (now {account!r}; not the account name)", exc.error_id,
                               exc.body) from None

    def get_message(self, umid: str, *, subaccount: str | None = None) -> dict:
        """The delivery record of a message (the first channel tried)."""
        answer = self._client.json("chatapps", "GET", self._path(subaccount) + f"/messages/{quote(umid, safe='')}")
        return (answer.get("data") or [{}])[0]
