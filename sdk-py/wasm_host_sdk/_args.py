"""The argument rules every wasm-host SDK applies before a handler runs.

The same rules, word for word, as sdk-js ``args.js`` and sdk-rust ``args.rs``, checked from one
shared table (``tests/data/sdk-arguments.json``):

1. empty text means ``{}``; text that is not JSON, or JSON that is not an object, is refused;
2. every ``required`` property must be present;
3. with ``additionalProperties: false``, no property outside ``properties``;
4. a top-level property with a ``type`` must have it (``integer`` counts as a ``number``;
   ``null`` only where the type lists it);
5. a top-level property with an ``enum`` must be one of its values.

Pure Python with no WIT imports, so the rules also run outside a component.
"""

from __future__ import annotations

import json
from typing import Any, Optional, Tuple

__all__ = ["json_type", "argument_problem", "parse_arguments"]


def json_type(value: Any) -> str:
    """The JSON type of a parsed value: null, boolean, integer, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_matches(value: Any, expected: str) -> bool:
    actual = json_type(value)
    return actual == expected or (expected == "number" and actual == "integer")


def argument_problem(schema: dict, args: dict) -> Optional[str]:
    """Why ``args`` (a parsed object) are refused by ``schema``, or ``None`` when they pass."""
    props = schema.get("properties") or {}
    for key in schema.get("required") or []:
        if key not in args:
            return f"missing required argument `{key}`"
    for key, value in args.items():
        prop = props.get(key)
        if not isinstance(prop, dict):
            if key not in props and schema.get("additionalProperties") is False:
                return f"unexpected argument `{key}`"
            continue
        declared = prop.get("type")
        types = [] if declared is None else declared if isinstance(declared, list) else [declared]
        if types and not any(_type_matches(value, t) for t in types):
            return f"`{key}` must be {' or '.join(types)}, got {json_type(value)}"
        enum = prop.get("enum")
        if isinstance(enum, list) and not any(_same(value, v) for v in enum):
            listed = ", ".join(json.dumps(v) for v in enum)
            return f"`{key}` must be one of {listed}"
    return None


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1``, ``2`` is ``2.0``."""
    ta, tb = json_type(a), json_type(b)
    numeric = ("integer", "number")
    return a == b and (ta == tb or (ta in numeric and tb in numeric))


def parse_arguments(schema: dict, text: str) -> Tuple[Optional[dict], Optional[str]]:
    """Parses ``text`` and applies the rules: ``(args, None)`` or ``(None, problem)``."""
    try:
        args = json.loads(text) if text.strip() else {}
    except ValueError as e:
        return None, f"arguments are not valid JSON: {e}"
    if not isinstance(args, dict):
        return None, f"arguments must be a JSON object, got {json_type(args)}"
    problem = argument_problem(schema, args)
    return (None, problem) if problem else (args, None)
