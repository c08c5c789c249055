"""The Messaging Apps API: sending, delivery status, templates."""

from __future__ import annotations

from urllib.parse import quote

from ..errors import ConfigError, Unauthorized
from .http import Caller


class MessagingAPI:
    """Messaging Apps API: send a message from the configured subaccount."""

    def __init__(self, client: Caller, subaccount: str):
        self._client = client
        self._base = f"/api/v1/subaccounts/{subaccount}"

    def _path(self, subaccount: str | None) -> str:
        return f"/api/v1/subaccounts/{quote(subaccount, safe='')}" if subaccount else self._base

    def send_text(self, msisdn: str, text: str, *, subaccount: str | None = None) -> dict:
        """Send a text (from another subaccount of the account when named)."""
        body = {"user": {"msisdn": msisdn}, "type": "text", "content": {"text": text}}
        return self._client.json("chatapps", "POST", self._path(subaccount) + "/messages", json=body)

    def templates(self, channel_id: str) -> list[dict]:
        """The WhatsApp templates registered on a channel (the management API, by the account's UUID)."""
        account = self._client.settings.account_uuid
        if not account:
            raise ConfigError(
                "Reading WhatsApp templates needs the account's UUID: set EIGHTXEIGHT_ACCOUNT_UUID "
                "(8x8 Connect, account settings)."
            )
        path = f"/api/v1/accounts/{quote(account, safe='')}/channels/{quote(channel_id, safe='')}/templates"
        try:
            return (self._client.json("chatapps", "GET", path) or {}).get("templates") or []
        except Unauthorized as exc:
            raise Unauthorized(
                exc.status,
                exc.method,
                exc.path,
                exc.code,
                f"{exc.message}. The templates are read by the account's UUID: check "
                f"EIGHTXEIGHT_ACCOUNT_UUID (now {account!r}; not the account name)",
                exc.error_id,
                exc.body,
            ) from None

    def get_message(self, umid: str, *, subaccount: str | None = None) -> dict:
        """The delivery record of a message (the first channel tried)."""
        answer = self._client.json("chatapps", "GET", self._path(subaccount) + f"/messages/{quote(umid, safe='')}")
        return (answer.get("data") or [{}])[0]
