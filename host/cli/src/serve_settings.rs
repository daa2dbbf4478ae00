//! `serve`'s settings, resolved in one step: flag > `WASM_HOST_*` env > `wasm-host.toml` >
//! default, into [`ServeSettings`]. Reads the config file, its lock file and (only with a lock)
//! the manifests of component files named on the command line; nothing after this step reads
//! configuration again.
//!
//! Grant flags add to every component's grants; limit flags override the file's limits, which
//! override the defaults; a component's own table sits between the two.

use crate::code::CodeSettings;
use crate::config::{self, FileConfig, Transport};
use crate::lockfile;
use crate::serve::ServeArgs;
use crate::settings::{GlobalArgs, LimitOverrides};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasm_host_mcp::{GateLimits, HttpOptions, Mode, WatchedDir};
use wasm_host_policy::{Grants, Limits};

/// Largest HTTP request body: 4 MiB.
const MAX_HTTP_BODY: usize = 4 << 20;

/// Where the server listens.
pub enum Listen {
    /// stdin/stdout.
    Stdio,
    /// Streamable HTTP.
    Http(HttpOptions),
}

/// One component to load at start: from `[components.NAME]` or a file on the command line.
pub struct PlannedComponent {
    /// A file or a registry reference.
    pub source: PathBuf,
    /// The catalog name (`None`: the manifest's, else the file stem).
    pub name: Option<String>,
    /// What it is granted (its own grants plus the flags').
    pub grants: Grants,
    /// Its limits (defaults < `[limits]` < its own < flags).
    pub limits: Limits,
    /// The digest the lock file records for it, and where that came from.
    pub expect_sha256: Option<(String, String)>,
}

/// Everything `serve` needs, resolved.
pub struct ServeSettings {
    /// Global settings, with `[registry] require_signatures` folded in.
    pub global: GlobalArgs,
    /// Concurrency limits.
    pub gate: GateLimits,
    /// Which tools are listed (`None`: the default).
    pub mode: Option<Mode>,
    /// Code mode: runners, output cap, workspace limits.
    pub code: CodeSettings,
    /// Limits of code-mode runs (before the output cap): defaults < `[limits]` < flags.
    pub code_limits: Limits,
    /// Root of the workspaces (`None`: programs get no `/workspace`).
    pub workspaces: Option<PathBuf>,
    /// Components loaded at start, config ones first.
    pub components: Vec<PlannedComponent>,
    /// Directories served and (unless `watch` is off) hot-reloaded.
    pub watched: Vec<WatchedDir>,
    /// Keep watching the directories after the first scan.
    pub watch: bool,
    /// Accept changed bytes under an unchanged version on reload.
    pub reload_same_version: bool,
    /// Where to listen.
    pub listen: Listen,
    /// PII tokenizing: `[privacy]`, turned on by `--pii` / `WASM_HOST_PII` too.
    pub privacy: wasm_host_mcp::PiiPolicy,
    /// The audit log: `--audit-log` (path only) over `[audit]`.
    pub audit: Option<wasm_host_mcp::AuditConfig>,
    /// `request_access`: `[access]`, turned on by `--grant-requests` too.
    pub access: wasm_host_mcp::AccessPolicy,
}

