"""{{name}}: a wasm-host tool component. `wasm-host build` makes it a component (componentize-py).

The JSON Schema of each tool is derived from its signature; arguments arrive as keyword
arguments, checked against it first.
"""

from wasm_host_sdk import InvalidArguments, Tool, tool  # noqa: F401  (`Tool` is the export)


@tool
def greet(name: str, times: int = 1) -> dict:
    """Greet someone by name, 1 to 10 times."""
    if not 1 <= times <= 10:
        raise InvalidArguments("`times` must be between 1 and 10")
    return {"greeting": " ".join([f"Hello, {name}!"] * times)}
