"""Load on a balanced pool of `wasm-host serve` replicas, through the official Python SDK 2.x.

Usage: scale_out_load.py URL CLIENTS SECONDS KILL_AT
  URL      the balancer's streamable HTTP endpoint (http://ADDR/mcp)
  CLIENTS  concurrent clients, each calling `grep.count` in a loop (stateless 2026-07-28: every
           call is one POST, so the balancer may send each to another replica)
  SECONDS  how long to call
  KILL_AT  after this many seconds, print `kill` on its own line (the caller kills a replica then)

Every call is bounded by a 10 s timeout and counted as ok, failed (with its error) or hung.
Prints one JSON line at the end:
  {"calls", "ok", "failed", "hung", "errors": {message: count}, "before": {...}, "after": {...},
   "last_second": {...}}
where before/after/last_second are {"calls", "ok", "p50_ms", "p99_ms"} of the calls started before
the kill, after it, and in the last second.
"""

import asyncio
import json
import sys
import time

from mcp import Client

CALL_TIMEOUT = 10.0
ARGS = {"pattern": "TODO", "path": "/data"}


def summary(records):
    ok = sorted(r["ms"] for r in records if r["outcome"] == "ok")

    def pct(q):
        return round(ok[min(len(ok) - 1, int(q * (len(ok) - 1) + 0.5))], 2) if ok else None

    return {"calls": len(records), "ok": len(ok), "p50_ms": pct(0.5), "p99_ms": pct(0.99)}


async def worker(url, t0, deadline, records):
    while time.monotonic() < deadline:
        try:
            async with Client(url, mode="2026-07-28") as client:
                while time.monotonic() < deadline:
                    start = time.monotonic()
                    record = {"t": start - t0}
                    try:
                        result = await asyncio.wait_for(client.call_tool("grep.count", ARGS), CALL_TIMEOUT)
                        text = "".join(getattr(c, "text", "") for c in result.content)
                        if result.is_error:
                            record.update(outcome="failed", error=f"isError: {text[:200]}")
                        elif json.loads(text).get("total") != 2:
                            record.update(outcome="failed", error=f"wrong answer: {text[:200]}")
                        else:
                            record["outcome"] = "ok"
                    except asyncio.TimeoutError:
                        record.update(outcome="hung", error="no answer within 10 s")
                    except Exception as e:  # noqa: BLE001 - every failure is counted with its message
                        record.update(outcome="failed", error=f"{type(e).__name__}: {e}"[:200])
                    record["ms"] = (time.monotonic() - start) * 1000
                    records.append(record)
                    if record["outcome"] != "ok":
                        break  # a fresh client after a failure, as a real client would reconnect
        except Exception as e:  # noqa: BLE001 - opening or closing the client failed
            records.append({"t": time.monotonic() - t0, "ms": 0.0, "outcome": "failed",
                            "error": f"client: {type(e).__name__}: {e}"[:200]})
            await asyncio.sleep(0.05)


async def run(url, clients, seconds, kill_at):
    records = []
    t0 = time.monotonic()
    deadline = t0 + seconds
    tasks = [asyncio.create_task(worker(url, t0, deadline, records)) for _ in range(clients)]
    await asyncio.sleep(kill_at)
    print("kill", flush=True)
    killed_at = time.monotonic() - t0
    await asyncio.gather(*tasks)
    errors = {}
    for r in records:
        if r["outcome"] != "ok":
            errors[r["error"]] = errors.get(r["error"], 0) + 1
    return {
        "calls": len(records),
        "ok": sum(r["outcome"] == "ok" for r in records),
        "failed": sum(r["outcome"] == "failed" for r in records),
        "hung": sum(r["outcome"] == "hung" for r in records),
        "errors": errors,
        "before": summary([r for r in records if r["t"] < killed_at]),
        "after": summary([r for r in records if r["t"] >= killed_at]),
        "last_second": summary([r for r in records if r["t"] >= seconds - 1]),
    }


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("\n\n")[1])
    url, clients, seconds, kill_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    print(json.dumps(asyncio.run(run(url, clients, seconds, kill_at))), flush=True)


if __name__ == "__main__":
    main()
