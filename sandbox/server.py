"""The sandbox server: one HTTP server on 127.0.0.1 that mounts every service's routes.

It checks the Bearer token, injects faults when asked (latency, a share of 429 and 503
answers, or an exact queue of them), and answers errors in 8x8's shape. Sandbox-only
controls live under ``/_sandbox/`` (like moto's ``/moto-api/``).
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from .defaults import SANDBOX_API_KEY
from .errors import (
    InvalidRequest,
    LengthRequired,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    SandboxError,
    ServiceUnavailable,
    TooManyRequests,
)
from .http import Request, Response

log = logging.getLogger(__name__)

Handler = Callable[[Request], Response]


@dataclass
class Faults:
    """What the sandbox does wrong on purpose. Shares are drawn from a seeded generator."""

    latency_ms: float = 0.0
    share_429: float = 0.0
    share_503: float = 0.0
    retry_after: int | None = 0  # seconds sent in Retry-After with injected faults; None: no header
    seed: int = 8
    queue: deque = field(default_factory=deque)  # exact statuses for the next matching requests
    share_method: str | None = None  # the shares apply to requests of this method only (None: all)
    share_path: str | None = None  # ... and whose path contains this (None: all)

    def __post_init__(self):
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def inject(self, *statuses: int, method: str | None = None, path_contains: str | None = None) -> None:
        """Answer the next requests that match with these statuses, in order (429 or 503)."""
        for status in statuses:
            if status not in (429, 503):
                raise ValueError("only 429 and 503 can be injected")
            self.queue.append((status, method, path_contains))

    def configure(
        self,
        *,
        latency_ms: float | None = None,
        share_429: float | None = None,
        share_503: float | None = None,
        retry_after: int | None | str = "keep",
        share_method: str | None | bool = False,
        share_path: str | None | bool = False,
    ) -> None:
        """Shares of 429 and 503 answers (``share_method``/``share_path`` narrow them to some requests,
        e.g. the workflows' POST .../contacts; left False, they stay as they were)."""
        if share_method is not False:
            self.share_method = share_method
        if share_path is not False:
            self.share_path = share_path
        for name, value in (("latency_ms", latency_ms), ("share_429", share_429), ("share_503", share_503)):
            if value is not None:
                if value < 0 or (name != "latency_ms" and value > 1):
                    raise ValueError(f"{name} out of range: {value}")
                setattr(self, name, float(value))
        if retry_after != "keep":
            self.retry_after = retry_after

    def clear(self) -> None:
        self.latency_ms = self.share_429 = self.share_503 = 0.0
        self.share_method = self.share_path = None
        self.queue.clear()

    def pick(self, method: str, path: str) -> SandboxError | None:
        with self._lock:
            status = None
            for i, (queued, want_method, want_path) in enumerate(self.queue):
                if (want_method is None or want_method == method) and (want_path is None or want_path in path):
                    status = queued
                    del self.queue[i]
                    break
            if (
                status is None
                and (self.share_429 or self.share_503)
                and (self.share_method is None or self.share_method == method)
                and (self.share_path is None or self.share_path in path)
            ):
                draw = self._random.random()
                if draw < self.share_429:
                    status = 429
                elif draw < self.share_429 + self.share_503:
                    status = 503
        if status is None:
            return None
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        if status == 429:
            return TooManyRequests("Too many requests (injected by the sandbox)", headers=headers)
        return ServiceUnavailable("Service unavailable (injected by the sandbox)", headers=headers)


class Router:
    def __init__(self):
        self._routes: list[tuple[str, re.Pattern, Handler, str]] = []

    def add(self, method: str, pattern: str, handler: Handler, name: str) -> None:
        self._routes.append((method, re.compile(pattern + r"/?"), handler, name))

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str], str]:
        allowed = []
        for route_method, pattern, handler, name in self._routes:
            match = pattern.fullmatch(path)
            if match:
                if route_method == method:
                    params = {k: unquote(v) for k, v in match.groupdict().items()}
                    return handler, params, name
                allowed.append(route_method)
        if allowed:
            raise MethodNotAllowed(f"{method} is not allowed here; use {', '.join(sorted(set(allowed)))}.")
        raise NotFound(f"No such endpoint: {method} {path}")


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, app: App):
        self.app = app
        super().__init__(("127.0.0.1", port), _RequestHandler)


