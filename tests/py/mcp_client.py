"""Drives `wasm-host serve` with the official Python MCP SDK client (the `mcp` package).

Usage: mcp_client.py stdio WASM_HOST DATA_DIR COMPONENT...
       mcp_client.py http URL
Prints one JSON line with what it saw; the Rust test asserts on it.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client  # in mcp 1.30 and 2.x


async def exercise(session: ClientSession) -> dict:
    await session.initialize()
    tools = await session.list_tools()
    grep = await session.call_tool("grep.count", {"pattern": "TODO", "path": "/data"})
    csv = await session.call_tool("csv.aggregate", {"path": "/data/sales.csv", "group_by": "region", "column": "units", "ops": ["sum"]})
    jq = await session.call_tool("json-query.query", {"file": "/data/items.json", "select": "items[*].name"})
    bad = await session.call_tool("grep.count", {"pattern": 5})
    return {
        "tools": sorted(t.name for t in tools.tools),
        "grep": json.loads(grep.content[0].text),
        "csv": json.loads(csv.content[0].text),
        "jq": json.loads(jq.content[0].text),
        "bad_is_error": bad.is_error if hasattr(bad, "is_error") else bad.isError,  # 2.x / 1.x
        "bad_text": bad.content[0].text,
    }


async def main() -> None:
    mode = sys.argv[1]
    if mode == "stdio":
        wasm_host, data, components = sys.argv[2], sys.argv[3], sys.argv[4:]
        params = StdioServerParameters(command=wasm_host, args=["serve", *components, "--dir", f"{data}::/data:ro"])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                print(json.dumps(await exercise(session)))
    else:
        # mcp 1.x yields (read, write, get_session_id), 2.x yields (read, write).
        async with streamable_http_client(sys.argv[2]) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                print(json.dumps(await exercise(session)))


asyncio.run(main())
