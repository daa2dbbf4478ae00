//! {{name}}: a wasm-host tool component.

use schemars::JsonSchema;
use serde::Deserialize;
use wasm_host_sdk::{Output, Tool, ToolError, export_tools, json};

// The tool's JSON Schema is derived from this struct and the arguments are parsed into it, so
// the two cannot disagree. Doc comments become the descriptions the model reads.
/// Whom to greet, and how often.
#[derive(Deserialize, JsonSchema)]
struct Greet {
    /// Who to greet.
    name: String,
    /// How many times, 1 to 10 (default 1).
    times: Option<u32>,
}

fn greet(args: Greet) -> Result<Output, ToolError> {
    let times = args.times.unwrap_or(1);
    if !(1..=10).contains(&times) {
        return Err(ToolError::InvalidArguments("`times` must be between 1 and 10".into()));
    }
    let greeting = vec![format!("Hello, {}!", args.name); times as usize].join(" ");
    Ok(Output::Json(json!({ "greeting": greeting })))
}

fn tools() -> Vec<Tool> {
    vec![Tool::typed("greet", "Greet someone by name.", greet)]
}

export_tools!(tools());
