"""Checks per-request logging over the stateless MCP protocol (2026-07-28) with the official
Python SDK 2.x: a server sends `notifications/message` during a request only if that request's
`_meta` asks for a log level.

Usage: stateless_logging.py URL TOOL ARGS_JSON
Calls TOOL twice, without and then with `io.modelcontextprotocol/logLevel: debug`, and prints one
JSON line: {"protocol", "without": <log messages seen>, "with": <log messages seen>}.
"""

import asyncio
import json
import sys

from mcp import Client

LOG_LEVEL = "io.modelcontextprotocol/logLevel"


async def run(url: str, tool: str, args: dict) -> dict:
    seen = []

    async def on_log(params) -> None:
        seen.append(params)

    async with Client(url, mode="2026-07-28", logging_callback=on_log) as client:
        await client.call_tool(tool, args)
        without = len(seen)
        await client.call_tool(tool, args, meta={LOG_LEVEL: "debug"})
        return {"protocol": client.protocol_version, "without": without, "with": len(seen) - without}


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(1)
    print(json.dumps(asyncio.run(run(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))))
