"""Messaging Apps API over HTTP."""
from __future__ import annotations

from typing import Any

from ..errors import InvalidRequest
from ..http import Request, Response
from .models import MessagingBackend, OutboundMessage


def parse_message(body: Any) -> OutboundMessage:
    """The send-message body: 'user' (with 'msisdn'), 'type', 'content', optional 'clientMessageId'."""
    if not isinstance(body, dict) or not isinstance(body.get("user"), dict):
        raise InvalidRequest("The body needs 'user' (with 'msisdn'), 'type' and 'content'.")
    kind, content, client_id = body.get("type"), body.get("content"), body.get("clientMessageId")
    if not isinstance(kind, str) or not isinstance(content, dict):
        raise InvalidRequest("'type' must be a string (e.g. \"text\") and 'content' an object.")
    if client_id is not None and not isinstance(client_id, str):
        raise InvalidRequest("'clientMessageId' must be a string.")
    return OutboundMessage(body["user"].get("msisdn"), kind, content, client_id)


def send_message(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.send(request.params["subAccountId"], parse_message(request.json())))


def get_message(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.get(request.params["subAccountId"], request.params["umid"]))
