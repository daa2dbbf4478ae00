//! `wasm-host:mcp/log` for hosts other than wasm-host: every line goes to stderr as
//! `<level> <message>`, where any WASI host shows it (wasm-host attaches lines to the call
//! instead; this component is composed only into one-file servers by `wasm-host compose`).
#![allow(unsafe_code)] // the canonical-ABI glue wit-bindgen and the export macros generate

/// The generated bindings of the `log-stderr` world.
#[allow(missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: ["../../../wit/mcp", "../../../wit/server"],
        world: "wasm-host:server/log-stderr",
    });
}

use bindings::exports::wasm_host::mcp::log::{Guest, Level};

struct Stderr;

impl Guest for Stderr {
    fn log(level: Level, message: String) {
        let level = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        eprintln!("{level} {message}");
    }
}

bindings::export!(Stderr with_types_in bindings);
