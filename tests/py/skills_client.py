"""Uses the example skills through the official Python MCP SDK 2.x, as a client without the skills
extension would: finds each skill's SKILL.md in resources/list, reads it and a script by its
skill:// URI, gets the skill as a prompt, and runs the script with execute_code.

Usage: skills_client.py URL
  URL   streamable HTTP endpoint of `wasm-host serve --http ...` serving the example skills,
        csv and grep, with execute_code and /data holding sales.csv and notes.txt.
Prints one JSON line: {"skill_md": {name: description}, "prompts": [...], "prompt_text": str,
  "script_bytes": int, "sales": <summary.py's value>, "todos": <skills.todo_report's value>,
  "sales_js": <skills.sales_by_region's value, called from JavaScript>}
"""

import asyncio
import json
import sys

from mcp import Client

# Shared with the other stateless-SDK script (this directory is on sys.path when run).
from stateless_workspace import text_of
from stateless_workspace import value_of as workspace_value_of


def value_of(result):
    """The program's value; a run without one is an error here."""
    value = workspace_value_of(result)
    if value is None:
        raise RuntimeError(f"no result line in {text_of(result)[:800]!r}")
    return value


async def read_text(client, uri: str) -> str:
    result = await client.read_resource(uri)
    return "".join(c.text for c in result.contents if getattr(c, "text", None) is not None)


async def run(url: str) -> dict:
    async with Client(url) as client:
        listed = await client.list_resources()
        skill_md = {r.name: r.description for r in listed.resources if r.uri.startswith("skill://")}
        md = await read_text(client, "skill://sales-by-region/SKILL.md")
        if not md.startswith("---\nname: sales-by-region\n"):
            raise RuntimeError(f"SKILL.md read back as {md[:200]!r}")
        prompts = await client.list_prompts()
        prompt = await client.get_prompt("todo-report")
        prompt_text = "\n".join(m.content.text for m in prompt.messages)
        summary = await read_text(client, "skill://sales-by-region/scripts/summary.py")
        # A client without code-mode skills runs the script it read, its args set on the first line...
        sales = await client.call_tool("execute_code", {
            "language": "python",
            "code": 'args = {"path": "/data/sales.csv", "column": "units"}\n' + summary,
        })
        # ...and in code mode a skill is a function: `skills.<name>(args)`, here from the other language.
        todos = await client.call_tool("execute_code", {
            "language": "python",
            "code": 'return skills.todo_report(path="/data", top=3)',
        })
        sales_js = await client.call_tool("execute_code", {
            "language": "javascript",
            "code": 'return await skills.sales_by_region({path: "/data/sales.csv", column: "units"});',
        })
        return {
            "skill_md": skill_md,
            "prompts": sorted(p.name for p in prompts.prompts),
            "prompt_text": prompt_text,
            "script_bytes": len(summary),
            "sales": value_of(sales),
            "todos": value_of(todos),
            "sales_js": value_of(sales_js),
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(sys.argv[1]))))
