"""{{name}}: a wasm-host program. It takes JSON in, gives JSON back, and can call every tool the
host has loaded, by name."""

from wasm_host_sdk.program import Program, call_tool, log, program, search_tools  # noqa: F401


@program
def run(input):
    """``{"text": ...}`` counts the words of the text and names the tools that match it;
    ``{"tool": "<component>.<tool>", "args": {...}}`` calls that tool and returns its result."""
    if isinstance(input, dict) and isinstance(input.get("tool"), str):
        log(f"calling {input['tool']}")
        return call_tool(input["tool"], input.get("args") or {})
    text = input.get("text") if isinstance(input, dict) else None
    if not isinstance(text, str):
        raise ValueError("the input needs `text` (a string) or `tool`")
    return {"words": len(text.split()), "tools": [t["name"] for t in search_tools(text, 5)]}
