//! The argument rules every wasm-host SDK applies before a handler runs.
//!
//! The same rules, word for word, as sdk-js `args.js` and sdk-py `_args.py`, checked from one
//! shared table (`tests/data/sdk-arguments.json`):
//!
//! 1. empty text means `{}`; text that is not JSON, or JSON that is not an object, is refused;
//! 2. every `required` property must be present;
//! 3. with `additionalProperties: false`, no property outside `properties`;
//! 4. a top-level property with a `type` must have it (`integer` counts as a `number`; `null`
//!    only where the type lists it);
//! 5. a top-level property with an `enum` must be one of its values.
//!
//! ```
//! use wasm_host_sdk::{args, json};
//! let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
//! assert_eq!(args::parse(&schema, "{}").unwrap_err(), "missing required argument `n`");
//! assert_eq!(args::parse(&schema, r#"{"n": 3}"#).unwrap(), json!({"n": 3}));
//! ```

use serde_json::{Map, Value};

/// The JSON type of a value: null, boolean, integer, number, string, array, object.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(value: &Value, expected: &str) -> bool {
    let actual = json_type(value);
    actual == expected || (expected == "number" && actual == "integer")
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Why `args` (a parsed object) are refused by `schema`, or `None` when they pass.
pub fn problem(schema: &Value, args: &Map<String, Value>) -> Option<String> {
    let empty = Map::new();
    let props = schema["properties"].as_object().unwrap_or(&empty);
    for key in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !args.contains_key(key) {
            return Some(format!("missing required argument `{key}`"));
        }
    }
    for (key, value) in args {
        let Some(prop) = props.get(key).and_then(Value::as_object) else {
            if !props.contains_key(key) && schema["additionalProperties"] == Value::Bool(false) {
                return Some(format!("unexpected argument `{key}`"));
            }
            continue;
        };
        let types: Vec<&str> = match &prop.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| type_matches(value, t)) {
            return Some(format!(
                "`{key}` must be {}, got {}",
                types.join(" or "),
                json_type(value)
            ));
        }
        if let Some(Value::Array(allowed)) = prop.get("enum")
            && !allowed.iter().any(|v| same(v, value))
        {
            let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return Some(format!("`{key}` must be one of {}", listed.join(", ")));
        }
    }
    None
}

/// Parses `text` and applies the rules: the arguments object, or the problem.
pub fn parse(schema: &Value, text: &str) -> Result<Value, String> {
    let args: Value = if text.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str(text).map_err(|e| format!("arguments are not valid JSON: {e}"))?
    };
    let Value::Object(map) = &args else {
        return Err(format!("arguments must be a JSON object, got {}", json_type(&args)));
    };
    match problem(schema, map) {
        Some(p) => Err(p),
        None => Ok(args),
    }
}
