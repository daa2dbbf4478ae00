//! The data of one call's `Store`: WASI context and resource table, HTTP hooks, the limiter, the
//! call log, and (for programs) the way back into the catalog for `tools.call`.

use crate::bindings::{Level, ToolDef, ToolError, ToolOutput, program, tool};
use crate::call::Executor;
use crate::http::AllowListHooks;
use crate::limiter::Limiter;
use crate::output::{CallLog, LogStream};
use std::sync::{Arc, Mutex};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Where a program's `tools.call` goes, and how deep this call already is.
pub(crate) struct Nesting {
    pub executor: Executor,
    /// 0 for a call from the outside (CLI, MCP client).
    pub depth: u32,
}

/// Everything one call's store owns.
pub(crate) struct CallState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub http: WasiHttpCtx,
    pub hooks: AllowListHooks,
    pub limiter: Limiter,
    pub log: Arc<Mutex<CallLog>>,
    pub nesting: Nesting,
    /// Bytes that nested `tools.call`s returned to this guest.
    pub nested_bytes: u64,
    /// Nested `tools.call`s made, failed ones included.
    pub nested_calls: u64,
    /// Components the nested calls used (`name@version`), theirs included.
    pub used: std::collections::BTreeSet<String>,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { hooks: &mut self.hooks, table: &mut self.table, ctx: &mut self.http }
    }
}

impl tool::wasm_host::mcp::types::Host for CallState {}

impl tool::wasm_host::mcp::log::Host for CallState {
    fn log(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        if let Ok(mut log) = self.log.lock() {
            log.push(LogStream::Log, level, &message);
        }
    }
}

impl program::wasm_host::mcp::tools::Host for CallState {
    async fn call(&mut self, name: String, arguments: String) -> Result<ToolOutput, ToolError> {
        self.nested_calls += 1;
        let outcome =
            self.nesting.executor.call_nested(&name, &arguments, self.nesting.depth + 1).await;
        // The tool's own log lines join this call's log (same cap), named by the tool.
        if let Ok(mut log) = self.log.lock() {
            for line in &outcome.log {
                log.push(line.stream, line.level, &format!("{name}: {}", line.text));
            }
        }
        self.used.extend(outcome.stats.used.iter().cloned());
        match outcome.result {
            Ok(out) => {
                self.nested_bytes += out.len() as u64;
                Ok(out.into_wit())
            }
            Err(e) => Err(e.into_wit()),
        }
    }

    async fn search(&mut self, query: String, limit: u32) -> Vec<ToolDef> {
        self.nesting
            .executor
            .catalog()
            .search(&query, limit as usize)
            .into_iter()
            .map(|t| t.to_wit())
            .collect()
    }
}

impl CallState {
    /// The memory limit this call runs under, in bytes.
    pub(crate) fn limiter_limit(&self) -> u64 {
        self.limiter.memory_limit()
    }

    /// The table element limit this call runs under.
    pub(crate) fn table_limit(&self) -> u64 {
        self.limiter.table_limit()
    }
}
