//! The one `bindgen!` per WIT world. Everything else uses the types re-exported here.

/// The `tool-component` world: exports `tool`, imports `log`.
pub mod tool {
    wasmtime::component::bindgen!({
        path: "../../wit/mcp",
        world: "tool-component",
        exports: { default: async },
    });
}

/// The `program-component` world: imports `tools` (async: it runs other components) and `log`.
pub mod program {
    wasmtime::component::bindgen!({
        path: "../../wit/mcp",
        world: "program-component",
        imports: { "wasm-host:mcp/tools": async },
        exports: { default: async },
        with: {
            "wasm-host:mcp/types": super::tool::wasm_host::mcp::types,
            "wasm-host:mcp/log": super::tool::wasm_host::mcp::log,
        },
    });
}

pub use tool::wasm_host::mcp::log::Level;
pub use tool::wasm_host::mcp::types::{ToolDef, ToolError, ToolOutput};
