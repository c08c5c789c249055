"""Exceptions raised by the 8x8 client. Catch :class:`EightByEightError` for all of them."""
from __future__ import annotations


class EightByEightError(Exception):
    """Base class of everything the client raises."""


class TransportError(EightByEightError):
    """The request did not get an answer (connection refused, timeout), even after retries."""


class UnexpectedResponse(EightByEightError):
    """A success status whose body is not the JSON the API defines (a wrong base URL, a proxy's page)."""


class WorkflowNotDeployed(EightByEightError):
    """The runbook's opt-out workflow is not deployed on the subaccount (run notebook 03)."""


class APIError(EightByEightError):
    """8x8 answered with an error status. Carries 8x8's own error code, message and errorId."""

    status: int
    code: int | None
    message: str
    error_id: str | None

    def __init__(self, status: int, method: str, path: str, code: int | None = None,
                 message: str = "", error_id: str | None = None, body: object = None):
        self.status = status
        self.method = method
        self.path = path
        self.code = code
        self.message = message
        self.error_id = error_id
        self.body = body
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.method} {self.path} answered {self.status}"
        if self.code is not None:
            text += f" (8x8 code {self.code})"
        if self.message:
            text += f": {self.message}"
        if self.error_id:
            text += f" [errorId {self.error_id}]"
        hint = _HINTS.get(self.status)
        return f"{text}. {hint}" if hint else text


class BadRequest(APIError):
    """400: the request was malformed or a value was invalid (e.g. code 1002, invalid MSISDN)."""


class Unauthorized(APIError):
    """401, code 1200: the API key is missing or wrong."""


class NotFound(APIError):
    """404: the group, contact, definition or job does not exist."""


class Conflict(APIError):
    """409: e.g. code 5003, a group with the same name already exists."""


class RateLimited(APIError):
    """429: over the rate limit, and still so after the retries."""


class ServerError(APIError):
    """5xx: the platform failed, and still did after the retries (for requests safe to repeat)."""


_BY_STATUS = {400: BadRequest, 401: Unauthorized, 404: NotFound, 409: Conflict, 429: RateLimited}
_HINTS = {
    401: "Check EIGHTXEIGHT_API_KEY (API Keys page of 8x8 Connect), or unset it to use the sandbox.",
    429: "8x8 is rate limiting this key; wait and run again (finished work is not repeated).",
}


def error_for_status(status: int) -> type[APIError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else APIError
