"""Request and response objects shared by every sandbox service (no sockets here)."""

from __future__ import annotations

import email.parser
import email.policy
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequest

MAX_INT64 = 2**63 - 1


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # from the URL pattern

    def json(self, *, required: bool = True) -> Any:
        """The JSON body. Wrong content type or malformed JSON: 400, code 1000."""
        if not self.body:
            if required:
                raise InvalidRequest("A JSON request body is required.")
            return None
        content_type = self.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise InvalidRequest(f"Content-Type must be application/json, not {content_type or 'missing'!r}.")
        try:
            return json.loads(self.body)
        except RecursionError:
            raise InvalidRequest("Malformed JSON body: nested too deeply.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidRequest(f"Malformed JSON body: {exc}.") from None

    def form(self) -> dict:
        """A multipart/form-data body: field name -> text, or (file name, bytes) for a file part."""
        content_type = self.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "multipart/form-data" or "boundary=" not in content_type:
            raise InvalidRequest(
                f"Content-Type must be multipart/form-data with a boundary, not {content_type or 'missing'!r}."
            )
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + self.body
        )
        if not message.is_multipart():
            raise InvalidRequest("Malformed multipart/form-data body.")
        fields: dict = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                raise InvalidRequest("Each part of a multipart/form-data body needs a name.")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                fields[name] = (part.get_filename(), payload)
            else:
                try:
                    fields[name] = payload.decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidRequest(f"Form field {name!r} is not UTF-8 text.") from None
        return fields

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def int_arg(
        self, name: str, default: int | None = None, *, low: int | None = None, high: int | None = None
    ) -> int | None:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidRequest(f"Query parameter {name!r} must be an integer, got {raw!r}.") from None
        high = MAX_INT64 if high is None else min(high, MAX_INT64)  # SQLite's integers are 64-bit
        if (low is not None and value < low) or value > high:
            bounds = f"{low}..{high}" if low is not None else f"<= {high}"
            raise InvalidRequest(f"Query parameter {name!r} must be in {bounds}, got {value}.")
        return value

    def bool_arg(self, name: str, default: bool = False) -> bool:
        raw = self.arg(name)
        return default if raw is None else raw.strip().lower() in ("1", "true", "yes")


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
