"""Every error the sandbox answers, in one place, with 8x8's status and error code.

Codes documented in ../shared/8x8-api: 1002 invalid MSISDN, 1200 not authenticated,
1300 not found, 4018 invalid job id, 5003 duplicate group name (Contacts); 1000 invalid
id, 5001 invalid definition (Automation). The others are not documented by 8x8 and are
the sandbox's choice, marked so below.
"""

from __future__ import annotations


class SandboxError(Exception):
    status = 400
    code = 1000

    def __init__(self, message: str, *, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class InvalidRequest(SandboxError):
    """Malformed JSON, wrong content type, a value out of range (code 1000, as Automation's)."""

    status, code = 400, 1000


class InvalidDefinitionId(SandboxError):
    """Automation: the definition id is not a uuid (documented: 400, code 1000)."""

    status, code = 400, 1000

    def __init__(self):
        super().__init__("Invalid definition id.")


class InvalidMsisdn(SandboxError):
    status, code = 400, 1002

    def __init__(self, value: object):
        super().__init__(f"Invalid MSISDN format (not E.164 international number): {value!r}")


class MessageTextTooLong(SandboxError):
    """Messaging Apps, documented: content.text is at most 35,000 characters (error 3006)."""

    status, code = 400, 3006


class ClientMessageIdTooLong(SandboxError):
    """Messaging Apps, documented: clientMessageId is at most 50 characters (error 3009)."""

    status, code = 400, 3009


class UnknownSubaccount(SandboxError):
    """Messaging Apps, documented: "Provided subAccountId doesn't belongs to your account"."""

    status, code = 400, 1001

    def __init__(self, subaccount: str):
        super().__init__(f"Provided subAccountId {subaccount!r} doesn't belong to your account")


class InvalidDefinition(SandboxError):
    status, code = 400, 5001


class NotAuthenticated(SandboxError):
    status, code = 401, 1200

    def __init__(self):
        super().__init__("Request was not authenticated properly")


class NotFound(SandboxError):
    status, code = 404, 1300


class InvalidJobId(SandboxError):
    status, code = 404, 4018

    def __init__(self):
        super().__init__("Invalid jobId")


class DuplicateGroupName(SandboxError):
    status, code = 409, 5003

    def __init__(self):
        super().__init__("A group with the same name already exists")


class AmbiguousContact(SandboxError):
    """Not documented: the sandbox's code for 'several contacts match these addresses'."""

    status, code = 409, 5004


class MethodNotAllowed(SandboxError):
    """Not documented: the sandbox's answer to a known path with an unknown method."""

    status, code = 405, 1000


class PayloadTooLarge(SandboxError):
    """Not documented: the sandbox's limit on a request body (server.MAX_BODY_BYTES)."""

    status, code = 413, 1000


class LengthRequired(SandboxError):
    """Not documented: the sandbox reads bodies by Content-Length only."""

    status, code = 411, 1000


class TooManyRequests(SandboxError):
    """Injected fault. The code is the sandbox's choice; 8x8 documents only the status."""

    status, code = 429, 1429


class ServiceUnavailable(SandboxError):
    """Injected fault. The code is the sandbox's choice."""

    status, code = 503, 1503
