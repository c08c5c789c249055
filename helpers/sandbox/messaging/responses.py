"""Messaging Apps API over HTTP."""
from __future__ import annotations

from typing import Any

from ..errors import ClientMessageIdTooLong, InvalidRequest, MessageTextTooLong
from ..http import Request, Response
from .models import MessagingBackend, OutboundMessage

# business_messaging_api.json (examples/messaging.json, oas_send_limits): the type enum and the limits.
MESSAGE_TYPES = ("text", "audio", "video", "image", "location", "file", "interactive", "template", "carousel",
                 "richCard")
MAX_TEXT = 35_000
MAX_CLIENT_MESSAGE_ID = 50


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
        raise ClientMessageIdTooLong(f"clientMessageId is {len(client_id)} characters; at most "
                                     f"{MAX_CLIENT_MESSAGE_ID}.")
    return OutboundMessage(msisdn, kind, content, client_id, channel_user_id=channel_user_id, country=country)


def send_message(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.send(request.params["subAccountId"], parse_message(request.json())))


def get_message(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.get(request.params["subAccountId"], request.params["umid"]))


def list_templates(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.templates.list(request.params["accountId"], request.params["channelId"]))
