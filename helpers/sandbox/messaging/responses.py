"""Messaging Apps API over HTTP."""
from __future__ import annotations

from ..http import Request, Response
from .models import MessagingBackend


def send_message(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.send(request.params["subAccountId"], request.json()))


def get_message(backend: MessagingBackend, request: Request) -> Response:
    return Response(200, backend.get(request.params["subAccountId"], request.params["umid"]))
