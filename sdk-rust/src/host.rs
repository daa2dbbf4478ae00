//! What a Rust program calls: the host's `tools` and `log` imports, with JSON values.

use crate::program_bindings::wasm_host::mcp::{log, tools, types};
use serde_json::Value;

/// Calls tool `name` (`<component>.<tool>`) with `arguments`; JSON results are parsed, text
/// results come back as a JSON string. Errors are rendered as `kind: message`.
pub fn call(name: &str, arguments: &Value) -> Result<Value, String> {
    match tools::call(name, &arguments.to_string()) {
        Ok(types::ToolOutput::Json(s)) => serde_json::from_str(&s)
            .map_err(|e| format!("tool `{name}` returned invalid JSON: {e}")),
        Ok(types::ToolOutput::Text(s)) => Ok(Value::String(s)),
        Err(types::ToolError::InvalidArguments(m)) => Err(format!("invalid arguments: {m}")),
        Err(types::ToolError::NotFound(m)) => Err(format!("not found: {m}")),
        Err(types::ToolError::Failed(m)) => Err(format!("failed: {m}")),
        Err(types::ToolError::Denied(m)) => Err(format!("denied: {m}")),
    }
}

/// Qualified names of tools matching `query`, best first.
pub fn search(query: &str, limit: u32) -> Vec<String> {
    tools::search(query, limit).into_iter().map(|t| t.name).collect()
}

/// Logs a line into the call's log.
pub fn log(message: &str) {
    log::log(log::Level::Info, message);
}

/// Exports `$run` (`fn(Value) -> Result<Value, String>`) as this component's program.
#[macro_export]
macro_rules! export_program {
    ($run:path) => {
        struct __WasmHostProgram;
        impl $crate::program_bindings::exports::wasm_host::mcp::program::Guest for __WasmHostProgram {
            fn run(input: String) -> Result<String, String> {
                let input: $crate::Value = if input.trim().is_empty() {
                    $crate::Value::Null
                } else {
                    $crate::serde_json::from_str(&input).map_err(|e| format!("input is not valid JSON: {e}"))?
                };
                $run(input).map(|v| v.to_string())
            }
        }
        $crate::program_bindings::__export_program_component!(__WasmHostProgram with_types_in $crate::program_bindings);
    };
}
