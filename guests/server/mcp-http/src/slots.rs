//! The tool slots: `tool-0` .. `tool-15`, each a composed component's `wasm-host:mcp/tool`, and
//! the generated `config` that names the component in each slot.

use crate::bindings::wasm_host::mcp::types::{ToolDef, ToolError, ToolOutput};
use serde_json::Value;

/// How many slots the handler imports; `wasm-host compose` refuses more components.
pub const SLOTS: usize = 16;

/// The composed server's name, version and component names (slot order).
pub struct Config {
    /// `serverInfo.name`.
    pub name: String,
    /// `serverInfo.version`.
    pub version: String,
    /// Component `i` is in slot `tool-i`.
    pub components: Vec<String>,
}

impl Config {
    /// Reads the generated `config` component's JSON (an empty server if it is unreadable).
    pub fn read() -> Config {
        let v: Value = serde_json::from_str(&crate::bindings::wasm_host::server::config::config())
            .unwrap_or(Value::Null);
        let text = |k: &str, default: &str| v[k].as_str().unwrap_or(default).to_string();
        let components: Vec<String> = v["components"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect())
            .unwrap_or_default();
        Config {
            name: text("name", "wasm-host-server"),
            version: text("version", "0.0.0"),
            components: components.into_iter().take(SLOTS).collect(),
        }
    }
}

macro_rules! slots {
    ($($i:literal => $slot:ident),* $(,)?) => {
        /// The tools of the component in `slot` (none for an unused slot).
        pub fn list_tools(slot: usize) -> Vec<ToolDef> {
            match slot {
                $($i => crate::bindings::$slot::list_tools(),)*
                _ => Vec::new(),
            }
        }

        /// Calls tool `name` of the component in `slot`.
        pub fn call(slot: usize, name: &str, arguments: &str) -> Result<ToolOutput, ToolError> {
            match slot {
                $($i => crate::bindings::$slot::call(name, arguments),)*
                _ => Err(ToolError::NotFound(format!("no component in slot {slot}"))),
            }
        }
    };
}

slots!(
    0 => tool_0, 1 => tool_1, 2 => tool_2, 3 => tool_3, 4 => tool_4, 5 => tool_5, 6 => tool_6,
    7 => tool_7, 8 => tool_8, 9 => tool_9, 10 => tool_10, 11 => tool_11, 12 => tool_12,
    13 => tool_13, 14 => tool_14, 15 => tool_15,
);
