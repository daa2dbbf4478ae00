//! The tool tree: typed stubs generated from each tool's JSON Schemas, served as MCP resources so
//! a model can browse `wasm-host://tools/index.md` and read only the stubs it needs:
//! `wasm-host://tools/<component>/<tool>.d.ts` (TypeScript) and `.pyi` (Python).
//!
//! In a program the tool is called as `tools.<component>.<tool>(args)`; component names with
//! and tool names with `-` become `_` (`json-query` → `tools.json_query`), the one rule both
//! languages (and `guests/runners/*`) share.

use crate::meta::{MANY, ts_type};
use serde_json::Value;
use std::fmt::Write;
use wasm_host_runtime::ToolInfo;
use wasm_host_runtime::escape_hidden;

/// URI prefix of the tool tree.
pub const TREE: &str = "wasm-host://tools/";
/// URI of the index.
pub const INDEX_URI: &str = "wasm-host://tools/index.md";

/// The identifier a component or tool gets in programs (`json-query` → `json_query`).
pub fn ident(component: &str) -> String {
    component.replace('-', "_")
}

/// `(component, tool)` of a qualified name.
fn split(t: &ToolInfo) -> (&str, &str) {
    let component =
        t.qualified.strip_suffix(&t.name).and_then(|c| c.strip_suffix('.')).unwrap_or(&t.qualified);
    (component, &t.name)
}

/// The stub URIs of a tool: `.d.ts` and `.pyi`.
pub fn uris(t: &ToolInfo) -> [String; 2] {
    let (c, n) = split(t);
    [format!("{TREE}{c}/{n}.d.ts"), format!("{TREE}{c}/{n}.pyi")]
}

/// The index: one line per tool with its description's first sentence and its stubs.
pub fn index(tools: &[ToolInfo]) -> String {
    let mut out = String::from(
        "# Tools\n\nCall as `tools.<component>.<tool>(args)`. Stubs: `<tool>.d.ts` (JavaScript), `<tool>.pyi` (Python).\n\n",
    );
    for t in tools {
        let (c, n) = split(t);
        let summary = escape_hidden(t.description.lines().next().unwrap_or_default());
        let _ = writeln!(
            out,
            "- `tools.{}.{}` — {summary} ({TREE}{c}/{n}.d.ts, .pyi)",
            ident(c),
            ident(n)
        );
    }
    out
}

/// The stub at `uri`, if it names a tool in `tools`.
pub fn read(tools: &[ToolInfo], uri: &str) -> Option<String> {
    if uri == INDEX_URI {
        return Some(index(tools));
    }
    let rest = uri.strip_prefix(TREE)?;
    tools.iter().find_map(|t| {
        let (c, n) = split(t);
        let stem = rest.strip_prefix(c)?.strip_prefix('/')?;
        match stem.strip_prefix(n)? {
            ".d.ts" => Some(typescript(t)),
            ".pyi" => Some(python(t)),
            _ => None,
        }
    })
}

/// A TypeScript declaration of one tool.
pub fn typescript(t: &ToolInfo) -> String {
    let (c, n) = split(t);
    let out = t.output_schema.as_ref().map_or_else(|| "string".to_string(), ts_type);
    let args = ts_type(&t.input_schema);
    let many = if format!("{args}{out}").contains(&format!("{MANY}<")) {
        format!("type {MANY}<T> = T | T[];\n")
    } else {
        String::new()
    };
    format!(
        "// tools.{}.{}\n{many}/** {} */\nexport declare function {}(args: {args}): {out};\n",
        ident(c),
        ident(n),
        escape_hidden(&t.description).replace("*/", "* /"),
        ident(n),
    )
}

