//! The only crate that touches wasmtime.
//!
//! - [`Runtime`]: one wasmtime `Engine` per process (epoch interruption, fuel metering, optional
//!   pooling allocator), the on-disk compile cache, and one `Linker` per WIT world.
//! - [`Runtime::load`]: compile (or load from cache), check imports against the semver policy,
//!   resolve the effective grant, pre-instantiate, and read the component's tool list.
//! - [`Executor`]: runs calls, each in a fresh instance whose store enforces memory, deadline,
//!   fuel, output and log caps and exposes only the granted capabilities. Programs' `tools.call`
//!   comes back through the same executor and [`Catalog`], one level deeper, with the same
//!   argument check (the tool's JSON Schema), the tool's [`Gate`] slot and the same search.
//!
//! - [`aot`]: ahead-of-time artifacts (`.cwasm`) for hosts without a compiler (feature `compiler`,
//!   on by default, brings Cranelift for every target).
//!
//! No wasmtime type appears in this crate's public API.
//!
//! ```
//! use wasm_host_runtime::{GateLimits, cut, escape_hidden};
//!
//! // What leaves the sandbox is capped and made visible.
//! let (text, truncated) = cut("x".repeat(100), 10);
//! assert!(truncated && text.starts_with("xxxxxxxxxx"));
//! assert_eq!(escape_hidden("a\u{200B}b"), "a\\u{200b}b");
//! assert_eq!(GateLimits::default().total, 256);
//! ```

pub mod aot;
mod bindings;
mod cache;
mod call;
mod catalog;
mod child_compile;
mod error;
mod gate;
mod http;
mod lane;
mod limiter;
mod output;
mod runtime;
mod state;

pub use cache::{CompileCache, default_cache_dir};
pub use call::{CallOutcome, CallStats, Executor, LogLine, LogStream, Output, stop_own_threads};
pub use catalog::{
    Catalog, ComponentKind, LoadedComponent, SearchView, SkillScripts, ToolHints, ToolInfo,
    search_index,
};
#[cfg(feature = "compiler")]
pub use child_compile::run_compile_worker;
pub use child_compile::{COMPILE_FAILED, ChildCompiler};
pub use error::{CallError, LoadError, ToolErrorKind};
pub use gate::{Admitted, Busy, Gate, GateLimits};
pub use output::{LOG_LINE_COST, cut, escape_hidden, is_hidden_character, sanitize_for_terminal};
pub use runtime::{LoadOptions, Runtime, RuntimeConfig, file_component_name};
