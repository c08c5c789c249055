"""Validate requests, responses and workflow definitions against 8x8's official OpenAPI files.

The definitions are read from ../shared/8x8-api beside the project (never copied into it);
``EIGHTXEIGHT_API_DEFINITIONS`` may point elsewhere. Where they are absent, callers skip
the check and say so.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import EightByEightError


def import_jsonschema() -> ModuleType:
    """jsonschema without its IRI grammar. When rfc3987_syntax is installed (Jupyter's
    jsonschema[format-nongpl] brings it), jsonschema imports it for the "iri" format checks, and
    it compiles a lark grammar as it is imported: 1.5 s of every process that validates (each
    kernel that runs notebook 03, the runbook job through nbformat). The checks here and
    nbformat's use no format checker, so that grammar is never used; the import is told it is
    absent (jsonschema skips absent ones). Call it before anything imports nbformat."""
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import jsonschema

        return jsonschema
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # importing it raises ImportError
    try:
        import jsonschema
    finally:
        del sys.modules["rfc3987_syntax"]
    return jsonschema


jsonschema = import_jsonschema()
import fastjsonschema  # noqa: E402
from referencing import Registry  # noqa: E402
from referencing.jsonschema import DRAFT4  # noqa: E402

SPEC_DIR = Path(
    os.environ.get("EIGHTXEIGHT_API_DEFINITIONS") or Path(__file__).resolve().parents[2] / "shared" / "8x8-api"
)
SPEC_FILES = {
    "contacts": "contacts_api.json",
    "automation": "automation_api.json",
    "messaging": "business_messaging_api.json",
}
MISSING_REASON = (
    f"8x8's official OpenAPI definitions are not at {SPEC_DIR} (../shared/8x8-api): put them there, or set "
    "EIGHTXEIGHT_API_DEFINITIONS, to run the contract tests (docs/how-to/run-the-contract-tests.md)"
)


def available() -> bool:
    return all((SPEC_DIR / name).is_file() for name in SPEC_FILES.values())


class ContractError(EightByEightError, AssertionError):
    """A request, answer or definition does not match 8x8's official OpenAPI definition."""


# 8x8's files use oneOf where the alternatives overlap by construction (workflowInstance and
# workflowInstanceWithLogs: every instance with logs matches both), so a strict oneOf would
# refuse every real answer. It is read as anyOf, as their authors evidently meant.
_LenientOneOf = jsonschema.validators.extend(
    jsonschema.Draft4Validator, {"oneOf": jsonschema.Draft4Validator.VALIDATORS["anyOf"]}
)


def _any_of_for_one_of(node):
    """A copy of a schema document with every ``oneOf`` read as ``anyOf``, as _LenientOneOf reads it.
    The names under ``properties`` and the other maps of schemas are names, never keywords: kept."""
    if isinstance(node, list):
        return [_any_of_for_one_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "definitions", "schemas") and isinstance(value, dict):
            out[key] = {name: _any_of_for_one_of(schema) for name, schema in value.items()}
        else:
            out["anyOf" if key == "oneOf" else key] = _any_of_for_one_of(value)
    return out


def _read_as_meant(spec: str, doc: dict) -> None:
    """Where a file contradicts its own example, read it as the example shows.

    automation_api.json types a function parameter's ``default`` and ``example`` as objects,
    while its own ``functions`` example gives ``null`` and strings ("2021-05-25", "Monday"):
    they are read as any JSON value. An instance's ``completedAt`` is typed a string whose
    description says "Otherwise, null" (default null) for a run not completed (Runnable, a Wait
    step sleeping): a string or null. Nothing else is loosened.
    """
    if spec == "automation":
        schemas = doc["components"]["schemas"]
        params = schemas["function"]["properties"]["parameters"]["items"]["properties"]
        for name in ("default", "example"):
            params[name] = {"description": params[name].get("description", "")}
        for instance in ("workflowInstance", "workflowInstanceWithLogs"):
            completed = schemas.get(instance, {}).get("properties", {}).get("completedAt")
            if completed and "null" in completed.get("description", ""):
                completed["type"] = ["string", "null"]


@dataclass
class Operation:
    spec: str
    method: str
    template: str
    pattern: re.Pattern
    op: dict
    path_item: dict


