//! The Rust guest SDK for wasm-host.
//!
//! A tool is a function plus a description: [`Tool::typed`] takes a struct of arguments whose
//! JSON Schema is derived (`schemars`) and into which the arguments are deserialized (`serde`);
//! [`Tool::new`] takes a JSON Schema and `fn(Value) -> Result<Output, ToolError>`. Before either
//! runs, the arguments pass the rules every SDK shares ([`args`]). [`export_tools!`] glues a list
//! of tools to the `wasm-host:mcp/tool` export.
//! A program implements `fn(Value) -> Result<Value, String>` and calls tools through [`host`];
//! [`export_program!`] glues it to `wasm-host:mcp/program`. Pick the world with the `tool`
//! (default) or `program` cargo feature.
#![allow(unsafe_code)] // the generated bindings contain the canonical-ABI glue.

pub use schemars;
pub use serde_json::{self, Value, json};

pub mod args;

#[cfg(feature = "tool")]
#[doc(hidden)]
pub mod tool_bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "tool-component",
        pub_export_macro: true,
        export_macro_name: "__export_tool_component",
        default_bindings_module: "wasm_host_sdk::tool_bindings",
    });
}

#[cfg(feature = "program")]
#[doc(hidden)]
pub mod program_bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "program-component",
        pub_export_macro: true,
        export_macro_name: "__export_program_component",
        default_bindings_module: "wasm_host_sdk::program_bindings",
    });
}

#[cfg(feature = "tool")]
mod tool;
#[cfg(feature = "tool")]
pub use tool::*;

#[cfg(feature = "program")]
pub mod host;
