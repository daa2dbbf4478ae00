"""The tools of `wasm-host-bench tokens` for FastMCP 4.1.6 CodeMode, the comparison point.

The same operations as wasm-host's grep and csv components (list files, read a file, rows of a
CSV, sums of a column) plus `write_file`, with results of the same shape, behind FastMCP's
CodeMode transform: the client sees only `search`, `get_schema` and `execute`, and `execute` runs
a Python program in the pydantic-monty sandbox that calls `await call_tool(name, args)`.

Run: python scripts/fastmcp_tokens_server.py DATA_DIR   (stdio; DATA_DIR is seen as /data;
needs `fastmcp[code-mode]==4.1.6`, installed by scripts/bench-code-mode into .venv-fastmcp)
"""

import csv
import os
import sys
import tempfile

from fastmcp import FastMCP
from fastmcp.experimental.transforms.code_mode import CodeMode

ROOT = sys.argv[1]
OUT = tempfile.mkdtemp(prefix="fastmcp-tokens-")
mcp = FastMCP("bench-tokens", transforms=[CodeMode()])


def _real(path: str) -> str:
    if path != "/data" and not path.startswith("/data/"):
        raise ValueError(f"{path}: only /data is readable")
    return os.path.join(ROOT, path[len("/data"):].lstrip("/"))


@mcp.tool
def list_files(path: str, limit: int = 1000, offset: int = 0) -> dict:
    """List the files under a directory, recursively, sorted by path: {files: [{path, size}], total, truncated}."""
    found = []
    for dirpath, _dirs, files in os.walk(_real(path)):
        for name in files:
            full = os.path.join(dirpath, name)
            found.append({"path": "/data/" + os.path.relpath(full, ROOT), "size": os.path.getsize(full)})
    found.sort(key=lambda f: f["path"])
    page = found[offset:offset + limit]
    return {"files": page, "offset": offset, "returned": len(page), "total": len(found),
            "truncated": offset + len(page) < len(found)}


@mcp.tool
def read_file(path: str, limit: int = 1000) -> str:
    """Read up to `limit` lines of a text file."""
    with open(_real(path), encoding="utf-8") as f:
        return "".join(line for _, line in zip(range(limit), f))


def _rows(path):
    with open(_real(path), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@mcp.tool
def csv_filter(path: str, limit: int = 1000, offset: int = 0) -> dict:
    """Rows of a CSV file as objects of strings: {columns, rows, total, truncated}."""
    rows = _rows(path)
    page = rows[offset:offset + limit]
    return {"columns": list(rows[0].keys()) if rows else [], "path": path, "returned": len(page),
            "rows": page, "total": len(rows), "truncated": offset + len(page) < len(rows)}


@mcp.tool
def csv_aggregate(path: str, column: str, ops: list[str]) -> dict:
    """Sum, mean, min, max or count of a numeric column: {results: [{sum, ...}]}."""
    values = [float(r[column]) for r in _rows(path)]
    table = {"sum": sum(values), "count": len(values), "min": min(values), "max": max(values),
             "mean": sum(values) / len(values) if values else 0.0}
    result = {op: table[op] for op in ops}
    if "sum" in result and result["sum"] == int(result["sum"]):
        result["sum"] = int(result["sum"])
    return {"column": column, "path": path, "results": [result]}


@mcp.tool
def write_file(path: str, content: str) -> str:
    """Write a text file (in the server's output directory)."""
    target = os.path.join(OUT, os.path.basename(path))
    with open(target, "w", encoding="utf-8") as f:
        f.write(content)
    return f"wrote {len(content.encode())} bytes to {path}"


if __name__ == "__main__":
    mcp.run(transport="stdio", show_banner=False)