@dataclass
class Contract:
    """Every operation of the three definitions, and counters of what was validated."""

    operations: list[Operation] = field(default_factory=list)
    requests_validated: int = 0
    responses_validated: int = 0
    _registries: dict = field(default_factory=dict)
    _docs: dict = field(default_factory=dict)
    _validators: dict = field(default_factory=dict)
    _compiled: dict = field(default_factory=dict)

    @classmethod
    def load(cls) -> Contract:
        contract = cls()
        for spec, name in SPEC_FILES.items():
            doc = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
            _read_as_meant(spec, doc)
            uri = f"urn:8x8:{spec}"
            contract._docs[spec] = (uri, doc)
            contract._registries[spec] = Registry().with_resource(uri, DRAFT4.create_resource(doc))
            for template, path_item in doc["paths"].items():
                regex = re.sub(r"\{[^/]+?\}", "[^/]+", template)
                for method, op in path_item.items():
                    if method in ("get", "post", "put", "patch", "delete"):
                        contract.operations.append(
                            Operation(spec, method.upper(), template, re.compile(regex + "/?"), op, path_item)
                        )
        # Longer literal templates first, so /contacts/batches/x wins over /contacts/{contactId}.
        contract.operations.sort(key=lambda o: (-o.template.count("/"), o.template.count("{")))
        return contract

    def find(self, method: str, path: str) -> Operation:
        for operation in self.operations:
            if operation.method == method and operation.pattern.fullmatch(path):
                return operation
        raise ContractError(f"{method} {path} is not an operation of 8x8's published APIs")

    def _validator(self, spec: str, schema: dict):
        """A validator for one schema of a document, built once (building one is the slow part)."""
        key = (spec, json.dumps(schema, sort_keys=True))
        if key not in self._validators:
            uri, doc = self._docs[spec]
            # The schema sits inside its whole document so that every local "#/..." reference resolves.
            registry = self._registries[spec].with_resource(uri, DRAFT4.create_resource({**doc, "_schema": schema}))
            self._validators[key] = _LenientOneOf({"$ref": uri + "#/_schema"}, registry=registry)
        return self._validators[key]

    def _fast_check(self, spec: str, schema: dict):
        """The same schema compiled to Python by fastjsonschema, built once: about fifteen times faster
        than the validator above, which is the reference. Read as that one reads it: Draft 4, every
        ``oneOf`` as ``anyOf``, no format checked (jsonschema checks none without a format checker),
        and no default written into the instance."""
        key = (spec, json.dumps(schema, sort_keys=True))
        if key not in self._compiled:
            doc = _any_of_for_one_of({**self._docs[spec][1], "_schema": schema})
            root = {**doc, "$schema": "http://json-schema.org/draft-04/schema#", "$ref": "#/_schema"}
            self._compiled[key] = fastjsonschema.compile(root, use_default=False, use_formats=False)
        return self._compiled[key]

    def conforms(self, spec: str, schema: dict, instance: Any) -> bool:
        """The fast verdict alone (tests/test_contract_checker.py holds it to the reference's)."""
        try:
            self._fast_check(spec, schema)(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def _validate(self, spec: str, schema: dict, instance, what: str) -> None:
        if self.conforms(spec, schema, instance):
            return
        # Refused: the reference validator decides, and says what is wrong in its words.
        validator = self._validator(spec, schema)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            detail = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:5])
            raise ContractError(f"{what} does not match the official definition: {detail}")

    def check_request(self, method: str, url: str, body: bytes | None, content_type: str | None) -> Operation:
        parts = urlsplit(url)
        operation = self.find(method, parts.path)
        what = f"request {method} {parts.path}"
        params = list(operation.path_item.get("parameters", [])) + list(operation.op.get("parameters", []))
        query = parse_qs(parts.query)
        for param in params:
            param = self._deref(operation.spec, param)
            if param.get("in") != "query" or param["name"] not in query:
                continue
            value = query[param["name"]][-1]
            schema = param.get("schema", {})
            value = _query_value(value, schema.get("type"))
            self._validate(operation.spec, schema, value, f"{what} query {param['name']}")
        request_body = operation.op.get("requestBody")
        if body:
            media = (request_body or {}).get("content", {}).get("application/json")
            if media is None:
                raise ContractError(f"{what} sends a JSON body the definition does not take")
            if (content_type or "").split(";")[0] != "application/json":
                raise ContractError(f"{what} sends Content-Type {content_type!r}, not application/json")
            if "schema" in media:
                self._validate(operation.spec, media["schema"], json.loads(body), what + " body")
        self.requests_validated += 1
        return operation

    def check_response(self, method: str, url: str, status: int, body: bytes, content_type: str | None) -> None:
        path = urlsplit(url).path
        operation = self.find(method, path)
        what = f"response {status} to {method} {path}"
        responses = operation.op.get("responses", {})
        documented = responses.get(str(status))
        if documented is None:
            if status in (401, 429, 500, 503):
                documented = self._common_error(operation.spec)  # platform-wide answers
            else:
                raise ContractError(
                    f"{what}: status {status} is not documented for this operation (documented: {', '.join(responses)})"
                )
        documented = self._deref(operation.spec, documented)
        media = documented.get("content", {}).get("application/json")
        if status == 204:  # HTTP: no content, whatever the definition's example shows
            if body:
                raise ContractError(f"{what}: a 204 answer must have no body")
        elif media and "schema" in media:
            if not body:
                raise ContractError(f"{what}: the definition has a JSON body, the response has none")
            if "json" not in (content_type or ""):
                raise ContractError(f"{what}: Content-Type {content_type!r} is not JSON")
            self._validate(operation.spec, media["schema"], json.loads(body), what)
        self.responses_validated += 1

    def _common_error(self, spec: str) -> dict:
        if spec == "contacts":
            return self._deref(
                "contacts", {"$ref": "#/paths/~1api~1v1~1accounts~1%7BaccountId%7D~1groups/get/responses/400"}
            )
        return {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}}

    def check_definition(self, definition: dict) -> None:
        """A workflow definition against the Automation API's definitionInput schema."""
        schema = {"$ref": "#/components/schemas/definitionInput"}
        self._validate("automation", schema, definition, "workflow definition")

    def _deref(self, spec: str, node: dict) -> dict:
        doc = self._docs[spec][1]
        while isinstance(node, dict) and "$ref" in node:
            parts, node = node_ref(node["$ref"]), doc
            for part in parts:
                node = node[int(part)] if isinstance(node, list) else node[part]
        return node


def node_ref(ref: str) -> list[str]:
    """The parts of a local JSON pointer reference, percent- and ~-decoded."""
    return [unquote(p).replace("~1", "/").replace("~0", "~") for p in ref.lstrip("#/").split("/")]


def _query_value(raw: str, kind: str | None):
    """A query string value as the schema's type reads it (left as text when it does not parse)."""
    if kind in ("integer", "number"):
        try:
            return int(raw) if kind == "integer" else float(raw)
        except ValueError:
            return raw
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw
