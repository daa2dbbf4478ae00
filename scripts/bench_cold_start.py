"""Server start to the first answered `tools/list` over stdio (raw JSON-RPC, 2025-11-25), for
`wasm-host serve` with the three example tools and both code-mode runners: cold (an empty compile
cache) against warm (the cache that cold run filled), in `--mode direct` and the default mode,
with the server's RSS when it answered and 30 s later (after any background compiling).

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


def rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def start(binary: str, cache: str, data: str, mode: list[str], settle: float) -> dict:
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
    p.kill()
    p.wait()
    return {"s": seconds, "tools": tools, "rss": at_list, "rss_later": later}


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
            warm.append(start(binary, cache, data, mode, 30))
            shutil.rmtree(cache)
        base = statistics.median(r["s"] for r in warm)
        for name, results in (("warm", warm), ("cold", cold)):
            s = statistics.median(r["s"] for r in results)
            rss = statistics.median(r["rss"] for r in results)
            later = statistics.median(r["rss_later"] for r in results)
            print(f"{label:<10} {name:<5} {s:>12.2f} {s / base:>6.1f}x {rss:>8.0f} {later:>10.0f}")
    shutil.rmtree(data)


if __name__ == "__main__":
    main()
