"""The Python guest SDK for wasm-host: tools as plain, decorated functions.

A tool author writes::

    from wasm_host_sdk import Tool, tool   # `Tool` is the export componentize-py looks for

    @tool(description="Add two numbers.")
    def add(a: int, b: int) -> dict:
        return {"sum": a + b}

and builds with ``wasm-host build`` (componentize-py against the embedded WIT, this SDK on the
path). Programs use :mod:`wasm_host_sdk.program` instead.

This module owns the registry of decorated tools, the ``Tool`` class that implements the
``wasm-host:mcp/tool`` export (``list-tools`` and ``call``), the mapping of Python values and
exceptions onto the WIT ``tool-output`` / ``tool-error`` variants, and ``log``.
It imports the bindings componentize-py generates (``wit_world``), so it only runs inside a
``tool-component`` build (or next to bindings made with ``componentize-py bindings``).
"""

from __future__ import annotations

import inspect
import json
import re
import traceback
import types
import typing
from typing import Any, Callable, Optional

from componentize_py_types import Err
from wit_world import exports as _exports
from wit_world.imports import log as _log
from wit_world.imports import types as _wit

from ._args import parse_arguments

__all__ = [
    "tool", "log", "parse_arguments",
    "ToolError", "InvalidArguments", "NotFound", "Failed", "Denied",
]


# ---------------------------------------------------------------------------------------------
# Errors a tool raises on purpose; each maps one-to-one onto a WIT `tool-error` case.

class ToolError(Exception):
    """Base of the errors a tool raises on purpose; the message goes to the caller as is."""

    _wit = _wit.ToolError_Failed


class InvalidArguments(ToolError):
    """The arguments are unusable; say which and why."""

    _wit = _wit.ToolError_InvalidArguments


class NotFound(ToolError):
    """No such item (file, row, key...)."""

    _wit = _wit.ToolError_NotFound


class Failed(ToolError):
    """The tool ran and failed."""

    _wit = _wit.ToolError_Failed


class Denied(ToolError):
    """A capability the tool needed was not granted."""

    _wit = _wit.ToolError_Denied


# ---------------------------------------------------------------------------------------------
# Logging through the `wasm-host:mcp/log` import.

_LEVELS = {
    "trace": _log.Level.TRACE, "debug": _log.Level.DEBUG, "info": _log.Level.INFO,
    "warn": _log.Level.WARN, "warning": _log.Level.WARN, "error": _log.Level.ERROR,
}


def log(message: Any, level: str = "info") -> None:
    """Adds one line to the call's log (``level``: trace, debug, info, warn, error)."""
    _log.log(_LEVELS.get(level, _log.Level.INFO), str(message))


# ---------------------------------------------------------------------------------------------
# The registry: what `@tool` records about each function.

_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean",
               dict: "object", list: "array"}


class _Spec:
    """One registered tool: the function, its signature and what `list-tools` reports."""

    def __init__(self, fn, name, description, schema, title, output_schema, hints):
        self.fn = fn
        self.name = name
        self.description = description
        self.signature = inspect.signature(fn)
        self.types = _param_types(fn, self.signature)
        self.schema = schema if schema is not None else _derive_schema(self.signature, self.types)
        self.title = title
        self.output_schema = output_schema
        self.hints = hints

    def definition(self):
        return _wit.ToolDef(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=json.dumps(self.schema),
            output_schema=None if self.output_schema is None else json.dumps(self.output_schema),
            hints=_wit.ToolHints(**self.hints),
        )


_TOOLS = {}


