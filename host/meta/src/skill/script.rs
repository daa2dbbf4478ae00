//! A skill's script: what `skills.<name>(args)` runs in code mode.
//!
//! Named in the frontmatter's `metadata` (a string map in the Agent Skills specification, so any
//! client that does not know these keys still reads the skill):
//!
//! - `run`: the script, under `scripts/`, ending in `.js` (JavaScript) or `.py` (Python). It is a
//!   program body, as `execute_code` takes one, that sees its input as `args`.
//! - `input-schema` (optional): a JSON Schema file for `args` (default: any object).
//! - `examples` (optional): a JSON file `[{"input": {...}, "output": ...}]`, re-run by
//!   `wasm-host skill check`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{SkillError, SkillFile};

/// Most examples one skill may carry.
pub const MAX_EXAMPLES: usize = 32;

/// The language a skill's script is written in (by its file extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScriptLanguage {
    /// `.js`, run by the JavaScript runner.
    JavaScript,
    /// `.py`, run by the Python runner.
    Python,
}

impl ScriptLanguage {
    /// The script file's extension: `js` or `py`.
    pub fn extension(self) -> &'static str {
        match self {
            ScriptLanguage::JavaScript => "js",
            ScriptLanguage::Python => "py",
        }
    }
}

/// One example of a skill: an input and the output it must give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// The arguments (`args`).
    pub input: Map<String, Value>,
    /// The value the script returns for them.
    pub output: Value,
}

/// A skill's runnable script, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillScript {
    /// Path inside the skill, e.g. `scripts/run.py`.
    pub path: String,
    /// Its language.
    pub language: ScriptLanguage,
    /// Its source.
    pub code: String,
    /// JSON Schema of its input (default `{"type": "object"}`).
    pub input_schema: Value,
    /// Its examples (may be empty).
    pub examples: Vec<Example>,
}

/// Reads the script the frontmatter's `metadata` names, if any; every key must name a file of the
/// skill that parses as what it should be.
pub(super) fn parse(
    metadata: Option<&Value>,
    files: &[SkillFile],
) -> Result<Option<SkillScript>, SkillError> {
    let get = |key: &str| metadata.and_then(|m| m.get(key)).and_then(Value::as_str);
    let bad = |key: &str, why: String| SkillError::Frontmatter(format!("metadata.{key}: {why}"));
    let Some(path) = get("run") else {
        if let Some(key) = ["input-schema", "examples"].into_iter().find(|k| get(k).is_some()) {
            return Err(bad(key, "needs `metadata.run` (the script it belongs to)".into()));
        }
        return Ok(None);
    };
    let language = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => ScriptLanguage::JavaScript,
        Some("py") => ScriptLanguage::Python,
        _ => return Err(bad("run", format!("`{path}` must end in .js or .py"))),
    };
    if !path.starts_with("scripts/") {
        return Err(bad("run", format!("`{path}` must be under scripts/")));
    }
    let text = |key: &str, path: &str| -> Result<String, SkillError> {
        let file = files
            .iter()
            .find(|f| f.path == path)
            .ok_or_else(|| bad(key, format!("`{path}` is not a file of this skill")))?;
        String::from_utf8(file.bytes.clone())
            .map_err(|_| bad(key, format!("`{path}` is not UTF-8")))
    };
    let code = text("run", path)?;
    let input_schema = match get("input-schema") {
        Some(p) => {
            let schema: Value = serde_json::from_str(&text("input-schema", p)?)
                .map_err(|e| bad("input-schema", format!("`{p}` is not JSON: {e}")))?;
            if !schema.is_object() {
                return Err(bad("input-schema", format!("`{p}` must hold a JSON object")));
            }
            schema
        }
        None => serde_json::json!({"type": "object"}),
    };
    let examples = match get("examples") {
        Some(p) => {
            let examples: Vec<Example> =
                serde_json::from_str(&text("examples", p)?).map_err(|e| {
                    bad(
                        "examples",
                        format!("`{p}`: {e} (expected [{{\"input\": {{…}}, \"output\": …}}])"),
                    )
                })?;
            if examples.len() > MAX_EXAMPLES {
                return Err(bad(
                    "examples",
                    format!("{} examples, above the limit of {MAX_EXAMPLES}", examples.len()),
                ));
            }
            examples
        }
        None => Vec::new(),
    };
    Ok(Some(SkillScript { path: path.to_string(), language, code, input_schema, examples }))
}
