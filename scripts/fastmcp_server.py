"""FastMCP CodeMode server used by scripts/bench_code_mode.py as the comparison point.

It serves one tool, `items(count)`, equivalent to what the benchmark reads through
wasm-host's json-query component, behind FastMCP's CodeMode transform: the client
then sees only the meta-tools `search`, `get_schema` and `execute`, and `execute`
runs a Python program in the pydantic-monty sandbox that calls
`await call_tool("items", {"count": 5000})`.

Run: python scripts/fastmcp_server.py   (stdio; needs `fastmcp[code-mode]==4.1.6`)
"""

from fastmcp import FastMCP
from fastmcp.experimental.transforms.code_mode import CodeMode

mcp = FastMCP("bench-items", transforms=[CodeMode()])


@mcp.tool
def items(count: int) -> list[dict]:
    """Return `count` generated items {id, name, score}."""
    return [{"id": i, "name": f"item-{i}", "score": (i * 37) % 1000} for i in range(count)]


if __name__ == "__main__":
    mcp.run(transport="stdio", show_banner=False)
