"""Automation API over HTTP."""
from __future__ import annotations

from ..http import Request, Response
from .models import AutomationBackend


def _paging(request: Request) -> tuple[int, int]:
    return request.int_arg("limit", 100, low=1, high=1000), request.int_arg("offset", 0, low=0)


def list_definitions(backend: AutomationBackend, request: Request) -> Response:
    return Response(200, backend.list(request.params["accountId"], *_paging(request)))


def create_definition(backend: AutomationBackend, request: Request) -> Response:
    account = request.params["accountId"]
    created = backend.create(account, request.json())
    return Response(201, created, {"Location": f"/api/v1/accounts/{account}/definitions/{created['id']}"})


def get_definition(backend: AutomationBackend, request: Request) -> Response:
    return Response(200, backend.versions(request.params["accountId"], request.params["definitionId"],
                                          *_paging(request)))


def update_definition(backend: AutomationBackend, request: Request) -> Response:
    return Response(200, backend.update(request.params["accountId"], request.params["definitionId"], request.json()))


def delete_definition(backend: AutomationBackend, request: Request) -> Response:
    backend.delete(request.params["accountId"], request.params["definitionId"])
    return Response(202)


def start_workflow(backend: AutomationBackend, request: Request) -> Response:
    account, definition_id = request.params["accountId"], request.params["definitionId"]
    run = backend.start(account, definition_id, request.json(), request.int_arg("version", None, low=1))
    location = f"/api/v1/accounts/{account}/definitions/{definition_id}/workflows/{run['workflowId']}"
    return Response(201, None, {"Location": location})


def list_workflows(backend: AutomationBackend, request: Request) -> Response:
    return Response(200, backend.list_workflows(request.params["accountId"], request.params["definitionId"],
                                                *_paging(request)))


def get_workflow(backend: AutomationBackend, request: Request) -> Response:
    return Response(200, backend.get_workflow(request.params["accountId"], request.params["definitionId"],
                                              request.params["workflowId"],
                                              include_logs=request.bool_arg("includeLogs")))


def workflow_errors(backend: AutomationBackend, request: Request) -> Response:
    return Response(200, backend.errors(request.params["accountId"], request.params["definitionId"],
                                        request.params["workflowId"]))
