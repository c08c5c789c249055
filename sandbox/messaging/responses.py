"""Messaging Apps API over HTTP."""

from __future__ import annotations

from typing import Any

from ..errors import ClientMessageIdTooLong, InvalidRequest, MessageTextTooLong
from ..http import Request, Response
from .models import MessagingBackend, OutboundMessage

# business_messaging_api.json (examples/messaging.json, oas_send_limits): the type enum and the limits.
MESSAGE_TYPES = (
    "text",
    "audio",
    "video",
    "image",
    "location",
    "file",
    "interactive",
    "template",
    "carousel",
    "richCard",
)
MAX_TEXT = 35_000
MAX_CLIENT_MESSAGE_ID = 50
# The send's "channels" (Channel fallback override): each item's channel enum, and its other fields.
CHANNELS = ("SMS", "WhatsApp", "Facebook", "RCS", "Viber", "Line", "WeChat", "Zalo", "Instagram")
SUCCESS_STATUSES = ("Accepted", "Sent", "Delivered", "Read")
FALLBACK_AFTER = (10, 86400)  # seconds, "Maximum: 1 day"


def parse_message(body: Any) -> OutboundMessage:
    """The send-message body: 'user' ('msisdn', national with 'country', and/or 'channelUserId'),
    'type', 'content', optional 'clientMessageId', within the documented limits.

    8x8's own examples disagree on the type's case (the RCS guide sends "Text"); the strict reading,
    the definition's enum as written, is taken."""
    if not isinstance(body, dict) or not isinstance(body.get("user"), dict):
        raise InvalidRequest("The body needs 'user' (with 'msisdn' or 'channelUserId'), 'type' and 'content'.")
    user = body["user"]
    msisdn, channel_user_id, country = user.get("msisdn"), user.get("channelUserId"), user.get("country")
    if msisdn is None and channel_user_id is None:
        raise InvalidRequest("'user' needs 'msisdn' or 'channelUserId' (at least one).")
    if not all(v is None or isinstance(v, str) for v in (msisdn, channel_user_id, country)):
        raise InvalidRequest("'user.msisdn', 'user.channelUserId' and 'user.country' are strings.")
    kind, content, client_id = body.get("type"), body.get("content"), body.get("clientMessageId")
    if kind not in MESSAGE_TYPES or not isinstance(content, dict):
        raise InvalidRequest(f"'type' must be one of {', '.join(MESSAGE_TYPES)}, and 'content' an object.")
    if kind == "text" and isinstance(content.get("text"), str) and len(content["text"]) > MAX_TEXT:
        raise MessageTextTooLong(f"content.text is {len(content['text'])} characters; at most {MAX_TEXT}.")
    if client_id is not None and not isinstance(client_id, str):
        raise InvalidRequest("'clientMessageId' must be a string.")
    if client_id is not None and len(client_id) > MAX_CLIENT_MESSAGE_ID:
        raise ClientMessageIdTooLong(
            f"clientMessageId is {len(client_id)} characters; at most {MAX_CLIENT_MESSAGE_ID}."
        )
    return OutboundMessage(
        msisdn,
        kind,
        content,
        client_id,
        channel_user_id=channel_user_id,
        country=country,
        channels=_channels(body.get("channels")),
    )


def _channels(override: Any) -> tuple[str, ...]:
    """The fallback override's channels, in order. The definition names three fields of an item
    (channel required); 8x8's text is silent on others: the strict reading refuses them, and the
    enum is matched as written (case-sensitive)."""
    if override is None:
        return ()
    if not isinstance(override, list) or not override:
        raise InvalidRequest(
            '\'channels\' must be a non-empty array of {"channel", "fallbackAfter", "successStatus"} objects.'
        )
    names = []
    for item in override:
        if not isinstance(item, dict) or item.get("channel") not in CHANNELS:
            raise InvalidRequest(
                f"each item of 'channels' needs 'channel', one of {', '.join(CHANNELS)}; got {item!r}."
            )
        unknown = set(item) - {"channel", "fallbackAfter", "successStatus"}
        if unknown:
            raise InvalidRequest(
                f"'channels' items take channel, fallbackAfter and successStatus, not {', '.join(sorted(unknown))}."
            )
        after = item.get("fallbackAfter")
        if after is not None and (type(after) is not int or not FALLBACK_AFTER[0] <= after <= FALLBACK_AFTER[1]):
            raise InvalidRequest(
                f"'fallbackAfter' is a whole number of seconds from {FALLBACK_AFTER[0]} to "
                f"{FALLBACK_AFTER[1]}, not {after!r}."
            )
        if item.get("successStatus") is not None and item["successStatus"] not in SUCCESS_STATUSES:
            raise InvalidRequest(
                f"'successStatus' is one of {', '.join(SUCCESS_STATUSES)}, not {item['successStatus']!r}."
            )
        names.append(item["channel"])
    return tuple(names)


def send_message(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.send(request.params["subAccountId"], parse_message(request.json())))


def get_message(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.get(request.params["subAccountId"], request.params["umid"]))


def list_templates(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.templates.list(request.params["accountId"], request.params["channelId"]))
