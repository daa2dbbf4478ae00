#!/usr/bin/env python3
"""Benchmark wasm-host's `execute_code` against FastMCP 4.1.6 CodeMode's `execute`.

Both servers are started over stdio and driven by the official Python MCP client
(`mcp` package), one long-lived session each, so the numbers are per-call latency
of a code-mode program as an agent would see it, not process start-up.

Cases (each checked for the right answer before it is timed):
  trivial  a program that returns 6*7
  items    a program that reads ~5,000 items {id, name, score} through a tool and
           keeps the ids of the first 50 with score >= 990
           - wasm-host: the `items.items(count)` tool of guests/fixtures/items-rust
             (1 tool call), in JavaScript and in Python
           - FastMCP:   the `items(count)` tool of scripts/fastmcp_server.py
             (1 tool call), in Python run by pydantic-monty
Baselines: spawn time of `node -e` and `python3 -c`, for scale.

FastMCP 4.1.6 requires mcp>=2.3, so `scripts/bench-code-mode` installs it into its own venv
(.venv-fastmcp) and runs this script with that venv's python (client and FastMCP server).
"""

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = Path(__file__).resolve().parent.parent
COUNT = 5000

# The same data for both systems; EXPECTED_IDS is what every items program must return.
ITEMS = [{"id": i, "name": f"item-{i}", "score": (i * 37) % 1000} for i in range(COUNT)]
EXPECTED_IDS = [i["id"] for i in ITEMS if i["score"] >= 990][:50]

# Programs per (system, language) and case. wasm-host's JS returns with `return`,
# its Python's final bare expression is the value; Monty (FastMCP) uses `return`.
JS_ITEMS = (
    "const items = await tools.items.items({count: 5000});\n"
    "return items.filter(i => i.score >= 990).slice(0, 50).map(i => i.id);"
)
PY_ITEMS = (
    "items = tools.items.items(count=5000)\n"
    "[i['id'] for i in items if i['score'] >= 990][:50]"
)
# A FastMCP tool returning a list has its structured result wrapped as {"result": [...]}.
MONTY_ITEMS = (
    "r = await call_tool('items', {'count': 5000})\n"
    "return [i['id'] for i in r['result'] if i['score'] >= 990][:50]"
)
PROGRAMS = {
    "wasm-host JS": {"trivial": "return 6*7", "items": JS_ITEMS},
    "wasm-host Python": {"trivial": "6*7", "items": PY_ITEMS},
    "FastMCP CodeMode": {"trivial": "return 6*7", "items": MONTY_ITEMS},
}
EXPECTED = {"trivial": 42, "items": EXPECTED_IDS}
TARGETS = {"wasm-host JS": 0.3, "wasm-host Python": 0.5}  # max p50 ratio to FastMCP (issue 16)


def percentiles(samples_ms):
    """p50 and p99 by nearest rank (with few samples p99 is the maximum)."""
    s = sorted(samples_ms)

    def rank(p):
        return s[max(0, math.ceil(p * len(s)) - 1)]

    return {"p50": round(rank(0.50), 3), "p99": round(rank(0.99), 3), "n": len(s)}


def result_text(res):
    """Text of a CallToolResult; raises on a tool error (field name differs in mcp 2.x)."""
    text = "\n".join(c.text for c in res.content if getattr(c, "text", None))
    if getattr(res, "isError", None) or getattr(res, "is_error", None):
        raise RuntimeError(f"tool error: {text[:500]}")
    return text


def wasm_host_value(text):
    """wasm-host reports the program's value on a `result: <JSON>` line."""
    for line in text.splitlines():
        if line.startswith("result: "):
            return json.loads(line[len("result: "):])
    raise RuntimeError(f"no 'result:' line in {text[:500]!r}")


async def bench_server(params, log, runs, warmup):
    """One session: for each system served here and each case, check, warm up, time."""
    out = {}
    async with stdio_client(params["server"], errlog=log) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        for system, (tool, args, parse) in params["systems"].items():
            out[system] = {}
            for case, n in runs.items():
                call_args = args(PROGRAMS[system][case])
                got = parse(result_text(await s.call_tool(tool, call_args)))
                if got != EXPECTED[case]:
                    raise RuntimeError(f"{system} {case}: got {got!r}, want {EXPECTED[case]!r}")
                for _ in range(warmup):
                    result_text(await s.call_tool(tool, call_args))
                samples = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    result_text(await s.call_tool(tool, call_args))
                    samples.append((time.perf_counter() - t0) * 1000)
                out[system][case] = percentiles(samples)
                print(f"  {system:18} {case:8} {out[system][case]}", file=sys.stderr)
    return out


