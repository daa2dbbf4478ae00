"""A code-mode workspace written through one replica and read through another (shared storage).

Usage: shared_workspace.py URL_A URL_B
Runs a Python program on replica A that writes /workspace/probe.txt, then, with the handle A
returned, a program on replica B that reads it; both through the official Python SDK 2.x over the
stateless protocol. Prints {"handle", "read_on_b"}.
"""

import asyncio
import json
import sys

from mcp import Client


async def execute(url, code, workspace=None):
    args = {"language": "python", "code": code}
    if workspace:
        args["workspace"] = workspace
    async with Client(url, mode="2026-07-28") as client:
        result = await client.call_tool("execute_code", args)
    text = "\n".join(getattr(c, "text", "") for c in result.content)
    if result.is_error:
        raise RuntimeError(f"execute_code failed on {url}: {text[:500]}")
    value = None
    for line in text.splitlines():
        if line.startswith("result: "):
            value = json.loads(line[len("result: "):])
    handle = (result.structured_content or {}).get("workspace") or (
        (result.meta or {}).get("wasm-host/execution") or {}).get("workspace")
    return value, handle


async def run(url_a, url_b):
    _, handle = await execute(url_a, "open('/workspace/probe.txt','w').write('from a'); return 1")
    if not handle:
        raise RuntimeError("replica A returned no workspace handle")
    read, _ = await execute(url_b, "return open('/workspace/probe.txt').read()", handle)
    return {"handle": handle, "read_on_b": read}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    print(json.dumps(asyncio.run(run(sys.argv[1], sys.argv[2]))))
