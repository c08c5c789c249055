"""Sandbox-only controls under /_sandbox/: health, reset, seed, clock, faults, inbound, messages, stats.

They take the same Bearer key as the API (``health`` alone answers without one, for readiness
checks) and exist only on the sandbox, so a notebook pointed at a sandbox in
another process (EIGHTXEIGHT_BASE_URL) can move its clock or inject faults.
"""

from __future__ import annotations

from .errors import InvalidRequest
from .http import Request, Response

# Channels whose customers the inbound control plays: WhatsApp, Viber and RCS reach
# inbound_chat_apps, SMS reaches inbound_sms (NOTES.md, examples/inbound_*.json). RCS is named
# "rcs", as 8x8's Messaging Apps API writes it.
INBOUND_CHANNELS = ("whatsapp", "viber", "rcs", "sms")

# The controls (method, path, handler, what it does): mounted from here, and listed from here in the
# docs' reference (docs/gen_reference.py).
CONTROLS = (
    (
        "GET",
        "/_sandbox/health",
        "health",
        "Says the sandbox is up, whether it is deterministic, and its clock. Answers without a key.",
    ),
    ("POST", "/_sandbox/reset", "reset", "Starts from nothing: state, ids, clock, faults, request counts."),
    (
        "POST",
        "/_sandbox/seed",
        "seed",
        "Makes groups (with members), contacts and workflow definitions in one call, "
        "checked as the API checks them; refused whole when any of it is wrong.",
    ),
    ("POST", "/_sandbox/clock", "clock", "Moves the clock forward, waking sleeping workflow runs on the way."),
    (
        "POST",
        "/_sandbox/faults",
        "faults",
        "Latency, a share of 429 and 503 answers (for some methods and paths), "
        "or exact statuses for the next requests.",
    ),
    ("GET", "/_sandbox/stats", "stats", "Counts requests by method and path."),
    (
        "POST",
        "/_sandbox/inbound",
        "inbound",
        "Delivers a customer's message (WhatsApp, Viber, RCS, SMS) as 8x8's "
        "webhook would, starting the workflows on its trigger.",
    ),
    ("GET", "/_sandbox/messages", "messages", "Lists what was sent, and when the blacklist last synced."),
)


def mount_controls(sandbox) -> None:
    app, store = sandbox.app, sandbox.store

    def health(request: Request) -> Response:
        return Response(200, {"sandbox": True, "deterministic": store.deterministic, "now": store.clock.iso()})

    def object_body(request: Request, usage: str) -> dict:
        body = request.json(required=False)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise InvalidRequest(f"The body must be a JSON object: {usage}.")
        return body

    def clock(request: Request) -> Response:
        body = object_body(request, '{"advanceSeconds": 3600}')
        seconds = body.get("advanceSeconds", 0)
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds < float("inf"):
            raise InvalidRequest("advanceSeconds must be a finite number >= 0.")
        before = sandbox.messaging.last_sync()
        try:
            now = sandbox.advance_clock(seconds)  # wakes runs whose Wait passed; the hourly sync on the hour
        except ValueError as exc:
            raise InvalidRequest(f"{exc}.") from None
        return Response(
            200,
            {
                "now": store.clock.iso(now),
                "blacklistSyncedAt": sandbox.messaging.last_sync(),
                "synced": sandbox.messaging.last_sync() != before,
            },
        )

    def faults(request: Request) -> Response:
        body = object_body(
            request,
            '{"latencyMs", "share429", "share503", "shareMethod", "sharePath", "retryAfter", '
            '"inject", "injectMethod", "injectPath"}',
        )
        for name in ("latencyMs", "share429", "share503"):
            value = body.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf")
            ):
                raise InvalidRequest(f"{name} must be a finite number >= 0.")
        if (body.get("latencyMs") or 0) > 60_000:
            raise InvalidRequest("latencyMs is at most 60000.")
        retry_after = body.get("retryAfter", "keep")
        if retry_after not in ("keep", None) and (
            isinstance(retry_after, bool) or not isinstance(retry_after, int) or not 0 <= retry_after <= 3600
        ):
            raise InvalidRequest("retryAfter is a whole number of seconds 0..3600, or null for no header.")
        inject = body.get("inject", [])
        if not isinstance(inject, list) or any(s not in (429, 503) or isinstance(s, bool) for s in inject):
            raise InvalidRequest("inject is a list of statuses, each 429 or 503.")
        target = {"method": body.get("injectMethod"), "path_contains": body.get("injectPath")}
        scope = {"share_method": body.get("shareMethod", False), "share_path": body.get("sharePath", False)}
        if any(v is not None and not isinstance(v, str) for v in target.values()) or any(
            v not in (None, False) and not isinstance(v, str) for v in scope.values()
        ):
            raise InvalidRequest(
                "injectMethod, injectPath, shareMethod and sharePath are strings (e.g. POST, /contacts), or null."
            )
        app.faults.configure(
            latency_ms=body.get("latencyMs"),
            share_429=body.get("share429"),
            share_503=body.get("share503"),
            retry_after=body.get("retryAfter", "keep"),
            **scope,
        )
        app.faults.inject(*body.get("inject", []), **target)
        return Response(
            200,
            {
                "latencyMs": app.faults.latency_ms,
                "share429": app.faults.share_429,
                "share503": app.faults.share_503,
                "shareMethod": app.faults.share_method,
                "sharePath": app.faults.share_path,
                "queued": len(app.faults.queue),
            },
        )

    def inbound(request: Request) -> Response:
        body = request.json()
        usage = (
            'inbound needs {"msisdn": "+65..." or null, "text": "STOP"} or a "button": {"id", "title"} '
            "(and optional subAccountId, channel, channelUserId)"
        )
        if not isinstance(body, dict):
            raise InvalidRequest(usage)
        msisdn, text, button = body.get("msisdn"), body.get("text"), body.get("button")
        channel, subaccount = body.get("channel", "whatsapp"), body.get("subAccountId")
        channel_user_id = body.get("channelUserId")
        if (
            not (msisdn is None or isinstance(msisdn, str))
            or not (text is None or isinstance(text, str))
            or not (
                button is None
                or (
                    isinstance(button, dict)
                    and isinstance(button.get("title"), str)
                    and isinstance(button.get("id"), str)
                )
            )
            or (text is None and button is None)
            or str(channel).lower() not in INBOUND_CHANNELS
            or not (subaccount is None or isinstance(subaccount, str))
            or not (channel_user_id is None or (isinstance(channel_user_id, str) and channel_user_id))
        ):
            raise InvalidRequest(usage)
        runs = sandbox.deliver_inbound(
            msisdn,
            text,
            subaccount=subaccount or next(iter(sandbox.messaging.subaccounts)),
            channel=channel.lower(),
            button=button,
            channel_user_id=channel_user_id,
        )
        return Response(200, {"workflows": runs})

    def messages(request: Request) -> Response:
        return Response(200, {"messages": sandbox.messaging.sent(), "blacklistSyncedAt": sandbox.messaging.last_sync()})

    def stats(request: Request) -> Response:
        return Response(200, dict(app.stats))

    def reset(request: Request) -> Response:
        sandbox.reset()
        return Response(200, {"reset": True, "now": sandbox.store.clock.iso()})

    def seed(request: Request) -> Response:
        return Response(200, sandbox.seed(request.json()))

    handlers = {
        "health": health,
        "reset": reset,
        "seed": seed,
        "clock": clock,
        "faults": faults,
        "stats": stats,
        "inbound": inbound,
        "messages": messages,
    }
    for method, path, name, _ in CONTROLS:
        app.control.add(method, path, handlers[name], name)
