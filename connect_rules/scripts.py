"""8x8's rules for workflow scripts, the JavaScript inside ``{{ }}``, checked on a real parse tree.

8x8's "Context & Scripting" page (../shared/8x8-api/NOTES.md, "Script rules"):
- a script (the text inside one ``{{ }}``) is at most 1000 characters;
- assignments, allocations and type declarations are forbidden; recursive functions are
  forbidden; a script that runs longer than 500 ms is stopped.

The sandbox refuses a definition that breaks these rules, and the workflow builder checks its
own scripts with the same function, so nothing is deployed that 8x8 would refuse. The parse
tree comes from tree-sitter's JavaScript grammar (a maintained parser), never from regular
expressions over the source.

Where 8x8's text is silent, the strict reading, written down:
- "characters" are counted as JavaScript counts them (UTF-16 code units), which is never
  fewer than Python's code points;
- an allocation is a ``new`` expression; array, object and regex literals are allowed
  (8x8 documents regex literals as supported);
- a type declaration is ``var``/``let``/``const``, a function declaration or a class
  (declaration or expression); function *expressions* and arrow functions are allowed;
- recursion: a named function expression that calls its own name, and ``arguments.callee``;
- ``eval`` and ``Function`` are refused: code built at run time escapes every check here;
- a script is one expression: several statements (``a; b``) or a syntax error are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_SCRIPT_LENGTH = 1000
MAX_SCRIPT_RUN_MS = 500

TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)

_DECLARATIONS = {
    "variable_declaration": "var",
    "lexical_declaration": "let/const",
    "function_declaration": "function declaration",
    "generator_function_declaration": "function declaration",
    "class_declaration": "class declaration",
    "class": "class expression",
}
_ASSIGNMENTS = {"assignment_expression", "augmented_assignment_expression", "update_expression"}
_DYNAMIC_CODE = {"eval", "Function"}


@dataclass(frozen=True)
class Violation:
    rule: str  # length, assignment, allocation, declaration, recursion, dynamic code, syntax
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


@dataclass(frozen=True)
class Script:
    """One ``{{ }}`` script of a definition, and where it sits."""

    step: str
    field: str  # e.g. "selectNextStep.add_to_opt_out_group" or "inputs.body.addresses.msisdn"
    source: str

    @property
    def length(self) -> int:
        return js_length(self.source)

    def violations(self) -> list[Violation]:
        return check_script(self.source)


def js_length(source: str) -> int:
    """Length as JavaScript counts it: UTF-16 code units."""
    return len(source.encode("utf-16-le")) // 2


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter
    import tree_sitter_javascript

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))


def check_script(source: str) -> list[Violation]:
    """Every rule ``source`` (the text inside one ``{{ }}``) breaks; empty when it keeps them all."""
    found: list[Violation] = []
    length = js_length(source)
    if length > MAX_SCRIPT_LENGTH:
        found.append(Violation("length", f"{length} characters, more than the {MAX_SCRIPT_LENGTH} allowed"))
    code = source.encode("utf-8")
    root = _parser().parse(code).root_node

    def text(node) -> str:
        return code[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def where(node) -> str:
        return f"`{_shorten(text(node))}` at character {len(code[: node.start_byte].decode('utf-8', 'replace')) + 1}"

    statements = [n for n in root.named_children if n.type != "comment"]
    if root.has_error:
        found.append(Violation("syntax", "the script does not parse as JavaScript"))
    elif len(statements) != 1 or statements[0].type != "expression_statement":
        found.append(Violation("syntax", "a script must be a single expression"))

    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.is_named:  # keywords and punctuation ("class", "=") are leaves of the named nodes
            broken = _node_violation(node, text, where)
            if broken is not None:
                found.append(broken)
    return found


def _node_violation(node, text, where) -> Violation | None:
    """The rule one named node of the parse tree breaks, if any."""
    kind = node.type
    if kind in _DECLARATIONS:
        return Violation("declaration", f"{_DECLARATIONS[kind]} {where(node)}")
    if kind in _ASSIGNMENTS:
        return Violation("assignment", where(node))
    if kind == "new_expression":
        return Violation("allocation", f"`new` {where(node)}")
    if kind == "call_expression":
        callee = node.child_by_field_name("function")
        if callee is not None and callee.type == "identifier" and text(callee) in _DYNAMIC_CODE:
            return Violation("dynamic code", where(node))
    elif kind in ("function_expression", "function"):
        name = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        if name is not None and body is not None and _calls(body, text(name), text):
            return Violation("recursion", f"function {text(name)} calls itself")
    elif kind == "member_expression" and _shorten(text(node)) == "arguments.callee":
        return Violation("recursion", "arguments.callee")
    return None


def _calls(body, name: str, text) -> bool:
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "identifier" and text(node) == name:
            return True
        stack.extend(node.children)
    return False


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scripts_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, script) for every ``{{ }}`` inside a JSON value."""
    if isinstance(value, str):
        for match in TEMPLATE.finditer(value):
            yield path, match.group(1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from scripts_in(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from scripts_in(item, f"{path}[{i}]")


def definition_scripts(steps: list[dict]) -> list[Script]:
    """Every script of a definition's steps: inputs, outputs and Branch conditions."""
    found = []
    for step in steps:
        if not isinstance(step, dict):
            continue
        for part in ("inputs", "outputs", "selectNextStep"):
            for field, source in scripts_in(step.get(part), part):
                found.append(Script(str(step.get("id")), field, source))
    return found
