"""The contract check's fast path (fastjsonschema) never accepts what the reference (jsonschema, as
helpers.openapi reads 8x8's definitions) refuses: the test run's thousands of requests and answers
pass through it. Checked on every example 8x8's definitions publish, and on those examples changed
at one place each (a field removed, added, or given another value), as hypothesis draws them.
Skips cleanly when the definitions are not beside the project."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.openapi import MISSING_REASON, Contract, available

pytestmark = pytest.mark.skipif(not available(), reason=MISSING_REASON)


def documented_examples(contract: Contract) -> list[tuple[str, dict, object]]:
    """(spec, schema, example) for every JSON example of a request or an answer in the definitions."""
    found = []
    for operation in contract.operations:
        bodies = [operation.op["requestBody"]] if "requestBody" in operation.op else []
        bodies += list(operation.op.get("responses", {}).values())
        for body in bodies:
            media = contract._deref(operation.spec, body).get("content", {}).get("application/json", {})
            if "schema" not in media:
                continue
            examples = [media["example"]] if "example" in media else []
            for named in (media.get("examples") or {}).values():
                named = contract._deref(operation.spec, named)
                examples += [named["value"]] if "value" in named else []
            found += [(operation.spec, media["schema"], example) for example in examples]
    return found


CONTRACT = Contract.load() if available() else None
EXAMPLES = documented_examples(CONTRACT) if CONTRACT else []


def reference_accepts(spec: str, schema: dict, instance) -> bool:
    return not any(True for _ in CONTRACT._validator(spec, schema).iter_errors(instance))


def places(node, at=()):
    """Every place in a JSON value, as the path of keys and indexes to it (the root is ())."""
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from places(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from places(value, (*at, index))


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def test_every_documented_example_gets_the_references_verdict():
    assert len(EXAMPLES) > 100  # the three definitions publish over two hundred
    disagree = [
        (spec, example)
        for spec, schema, example in EXAMPLES
        if CONTRACT.conforms(spec, schema, example) != reference_accepts(spec, schema, example)
    ]
    assert disagree == []


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_example_changed_at_one_place_is_never_accepted_where_the_reference_refuses_it(data):
    spec, schema, example = data.draw(st.sampled_from(EXAMPLES))
    changed = copy.deepcopy(example)
    at = data.draw(st.sampled_from(list(places(changed))))
    value = data.draw(JSON_VALUES)
    if not at:
        changed = value
    else:
        parent = changed
        for step in at[:-1]:
            parent = parent[step]
        how = data.draw(st.sampled_from(["replace", "remove", "add"] if isinstance(parent, dict) else ["replace"]))
        if how == "remove":
            del parent[at[-1]]
        elif how == "add":
            parent[data.draw(st.text(min_size=1, max_size=8))] = value
        else:
            parent[at[-1]] = value
    fast = CONTRACT.conforms(spec, schema, changed)
    assert not fast or reference_accepts(spec, schema, changed), (spec, changed)
