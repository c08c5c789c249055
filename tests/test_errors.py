"""One error root: every failure of the library under it, with 8x8's status, code and errorId where
there is one; the exit codes belong to the command line, in one table."""

from __future__ import annotations

import inspect
from pathlib import Path

import helpers.errors as errors
from helpers.__main__ import exit_code_for
from helpers.bulk.run import NotAnOptOutGroup, UnknownGroup
from helpers.errors import (
    APIError,
    BadFile,
    BadInput,
    EightByEightError,
    NotebookFailed,
    NotFound,
    RunInterrupted,
    TransportError,
    WorkflowNotDeployed,
)
from helpers.expressions import ExpressionError, ScriptTimeout
from helpers.ledger import BadWindow
from helpers.numbers import InvalidNumber

HELPERS = Path(__file__).resolve().parents[1] / "helpers"


def test_every_failure_of_the_library_is_under_the_root_and_carries_8x8s_fields():
    for kind in (
        InvalidNumber,
        ExpressionError,
        ScriptTimeout,
        BadFile,
        UnknownGroup,
        NotAnOptOutGroup,
        BadWindow,
        NotebookFailed,
        errors.SecretNotPicklable,
    ):
        assert issubclass(kind, EightByEightError), kind
    assert issubclass(InvalidNumber, ValueError)  # still caught where a ValueError was
    plain = TransportError("no answer")
    assert (plain.status, plain.code, plain.error_id) == (None, None, None)
    answered = NotFound(404, "GET", "/groups/1", code=5001, message="no such group", error_id="e-1")
    assert (answered.status, answered.code, answered.error_id) == (404, 5001, "e-1")


def test_the_library_knows_no_exit_codes_and_raises_no_system_exit():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, EightByEightError)]
    assert classes and not any("exit_code" in vars(c) for c in classes)
    for path in HELPERS.rglob("*.py"):
        if path.name != "__main__.py":
            assert "SystemExit" not in path.read_text(encoding="utf-8"), path


def test_the_library_raises_no_bare_builtin_exception():
    """Every failure of the library is under the root (the sandbox, a server of its own, is not the library)."""
    import re

    builtin = re.compile(r"\braise (Exception|ValueError|TypeError|KeyError|LookupError|RuntimeError|OSError)\(")
    offenders = [
        f"{path.relative_to(HELPERS)}:{number}"
        for path in HELPERS.rglob("*.py")
        if "sandbox" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if builtin.search(line)
    ]
    assert offenders == []


def test_the_command_line_maps_error_classes_to_exit_codes_in_one_table():
    assert exit_code_for(BadFile("x")) == exit_code_for(InvalidNumber("x")) == 2
    assert exit_code_for(WorkflowNotDeployed("x")) == 2
    assert exit_code_for(RunInterrupted("x")) == exit_code_for(NotebookFailed("x")) == 1
    # 8x8 failing before anything changed is 2 (nothing done: run again later); part-way is RunInterrupted, 1
    assert exit_code_for(APIError(500, "GET", "/x")) == exit_code_for(TransportError("x")) == 2
    assert exit_code_for(BadInput("x")) == 2


def test_an_error_standing_for_an_8x8_answer_carries_its_status_code_and_error_id():
    answer = NotFound(404, "GET", "/groups/9", code=1300, message="Group not found", error_id="e-1")
    for error in (UnknownGroup("no group 9").answered_by(answer), RunInterrupted("stopped").answered_by(answer)):
        assert (error.status, error.code, error.error_id) == (404, 1300, "e-1")
    assert (BadInput("x").status, BadInput("x").error_id) == (None, None)  # None where 8x8 did not answer
