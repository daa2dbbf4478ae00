"""Builds this component with `wasm-host build` and calls it with `wasm-host call`, as a client
would. `WASM_HOST` names the binary (default: `wasm-host` on the PATH)."""

import json
import os
import pathlib
import subprocess

DIR = pathlib.Path(__file__).resolve().parent.parent


def wasm_host(*args):
    return subprocess.run([os.environ.get("WASM_HOST", "wasm-host"), *args],
                          capture_output=True, text=True)


def test_greet_answers_through_wasm_host_call():
    built = wasm_host("build", str(DIR))
    assert built.returncode == 0, built.stderr
    wasm = str(DIR / "dist" / "{{name}}.wasm")

    out = wasm_host("call", wasm, "greet", '{"name": "Ada", "times": 2}')
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["greeting"] == "Hello, Ada! Hello, Ada!"

    refused = wasm_host("call", wasm, "greet", '{"times": 2}')
    assert refused.returncode != 0, "a call without `name` must fail"
    assert "name" in refused.stderr
