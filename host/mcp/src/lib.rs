//! The MCP layer: an rmcp `ServerHandler` over the runtime's [`Catalog`](wasm_host_runtime::Catalog)
//! and [`Executor`](wasm_host_runtime::Executor), served over stdio or streamable HTTP.
//!
//! Direct mode: every tool of every loaded component is an MCP tool named `<component>.<tool>`.
//! The runtime checks arguments against the tool's JSON Schema before the guest runs. Tool failures,
//! traps and limit hits are `isError: true` results; protocol problems (unknown tool, malformed
//! requests) are JSON-RPC errors. This is the one place that maps runtime errors to MCP.
//!
//! Progressive discovery (`meta`, `stubs`): in `code` and `both` modes the `search_tools`
//! meta-tool and the tool tree resources (typed `.d.ts` / `.pyi` stubs) let a model find and read
//! only the tools it needs; `code` adds `execute_code` (programs that call tools as functions, in
//! a runner component) and the session workspace's `checkpoint` / `restore`. `skills` serves skill
//! components over the skills extension (SEP-2640) and as prompts. `reload` keeps the catalog in step with watched directories; `stdio`
//! is the checked stdio transport.
//!
//! ```
//! use wasm_host_mcp::Mode;
//!
//! // With no mode configured, a server lists component tools and meta-tools up to 30 tools,
//! // and only the meta-tools above that.
//! assert_eq!(Mode::effective(None, 12), Mode::Both);
//! assert_eq!(Mode::effective(None, 31), Mode::Code);
//! assert_eq!(Mode::effective(Some("direct".parse().unwrap()), 31), Mode::Direct);
//! ```

// rmcp 3 marks MCP logging deprecated (SEP-2577), but current clients still use
// `logging/setLevel` and log notifications; we keep serving them.
#![allow(deprecated)]

mod audit;
mod code;
mod convert;
mod grants;
mod meta;
mod metrics;
mod privacy;
mod reload;
mod server;
mod skills;
mod stdio;
mod stubs;
mod terminal;
mod transport;

pub use audit::AuditConfig;
pub use code::{
    ACCOUNTING_META, CHECKPOINT, CodeMode, EXECUTE_CODE, RESTORE, SAVE_SKILL, SkillSaving,
};
pub use grants::{AccessPolicy, REQUEST_ACCESS};
pub use meta::Mode;
pub use reload::{ReloadEvent, Reloader, WatchedDir};
pub use server::{McpServer, McpServerBuilder};
pub use transport::{HttpOptions, serve_http, serve_stdio};
pub use wasm_host_privacy::{ComponentPii, PiiKind, PiiPolicy, PiiRules};
pub use wasm_host_runtime::GateLimits;
