"""The bodies 8x8 posts for an inbound message, as the sandbox delivers them to the workflows.

Built from 8x8's documented bodies (../shared/8x8-api/examples/inbound_chatapps.json and
inbound_sms.json; NOTES.md, "Inbound message webhook"), field for field, never from the
library's idea of them:

- Messaging Apps v3 (``inbound_chat_apps``): ``version`` 3, ``namespace`` ChatApps, ``eventType``,
  ``description`` "ChatApps inbound message", and ``payload`` with ``umid``, ``subAccountId``,
  ``timestamp``, ``user`` (``msisdn``, ``channelUserId``, ``name``; ``msisdn`` left out for a
  customer known only by a channel user id, as v3 does), ``recipient`` (``channel``,
  ``channelId``), ``type`` and ``content`` (``text``, or ``interactive.button_reply`` for a tap).
- SMS (``inbound_sms``): ``namespace`` SMS, ``eventType``, ``description`` "SMS inbound
  message", and ``payload`` with ``umid``, ``subAccountId``, ``timestamp``, ``source`` (the
  customer), ``destination`` (the business number), ``body``, ``encoding``, ``smsCount`` and
  ``price``.

Where the documents are silent, the sandbox's choices: the business number is +6500000000;
an SMS is GSM7 when every character is in the GSM 03.38 basic set (extension characters count
twice), else UCS2, with 160/153 (GSM7) or 70/67 (UCS2) characters a part; the price is 0 EUR
(a sandbox charges nothing).
"""

from __future__ import annotations

BUSINESS_NUMBER = "+6500000000"
_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = set("^{}\\[~]|€\f")


def chat_apps_message(
    *,
    umid: str,
    subaccount: str,
    timestamp: str,
    msisdn: str | None,
    channel_user_id: str,
    name: str,
    channel: str,
    channel_id: str,
    text: str | None,
    button: dict | None = None,
) -> dict:
    """A v3 Messaging Apps inbound message: typed text, or (``button``) a quick-reply tap. Viber's
    documented body names the customer by ``msisdn`` alone (example v3_viber_msisdn_only). RCS has
    no documented body: the sandbox sends it the same way (RCS knows customers by phone number),
    the strict choice, so a workflow cannot come to rely on a name or channel id there."""
    user = {"msisdn": msisdn} if msisdn is not None else {}
    if channel not in ("viber", "rcs"):
        user.update(channelUserId=channel_user_id, name=name)
    if button is not None:
        kind, content = (
            "Interactive",
            {"interactive": {"type": "button_reply", "button_reply": {"id": button["id"], "title": button["title"]}}},
        )
    else:
        kind, content = "Text", {"text": text}
    return {
        "version": 3,
        "namespace": "ChatApps",
        "eventType": "inbound_message_received",
        "description": "ChatApps inbound message",
        "payload": {
            "umid": umid,
            "subAccountId": subaccount,
            "timestamp": timestamp,
            "user": user,
            "recipient": {"channel": channel, "channelId": channel_id},
            "type": kind,
            "content": content,
        },
    }


def sms_message(*, umid: str, subaccount: str, timestamp: str, source: str | None, body: str | None) -> dict:
    """An inbound SMS, with its encoding, part count and price as 8x8 documents them."""
    encoding, parts = sms_parts(body or "")
    return {
        "namespace": "SMS",
        "eventType": "inbound_message_received",
        "description": "SMS inbound message",
        "payload": {
            "umid": umid,
            "subAccountId": subaccount,
            "timestamp": timestamp,
            "source": source,
            "destination": BUSINESS_NUMBER,
            "body": body,
            "encoding": encoding,
            "smsCount": parts,
            "price": {"total": 0.0, "perSms": 0.0, "currency": "EUR"},
        },
    }


def sms_parts(text: str) -> tuple[str, int]:
    """(encoding, number of SMS parts) for a text."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text):
        length = sum(2 if c in _GSM7_EXTENSION else 1 for c in text)
        single, part = 160, 153
        encoding = "GSM7"
    else:
        length = sum(2 if ord(c) > 0xFFFF else 1 for c in text)  # UTF-16 code units
        single, part = 70, 67
        encoding = "UCS2"
    return encoding, 1 if length <= single else -(-length // part)
