"""Server start to the first answered `tools/list` over stdio (raw JSON-RPC, 2025-11-25), for
`wasm-host serve` with the three example tools and both code-mode runners: cold (an empty compile
cache) against warm (the cache that cold run filled), in `--mode direct` and the default mode,
with the server's RSS when it answered and 30 s later (after any background compiling). In the
default mode the warm server then runs 100 `execute_code` programs (JavaScript and Python
alternately, `return 6*7` / `6*7`) and its RSS after them is reported too.

Usage: bench_cold_start.py [WASM_HOST] [--runs N]   (prints a table and ratios, cold / warm)
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUESTS = os.path.join(ROOT, "target", "guests")
CODE_RUNS = 100


def rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def code_runs(send, read, n: int) -> None:
    """Runs `n` trivial programs, alternating JavaScript and Python; each must return 42."""
    for i in range(n):
        language, code = ("javascript", "return 6*7") if i % 2 == 0 else ("python", "6*7")
        send({"jsonrpc": "2.0", "id": 100 + i, "method": "tools/call",
              "params": {"name": "execute_code", "arguments": {"language": language, "code": code}}})
        reply = read()
        text = "".join(c.get("text", "") for c in reply["result"]["content"])
        if reply["result"].get("isError") or "42" not in text:
            raise RuntimeError(f"program {i} ({language}) did not return 42: {text[:300]}")


def start(binary: str, cache: str, data: str, mode: list[str], settle: float,
          runs: int = 0) -> dict:
    args = [os.path.join(GUESTS, f"{g}.wasm") for g in ("grep", "json-query", "csv")]
    args += ["--dir", f"{data}::/data", "--javascript-runner", os.path.join(GUESTS, "runner-js.wasm"),
             "--python-runner", os.path.join(GUESTS, "runner-python.wasm"), *mode]
    env = dict(os.environ, WASM_HOST_CACHE_DIR=cache)
    began = time.monotonic()
    p = subprocess.Popen([binary, "serve", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)

    def send(message: dict) -> None:
        p.stdin.write((json.dumps(message) + "\n").encode())
        p.stdin.flush()

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}})
    p.stdout.readline()
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    tools = len(json.loads(p.stdout.readline())["result"]["tools"])
    seconds = time.monotonic() - began
    at_list = rss_mib(p.pid)
    time.sleep(settle)
    later = rss_mib(p.pid)
    after_runs = None
    if runs:
        code_runs(send, lambda: json.loads(p.stdout.readline()), runs)
        after_runs = rss_mib(p.pid)
    p.kill()
    p.wait()
    return {"s": seconds, "tools": tools, "rss": at_list, "rss_later": later, "rss_runs": after_runs}


def main() -> None:
    argv = sys.argv[1:]
    runs = 1
    if "--runs" in argv:
        i = argv.index("--runs")
        runs = int(argv[i + 1])
        del argv[i:i + 2]
    binary = argv[0] if argv else os.path.join(ROOT, "target", "release", "wasm-host")
    data = tempfile.mkdtemp()
    print(f"{'mode':<10} {'start':<5} {'tools/list s':>12} {'ratio':>7} {'RSS MiB':>8} {'RSS +30 s':>10}")
    for label, mode in (("direct", ["--mode", "direct"]), ("default", [])):
        cold, warm = [], []
        for _ in range(runs):
            cache = tempfile.mkdtemp()
            os.chmod(cache, 0o700)
            cold.append(start(binary, cache, data, mode, 30))
            warm.append(start(binary, cache, data, mode, 30, 0 if mode else CODE_RUNS))
            shutil.rmtree(cache)
        base = statistics.median(r["s"] for r in warm)
        for name, results in (("warm", warm), ("cold", cold)):
            s = statistics.median(r["s"] for r in results)
            rss = statistics.median(r["rss"] for r in results)
            later = statistics.median(r["rss_later"] for r in results)
            print(f"{label:<10} {name:<5} {s:>12.2f} {s / base:>6.1f}x {rss:>8.0f} {later:>10.0f}")
            if name == "warm" and results[0]["rss_runs"] is not None:
                after = statistics.median(r["rss_runs"] for r in results)
                print(f"{label:<10} warm, RSS after {CODE_RUNS} execute_code runs: {after:.0f} MiB")
    shutil.rmtree(data)


if __name__ == "__main__":
    main()
