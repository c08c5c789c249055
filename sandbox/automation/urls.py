"""Automation API routes, as in automation_api.json."""

from . import responses as r

DEFINITIONS = r"/api/v1/accounts/(?P<accountId>[^/]+)/definitions"
ONE = DEFINITIONS + r"/(?P<definitionId>[^/]+)"

url_patterns = [
    ("GET", DEFINITIONS, r.list_definitions),
    ("POST", DEFINITIONS, r.create_definition),
    ("GET", ONE, r.get_definition),
    ("PUT", ONE, r.update_definition),
    ("DELETE", ONE, r.delete_definition),
    ("GET", ONE + r"/workflows", r.list_workflows),
    ("POST", ONE + r"/workflows", r.start_workflow),
    ("GET", ONE + r"/workflows/(?P<workflowId>[^/]+)", r.get_workflow),
    ("GET", ONE + r"/workflows/(?P<workflowId>[^/]+)/errors", r.workflow_errors),
    ("GET", r"/api/v1/accounts/(?P<accountId>[^/]+)/steps/functions", r.list_functions),
    ("GET", r"/api/v1/accounts/(?P<accountId>[^/]+)/steps/timezones", r.list_time_zones),
]
