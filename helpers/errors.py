"""Everything the runbook's library raises, under one root (as stripe's ``_error.py`` does).

Catch :class:`EightByEightError` for all of them. Each carries ``status``, ``code`` and
``error_id`` (8x8's HTTP status, error code and errorId where 8x8 answered; None otherwise). The
library knows nothing of exit codes: the command line maps these classes to them, in one table
(``helpers.__main__.exit_code_for``).

    EightByEightError
    ├── BadInput (also a ValueError)        settings, files, options, windows, unknown groups
    │   ├── ConfigError                     a setting is missing or malformed
    │   ├── GroupNotFound (also LookupError)
    │   └── (numbers) InvalidNumber; (bulk) BadFile, UnknownGroup, NotAnOptOutGroup; (ledger) BadWindow;
    │       (policy, workflow) rule breaks
    ├── WorkflowNotDeployed
    ├── ConnectionCheckFailed               notebook 00's check failed
    ├── RunInProgress                       another bulk run holds the group
    ├── RunInterrupted                      the platform failed mid-run; the same command resumes
    ├── NotebookFailed                      the runbook job stopped at a notebook
    ├── VerificationFailed                  test messages did not do what was expected
    ├── WorkflowTimeout (also TimeoutError) a run did not finish in time
    ├── ExpressionError                     a {{ }} script failed in QuickJS (ScriptTimeout: over 500 ms)
    ├── NotOnSandbox                        sandbox-only controls asked for in live mode
    ├── SandboxControlError                 a /_sandbox/ control answered an error
    ├── TransportError                      no answer (connection refused, timeout) after retries
    ├── UnexpectedResponse                  a success status without the JSON the API defines, or a redirect
    └── APIError                            8x8 answered an error status, with its code, message and errorId
        ├── BadRequest 400, Unauthorized 401, Forbidden 403, NotFound 404, Conflict 409
        ├── RateLimited 429
        └── ServerError 5xx
"""

from __future__ import annotations


class EightByEightError(Exception):
    """The root of everything the runbook's library raises."""

    status: int | None = None  # 8x8's HTTP status, when 8x8 answered
    code: int | None = None  # 8x8's error code, when it gave one
    error_id: str | None = None  # 8x8's errorId, to quote to 8x8's support

    def answered_by(self, cause: EightByEightError) -> EightByEightError:
        """This error, carrying the status, code and errorId of the 8x8 answer it stands for (an
        UnknownGroup for a 404, a RunInterrupted for the 503 that stopped the run)."""
        self.status, self.code, self.error_id = cause.status, cause.code, cause.error_id
        return self


class BadInput(EightByEightError, ValueError):
    """Something given to the runbook cannot be used; the message says what and how to fix it."""


class BadFile(BadInput):
    """A file to read, or a report or journal to write, cannot be used; nothing was changed (exit code 2)."""


class SecretNotPicklable(EightByEightError, TypeError):
    """The API key (a Secret) refuses to be pickled into files or caches."""


class ConfigError(BadInput):
    """A setting is missing or malformed; the message says which and how to fix it."""


class GroupNotFound(BadInput, LookupError):
    """No opt-out group of that name or id (run notebook 01, or fix the name)."""


class WorkflowNotDeployed(EightByEightError):
    """The runbook's opt-out workflow is not deployed on the subaccount (run notebook 03)."""


class ConnectionCheckFailed(EightByEightError):
    """Notebook 00's connection check failed: nothing after it could work."""


class RunInProgress(EightByEightError):
    """Another run holds the lock of this job (a bulk run or repair of the group, a deploy or a health
    check of the subaccount), or the lock cannot be trusted; nothing was changed by this one (exit 2)."""


class RunInterrupted(EightByEightError):
    """The work stopped part-way (the platform failed); the same command resumes it."""


class NotebookFailed(EightByEightError):
    """The runbook job stopped at a notebook (later notebooks build on it)."""


class VerificationFailed(EightByEightError):
    """Test messages through the deployed workflow did not do what was expected (notebook 04)."""


class WorkflowTimeout(EightByEightError, TimeoutError):
    """A workflow run did not finish in the time allowed."""


class NotOnSandbox(EightByEightError):
    """A sandbox-only control was asked for while talking to 8x8."""


class SandboxControlError(EightByEightError):
    """A sandbox control (/_sandbox/...) answered with an error."""


class TransportError(EightByEightError):
    """The request did not get an answer (connection refused, timeout), even after retries."""


class UnexpectedResponse(EightByEightError):
    """A success status whose body is not the JSON the API defines (a wrong base URL, a proxy's
    page), or a redirect, which 8x8's APIs never answer."""


class APIError(EightByEightError):
    """8x8 answered with an error status. Carries 8x8's own error code, message and errorId."""

    status: int
    code: int | None
    message: str
    error_id: str | None

    def __init__(
        self,
        status: int,
        method: str,
        path: str,
        code: int | None = None,
        message: str = "",
        error_id: str | None = None,
        body: object = None,
        retry_after: str | None = None,
    ):
        self.retry_after = retry_after
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
        if self.retry_after and self.retry_after.strip() not in ("0", "0.0"):
            text += f" (it asked to wait {self.retry_after} s; retries wait at most 30 s each)"
        hint = _HINTS.get(self.status)
        return f"{text}. {hint}" if hint else text


class BadRequest(APIError):
    """400: the request was malformed or a value was invalid (e.g. code 1002, invalid MSISDN)."""


class Unauthorized(APIError):
    """401, code 1200: the API key is missing or wrong."""


class Forbidden(APIError):
    """403: the key is valid but may not do this (a key without the Contacts or Automation scope)."""


class NotFound(APIError):
    """404: the group, contact, definition or job does not exist."""


class Conflict(APIError):
    """409: e.g. code 5003, a group with the same name already exists."""


class RateLimited(APIError):
    """429: over the rate limit, and still so after the retries."""


class ServerError(APIError):
    """5xx: the platform failed, and still did after the retries (for requests safe to repeat)."""


_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 429: RateLimited}
_HINTS = {
    401: "Check EIGHTXEIGHT_API_KEY (API Keys page of 8x8 Connect), or unset it to use the sandbox.",
    403: "The API key is valid but not allowed to do this: give it the Contacts and Automation scopes in Connect.",
    429: "8x8 is rate limiting this key; wait and run again (finished work is not repeated).",
}


def error_for_status(status: int) -> type[APIError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else APIError