/// A Python stub of one tool: keyword-only parameters, optional ones defaulting to `None`.
pub fn python(t: &ToolInfo) -> String {
    let (c, n) = split(t);
    let schema = &t.input_schema;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let props = schema.get("properties").and_then(Value::as_object);
    let mut params: Vec<String> = Vec::new();
    for (k, v) in props.into_iter().flatten().filter(|(k, _)| required.contains(&k.as_str())) {
        params.push(format!("{k}: {}", py_type(v)));
    }
    for (k, v) in props.into_iter().flatten().filter(|(k, _)| !required.contains(&k.as_str())) {
        params.push(format!("{k}: {} | None = None", py_type(v)));
    }
    let args = if params.is_empty() { String::new() } else { format!("*, {}", params.join(", ")) };
    let out = t.output_schema.as_ref().map_or_else(|| "str".to_string(), py_type);
    let doc = escape_hidden(&t.description).replace("\"\"\"", "'''");
    let f = ident(n);
    format!(
        "# tools.{}.{f}\nfrom typing import Any, Literal\n\ndef {f}({args}) -> {out}:\n    \"\"\"{doc}\"\"\"\n    ...\n",
        ident(c)
    )
}

/// The Python type a JSON Schema describes.
pub fn py_type(schema: &Value) -> String {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return format!(
            "Literal[{}]",
            values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
        );
    }
    match schema.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .map(|t| py_type(&serde_json::json!({"type": t})))
            .collect::<Vec<_>>()
            .join(" | "),
        Some(Value::String(t)) => match t.as_str() {
            "string" => "str".into(),
            "integer" => "int".into(),
            "number" => "float".into(),
            "boolean" => "bool".into(),
            "null" => "None".into(),
            "array" => format!("list[{}]", py_type(schema.get("items").unwrap_or(&Value::Null))),
            "object" => "dict[str, Any]".into(),
            _ => "Any".into(),
        },
        _ => "Any".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool() -> ToolInfo {
        ToolInfo {
            qualified: "json-query.query".into(),
            name: "query".into(),
            title: None,
            description: "Select items of a JSON file.".into(),
            input_schema: json!({"type": "object", "properties": {"file": {"type": "string"}, "limit": {"type": "integer"}, "op": {"enum": ["=", ">"]}}, "required": ["file"]}),
            output_schema: None,
            hints: Default::default(),
            skill: false,
        }
    }

    #[test]
    fn stubs_are_typed_from_the_schema_and_found_by_uri() {
        let t = tool();
        let [ts_uri, py_uri] = uris(&t);
        assert_eq!(ts_uri, "wasm-host://tools/json-query/query.d.ts");
        let ts = read(std::slice::from_ref(&t), &ts_uri).expect("the .d.ts");
        assert!(
            ts.contains("export declare function query(args: {")
                && ts.contains("file: string")
                && ts.contains("limit?: number"),
            "{ts}"
        );
        let py = read(std::slice::from_ref(&t), &py_uri).expect("the .pyi");
        assert!(
            py.contains("def query(*, file: str, ")
                && py.contains("limit: int | None = None")
                && py.contains(r#"Literal["=", ">"]"#),
            "{py}"
        );
        assert!(py.contains("# tools.json_query.query"), "{py}");
        assert!(read(std::slice::from_ref(&t), "wasm-host://tools/json-query/nope.pyi").is_none());
        assert!(index(&[t]).contains("`tools.json_query.query` — Select items"));
    }

    #[test]
    fn one_or_many_names_its_type_once() {
        let filter = json!({"type": "object", "properties": {"column": {"type": "string"}}, "required": ["column"]});
        let mut t = tool();
        t.input_schema = json!({"type": "object", "properties": {
            "where": {"anyOf": [filter, {"type": "array", "items": filter}]}
        }});
        let ts = typescript(&t);
        assert!(ts.contains("type Many<T> = T | T[];"), "{ts}");
        assert!(ts.contains("where?: Many<{column: string}>"), "{ts}");
        assert_eq!(ts.matches("column: string").count(), 1, "{ts}");
        assert!(!typescript(&tool()).contains("Many"), "declared only when used");
    }
}
