"""The Python code-mode runner (``execute_code`` with ``language: "python"``).

The host calls ``run`` with ``{code, tools, skills, args, output_cap}``: the program's source,
the qualified names of the tools it may call, the names of the skills it may run, its input (a
skill's arguments; ``{}`` for ``execute_code``), and the most output bytes it keeps. The program
runs as the body of a function, so it may ``return`` a value; a final bare expression is returned
too. It sees

    tools.<component>.<tool>(**args)   one function per tool (``-`` in names becomes ``_``), taking
                                       keyword arguments (or one dict); returns the parsed JSON
                                       result (or text); raises ``ToolError`` on failure. Calls are
                                       synchronous; ``await`` on them also works.
    print(...)                         captured, returned as ``stdout``
    open("/workspace/...")             the session's workspace (also the working directory)
    skills.<skill>(**args)             runs a saved skill's script (``-`` becomes ``_``), like a tool
    args                               the input dict
    search_tools(query, limit=10)      tools and skills matching a query: [{name, description}]

``run`` always answers JSON ``{ok, value | error, stdout, stdout_cut}`` (a value whose JSON is over
the cap comes as ``value_preview`` cut there, with ``value_bytes``), so output printed before an
error is kept; an error carries the traceback, trimmed to the program's own lines.
"""

import ast
import builtins
import io
import json
import os
import sys
import traceback

# Imported here so they are part of the pre-initialized snapshot, not loaded per call.
import collections  # noqa: F401
import csv  # noqa: F401
import datetime  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401
import re  # noqa: F401
import statistics  # noqa: F401

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import tools as _host
from wit_world.imports import types as _wit

PROGRAM = "<program>"


class ToolError(Exception):
    """A tool call failed; ``kind`` is invalid-arguments, not-found, failed or denied."""

    def __init__(self, tool, kind, message):
        super().__init__(f"{tool}: {message}")
        self.tool = tool
        self.kind = kind


_KINDS = {
    _wit.ToolError_InvalidArguments: "invalid-arguments",
    _wit.ToolError_NotFound: "not-found",
    _wit.ToolError_Failed: "failed",
    _wit.ToolError_Denied: "denied",
}


def _call(qualified, args, kwargs):
    if args is None:
        payload = kwargs
    elif isinstance(args, dict):
        payload = {**args, **kwargs}
    else:
        raise TypeError(f"{qualified}() takes keyword arguments or one dict, not {type(args).__name__}")
    try:
        out = _host.call(qualified, json.dumps(payload))
    except Err as e:
        raise ToolError(qualified, _KINDS.get(type(e.value), "failed"), e.value.value) from None
    return json.loads(out.value) if isinstance(out, _wit.ToolOutput_Json) else out.value


def _ident(name):
    return name.replace("-", "_")


