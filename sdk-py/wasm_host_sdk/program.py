"""Programs in Python (``[tool.wasm-host] world = "program"``): a ``run(input)`` function that
calls the host's tools by name::

    from wasm_host_sdk.program import Program, program, call_tool, search_tools

    @program
    def run(input):
        return {"hits": search_tools("csv"), "columns": call_tool("csv.columns", path="/data/a.csv")}

``Program`` must be in the app module's namespace (componentize-py instantiates ``app.Program``
for the ``wasm-host:mcp/program`` export). Only the program world has the ``tools`` import, so
tools must not import this module.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional

from componentize_py_types import Err
from wit_world import exports as _exports
from wit_world.imports import tools as _host
from wit_world.imports import types as _wit

from . import ToolError, log

__all__ = ["Program", "program", "call_tool", "search_tools", "log", "ToolError"]

_KINDS = {
    _wit.ToolError_InvalidArguments: "invalid-arguments",
    _wit.ToolError_NotFound: "not-found",
    _wit.ToolError_Failed: "failed",
    _wit.ToolError_Denied: "denied",
}


class CallFailed(ToolError):
    """A tool called from a program failed; ``kind`` is the WIT ``tool-error`` case."""

    def __init__(self, tool: str, kind: str, message: str):
        super().__init__(f"{tool}: {kind}: {message}")
        self.tool = tool
        self.kind = kind


def call_tool(name: str, args: Optional[dict] = None, **kwargs: Any) -> Any:
    """Calls ``<component>.<tool>`` with ``args`` (or keyword arguments). JSON results come back
    parsed, text as ``str``; a failure raises :class:`CallFailed`."""
    arguments = dict(args or {}, **kwargs)
    try:
        output = _host.call(name, json.dumps(arguments))
    except Err as e:
        error = e.value
        raise CallFailed(name, _KINDS.get(type(error), "failed"), str(error.value)) from None
    if isinstance(output, _wit.ToolOutput_Json):
        return json.loads(output.value)
    return output.value


def search_tools(query: str, limit: int = 10) -> list:
    """``[{name, description}]`` of the tools matching ``query``, best first."""
    return [{"name": t.name, "description": t.description} for t in _host.search(query, limit)]


_RUN: list = []


def program(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Registers ``fn(input)`` as the program: the parsed JSON input in, a JSON value out; an
    exception is the program's error."""
    if _RUN:
        raise ValueError("only one @program per component")
    _RUN.append(fn)
    return fn


class Program(_exports.Program):
    """The ``wasm-host:mcp/program`` export; componentize-py finds it as ``app.Program``."""

    def run(self, input: str) -> str:
        if not _RUN:
            raise Err("no function is decorated with @program")
        try:
            value = json.loads(input) if input.strip() else None
        except ValueError as e:
            raise Err(f"input is not valid JSON: {e}") from None
        try:
            return json.dumps(_RUN[0](value))
        except Exception as e:  # the program's own failure, reported as its error
            raise Err(f"{type(e).__name__}: {e}") from None