impl ServeSettings {
    /// Resolves `args` over the config file (if any) over the defaults.
    pub fn resolve(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<ServeSettings> {
        let file = match &args.config {
            Some(path) => config::load(path)?,
            None => FileConfig::default(),
        };
        anyhow::ensure!(
            !args.paths.is_empty() || !file.components.is_empty() || !file.watch.is_empty(),
            "nothing to serve: give component files or directories, or --config FILE with [components] or [server] watch"
        );
        let global = global.requiring_signatures(file.require_signatures);
        let layers = Layers {
            file_limits: file.limits.clone(),
            flag_grants: args.sandbox.grants(),
            flag_limits: args.sandbox.overrides(),
        };
        let lock = match &args.config {
            Some(config) => lockfile::read(config)?,
            None => None,
        };
        let mut components = Vec::new();
        for c in &file.components {
            components.push(PlannedComponent {
                source: c.source.clone(),
                name: Some(c.name.clone()),
                grants: layers.grants(&c.grants),
                limits: layers.limits(&c.limits),
                expect_sha256: lock.as_deref().map(|l| lockfile::expect(l, &c.name)).transpose()?,
            });
        }
        let (dirs, files): (Vec<PathBuf>, Vec<PathBuf>) =
            args.paths.iter().cloned().partition(|p| p.is_dir());
        for f in files {
            let expect_sha256 = match &lock {
                Some(l) => Some(lockfile::expect(l, &served_name(&f)?)?),
                None => None,
            };
            let (grants, limits) =
                (layers.grants(&file.grants), layers.limits(&LimitOverrides::default()));
            components.push(PlannedComponent {
                source: f,
                name: None,
                grants,
                limits,
                expect_sha256,
            });
        }
        let locked = lock.as_deref().map(|l| Arc::new(lockfile::digests(l)));
        let watched = dirs
            .into_iter()
            .chain(file.watch.iter().cloned())
            .map(|dir| WatchedDir {
                dir,
                grants: layers.grants(&file.grants),
                limits: layers.limits(&LimitOverrides::default()),
                locked: locked.clone(),
            })
            .collect();
        let workspaces = (!args.no_workspaces).then(|| {
            args.workspaces
                .clone()
                .or_else(|| file.code.workspaces.clone())
                .unwrap_or_else(|| global.home().join("workspaces"))
        });
        Ok(ServeSettings {
            gate: file.gate,
            mode: args.mode.or(file.mode),
            code: args.code.settings(&file.code),
            code_limits: layers.limits(&LimitOverrides::default()),
            workspaces,
            components,
            watched,
            watch: !args.no_watch,
            reload_same_version: args.reload_same_version,
            listen: listen(args, &file),
            privacy: wasm_host_mcp::PiiPolicy {
                enabled: args.pii || file.privacy.enabled,
                ..file.privacy.clone()
            },
            access: wasm_host_mcp::AccessPolicy {
                enabled: args.grant_requests || args.grant_terminal || file.access.enabled,
                terminal: args.grant_terminal || file.access.terminal,
                ..file.access.clone()
            },
            audit: match (&args.audit_log, &file.audit) {
                (Some(path), Some(file)) => {
                    Some(wasm_host_mcp::AuditConfig { path: path.clone(), ..file.clone() })
                }
                (Some(path), None) => Some(wasm_host_mcp::AuditConfig::at(path.clone())),
                (None, file) => file.clone(),
            },
            global,
        })
    }
}

/// Flags over `[server]` over stdio.
fn listen(args: &ServeArgs, file: &FileConfig) -> Listen {
    let transport = match (args.stdio, args.http) {
        (true, _) => Transport::Stdio,
        (false, Some(addr)) => Transport::Http(addr),
        (false, None) => file.transport.unwrap_or(Transport::Stdio),
    };
    match transport {
        Transport::Stdio => Listen::Stdio,
        Transport::Http(addr) => {
            let or_file = |flags: &[String], file: &[String]| {
                if flags.is_empty() { file.to_vec() } else { flags.to_vec() }
            };
            Listen::Http(HttpOptions {
                addr,
                token: args.token.clone(),
                max_body: MAX_HTTP_BODY,
                allowed_hosts: or_file(&args.allowed_hosts, &file.allowed_hosts),
                allowed_origins: or_file(&args.allowed_origins, &file.allowed_origins),
            })
        }
    }
}

/// The configuration layers below the per-component tables: file defaults and flags.
struct Layers {
    file_limits: LimitOverrides,
    flag_grants: Grants,
    flag_limits: LimitOverrides,
}

impl Layers {
    /// Default < `[limits]` < the component's own limits < flags.
    fn limits(&self, own: &LimitOverrides) -> Limits {
        let mut limits = Limits::default();
        for layer in [&self.file_limits, own, &self.flag_limits] {
            layer.apply(&mut limits);
        }
        limits
    }

    /// The component's grants plus the flags'.
    fn grants(&self, own: &Grants) -> Grants {
        let mut g = own.clone();
        g.dirs.extend(self.flag_grants.dirs.iter().cloned());
        g.hosts.extend(self.flag_grants.hosts.iter().cloned());
        g.env.extend(self.flag_grants.env.iter().cloned());
        g
    }
}

/// The name a component file is served under (its manifest's name, else its file stem), read
/// without running any of its code.
fn served_name(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let info = wasm_host_meta::inspect(&bytes).with_context(|| format!("{}", path.display()))?;
    Ok(info
        .manifest
        .map(|m| m.name)
        .or_else(|| wasm_host_runtime::file_component_name(path))
        .unwrap_or_default())
}
