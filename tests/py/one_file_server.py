"""Drives a one-file MCP server (`wasm-host compose`) with the official Python SDK 2.x.

Usage: one_file_server.py URL DATA_DIR MODE
MODE is "auto" (the stateless 2026-07-28 protocol: server/discover) or "legacy" (initialize,
2025-11-25). Lists the tools, calls a Rust, a JS and a Python tool on files in DATA_DIR, and makes
three failing calls (unknown tool, arguments against the schema, a tool's own error). Prints one
JSON object with what the server answered.
"""

import asyncio
import json
import sys

from mcp import Client


def text(result):
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def run(url, data, mode):
    out = {"calls": {}, "errors": {}}
    async with Client(url, mode=mode) as client:
        out["protocol_version"] = client.protocol_version
        out["server_info"] = client.server_info.model_dump() if client.server_info else None
        tools = await client.list_tools()
        out["tools"] = [t.model_dump(by_alias=True, exclude_none=True) for t in tools.tools]
        calls = {
            "grep.count": {"pattern": "TODO", "path": data},
            "csv.aggregate": {"path": f"{data}/sales.csv", "group_by": "region", "column": "units", "ops": ["sum"]},
            "json-query.query": {"file": f"{data}/items.json", "select": "items[*].name"},
        }
        for name, args in calls.items():
            r = await client.call_tool(name, args)
            out["calls"][name] = {"text": text(r), "is_error": bool(r.is_error)}
        r = await client.call_tool("grep.count", {"path": data})
        out["errors"]["invalid"] = {"text": text(r), "is_error": bool(r.is_error)}
        r = await client.call_tool("grep.count", {"pattern": "(", "path": data})
        out["errors"]["tool"] = {"text": text(r), "is_error": bool(r.is_error)}
        try:
            await client.call_tool("nope.nothing", {})
            out["errors"]["unknown"] = None
        except Exception as e:  # the SDK raises the JSON-RPC error
            out["errors"]["unknown"] = str(e)
    print(json.dumps(out))


asyncio.run(run(sys.argv[1], sys.argv[2], sys.argv[3]))
