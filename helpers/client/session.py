"""The Client: one requests.Session, configured once, and the three APIs on it."""

from __future__ import annotations

import email.utils
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from operator import methodcaller
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from ..config import Secret, Settings
from ..errors import BadInput, TransportError, UnexpectedResponse
from .automation import AutomationAPI
from .contacts import ContactsAPI
from .http import (
    _END,
    MAX_PAGE_SIZE,
    RETRY_STATUSES,
    SAFE_METHODS,
    _api_error,
    _BearerAuth,
    _page_items,
    _read_environment_once,
    _reason,
    _RetryPolicy,
    decode_json,
    log,
)
from .messaging import MessagingAPI


class Client:
    """Entry point: ``Client(settings).contacts``, ``.automation``, ``.messaging``."""

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: tuple[float, float] = (5.0, 20.0),
        retries: int = 5,
        network_retries: int = 1,
        backoff_factor: float = 0.5,
        backoff_max: float = 10.0,
        pool_size: int = 16,
    ):
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
            total=retries + network_retries,
            connect=network_retries,
            read=network_retries,
            status=retries,
            other=0,
            redirect=0,
            allowed_methods=SAFE_METHODS,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
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

    def in_parallel(
        self, work: Callable[[Any], Any], items: Iterable[Any], *, idle: Callable[[], bool] | None = None
    ) -> Iterator[Any]:
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

    def request(
        self,
        api: str,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        ok: Iterable[int] = (200, 201, 202, 204),
    ) -> requests.Response:
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
            response = self.session.request(
                method, url, params=params, json=json, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            # The message of a requests exception carries the URL only, never headers.
            where = (
                "Check that the sandbox is running there."
                if self.settings.sandbox_mode
                else "Check the network, and EIGHTXEIGHT_REGION / EIGHTXEIGHT_BASE_URL."
            )
            raise TransportError(
                f"{method} {path}: no answer from {self.base_urls[api]} after "
                f"{time.monotonic() - started:.0f} s ({_reason(exc)}). {where}"
            ) from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        if 300 <= response.status_code < 400:
            target = response.headers.get("Location", "no Location")
            raise UnexpectedResponse(
                f"{method} {path} answered {response.status_code}, a redirect to {target}; "
                "8x8's APIs never redirect, so nothing was followed. Check EIGHTXEIGHT_BASE_URL "
                "(https, the right host)."
            )
        if response.status_code not in ok:
            raise _api_error(response, method, path)
        return response

    def json(self, api: str, method: str, path: str, **kwargs: Any) -> Any:
        return decode_json(self.request(api, method, path, **kwargs), method, path)

    def paginate(
        self,
        api: str,
        path: str,
        params: dict | None = None,
        *,
        limit: int = MAX_PAGE_SIZE,
        id_key: str | Callable[[dict], Any] = "id",
        idle: Callable[[], bool] | None = None,
    ) -> Iterator[dict]:
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
                    starts = range(len(seen), total, limit) if counts_items else range(offset + 1, -(-total // limit))
                    for rest in self.in_parallel(page, starts, idle=idle):
                        yield from fresh_of((rest or {}).get("items") or [])
                    return
            offset = len(seen) if counts_items else offset + 1

    def platform_time(self, api: str = "automation") -> datetime:
        """What time the platform says it is (its Date header): windows of time are the platform's."""
        response = self.request(
            api,
            "GET",
            f"/api/v1/accounts/{quote(self.settings.account_id, safe='')}/definitions",
            params={"limit": 1, "offset": 0},
        )
        try:
            return email.utils.parsedate_to_datetime(response.headers["Date"])
        except (KeyError, TypeError, ValueError):
            return datetime.now(UTC)
