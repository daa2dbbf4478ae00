//! The engine settings every benchmark shares (the same flags and `WASM_HOST_*` variables as
//! `wasm-host`, so a benchmark and the product use one compile cache).

use anyhow::Context;
use clap::Args;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use wasm_host_runtime::{Runtime, RuntimeConfig, default_cache_dir};

/// Compile cache and allocator of the runtime a benchmark starts.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Directory for precompiled components (default: $XDG_CACHE_HOME/wasm-host or ~/.cache/wasm-host).
    #[arg(long, global = true, env = "WASM_HOST_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the compile cache.
    #[arg(long, global = true, env = "WASM_HOST_NO_CACHE")]
    pub no_cache: bool,
    /// Use the on-demand instance allocator instead of the pooling allocator.
    #[arg(long, global = true, env = "WASM_HOST_NO_POOLING")]
    pub no_pooling: bool,
    /// The `wasm-host` binary that serves in the benchmarks that start a server process
    /// (default: the `wasm-host` beside this binary).
    #[arg(long, global = true, env = "WASM_HOST_BIN", value_name = "FILE")]
    pub wasm_host: Option<PathBuf>,
    /// Write /tmp/perf-PID.map so `perf record` + `perf report` name the guests' functions.
    #[arg(long, global = true)]
    pub perfmap: bool,
    /// Bytes of each pooled memory and table kept resident between instances.
    #[arg(long, global = true, hide = true)]
    pub keep_resident: Option<usize>,
    /// Reset memories without PAGEMAP_SCAN.
    #[arg(long, global = true, hide = true)]
    pub no_pagemap_scan: bool,
    /// Hand each file operation to the blocking pool instead of running a call on its own thread.
    #[arg(long, global = true, hide = true)]
    pub no_own_thread: bool,
}

impl EngineArgs {
    /// The runtime these settings describe.
    pub fn runtime(&self) -> anyhow::Result<Arc<Runtime>> {
        let cache_dir =
            if self.no_cache { None } else { self.cache_dir.clone().or_else(default_cache_dir) };
        let config = RuntimeConfig { cache_dir, pooling: !self.no_pooling, ..self.tuning() };
        Runtime::new(config).context("starting the wasm runtime")
    }

    /// The defaults with this benchmark's engine experiments applied.
    pub fn tuning(&self) -> RuntimeConfig {
        let d = RuntimeConfig::default();
        RuntimeConfig {
            perfmap: self.perfmap,
            keep_resident_bytes: self.keep_resident.unwrap_or(d.keep_resident_bytes),
            pagemap_scan: !self.no_pagemap_scan,
            own_thread_slots: if self.no_own_thread { 0 } else { d.own_thread_slots },
            ..d
        }
    }

    /// The flags a child `wasm-host` needs to use the same compile cache and allocator.
    pub fn child_flags(&self) -> Vec<OsString> {
        let mut flags = Vec::new();
        if let Some(dir) = &self.cache_dir {
            flags.extend(["--cache-dir".into(), dir.clone().into_os_string()]);
        }
        if self.no_cache {
            flags.push("--no-cache".into());
        }
        if self.no_pooling {
            flags.push("--no-pooling".into());
        }
        flags
    }

    /// The `wasm-host` binary to start: `--wasm-host`, else the one beside this executable.
    pub fn wasm_host(&self) -> anyhow::Result<PathBuf> {
        if let Some(path) = &self.wasm_host {
            return Ok(path.clone());
        }
        let exe = std::env::current_exe().context("finding this executable")?;
        let sibling = exe.with_file_name(format!("wasm-host{}", std::env::consts::EXE_SUFFIX));
        anyhow::ensure!(
            sibling.is_file(),
            "no wasm-host binary at {} (build it with `cargo build --release -p wasm-host`, or pass --wasm-host FILE)",
            sibling.display()
        );
        Ok(sibling)
    }
}

/// `file` beside this executable, or in `../guests/` from it (where the tests build guests).
pub fn beside_binary(file: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join(file), dir.join("../guests").join(file)].into_iter().find(|p| p.is_file())
}
