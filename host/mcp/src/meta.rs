//! Progressive discovery: the `search_tools` meta-tool, the server modes that decide whether the
//! component tools themselves are listed, and typed signatures generated from JSON Schemas.
//!
//! With many tools, listing every definition costs the model thousands of tokens before it does
//! anything; instead it searches and reads only what it needs.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use std::sync::Arc;
use wasm_host_runtime::{ToolInfo, escape_hidden};
use wasm_host_search::SearchIndex;

/// Name of the search meta-tool.
pub const SEARCH_TOOLS: &str = "search_tools";

/// More component tools than this and the default mode lists only the meta-tools.
pub const AUTO_CODE_MODE_ABOVE: usize = 30;

/// Which tools `tools/list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every component tool, no meta-tools.
    Direct,
    /// Only the meta-tools.
    Code,
    /// Component tools and meta-tools (the default; becomes `Code` above 30 tools).
    #[default]
    Both,
}

impl Mode {
    /// The mode in effect with `tools` component tools: `Both` turns into `Code` above
    /// [`AUTO_CODE_MODE_ABOVE`] unless the operator chose a mode explicitly.
    pub fn effective(configured: Option<Mode>, tools: usize) -> Mode {
        match configured {
            Some(m) => m,
            None if tools > AUTO_CODE_MODE_ABOVE => Mode::Code,
            None => Mode::Both,
        }
    }

    /// Whether component tools are listed.
    pub fn lists_components(self) -> bool {
        self != Mode::Code
    }

    /// Whether meta-tools are listed and callable.
    pub fn has_meta_tools(self) -> bool {
        self != Mode::Direct
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "direct" => Ok(Mode::Direct),
            "code" => Ok(Mode::Code),
            "both" => Ok(Mode::Both),
            other => Err(format!("mode `{other}`: expected direct, code or both")),
        }
    }
}

/// The `search_tools` definition (kept short: it is paid for in every conversation).
pub fn search_tools_definition() -> Tool {
    let schema = json!({
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What you need, in words"},
            "detail": {"enum": ["name", "summary", "full"], "description": "name; summary (+description); full (+schema, signature). Default summary"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50, "description": "Default 10"}
        },
        "required": ["query"]
    });
    let Value::Object(schema) = schema else { unreachable!("a JSON object literal") };
    Tool::new(SEARCH_TOOLS, "Find tools by what they do, best match first.", Arc::new(schema))
        .with_annotations(
            ToolAnnotations::new()
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        )
}

/// Runs `search_tools` with `args` over `tools` (indexed by `index`); the answer is JSON.
/// `weight` scales each hit's score (a skill's success so far); skills come with the code-mode
/// call that runs them (`"call": "skills.todo_report(args)"`).
pub fn search(
    index: &SearchIndex,
    tools: &[ToolInfo],
    args: &JsonObject,
    weight: &dyn Fn(&ToolInfo) -> f32,
) -> Result<Value, String> {
    let query =
        args.get("query").and_then(Value::as_str).ok_or("`query` (a string) is required")?;
    let detail = args.get("detail").and_then(Value::as_str).unwrap_or("summary");
    let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(10).clamp(1, 50) as usize;
    let item: fn(&ToolInfo) -> Value = match detail {
        "name" => |t| json!(t.qualified),
        "summary" => {
            |t| json!({"name": t.qualified, "description": escape_hidden(first_line(&t.description))})
        }
        "full" => |t| {
            json!({
                "name": t.qualified,
                "description": escape_hidden(&t.description),
                "input_schema": t.input_schema,
                "output_schema": t.output_schema,
                "signature": signature(t),
            })
        },
        other => return Err(format!("detail `{other}`: expected name, summary or full")),
    };
    // Re-rank a wider set by weight, so a skill that keeps failing sinks below its peers.
    let mut hits = index.search(query, limit.saturating_mul(2).max(20));
    for h in &mut hits {
        h.score *= weight(&tools[h.doc]);
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits.truncate(limit);
    let found: Vec<Value> = hits
        .iter()
        .map(|h| {
            let t = &tools[h.doc];
            let mut v = item(t);
            if t.skill {
                let skill = t.qualified.trim_end_matches(".run").replace('-', "_");
                let call = json!(format!("skills.{skill}(args)"));
                match v.as_object_mut() {
                    Some(o) => drop(o.insert("call".into(), call)),
                    // `detail: name`: a skill is named by the call that runs it.
                    None => v = call,
                }
            }
            v
        })
        .collect();
    Ok(json!({"query": query, "total_tools": tools.len(), "tools": found}))
}

fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or_default();
    match line.find(". ") {
        Some(i) => &line[..=i],
        None => line,
    }
}

