"""Prints, for each case of the shared argument table (path in argv[1]), the problem sdk-py finds
(null when the arguments pass), as one JSON array. Run by tests/tests/sdk_arguments.rs.

Loads ``_args.py`` by path: the package's ``__init__`` needs the component's WIT bindings.
"""

import importlib.util
import json
import pathlib
import sys

here = pathlib.Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("_args", here.parent / "wasm_host_sdk" / "_args.py")
args = importlib.util.module_from_spec(spec)
spec.loader.exec_module(args)

table = json.loads(pathlib.Path(sys.argv[1]).read_text())
found = [args.parse_arguments(c["schema"], c["arguments"])[1] for c in table["cases"]]
sys.stdout.write(json.dumps(found))
