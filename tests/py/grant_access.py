"""A program asks for directories through `request_access`, with the official MCP Python SDK 2.x.

Usage: grant_access.py URL APPROVED DECLINED UNASKED LEGACY
  URL       streamable HTTP endpoint of `wasm-host serve --http ... --grant-requests`
  APPROVED  a directory the human approves (stateless 2026-07-28: an input-required result)
  DECLINED  a directory the human declines
  UNASKED   a directory asked for by a client that cannot ask a human (no elicitation)
  LEGACY    a directory the human approves in a 2025-11-25 session (elicitation/create)

Each directory holds `note.txt`. After each request a Python program tries to read that file.
Prints one JSON line: for each case, the request's answer, whether it was an error, and what
the program read (or its error), plus how often the human was asked.
"""

import asyncio
import json
import sys

from mcp import Client, MCPError
import mcp.types as types

ASKED = []


async def approve(context, params):
    ASKED.append(params.message)
    return types.ElicitResult(action="accept", content={"approve": True})


async def decline(context, params):
    ASKED.append(params.message)
    return types.ElicitResult(action="decline")


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "text", None) is not None)


async def case(url: str, directory: str, callback, mode: str = "auto") -> dict:
    kwargs = {"mode": mode}
    if callback is not None:
        kwargs["elicitation_callback"] = callback
    async with Client(url, **kwargs) as client:
        try:
            asked = await client.call_tool(
                "request_access", {"dir": directory, "minutes": 5, "reason": "read the note"}
            )
            answer, refused = text_of(asked), bool(asked.is_error)
        except MCPError as e:
            answer, refused = f"MCPError: {e}", True
        program = f"return open({directory + '/note.txt'!r}).read()"
        run = await client.call_tool("execute_code", {"language": "python", "code": program})
        return {
            "protocol": client.protocol_version,
            "answer": answer,
            "refused": refused,
            "read": text_of(run),
            "read_failed": bool(run.is_error),
        }


async def run(url: str, approved: str, declined: str, unasked: str, legacy: str) -> dict:
    out = {
        "approved": await case(url, approved, approve),
        "declined": await case(url, declined, decline),
        "unasked": await case(url, unasked, None),
        "legacy": await case(url, legacy, approve, "legacy"),
    }
    out["asked"] = len(ASKED)
    out["messages"] = ASKED
    return out


def main() -> None:
    if len(sys.argv) != 6:
        sys.exit(__doc__.split("\n\n")[1])
    print(json.dumps(asyncio.run(run(*sys.argv[1:]))))


if __name__ == "__main__":
    main()
