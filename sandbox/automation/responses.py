"""Automation API over HTTP."""

from __future__ import annotations

from ..errors import InvalidDefinition
from ..http import Request, Response
from . import models
from .models import AutomationBackend, DefinitionInput


def _paging(request: Request) -> tuple[int, int]:
    # automation_api.json: limit 1..500, default 100
    return request.int_arg("limit", 100, low=1, high=500), request.int_arg("offset", 0, low=0)


def _definition_input(request: Request) -> DefinitionInput:
    return definition_input(request.json(), request.params["accountId"])


def definition_input(body, account: str) -> DefinitionInput:
    """definitionInput from the wire: the types of its fields (the rules are the model's)."""
    if not isinstance(body, dict):
        raise InvalidDefinition("The definition must be a JSON object.")
    for required in ("accountId", "trigger", "definition"):  # definitionInput's required fields
        if body.get(required) is None:
            raise InvalidDefinition(f"{required} is required.")
    if not isinstance(body["accountId"], str) or body["accountId"] != account:
        raise InvalidDefinition("accountId must be the account of the path.")
    definition = body["definition"]
    if not isinstance(definition, dict) or not isinstance(definition.get("name"), str):
        raise InvalidDefinition("Workflow name is required.")
    if not isinstance(definition.get("steps"), list):
        raise InvalidDefinition("Workflow steps are required.")
    subaccount = body.get("subAccountId")
    if subaccount is not None and not isinstance(subaccount, str):
        raise InvalidDefinition("subAccountId must be a string.")
    trigger, status = body["trigger"], body.get("status", "disabled")
    if not isinstance(trigger, str) or not isinstance(status, str):
        raise InvalidDefinition("trigger and status must be strings.")
    return DefinitionInput(
        trigger=trigger, status=status, name=definition["name"], steps=definition["steps"], subaccount_id=subaccount
    )


def list_definitions(backend: AutomationBackend, request: Request) -> Response:
    return Response(200, backend.list(request.params["accountId"], *_paging(request)))


def create_definition(backend: AutomationBackend, request: Request) -> Response:
    account = request.params["accountId"]
    created = backend.create(account, _definition_input(request))
    return Response(201, created, {"Location": f"/api/v1/accounts/{account}/definitions/{created['id']}"})


def get_definition(backend: AutomationBackend, request: Request) -> Response:
    return Response(
        200, backend.versions(request.params["accountId"], request.params["definitionId"], *_paging(request))
    )


def update_definition(backend: AutomationBackend, request: Request) -> Response:
    return Response(
        200, backend.update(request.params["accountId"], request.params["definitionId"], _definition_input(request))
    )


def delete_definition(backend: AutomationBackend, request: Request) -> Response:
    backend.delete(request.params["accountId"], request.params["definitionId"])
    return Response(202)


def start_workflow(backend: AutomationBackend, request: Request) -> Response:
    account, definition_id = request.params["accountId"], request.params["definitionId"]
    run = backend.start(account, definition_id, request.json(), request.int_arg("version", None, low=1))
    location = f"/api/v1/accounts/{account}/definitions/{definition_id}/workflows/{run['workflowId']}"
    return Response(201, None, {"Location": location})


def list_workflows(backend: AutomationBackend, request: Request) -> Response:
    return Response(
        200,
        backend.list_workflows(
            request.params["accountId"],
            request.params["definitionId"],
            *_paging(request),
            version=request.int_arg("version", None, low=1),
            status=request.arg("status"),
            started_from=request.arg("startTimeFrom"),
            started_to=request.arg("startTimeTo"),
        ),
    )


def get_workflow(backend: AutomationBackend, request: Request) -> Response:
    return Response(
        200,
        backend.get_workflow(
            request.params["accountId"],
            request.params["definitionId"],
            request.params["workflowId"],
            include_logs=request.bool_arg("includeLogs"),
        ),
    )


def workflow_errors(backend: AutomationBackend, request: Request) -> Response:
    return Response(
        200, backend.errors(request.params["accountId"], request.params["definitionId"], request.params["workflowId"])
    )


def list_functions(backend: AutomationBackend, request: Request) -> Response:
    return Response(200, models.functions())


def list_time_zones(backend: AutomationBackend, request: Request) -> Response:
    return Response(200, models.time_zones(request.arg("contains")))
