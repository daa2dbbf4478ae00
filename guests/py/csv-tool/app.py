"""`csv`: look into CSV files in a granted directory: columns, filtered rows, grouped aggregates.

Standard library only (csv, re, statistics). Values stay the strings the file holds; numeric
comparisons and aggregates parse them as numbers where they can.
"""

import csv
import errno
import os
import re

from wasm_host_sdk import Denied, InvalidArguments, NotFound, Tool, tool  # noqa: F401 (Tool is the export)

ROOT = "/data"
MAX_LIMIT = 1000
OPS = ("eq", "ne", "lt", "le", "gt", "ge", "contains", "startswith", "endswith", "in", "exists", "regex")
ALIASES = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
AGGREGATES = ("count", "sum", "mean", "min", "max")

FILTER_SCHEMA = {
    "type": "object",
    "properties": {
        "column": {"type": "string"},
        "op": {"type": "string", "enum": list(OPS) + list(ALIASES), "default": "eq"},
        "value": {"description": "Value to compare with (a list for `in`, a pattern for `regex`)."},
    },
    "required": ["column"],
}
WHERE_SCHEMA = {
    "anyOf": [FILTER_SCHEMA, {"type": "array", "items": FILTER_SCHEMA}],
    "description": "Filter(s) on each row; several must all hold. Numbers compare as numbers.",
}
PATH_SCHEMA = {"type": "string", "description": "CSV/TSV file, e.g. /data/sales.csv (relative paths are under /data)."}


# ---------------------------------------------------------------------------------------------
# Reading files.

def _resolve(path):
    """Absolute, normalized path; only paths under ROOT (the granted directory) are allowed."""
    if not isinstance(path, str) or not path:
        raise InvalidArguments("`path` must be a non-empty string")
    full = os.path.normpath(path if path.startswith("/") else os.path.join(ROOT, path))
    if full != ROOT and not full.startswith(ROOT + "/"):
        raise Denied(f"{full} is outside {ROOT}, the directory this tool reads")
    return full