def tool(fn: Optional[Callable[..., Any]] = None, *, name: Optional[str] = None,
         description: Optional[str] = None, schema: Optional[dict] = None,
         title: Optional[str] = None, output_schema: Optional[dict] = None,
         read_only: bool = True, destructive: bool = False, idempotent: Optional[bool] = None,
         open_world: bool = False) -> Any:
    """Registers ``fn`` as a tool; usable bare (``@tool``) or with arguments.

    ``name`` defaults to the function's name, ``description`` to its docstring, and ``schema``
    (the JSON Schema of the arguments object) to one derived from the signature: parameters
    annotated ``str/int/float/bool/dict/list`` get that JSON type, parameters without a default
    are required. Hints follow the Rust SDK: read-only unless told otherwise, idempotent when
    read-only, not open-world.
    """

    def register(fn):
        tool_name = name or fn.__name__
        if not _NAME.match(tool_name):
            raise ValueError(f"tool name {tool_name!r} must match [a-z0-9_-]{{1,64}}")
        if tool_name in _TOOLS:
            raise ValueError(f"tool {tool_name!r} is defined twice")
        text = description or inspect.getdoc(fn)
        if not text:
            raise ValueError(f"tool {tool_name!r} needs a description (or a docstring)")
        hints = {
            "read_only": bool(read_only),
            "destructive": bool(destructive) and not read_only,
            "idempotent": bool(read_only if idempotent is None else idempotent),
            "open_world": bool(open_world),
        }
        _TOOLS[tool_name] = _Spec(fn, tool_name, text, schema, title, output_schema, hints)
        return fn

    return register(fn) if fn is not None else register


def _param_types(fn, signature):
    """Plain JSON-compatible annotation per parameter, and whether it may be null
    (``Optional[X]`` is ``X`` or null)."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable string annotations: no type checks, no derived types
        hints = {}
    found = {}
    for param in signature.parameters.values():
        hint = hints.get(param.name)
        nullable = param.default is None
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
            hint, nullable = args[0], True
        hint = typing.get_origin(hint) or hint  # dict[str, int] -> dict
        if hint in _JSON_TYPES:
            found[param.name] = (hint, nullable)
    return found


def _derive_schema(signature, param_types):
    """A JSON Schema for the arguments object, from the function's signature."""
    properties, required, open_ended = {}, [], False
    for param in signature.parameters.values():
        if param.kind == param.VAR_KEYWORD:
            open_ended = True
            continue
        if param.kind in (param.VAR_POSITIONAL, param.POSITIONAL_ONLY):
            continue
        prop = {}
        if param.name in param_types:
            hint, nullable = param_types[param.name]
            prop["type"] = [_JSON_TYPES[hint], "null"] if nullable else _JSON_TYPES[hint]
        if param.default is param.empty:
            required.append(param.name)
        elif param.default is not None:
            prop["default"] = param.default
        properties[param.name] = prop
    schema = {"type": "object", "properties": properties, "additionalProperties": open_ended}
    if required:
        schema["required"] = required
    return schema


# ---------------------------------------------------------------------------------------------
# Dispatch: JSON arguments in, `tool-output` out, exceptions to `tool-error`.

def _short_traceback(exc, frames=4, limit=2000):
    """``Type: message`` plus the innermost few frames of the tool's own code."""
    stack = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__][-frames:]
    lines = [f"{type(exc).__name__}: {exc}"]
    lines += [f"  at {f.filename}:{f.lineno} in {f.name}" for f in reversed(stack)]
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _run(name, arguments):
    """Runs tool ``name``; returns a WIT ``tool-output`` or raises a ``ToolError``."""
    spec = _TOOLS.get(name)
    if spec is None:
        raise NotFound(f"no tool named `{name}`")
    args, problem = parse_arguments(spec.schema, arguments)
    if problem is not None:
        raise InvalidArguments(problem)
    try:
        spec.signature.bind(**args)
    except TypeError as e:
        raise InvalidArguments(str(e)) from None
    result = spec.fn(**args)
    if isinstance(result, str):
        return _wit.ToolOutput_Text(result)
    try:
        return _wit.ToolOutput_Json(json.dumps(result))
    except (TypeError, ValueError) as e:
        raise Failed(f"tool `{name}` returned a value that is not JSON: {e}") from None


if hasattr(_exports, "Tool"):  # the tool world; a program build has `Program` instead

    class Tool(_exports.Tool):
        """The ``wasm-host:mcp/tool`` export; componentize-py finds it as ``app.Tool``."""

        def list_tools(self):
            return [spec.definition() for spec in _TOOLS.values()]

        def call(self, name, arguments):
            try:
                return _run(name, arguments)
            except ToolError as e:
                raise Err(e._wit(str(e) or type(e).__name__)) from None
            except Exception as e:  # a bug or an unexpected condition in the tool
                raise Err(_wit.ToolError_Failed(_short_traceback(e))) from None

    __all__.append("Tool")
