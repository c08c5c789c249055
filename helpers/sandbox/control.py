"""Sandbox-only controls under /_sandbox/: health, clock, faults, request counts.

They need no API key and exist only on the sandbox, so a notebook pointed at a sandbox in
another process (EIGHTXEIGHT_BASE_URL) can move its clock or inject faults.
"""
from __future__ import annotations

from .http import Request, Response


def mount_controls(sandbox) -> None:
    app, store = sandbox.app, sandbox.store

    def health(request: Request) -> Response:
        return Response(200, {"sandbox": True, "deterministic": store.deterministic, "now": store.clock.iso()})

    def clock(request: Request) -> Response:
        body = request.json(required=False) or {}
        seconds = body.get("advanceSeconds", 0)
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError("advanceSeconds must be a number >= 0")
        now = store.clock.advance(seconds)
        synced = sandbox.messaging.sync_blacklist_if_due()  # the hourly blacklist sync runs on the hour
        return Response(200, {"now": store.clock.iso(now), "blacklistSyncedAt": sandbox.messaging.last_sync(),
                              "synced": synced})

    def faults(request: Request) -> Response:
        body = request.json(required=False) or {}
        app.faults.configure(latency_ms=body.get("latencyMs"), share_429=body.get("share429"),
                             share_503=body.get("share503"), retry_after=body.get("retryAfter", "keep"))
        app.faults.inject(*body.get("inject", []))
        return Response(200, {"latencyMs": app.faults.latency_ms, "share429": app.faults.share_429,
                              "share503": app.faults.share_503, "queued": len(app.faults.queue)})

    def inbound(request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("msisdn"), str) or not isinstance(body.get("text"), str):
            raise ValueError('inbound needs {"msisdn": "+65...", "text": "STOP"} (and optional subAccountId, channel)')
        runs = sandbox.deliver_inbound(body["msisdn"], body["text"], subaccount=body.get("subAccountId") or
                                       next(iter(sandbox.messaging.subaccounts)), channel=body.get("channel", "whatsapp"))
        return Response(200, {"workflows": runs})

    def messages(request: Request) -> Response:
        return Response(200, {"messages": sandbox.messaging.sent(), "blacklistSyncedAt": sandbox.messaging.last_sync()})

    def stats(request: Request) -> Response:
        return Response(200, dict(app.stats))

    app.control.add("GET", "/_sandbox/health", health, "health")
    app.control.add("POST", "/_sandbox/clock", clock, "clock")
    app.control.add("POST", "/_sandbox/faults", faults, "faults")
    app.control.add("GET", "/_sandbox/stats", stats, "stats")
    app.control.add("POST", "/_sandbox/inbound", inbound, "inbound")
    app.control.add("GET", "/_sandbox/messages", messages, "messages")
