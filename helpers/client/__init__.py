"""A requests-based client for the 8x8 APIs the runbook uses.

One :class:`requests.Session` per client, configured once: Bearer auth, timeouts, and
retries through urllib3's ``Retry`` on the adapter. Requests safe to repeat (GET, PUT,
DELETE, HEAD, OPTIONS) are retried on 429 and 5xx; every request is retried on 429, which
8x8 sends before doing any work. Retry-After is honoured. Failures raise the typed
exceptions of :mod:`helpers.errors`, with 8x8's error code, message and errorId.

The package: ``session`` (the Client), ``contacts``, ``automation`` and ``messaging`` (one API each),
and ``http`` (what every request shares).
"""

from __future__ import annotations

from .automation import AutomationAPI, definition_identity
from .contacts import ContactsAPI
from .http import MAX_PAGE_SIZE, decode_json
from .messaging import MessagingAPI
from .session import Client

__all__ = [
    "MAX_PAGE_SIZE",
    "AutomationAPI",
    "Client",
    "ContactsAPI",
    "MessagingAPI",
    "decode_json",
    "definition_identity",
]