class App:
    """Routing, auth, faults and error rendering, independent of the socket server."""

    def __init__(self, store, *, api_keys=(SANDBOX_API_KEY,), faults: Faults | None = None):
        self.store = store
        self.api_keys = set(api_keys)
        self.faults = faults or Faults()
        self.router = Router()
        self.control = Router()
        self.stats: Counter = Counter()
        self._stats_lock = threading.Lock()

    def mount(self, url_patterns, backend, service: str) -> None:
        for method, pattern, handler in url_patterns:
            self.router.add(method, pattern, _bind(handler, backend), f"{service}.{handler.__name__}")

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            try:
                handler, request.params, name = self.control.resolve(request.method, request.path)
                if name != "health" and not self._authenticated(request):
                    raise NotAuthenticated()
                return handler(request)
            except SandboxError as exc:
                return self.error(exc)
            except ValueError as exc:
                return self.error(InvalidRequest(str(exc)))
            except Exception:  # a sandbox bug: answer like a platform failure, keep serving
                log.exception("sandbox control failed")
                return self.error(SandboxError("Internal sandbox error"), status=500)
        with self._stats_lock:
            self.stats["requests"] += 1
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        try:
            fault = self.faults.pick(request.method, request.path)
            if fault is not None:
                raise fault
            if not self._authenticated(request):
                raise NotAuthenticated()
            handler, request.params, name = self.router.resolve(request.method, request.path)
            with self._stats_lock:
                self.stats[name] += 1
            return handler(request)
        except SandboxError as exc:
            with self._stats_lock:
                self.stats[f"status {exc.status}"] += 1
            return self.error(exc)
        except Exception as exc:  # a sandbox bug: answer like a platform failure, keep serving
            log.exception("sandbox handler failed")
            return self.error(SandboxError(f"Internal sandbox error: {type(exc).__name__}"), status=500)

    def _authenticated(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() in self.api_keys

    def error(self, exc: SandboxError, status: int | None = None) -> Response:
        body = {
            "code": exc.code,
            "message": exc.message,
            "errorId": self.store.new_uuid("error"),
            "timestamp": self.store.clock.iso(),
        }
        return Response(status or exc.status, body, dict(exc.headers))


def _bind(handler, backend) -> Handler:
    def bound(request: Request) -> Response:
        return handler(backend, request)

    bound.__name__ = handler.__name__
    return bound


# Limits of the sandbox's own (8x8 documents none for JSON bodies; the strict choice):
MAX_BODY_BYTES = 10 * 1024 * 1024  # a larger request body is refused with 413, unread
CONNECTION_TIMEOUT_SECONDS = 60  # a connection silent this long (mid-request or idle) is closed


def _encode(body) -> bytes:
    """Compact JSON, as 8x8 answers it. orjson is fifteen times faster than json on a 500-contact page;
    json takes what orjson refuses (integers beyond 64 bits, which a hostile request can echo)."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(body, separators=(",", ":")).encode()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stall between
    timeout = CONNECTION_TIMEOUT_SECONDS
    server: SandboxHTTPServer

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        raw_length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            return self._refuse(LengthRequired("Send the body with a Content-Length, not chunked."))
        if raw_length is not None and not (raw_length.strip().isascii() and raw_length.strip().isdigit()):
            return self._refuse(
                InvalidRequest(f"Content-Length must be a whole number of bytes, got {raw_length[:40]!r}.")
            )
        length = int(raw_length or 0)
        if length > MAX_BODY_BYTES:
            return self._refuse(
                PayloadTooLarge(f"The body is {length} bytes; the sandbox accepts at most {MAX_BODY_BYTES}.")
            )
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away or lied about the length
            self.close_connection = True
            return
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        response = self.server.app.handle(request)
        self._send(response)

    def _refuse(self, error: SandboxError) -> None:
        """Answer before reading the body, then close: what is left of it cannot be trusted."""
        self.close_connection = True
        self._send(self.server.app.error(error))

    def _send(self, response: Response) -> None:
        payload = b"" if response.body is None else _encode(response.body)
        self.send_response(response.status)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def date_time_string(self, timestamp=None) -> str:
        # The Date header tells the sandbox's time, not the machine's: a client that asks the
        # platform what time it is (the reconcile window) gets the clock its data was stamped with.
        if timestamp is None:
            return email.utils.format_datetime(self.server.app.store.clock.now(), usegmt=True)
        return super().date_time_string(timestamp)

    def log_message(self, format: str, *args) -> None:  # request lines go to logging, never stderr
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", self.address_string(), format % args)