def _open(path):
    """Opens a CSV file; returns (file, dialect, resolved path). OS errors become tool errors."""
    full = _resolve(path)
    try:
        f = open(full, newline="", encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise NotFound(f"{full}: no such file") from None
    except IsADirectoryError:
        raise InvalidArguments(f"{full} is a directory") from None
    except OSError as e:
        if isinstance(e, PermissionError) or e.errno in (errno.EACCES, errno.EPERM, getattr(errno, "ENOTCAPABLE", -1)):
            raise Denied(f"{full}: not inside a granted directory, or not readable") from None
        raise
    sample = f.read(8192)
    f.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if full.endswith(".tsv") else csv.excel
    return f, dialect, full


def _rows(path):
    """(resolved path, header, iterator of row dicts)."""
    f, dialect, full = _open(path)
    reader = csv.reader(f, dialect)
    header = next(reader, None)
    if header is None:
        f.close()
        raise InvalidArguments(f"{full} is empty")

    def rows():
        with f:
            for values in reader:
                if values:
                    yield dict(zip(header, values + [""] * (len(header) - len(values))))

    return full, header, rows()


def _check_columns(header, names, what):
    missing = [n for n in names if n not in header]
    if missing:
        raise InvalidArguments(f"unknown {what} {', '.join(map(repr, missing))}; columns are {', '.join(header)}")


def _check_limit(limit, name="limit", maximum=MAX_LIMIT):
    if not 1 <= limit <= maximum:
        raise InvalidArguments(f"`{name}` must be from 1 to {maximum}")


# ---------------------------------------------------------------------------------------------
# Values and filters.

def _number(value):
    """The value as a float, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip().replace(",", "")) if str(value).strip() else None
    except ValueError:
        return None


def _compare(a, b):
    """-1/0/1 comparing a cell with a value: numerically when both are numbers, else as text."""
    x, y = _number(a), _number(b)
    if x is None or y is None:
        x, y = str(a), str(b)
    return (x > y) - (x < y)


def _compile_filter(where, header):
    filters = where if isinstance(where, list) else [where]
    tests = []
    for n, f in enumerate(filters):
        if not isinstance(f, dict) or not isinstance(f.get("column"), str):
            raise InvalidArguments(f"where[{n}] must be an object with a `column`")
        _check_columns(header, [f["column"]], "column")
        op = ALIASES.get(f.get("op", "eq"), f.get("op", "eq"))
        if op not in OPS:
            raise InvalidArguments(f"where[{n}].op must be one of {', '.join(OPS + tuple(ALIASES))}")
        value = f.get("value")
        if op == "regex":
            try:
                value = re.compile(str(value))
            except re.error as e:
                raise InvalidArguments(f"where[{n}].value is not a valid regex: {e}") from None
        if op == "in" and not isinstance(value, list):
            raise InvalidArguments(f"where[{n}].value must be a list for `in`")
        tests.append((f["column"], op, value))

    def matches(row):
        for column, op, value in tests:
            cell = row.get(column, "")
            if op == "exists":
                ok = (cell.strip() != "") == (value is not False)
            elif op == "regex":
                ok = value.search(cell) is not None
            elif op == "in":
                ok = any(_compare(cell, v) == 0 for v in value)
            elif op == "contains":
                ok = str(value) in cell
            elif op == "startswith":
                ok = cell.startswith(str(value))
            elif op == "endswith":
                ok = cell.endswith(str(value))
            else:
                c = _compare(cell, value)
                ok = {"eq": c == 0, "ne": c != 0, "lt": c < 0, "le": c <= 0, "gt": c > 0, "ge": c >= 0}[op]
            if not ok:
                return False
        return True

    return matches


def _sort_key(value):
    number = _number(value)
    return (0, number, "") if number is not None else (1, 0.0, str(value))


def _tidy(x):
    """Whole floats as ints, so sums of counts read naturally."""
    return int(x) if isinstance(x, float) and x.is_integer() and abs(x) < 2 ** 53 else x


class _Group:
    """Running aggregates of one group: count, and sum/mean/min/max of the numeric cells
    (min/max fall back to text order when a column has no numbers)."""

    def __init__(self):
        self.count = self.n = self.non_numeric = 0
        self.total = 0.0
        self.low = self.high = None  # numeric extremes
        self.low_text = self.high_text = None  # text extremes, for non-numeric columns

    def add(self, cell):
        self.count += 1
        if cell is None or not cell.strip():
            return
        x = _number(cell)
        if x is None:
            self.non_numeric += 1
            self.low_text = cell if self.low_text is None else min(self.low_text, cell)
            self.high_text = cell if self.high_text is None else max(self.high_text, cell)
            return
        self.n += 1
        self.total += x
        self.low = x if self.low is None else min(self.low, x)
        self.high = x if self.high is None else max(self.high, x)

    def sum(self):
        return _tidy(self.total)

    def mean(self):
        return self.total / self.n if self.n else None

    def min(self):
        return _tidy(self.low) if self.n else self.low_text

    def max(self):
        return _tidy(self.high) if self.n else self.high_text


# ---------------------------------------------------------------------------------------------
# Tools.

@tool(
    title="List CSV files",
    description="List the CSV/TSV files under a directory (recursively) with their sizes.",
    schema={
        "type": "object",
        "properties": {"dir": {"type": "string", "default": ROOT},
                       "limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 500}},
        "additionalProperties": False,
    },
)
def files(dir: str = ROOT, limit: int = 500) -> dict:
    _check_limit(limit, maximum=10000)
    top = _resolve(dir)
    if not os.path.isdir(top):
        raise NotFound(f"{top} is not a directory")
    found = []
    for base, dirs, names in os.walk(top):
        dirs.sort()
        for name in sorted(names):
            if name.lower().endswith((".csv", ".tsv")):
                full = os.path.join(base, name)
                found.append({"path": full, "size": os.path.getsize(full)})
        if len(found) > limit:
            break
    return {"dir": top, "count": min(len(found), limit), "truncated": len(found) > limit, "files": found[:limit]}


@tool(
    title="Describe CSV columns",
    description="Show a CSV file's columns with a guessed type (integer/number/boolean/text), how many "
                "values are empty, and an example value; also the row count.",
    schema={"type": "object", "properties": {"path": PATH_SCHEMA}, "required": ["path"],
            "additionalProperties": False},
)
def columns(path: str) -> dict:
    full, header, rows = _rows(path)
    kinds = {c: {} for c in header}
    empty = dict.fromkeys(header, 0)
    example = dict.fromkeys(header, "")
    count = 0
    for row in rows:
        count += 1
        for c in header:
            v = row[c].strip()
            if not v:
                empty[c] += 1
                continue
            example[c] = example[c] or v
            k = _kind(v)
            kinds[c][k] = kinds[c].get(k, 0) + 1

    def describe(c):
        k = set(kinds[c])
        kind = ("empty" if not k else "integer" if k == {"integer"} else "number" if k <= {"integer", "number"}
                else "boolean" if k == {"boolean"} else "text")
        d = {"name": c, "type": kind, "empty": empty[c], "example": example[c]}
        if len(k) > 1:
            d["kinds"] = kinds[c]
        return d

    return {"path": full, "rows": count, "columns": [describe(c) for c in header]}


def _kind(value):
    if re.fullmatch(r"[+-]?\d+", value):
        return "integer"
    if _number(value) is not None:
        return "number"
    return "boolean" if value.lower() in ("true", "false", "yes", "no") else "text"


@tool(
    name="filter",
    title="Filter CSV rows",
    description="Rows of a CSV file matching filters ({column, op, value}; ops eq ne lt le gt ge contains "
                "startswith endswith in exists regex), optionally sorted, with selected columns, paged.",
    schema={
        "type": "object",
        "properties": {
            "path": PATH_SCHEMA,
            "where": WHERE_SCHEMA,
            "columns": {"type": "array", "items": {"type": "string"}, "description": "Columns to return (default all)."},
            "sort_by": {"type": "string", "description": "Column to sort by (numbers sort numerically)."},
            "descending": {"type": "boolean", "default": False},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
            "offset": {"type": "integer", "minimum": 0, "default": 0},
        },
        "required": ["path"],
        "additionalProperties": False,
    },
)
def filter_rows(path: str, where=None, columns: list = None, sort_by: str = None, descending: bool = False,
                limit: int = 100, offset: int = 0) -> dict:
    _check_limit(limit)
    if offset < 0:
        raise InvalidArguments("`offset` must not be negative")
    full, header, rows = _rows(path)
    selected = columns or header
    _check_columns(header, selected + ([sort_by] if sort_by else []), "column")
    matches = _compile_filter(where, header) if where else None
    if sort_by:
        hits = sorted((r for r in rows if matches is None or matches(r)),
                      key=lambda r: _sort_key(r[sort_by]), reverse=descending)
        total, page = len(hits), hits[offset:offset + limit]
    else:
        total, page = 0, []
        for r in rows:
            if matches is None or matches(r):
                if offset <= total < offset + limit:
                    page.append(r)
                total += 1
    return {"path": full, "total": total, "returned": len(page), "truncated": offset + len(page) < total,
            "columns": selected, "rows": [{c: r[c] for c in selected} for r in page]}


@tool(
    title="Aggregate CSV rows",
    description="Group the rows of a CSV file by a column (or not at all) and compute count/sum/mean/min/max "
                "of another column per group, after optional filters.",
    schema={
        "type": "object",
        "properties": {
            "path": PATH_SCHEMA,
            "group_by": {"type": "string", "description": "Column to group by; omit for one group of all rows."},
            "column": {"type": "string", "description": "Column to aggregate (needed for all ops but count)."},
            "ops": {"type": "array", "items": {"type": "string", "enum": list(AGGREGATES)}, "default": ["count"]},
            "where": WHERE_SCHEMA,
            "order_by": {"type": "string", "description": "`key` (default) or one of the ops."},
            "descending": {"type": "boolean", "default": False},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
        },
        "required": ["path"],
        "additionalProperties": False,
    },
)
def aggregate(path: str, group_by: str = None, column: str = None, ops: list = None, where=None,
              order_by: str = "key", descending: bool = False, limit: int = 100) -> dict:
    _check_limit(limit)
    ops = ops or ["count"]
    bad = [o for o in ops if o not in AGGREGATES]
    if bad:
        raise InvalidArguments(f"unknown ops {bad}; use {', '.join(AGGREGATES)}")
    if column is None and any(o != "count" for o in ops):
        raise InvalidArguments("`column` is needed for sum/mean/min/max")
    if order_by != "key" and order_by not in ops:
        raise InvalidArguments("`order_by` must be `key` or one of the requested ops")
    full, header, rows = _rows(path)
    _check_columns(header, [c for c in (group_by, column) if c], "column")
    matches = _compile_filter(where, header) if where else None

    groups = {}
    for r in rows:
        if matches is not None and not matches(r):
            continue
        key = r[group_by] if group_by else ""
        if key not in groups:
            groups[key] = _Group()
        groups[key].add(r[column] if column else None)

    def result(key, g):
        out = {"group": key} if group_by else {}
        for o in ops:
            out[o] = g.count if o == "count" else getattr(g, o)()
        if g.non_numeric and any(o in ("sum", "mean") for o in ops):
            out["non_numeric"] = g.non_numeric
        return out

    results = [result(k, g) for k, g in groups.items()]
    field = "group" if order_by == "key" else order_by
    if group_by or order_by != "key":
        results.sort(key=lambda r: _sort_key("" if r.get(field) is None else r.get(field)), reverse=descending)
    return {"path": full, "group_by": group_by, "column": column, "groups": len(results),
            "truncated": len(results) > limit, "results": results[:limit]}
