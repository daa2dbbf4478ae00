//! Command-line and environment settings, typed when the arguments are parsed (sizes, durations,
//! grants) and turned into the policy and runtime types. Precedence: flag > `WASM_HOST_*`
//! environment variable > default; `serve` adds its config file below them ([`crate::serve_settings`]).

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use wasm_host_policy::{DirGrant, Grants, HostPattern, Limits, parse_duration, parse_size};
use wasm_host_runtime::{Runtime, RuntimeConfig, default_cache_dir};

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
    /// wasm-host's data directory: the local registry (index.rkyv, blobs/, keys/, trust.json) and, by default, the
    /// code-mode workspaces (default: $XDG_DATA_HOME/wasm-host or ~/.local/share/wasm-host).
    #[arg(long, global = true, env = "WASM_HOST_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Where `toolchain install` puts the guest toolchains and `build` looks after the project
    /// (default: HOME/toolchains).
    #[arg(long, global = true, env = "WASM_HOST_TOOLCHAINS", value_name = "DIR")]
    pub toolchains: Option<PathBuf>,
    /// Refuse registry components without a valid signature by a trusted key (`wasm-host trust
    /// add`): when installing, pulling and resolving references. Also `[registry]
    /// require_signatures = true` in a config.
    #[arg(long, global = true, env = "WASM_HOST_REQUIRE_SIGNATURES")]
    pub require_signatures: bool,
}

impl GlobalArgs {
    /// The runtime these settings describe.
    pub fn runtime(&self) -> anyhow::Result<Arc<Runtime>> {
        let cache_dir =
            if self.no_cache { None } else { self.cache_dir.clone().or_else(default_cache_dir) };
        let config = RuntimeConfig {
            cache_dir,
            pooling: !self.no_pooling,
            compile_in_child: compile_child(),
            ..RuntimeConfig::default()
        };
        Runtime::new(config).context("starting the wasm runtime")
    }
}

/// The hidden subcommand a compile child runs.
pub const COMPILE_WORKER: &str = "__compile-worker";

/// This binary as a compile child, so a cold start does not keep the compiler's peak memory
/// (`RuntimeConfig::compile_in_child`). `None` without a compiler or when the binary's path is
/// unknown.
fn compile_child() -> Option<wasm_host_runtime::ChildCompiler> {
    if !cfg!(feature = "compiler") {
        return None;
    }
    let program = std::env::current_exe().ok()?;
    Some(wasm_host_runtime::ChildCompiler { program, args: vec![COMPILE_WORKER.into()] })
}

impl GlobalArgs {
    /// These settings with signatures required when a config file asks for it too
    /// (`[registry] require_signatures`); the flag or env can only turn it on.
    pub fn requiring_signatures(&self, file_requires: bool) -> GlobalArgs {
        GlobalArgs { require_signatures: self.require_signatures || file_requires, ..self.clone() }
    }

    /// The data directory (`--home`, `WASM_HOST_HOME`, else the user's data directory).
    pub fn home(&self) -> PathBuf {
        self.home.clone().unwrap_or_else(|| {
            std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
                .unwrap_or_else(std::env::temp_dir)
                .join("wasm-host")
        })
    }
}

/// The sandbox of one command's components: what they are granted (directories, hosts,
/// environment) and the limits of each call. Nothing is granted unless given here; every value
/// is parsed and checked when the arguments are.
#[derive(Args, Debug, Clone, Default)]
pub struct SandboxArgs {
    /// Grant a directory: HOST[::GUEST][:ro] (guest path defaults to HOST; read-write unless :ro).
    #[arg(long = "dir", value_name = "HOST[::GUEST][:ro]", value_parser = DirGrant::parse)]
    pub dirs: Vec<DirGrant>,
    /// Allow outbound HTTP to a host (api.example.com, *.example.com, 127.0.0.1:8080).
    #[arg(long = "allow-host", value_name = "HOST", value_parser = HostPattern::parse)]
    pub hosts: Vec<HostPattern>,
    /// Expose an environment variable: K=V, or K to pass the host's value.
    #[arg(long = "env", value_name = "K[=V]", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Memory per instance (e.g. 128MiB).
    #[arg(long, env = "WASM_HOST_MEMORY", value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<u64>,
    /// Wall-clock limit per call (e.g. 30s, 500ms).
    #[arg(long, env = "WASM_HOST_TIMEOUT", value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Fuel budget per call (unmetered if unset).
    #[arg(long, env = "WASM_HOST_FUEL", value_name = "N")]
    pub fuel: Option<u64>,
    /// Largest result returned before it is cut with a marker (e.g. 1MiB).
    #[arg(long, env = "WASM_HOST_OUTPUT_LIMIT", value_name = "SIZE", value_parser = parse_size)]
    pub output_limit: Option<u64>,
}

impl SandboxArgs {
    /// The capabilities granted.
    pub fn grants(&self) -> Grants {
        Grants { dirs: self.dirs.clone(), hosts: self.hosts.clone(), env: self.env.clone() }
    }

    /// The limits these flags set (unset ones fall through to the layer below).
    pub fn overrides(&self) -> LimitOverrides {
        LimitOverrides {
            memory: self.memory,
            timeout: self.timeout,
            fuel: self.fuel,
            output: self.output_limit,
        }
    }

    /// The limits: these flags over the defaults.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        self.overrides().apply(&mut limits);
        limits
    }
}

/// Limits set explicitly at one configuration layer; unset ones fall through to the layer below.
#[derive(Debug, Clone, Default)]
pub struct LimitOverrides {
    /// Memory per instance, in bytes.
    pub memory: Option<u64>,
    /// Wall clock per call.
    pub timeout: Option<Duration>,
    /// Fuel per call.
    pub fuel: Option<u64>,
    /// Result bytes before the cut.
    pub output: Option<u64>,
}

impl LimitOverrides {
    /// Writes the set values into `limits`.
    pub fn apply(&self, limits: &mut Limits) {
        if let Some(m) = self.memory {
            limits.memory_bytes = m;
        }
        if let Some(t) = self.timeout {
            limits.timeout = t;
        }
        if self.fuel.is_some() {
            limits.fuel = self.fuel;
        }
        if let Some(o) = self.output {
            limits.output_bytes = o;
        }
    }
}

/// A positive duration (`30s`, `250ms`).
pub fn parse_timeout(text: &str) -> anyhow::Result<Duration> {
    let t = parse_duration(text)?;
    anyhow::ensure!(!t.is_zero(), "the timeout must be greater than zero");
    Ok(t)
}

/// `K=V`, or `K` to pass the host's value of `K`.
pub fn parse_env(spec: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = match spec.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (
            spec.to_string(),
            std::env::var(spec)
                .map_err(|_| anyhow::anyhow!("the host has no environment variable `{spec}`"))?,
        ),
    };
    anyhow::ensure!(!k.is_empty(), "empty variable name");
    Ok((k, v))
}