def spawn_baseline(cmd, runs=20):
    """Wall time of starting a process that prints 42 and exits."""
    if shutil.which(cmd[0]) is None:
        return None
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


def print_table(res):
    print(f"\n{'system':20} {'case':8} {'p50 ms':>9} {'p99 ms':>9} {'n':>5}")
    for system, cases in res["systems"].items():
        for case, p in cases.items():
            print(f"{system:20} {case:8} {p['p50']:9.2f} {p['p99']:9.2f} {p['n']:5}")
    for name, p in res["baselines"].items():
        if p:
            print(f"{name:29} {p['p50']:9.2f} {p['p99']:9.2f} {p['n']:5}")
    print(f"\n{'p50 ratio to FastMCP':28} {'case':8} {'ratio':>7} {'target':>7}  ok")
    for r in res["ratios"]:
        ok = "yes" if r["met"] else "NO"
        print(f"{r['system']:28} {r['case']:8} {r['ratio']:7.3f} {r['target']:7.2f}  {ok}")


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 trivial / 10 items runs")
    ap.add_argument("--json", action="store_true", help="print results as JSON")
    ap.add_argument("--fastmcp-python", default=sys.executable,
                    help="python with fastmcp[code-mode]==4.1.6 (default: this one)")
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    runs = {"trivial": 30, "items": 10} if a.quick else {"trivial": 200, "items": 50}

    # WASM_HOST_BIN: another build to compare (e.g. the previous commit's), same run otherwise.
    binary = Path(os.environ.get("WASM_HOST_BIN", ROOT / "target/release/wasm-host"))
    guests = ROOT / "target/guests"
    for f in (binary, guests / "runner-js.wasm", guests / "runner-python.wasm",
              guests / "items.wasm"):
        if not f.exists():
            sys.exit(f"missing {f}: build wasm-host and the guests first")

    with tempfile.TemporaryDirectory(prefix="bench-code-mode-") as tmp:
        env = {**os.environ, "WASM_HOST_CACHE_DIR": os.environ.get(
            "WASM_HOST_CACHE_DIR", str(guests / "cache"))}
        wasm_host = StdioServerParameters(
            command=str(binary), cwd=str(ROOT), env=env,
            args=["serve", "--stdio", "--mode", "code", "--no-workspaces",
                  "--javascript-runner", str(guests / "runner-js.wasm"),
                  "--python-runner", str(guests / "runner-python.wasm"),
                  str(guests / "items.wasm")])
        fastmcp = StdioServerParameters(
            command=a.fastmcp_python, cwd=str(ROOT),
            args=[str(ROOT / "scripts/fastmcp_server.py")])
        servers = [
            {"server": wasm_host, "systems": {
                "wasm-host JS": ("execute_code", lambda c: {"language": "javascript", "code": c},
                                 wasm_host_value),
                "wasm-host Python": ("execute_code", lambda c: {"language": "python", "code": c},
                                     wasm_host_value)}},
            {"server": fastmcp, "systems": {
                "FastMCP CodeMode": ("execute", lambda c: {"code": c}, json.loads)}},
        ]
        systems = {}
        log_path = Path(tmp) / "servers.log"
        with open(log_path, "w") as log:  # servers' stderr, shown only on failure
            try:
                for params in servers:
                    systems.update(await bench_server(params, log, runs, a.warmup))
            except BaseException:
                log.flush()
                print(log_path.read_text()[-4000:], file=sys.stderr)
                raise

    baselines = {"spawn node -e": spawn_baseline(["node", "-e", "console.log(6*7)"]),
                 "spawn python3 -c": spawn_baseline(["python3", "-c", "print(6*7)"])}
    ratios = []
    for system, target in TARGETS.items():
        for case in runs:
            ratio = systems[system][case]["p50"] / systems["FastMCP CodeMode"][case]["p50"]
            ratios.append({"system": system, "case": case, "ratio": round(ratio, 3),
                           "target": target, "met": ratio <= target})
    res = {"runs": runs, "systems": systems, "baselines": baselines, "ratios": ratios}
    if a.json:
        print(json.dumps(res, indent=2))
    else:
        print_table(res)


if __name__ == "__main__":
    asyncio.run(main())
