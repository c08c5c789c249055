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
        return Response(200, {"now": store.clock.iso(store.clock.advance(seconds))})

    def faults(request: Request) -> Response:
        body = request.json(required=False) or {}
        app.faults.configure(latency_ms=body.get("latencyMs"), share_429=body.get("share429"),
                             share_503=body.get("share503"), retry_after=body.get("retryAfter", "keep"))
        app.faults.inject(*body.get("inject", []))
        return Response(200, {"latencyMs": app.faults.latency_ms, "share429": app.faults.share_429,
                              "share503": app.faults.share_503, "queued": len(app.faults.queue)})

    def stats(request: Request) -> Response:
        return Response(200, dict(app.stats))

    app.control.add("GET", "/_sandbox/health", health, "health")
    app.control.add("POST", "/_sandbox/clock", clock, "clock")
    app.control.add("POST", "/_sandbox/faults", faults, "faults")
    app.control.add("GET", "/_sandbox/stats", stats, "stats")
