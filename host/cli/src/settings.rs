//! Command-line and environment settings, parsed once into the policy and runtime types.
//! Precedence: flag > `WASM_HOST_*` environment variable > default.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use wasm_host_policy::{DirGrant, Grants, HostPattern, Limits, parse_duration, parse_size};
use wasm_host_runtime::{Runtime, RuntimeConfig};

/// Settings every command shares.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Directory for precompiled components (default: $XDG_CACHE_HOME/wasm-host or ~/.cache/wasm-host).
    #[arg(long, global = true, env = "WASM_HOST_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the compile cache.
    #[arg(long, global = true, env = "WASM_HOST_NO_CACHE")]
    pub no_cache: bool,
    /// Use the on-demand instance allocator instead of the pooling allocator.
    #[arg(long, global = true, env = "WASM_HOST_NO_POOLING")]
    pub no_pooling: bool,
}

impl GlobalArgs {
    /// The runtime these settings describe.
    pub fn runtime(&self) -> anyhow::Result<Arc<Runtime>> {
        let cache_dir = if self.no_cache { None } else { Some(self.cache_dir.clone().unwrap_or_else(default_cache_dir)) };
        let config = RuntimeConfig { cache_dir, pooling: !self.no_pooling, ..RuntimeConfig::default() };
        Runtime::new(config).context("starting the wasm runtime")
    }
}

fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("wasm-host")
}

/// Capabilities and limits granted to the components of one command. Nothing is granted unless
/// given here.
#[derive(Args, Debug, Clone, Default)]
pub struct GrantArgs {
    /// Grant a directory: HOST[::GUEST][:ro] (guest path defaults to HOST; read-write unless :ro).
    #[arg(long = "dir", value_name = "HOST[::GUEST][:ro]")]
    pub dirs: Vec<String>,
    /// Allow outbound HTTP to a host (api.example.com, *.example.com, 127.0.0.1:8080).
    #[arg(long = "allow-host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Expose an environment variable: K=V, or K to pass the host's value.
    #[arg(long = "env", value_name = "K[=V]")]
    pub env: Vec<String>,
    /// Memory per instance (e.g. 128MiB).
    #[arg(long, env = "WASM_HOST_MEMORY", value_name = "SIZE")]
    pub memory: Option<String>,
    /// Wall-clock limit per call (e.g. 30s, 500ms).
    #[arg(long, env = "WASM_HOST_TIMEOUT", value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Fuel budget per call (unmetered if unset).
    #[arg(long, env = "WASM_HOST_FUEL", value_name = "N")]
    pub fuel: Option<u64>,
    /// Largest result returned before it is cut with a marker (e.g. 1MiB).
    #[arg(long, env = "WASM_HOST_OUTPUT_LIMIT", value_name = "SIZE")]
    pub output_limit: Option<String>,
}

impl GrantArgs {
    /// Parses the flags into grants and limits, failing on the first bad value.
    pub fn resolve(&self) -> anyhow::Result<(Grants, Limits)> {
        let mut grants = Grants::default();
        for d in &self.dirs {
            grants.dirs.push(DirGrant::parse(d)?);
        }
        for h in &self.hosts {
            grants.hosts.push(HostPattern::parse(h)?);
        }
        for e in &self.env {
            let (k, v) = match e.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (e.clone(), std::env::var(e).with_context(|| format!("--env {e}: the host has no such environment variable"))?),
            };
            anyhow::ensure!(!k.is_empty(), "--env {e}: empty name");
            grants.env.push((k, v));
        }
        let mut limits = Limits::default();
        if let Some(m) = &self.memory {
            limits.memory_bytes = parse_size(m).context("--memory")?;
        }
        if let Some(t) = &self.timeout {
            limits.timeout = parse_duration(t).context("--timeout")?;
            anyhow::ensure!(!limits.timeout.is_zero(), "--timeout must be greater than zero");
        }
        limits.fuel = self.fuel;
        if let Some(o) = &self.output_limit {
            limits.output_bytes = parse_size(o).context("--output-limit")?;
        }
        Ok((grants, limits))
    }
}
