"""Builds this program with `wasm-host build` and runs it with `wasm-host run`, as a client
would. `WASM_HOST` names the binary (default: `wasm-host` on the PATH)."""

import json
import os
import pathlib
import subprocess

DIR = pathlib.Path(__file__).resolve().parent.parent


def wasm_host(*args):
    return subprocess.run([os.environ.get("WASM_HOST", "wasm-host"), *args],
                          capture_output=True, text=True)


def test_counts_words_through_wasm_host_run():
    built = wasm_host("build", str(DIR))
    assert built.returncode == 0, built.stderr
    wasm = str(DIR / "dist" / "{{name}}.wasm")

    out = wasm_host("run", wasm, '{"text": "one two three"}')
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["words"] == 3

    refused = wasm_host("run", wasm, "{}")
    assert refused.returncode != 0, "input without `text` must fail"
