"""Checks code-mode workspaces over the stateless MCP protocol with the official Python SDK 2.x.

Usage: stateless_workspace.py URL N [MODE]
  URL   streamable HTTP endpoint of `wasm-host serve --http ... --mode code` (http://ADDR/mcp)
  N     how many `return 1` programs to run afterwards, each without a workspace
  MODE  the SDK's connect mode: auto (default: `server/discover`, falling back to
        `initialize`), 2026-07-28 (stateless, no probe) or legacy (2025-11-25 session)

With the stateless protocol there is no session to remember a workspace by: a program's files
are reachable again only through the `workspace` handle its result returns, and a call that
names none gets a fresh, empty workspace. Prints one JSON line:
  {"protocol", "handle", "kept", "fresh_sees_it", "calls", "errors"}
`errors` counts the N calls that returned isError or failed with an MCP error.
Needs mcp>=2 (`Client`, snake_case result fields).
"""

import asyncio
import json
import sys

from mcp import Client, MCPError

EXECUTION_META = "wasm-host/execution"


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "text", None) is not None)


def value_of(result):
    """The program's value: wasm-host prints it as a `result: <JSON>` line (absent for null)."""
    text = text_of(result)
    if result.is_error:
        raise RuntimeError(f"execute_code failed: {text[:500]}")
    for line in text.splitlines():
        if line.startswith("result: "):
            return json.loads(line[len("result: "):])
    return None


def handle_of(result):
    """The workspace handle: structuredContent["workspace"], else _meta["wasm-host/execution"]."""
    structured = result.structured_content
    if isinstance(structured, dict) and structured.get("workspace"):
        return structured["workspace"]
    return ((result.meta or {}).get(EXECUTION_META) or {}).get("workspace")


async def run(url: str, n: int, mode: str) -> dict:
    async with Client(url, mode=mode) as client:

        async def execute(code: str, workspace: str | None = None):
            args = {"language": "python", "code": code}
            if workspace is not None:
                args["workspace"] = workspace
            return await client.call_tool("execute_code", args)

        written = await execute("open('/workspace/probe.txt','w').write('kept'); return 'written'")
        if value_of(written) != "written":
            raise RuntimeError(f"the writing program returned {text_of(written)[:500]!r}")
        handle = handle_of(written)
        if not handle:
            raise RuntimeError(f"no workspace handle in the result: {written.model_dump(by_alias=True)}")

        exists = "import os\nreturn os.path.exists('/workspace/probe.txt')"
        kept = value_of(await execute(exists, handle))
        fresh_sees_it = value_of(await execute(exists))

        errors = 0
        for _ in range(n):
            try:
                r = await execute("return 1")
            except MCPError as e:
                errors += 1
                if errors == 1:
                    print(f"first error: {e}", file=sys.stderr)
                continue
            if r.is_error:
                errors += 1
                if errors == 1:
                    print(f"first error: {text_of(r)[:500]}", file=sys.stderr)

        return {
            "protocol": client.protocol_version,
            "handle": handle,
            "kept": kept,
            "fresh_sees_it": fresh_sees_it,
            "calls": n,
            "errors": errors,
        }


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.split("\n\n")[1])
    url = sys.argv[1]
    try:
        n = int(sys.argv[2])
        if n < 0:
            raise ValueError
    except ValueError:
        sys.exit(f"N must be a non-negative integer, got {sys.argv[2]!r}")
    mode = sys.argv[3] if len(sys.argv) == 4 else "auto"
    print(json.dumps(asyncio.run(run(url, n, mode))))


if __name__ == "__main__":
    main()