class _Component:
    """``tools.<component>``: one attribute per tool."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"<tools.{self._name}: {', '.join(sorted(k for k in vars(self) if not k.startswith('_')))}>"

    def __getattr__(self, attr):
        raise AttributeError(f"tools.{self._name} has no tool {attr!r}; it has {sorted(k for k in vars(self) if not k.startswith('_'))}")


class _Tools:
    """``tools``: one attribute per component."""

    def __repr__(self):
        return f"<tools: {', '.join(sorted(vars(self)))}>"

    def __getattr__(self, attr):
        raise AttributeError(f"no component {attr!r} among the tools; there are {sorted(vars(self))}")


def _tool_function(qualified, name):
    def call(args=None, /, **kwargs):
        return _call(qualified, args, kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Calls the tool {qualified}."
    return call


def _tree(names):
    tree = _Tools()
    for qualified in names:
        component, _, tool = qualified.partition(".")
        ns = vars(tree).setdefault(_ident(component), _Component(_ident(component)))
        setattr(ns, _ident(tool), _tool_function(qualified, _ident(tool)))
    return tree


class _Skills:
    """``skills``: one function per runnable skill."""

    def __repr__(self):
        return f"<skills: {', '.join(sorted(vars(self)))}>"

    def __getattr__(self, attr):
        raise AttributeError(f"no skill {attr!r}; there are {sorted(vars(self))}")


def _skills(names):
    tree = _Skills()
    for name in names:
        setattr(tree, _ident(name), _tool_function(f"{name}.run", _ident(name)))
    return tree


def _search_tools(query, limit=10):
    return [{"name": t.name, "description": t.description} for t in _host.search(str(query), limit)]


class _Capture(io.TextIOBase):
    """Printed text, kept up to ``cap`` UTF-8 bytes; the rest is counted."""

    def __init__(self, cap):
        self.cap = cap
        self.parts = []
        self.kept = 0
        self.cut = 0

    def writable(self):
        return True

    def write(self, text):
        data = text.encode("utf-8", "replace")
        room = self.cap - self.kept
        if len(data) <= room:
            self.parts.append(text)
            self.kept += len(data)
        else:
            if room > 0:
                self.parts.append(data[:room].decode("utf-8", "ignore"))
                self.kept = self.cap
            self.cut += len(data) - max(room, 0)
        return len(text)

    def text(self):
        return "".join(self.parts)


class _Awaitable:
    """Makes a plain value awaitable, so ``await tools.x.y()`` works on synchronous calls."""

    def __init__(self, value):
        self.value = value

    def __await__(self):
        return self.value
        yield  # noqa: unreachable; makes this a generator


def _awaitable(value):
    return value if hasattr(value, "__await__") else _Awaitable(value)


class _WrapAwaits(ast.NodeTransformer):
    def visit_Await(self, node):
        self.generic_visit(node)
        call = ast.Call(func=ast.Name(id="__awaitable__", ctx=ast.Load()), args=[node.value], keywords=[])
        return ast.copy_location(ast.Await(value=ast.copy_location(call, node)), node)


def _compile(code):
    """The program as a function ``__program__``; a final expression becomes its return value."""
    tree = ast.parse(code, filename=PROGRAM)
    body = tree.body or [ast.Pass()]
    if isinstance(body[-1], ast.Expr):
        body[-1] = ast.copy_location(ast.Return(value=body[-1].value), body[-1])
    is_async = any(isinstance(n, (ast.Await, ast.AsyncFor, ast.AsyncWith)) for n in ast.walk(tree))
    kind = ast.AsyncFunctionDef if is_async else ast.FunctionDef
    fn = kind(name="__program__", args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
              body=body, decorator_list=[], returns=None, type_params=[])
    module = ast.Module(body=[ast.copy_location(fn, body[0])], type_ignores=[])
    if is_async:
        module = _WrapAwaits().visit(module)
    ast.fix_missing_locations(module)
    return compile(module, PROGRAM, "exec"), is_async


def _drive(coroutine):
    """Runs a coroutine that only awaits tool calls (which complete at once)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the program awaited something other than a tool call; only tool calls can be awaited here")


def _traceback(error, code):
    lines = code.splitlines()
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == PROGRAM]
    out = []
    for f in frames:
        name = "<program>" if f.name == "__program__" else f.name
        out.append(f"  line {f.lineno}, in {name}")
        if f.lineno and 0 < f.lineno <= len(lines):
            out.append(f"    {lines[f.lineno - 1].strip()}")
    return "\n".join(out)


def _describe(error, code):
    if isinstance(error, SyntaxError) and error.filename == PROGRAM:
        where = f"  line {error.lineno}\n    {(error.text or '').strip()}" if error.lineno else ""
        return {"name": "SyntaxError", "message": error.msg, "stack": where, "kind": None, "tool": None}
    return {
        "name": type(error).__name__,
        "message": str(error),
        "stack": _traceback(error, code),
        "kind": getattr(error, "kind", None),
        "tool": getattr(error, "tool", None),
    }


def _json_text(value):
    """The value as JSON text; sets become lists, anything else unknown its ``repr``."""
    def fallback(v):
        if isinstance(v, (set, frozenset)):
            return list(v)
        return repr(v)

    return json.dumps(value, default=fallback)


def _run(request):
    code = request["code"]
    capture = _Capture(request.get("output_cap", 65536))
    result = {}
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = capture
    try:
        if os.path.isdir("/workspace"):
            os.chdir("/workspace")
        compiled, is_async = _compile(code)
        scope = {
            "__name__": "__program__",
            "__builtins__": builtins,
            "tools": _tree(request.get("tools", [])),
            "skills": _skills(request.get("skills", [])),
            "args": request.get("args") or {},
            "ToolError": ToolError,
            "search_tools": _search_tools,
            "__awaitable__": _awaitable,
        }
        exec(compiled, scope)
        value = scope["__program__"]()
        if is_async:
            value = _drive(value)
        text = _json_text(value)
        size = len(text.encode("utf-8"))
        if size > capture.cap:
            preview = text.encode("utf-8")[:capture.cap].decode("utf-8", "ignore")
            result = {"ok": True, "value": None, "value_preview": preview, "value_bytes": size}
        else:
            result = {"ok": True, "value": json.loads(text)}
    except Exception as error:  # the program's own failure, reported to the model
        result = {"ok": False, "error": _describe(error, code)}
    finally:
        sys.stdout, sys.stderr = saved
    result["stdout"] = capture.text()
    result["stdout_cut"] = capture.cut
    return json.dumps(result)


class Program(exports.Program):
    """The ``wasm-host:mcp/program`` export; componentize-py finds it as ``app.Program``."""

    def run(self, input):
        try:
            return _run(json.loads(input))
        except Exception as error:  # a malformed request from the host
            raise Err(f"runner-python: bad request: {error}") from None
