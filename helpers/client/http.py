"""What every request shares: retries (urllib3's Retry, Retry-After honoured), Bearer auth, pages,
JSON decoding, and 8x8's errors as typed exceptions."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import orjson
import requests
from urllib3.util.retry import Retry

from ..config import Secret, Settings
from ..errors import APIError, UnexpectedResponse, error_for_status

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
    for marker, words in (
        ("timed out", "timed out"),
        ("Read timed out", "timed out"),
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("Temporary failure in name resolution", "unknown host"),
        ("No route to host", "no route to host"),
        ("Max retries exceeded", "no answer"),
    ):
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
            "EIGHTXEIGHT_REGION, and any proxy in between."
        ) from None


def _api_error(response: requests.Response, method: str, path: str) -> APIError:
    code = message = error_id = None
    try:
        body = response.json()
    except ValueError:
        body = response.text[:500]
    if isinstance(body, dict):
        code, message, error_id = body.get("code"), body.get("message"), body.get("errorId")
    return error_for_status(response.status_code)(
        response.status_code,
        method,
        path,
        code=code,
        message=message or response.reason or "",
        error_id=error_id,
        body=body,
        retry_after=response.headers.get("Retry-After"),
    )


class Caller(Protocol):
    """What one API needs of the Client: requests, JSON answers, every page of a list, the settings."""

    settings: Settings

    def request(
        self,
        api: str,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        ok: Iterable[int] = (200, 201, 202, 204),
    ) -> requests.Response: ...

    def json(self, api: str, method: str, path: str, **kwargs: Any) -> Any: ...

    def paginate(
        self,
        api: str,
        path: str,
        params: dict | None = None,
        *,
        limit: int = MAX_PAGE_SIZE,
        id_key: str | Callable[[dict], Any] = "id",
        idle: Callable[[], bool] | None = None,
    ) -> Iterator[dict]: ...