/// A TypeScript-style signature: `csv.aggregate(args: {path: string; ops?: string[]}): object`.
pub fn signature(t: &ToolInfo) -> String {
    let out = t.output_schema.as_ref().map_or_else(|| "string".to_string(), ts_type);
    format!("{}(args: {}): {out}", t.qualified, ts_type(&t.input_schema))
}

/// The generic a stub declares for "one or many": `type Many<T> = T | T[];`.
pub const MANY: &str = "Many";

/// The TypeScript type a JSON Schema describes (objects, arrays, enums, unions, primitives).
pub fn ts_type(schema: &Value) -> String {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.iter().map(Value::to_string).collect::<Vec<_>>().join(" | ");
    }
    if let Some(options) =
        schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array)
    {
        // `X | X[]` (one or many, as csv's `where`) names X once.
        if let [one, many] = options.as_slice()
            && many.get("type") == Some(&json!("array"))
            && many.get("items") == Some(one)
        {
            return format!("{MANY}<{}>", ts_type(one));
        }
        return options.iter().map(ts_type).collect::<Vec<_>>().join(" | ");
    }
    match schema.get("type") {
        Some(Value::Array(types)) => {
            types.iter().map(|t| ts_type(&json!({"type": t}))).collect::<Vec<_>>().join(" | ")
        }
        Some(Value::String(t)) => match t.as_str() {
            "string" => "string".into(),
            "integer" | "number" => "number".into(),
            "boolean" => "boolean".into(),
            "null" => "null".into(),
            "array" => format!("{}[]", wrap(ts_type(schema.get("items").unwrap_or(&json!({}))))),
            "object" => object_type(schema),
            _ => "unknown".into(),
        },
        _ if schema.get("properties").is_some() => object_type(schema),
        _ => "unknown".into(),
    }
}

fn wrap(t: String) -> String {
    if t.contains(' ') { format!("({t})") } else { t }
}

fn object_type(schema: &Value) -> String {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return "Record<string, unknown>".into();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields: Vec<String> = props
        .iter()
        .map(|(k, v)| {
            format!("{k}{}: {}", if required.contains(&k.as_str()) { "" } else { "?" }, ts_type(v))
        })
        .collect();
    format!("{{{}}}", fields.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_default_to_both_and_turn_to_code_above_thirty_tools() {
        assert_eq!(Mode::effective(None, 30), Mode::Both);
        assert_eq!(Mode::effective(None, 31), Mode::Code);
        assert_eq!(Mode::effective(Some(Mode::Direct), 500), Mode::Direct);
        assert_eq!("code".parse::<Mode>(), Ok(Mode::Code));
        assert!("fast".parse::<Mode>().is_err());
    }

    #[test]
    fn schemas_become_typescript_types() {
        let s = json!({"type": "object", "properties": {"path": {"type": "string"}, "ops": {"type": "array", "items": {"enum": ["sum", "mean"]}}, "n": {"type": ["integer", "null"]}}, "required": ["path"]});
        let t = ts_type(&s);
        for part in ["path: string", r#"ops?: ("sum" | "mean")[]"#, "n?: number | null"] {
            assert!(t.contains(part), "{part} in {t}");
        }
        assert!(t.starts_with('{') && t.ends_with('}'), "{t}");
        assert_eq!(ts_type(&json!({})), "unknown");
    }
}
