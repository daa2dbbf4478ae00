//! `wasm-host.toml`: the server's configuration file, parsed and validated once into
//! [`FileConfig`]. Every error names the file, the line and the reason.
//!
//! Relative paths (component sources, granted directories, watched directories) are relative to
//! the file's directory, so a config works from any working directory. Layering (flag >
//! `WASM_HOST_*` env > file > default) happens in `serve`; this module only reads the file.

mod privacy;

use crate::settings::{LimitOverrides, parse_env, parse_timeout};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use toml::Spanned;
use wasm_host_code::SavePolicy;
use wasm_host_mcp::{GateLimits, Mode};
use wasm_host_policy::{DirGrant, Grants, HostPattern, parse_size};

/// How the server talks to its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// stdin/stdout (the default).
    Stdio,
    /// Streamable HTTP at `http://ADDR/mcp`.
    Http(SocketAddr),
}

/// A validated `wasm-host.toml`.
#[derive(Debug, Clone, Default)]
pub struct FileConfig {
    /// `[server] transport` / `http`; `None` when the file leaves it to flags and defaults.
    pub transport: Option<Transport>,
    /// Directories whose `*.wasm` files are served and hot-reloaded (`[server] watch`).
    pub watch: Vec<PathBuf>,
    /// `[server] mode`: direct, code or both; `None` = the default (both; code above 30 tools).
    pub mode: Option<Mode>,
    /// `[server] allowed_hosts`: `Host` header values HTTP clients may use besides loopback
    /// (the names and addresses remote clients reach this server by).
    pub allowed_hosts: Vec<String>,
    /// `[server] allowed_origins`: browser `Origin`s allowed besides local ones.
    pub allowed_origins: Vec<String>,
    /// Concurrency: `[server] max_calls`, `max_calls_per_tool`, `max_queue`.
    pub gate: GateLimits,
    /// Default limits for every component (`[limits]`).
    pub limits: LimitOverrides,
    /// Grants for components found in watched directories (`[grants]`).
    pub grants: Grants,
    /// Components configured one by one (`[components.NAME]`), in name order.
    pub components: Vec<ComponentConfig>,
    /// Code mode: runners, workspaces, output cap (`[code]`).
    pub code: CodeConfig,
    /// `[registry] require_signatures`: registry references must carry a valid signature by a
    /// trusted key (default false; `--require-signatures` turns it on too).
    pub require_signatures: bool,
    /// `[privacy]`: PII tokenizing (default off).
    pub privacy: wasm_host_mcp::PiiPolicy,
    /// `[audit]`: the audit log (default off).
    pub audit: Option<wasm_host_mcp::AuditConfig>,
    /// `[access]`: `request_access` (default off).
    pub access: wasm_host_mcp::AccessPolicy,
}

/// The `[code]` table; every field falls back to flags, then defaults.
#[derive(Debug, Clone, Default)]
pub struct CodeConfig {
    /// `javascript`: the JavaScript runner component.
    pub javascript: Option<PathBuf>,
    /// `python`: the Python runner component.
    pub python: Option<PathBuf>,
    /// `workspaces`: root of the session workspaces.
    pub workspaces: Option<PathBuf>,
    /// `workspace_quota`: bytes per workspace.
    pub workspace_quota: Option<u64>,
    /// `workspace_expiry`: a workspace idle this long is removed.
    pub workspace_expiry: Option<std::time::Duration>,
    /// `max_workspaces`: workspaces kept at once.
    pub max_workspaces: Option<usize>,
    /// `output`: bytes of printed output (and, separately, of the returned value) per run.
    pub output: Option<u64>,
    /// `save_skills`: off (default), on, or approve (`save_skill` waits for `skill approve`).
    pub save_skills: Option<SavePolicy>,
}

/// One `[components.NAME]` table.
#[derive(Debug, Clone)]
pub struct ComponentConfig {
    /// The name its tools are served under (`NAME.tool`).
    pub name: String,
    /// The component file.
    pub source: PathBuf,
    /// What the operator grants it.
    pub grants: Grants,
    /// Its limits over `[limits]`.
    pub limits: LimitOverrides,
}

/// A configuration problem, with the place it was found.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    grants: RawGrants,
    #[serde(default)]
    components: BTreeMap<String, Spanned<RawComponent>>,
    #[serde(default)]
    code: RawCode,
    #[serde(default)]
    registry: RawRegistry,
    #[serde(default)]
    privacy: privacy::RawPrivacy,
    #[serde(default)]
    audit: privacy::RawAudit,
    #[serde(default)]
    access: privacy::RawAccess,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    #[serde(default)]
    require_signatures: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCode {
    javascript: Option<String>,
    python: Option<String>,
    workspaces: Option<String>,
    workspace_quota: Option<Spanned<String>>,
    workspace_expiry: Option<Spanned<String>>,
    max_workspaces: Option<usize>,
    output: Option<Spanned<String>>,
    save_skills: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    transport: Option<Spanned<String>>,
    http: Option<Spanned<String>>,
    #[serde(default)]
    watch: Vec<Spanned<String>>,
    max_calls: Option<Spanned<usize>>,
    max_calls_per_tool: Option<Spanned<usize>>,
    max_queue: Option<usize>,
    mode: Option<Spanned<String>>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    memory: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    fuel: Option<Spanned<u64>>,
    output: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGrants {
    #[serde(default)]
    dirs: Vec<Spanned<String>>,
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    #[serde(default)]
    env: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: Spanned<String>,
    #[serde(default)]
    dirs: Vec<Spanned<String>>,
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    #[serde(default)]
    env: Vec<Spanned<String>>,
    #[serde(default)]
    limits: RawLimits,
}

/// Reads and validates `path`.
pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        line: None,
        reason: format!("cannot read: {e}"),
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&text, &file, &base)
}

/// Parses config `text` (from `file`, for messages), resolving relative paths against `base`.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<FileConfig, ConfigError> {
    let cx = Cx { text, file, base };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| cx.line_of(s.start));
        ConfigError { file: file.to_string(), line, reason: e.message().trim().to_string() }
    })?;
    let transport = cx.transport(&raw.server)?;
    let watch = raw.server.watch.iter().map(|w| cx.path(w.get_ref())).collect();
    let mut components = Vec::new();
    for (name, c) in &raw.components {
        if !name_is_valid(name) {
            return Err(cx.err(c.span().start, format!("component name `{name}`: use lowercase letters, digits and `-` only (at most 64)")));
        }
        let c = c.get_ref();
        let grants = cx.grants(&c.dirs, &c.hosts, &c.env)?;
        components.push(ComponentConfig {
            name: name.clone(),
            source: source_path(&cx, c.source.get_ref()),
            grants,
            limits: cx.limits(&c.limits)?,
        });
    }
    let mode =
        raw.server.mode.as_ref().map(|m| cx.check("mode", m, str::parse::<Mode>)).transpose()?;
    Ok(FileConfig {
        allowed_hosts: raw.server.allowed_hosts.clone(),
        allowed_origins: raw.server.allowed_origins.clone(),
        transport,
        watch,
        mode,
        gate: cx.gate(&raw.server)?,
        limits: cx.limits(&raw.limits)?,
        grants: cx.grants(&raw.grants.dirs, &raw.grants.hosts, &raw.grants.env)?,
        components,
        require_signatures: raw.registry.require_signatures,
        privacy: cx.privacy(&raw.privacy)?,
        audit: cx.audit(&raw.audit)?,
        access: cx.access(&raw.access)?,
        code: CodeConfig {
            javascript: raw.code.javascript.as_deref().map(|p| cx.path(p)),
            python: raw.code.python.as_deref().map(|p| cx.path(p)),
            workspaces: raw.code.workspaces.as_deref().map(|p| cx.path(p)),
            workspace_quota: raw
                .code
                .workspace_quota
                .as_ref()
                .map(|v| cx.check("workspace_quota", v, parse_size))
                .transpose()?,
            workspace_expiry: raw
                .code
                .workspace_expiry
                .as_ref()
                .map(|v| cx.check("workspace_expiry", v, wasm_host_policy::parse_duration))
                .transpose()?,
            max_workspaces: raw.code.max_workspaces,
            output: raw
                .code
                .output
                .as_ref()
                .map(|v| cx.check("output", v, parse_size))
                .transpose()?,
            save_skills: raw
                .code
                .save_skills
                .as_ref()
                .map(|v| cx.check("save_skills", v, str::parse::<SavePolicy>))
                .transpose()?,
        },
    })
}

/// A `source`: a registry reference (`csv`, `csv@^1.2`; no `/`, not `*.wasm`) stays as written,
/// anything else is a path relative to the file.
fn source_path(cx: &Cx<'_>, source: &str) -> PathBuf {
    let is_reference =
        !source.ends_with(".wasm") && wasm_host_registry::resolve::Reference::parse(source).is_ok();
    if is_reference { PathBuf::from(source) } else { cx.path(source) }
}

fn name_is_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The text being parsed, for turning spans into lines and relative paths into absolute ones.
struct Cx<'a> {
    text: &'a str,
    file: &'a str,
    base: &'a Path,
}

impl Cx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }

    fn err(&self, offset: usize, reason: String) -> ConfigError {
        ConfigError { file: self.file.to_string(), line: Some(self.line_of(offset)), reason }
    }

    /// Parses one spanned value, putting the key and the value's line on failure.
    fn check<T, E: std::fmt::Display>(
        &self,
        key: &str,
        v: &Spanned<String>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, ConfigError> {
        parse(v.get_ref())
            .map_err(|e| self.err(v.span().start, format!("{key} = \"{}\": {e}", v.get_ref())))
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() { p.to_path_buf() } else { self.base.join(p) }
    }

    fn transport(&self, s: &RawServer) -> Result<Option<Transport>, ConfigError> {
        let addr =
            s.http.as_ref().map(|h| self.check("http", h, str::parse::<SocketAddr>)).transpose()?;
        let Some(t) = &s.transport else {
            return Ok(addr.map(Transport::Http));
        };
        match (t.get_ref().as_str(), addr) {
            ("stdio", _) => Ok(Some(Transport::Stdio)),
            ("http", Some(a)) => Ok(Some(Transport::Http(a))),
            ("http", None) => Err(self.err(
                t.span().start,
                "transport = \"http\" needs an address: http = \"127.0.0.1:8080\"".into(),
            )),
            (other, _) => Err(self.err(
                t.span().start,
                format!("transport = \"{other}\": expected \"stdio\" or \"http\""),
            )),
        }
    }

    fn gate(&self, s: &RawServer) -> Result<GateLimits, ConfigError> {
        let mut gate = GateLimits::default();
        for (key, value, slot) in [
            ("max_calls", &s.max_calls, &mut gate.total),
            ("max_calls_per_tool", &s.max_calls_per_tool, &mut gate.per_tool),
        ] {
            if let Some(v) = value {
                if *v.get_ref() == 0 {
                    return Err(self.err(v.span().start, format!("{key} = 0: must be at least 1")));
                }
                *slot = *v.get_ref();
            }
        }
        gate.queue = s.max_queue.unwrap_or(gate.queue);
        Ok(gate)
    }

    fn limits(&self, l: &RawLimits) -> Result<LimitOverrides, ConfigError> {
        let fuel = match &l.fuel {
            Some(f) if *f.get_ref() == 0 => {
                return Err(self.err(
                    f.span().start,
                    "fuel = 0: must be greater than zero (leave it out for unmetered)".into(),
                ));
            }
            f => f.as_ref().map(|f| *f.get_ref()),
        };
        Ok(LimitOverrides {
            memory: l.memory.as_ref().map(|v| self.check("memory", v, parse_size)).transpose()?,
            timeout: l
                .timeout
                .as_ref()
                .map(|v| self.check("timeout", v, parse_timeout))
                .transpose()?,
            fuel,
            output: l.output.as_ref().map(|v| self.check("output", v, parse_size)).transpose()?,
        })
    }

    fn grants(
        &self,
        dirs: &[Spanned<String>],
        hosts: &[Spanned<String>],
        env: &[Spanned<String>],
    ) -> Result<Grants, ConfigError> {
        let mut grants = Grants::default();
        for d in dirs {
            let mut dir = self.check("dirs", d, DirGrant::parse)?;
            if dir.host.is_relative() {
                dir.host = self.base.join(&dir.host);
            }
            grants.dirs.push(dir);
        }
        for h in hosts {
            grants.hosts.push(self.check("hosts", h, HostPattern::parse)?);
        }
        for e in env {
            grants.env.push(self.check("env", e, parse_env)?);
        }
        Ok(grants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> FileConfig {
        parse(text, "t.toml", Path::new("/etc/wh")).expect("valid config")
    }

    fn parse_err(text: &str) -> String {
        parse(text, "t.toml", Path::new("/etc/wh")).expect_err("invalid config").to_string()
    }

    #[test]
    fn full_example_parses_with_paths_relative_to_the_file() {
        let c = parse_ok(
            r#"
[server]
transport = "http"
http = "127.0.0.1:9000"
watch = ["tools"]
max_calls_per_tool = 2
max_queue = 0
mode = "code"
[limits]
memory = "64MiB"
timeout = "5s"
[components.grep]
source = "grep.wasm"
dirs = ["data::/data:ro", "/abs::/abs"]
hosts = ["api.example.com"]
env = ["MODE=fast"]
[components.grep.limits]
timeout = "1s"
fuel = 1000
"#,
        );
        assert_eq!(c.transport, Some(Transport::Http("127.0.0.1:9000".parse().expect("addr"))));
        assert_eq!(c.watch, vec![PathBuf::from("/etc/wh/tools")]);
        assert_eq!((c.gate.per_tool, c.gate.total, c.gate.queue), (2, 256, 0));
        assert_eq!(c.mode, Some(Mode::Code));
        assert_eq!(c.limits.memory, Some(64 << 20));
        let g = &c.components[0];
        assert_eq!((g.name.as_str(), g.source.as_path()), ("grep", Path::new("/etc/wh/grep.wasm")));
        assert_eq!(g.grants.dirs[0].host, PathBuf::from("/etc/wh/data"));
        assert!(g.grants.dirs[0].read_only);
        assert_eq!(g.grants.dirs[1].host, PathBuf::from("/abs"));
        assert_eq!(g.grants.env, vec![("MODE".to_string(), "fast".to_string())]);
        assert_eq!(
            (g.limits.timeout, g.limits.fuel),
            (Some(std::time::Duration::from_secs(1)), Some(1000))
        );
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        let c = parse_ok("");
        assert!(c.transport.is_none() && c.components.is_empty() && c.watch.is_empty());
    }

    #[test]
    fn errors_name_the_line_and_the_reason() {
        let e = parse_err("[limits]\nmemory = \"lots\"\n");
        assert!(e.starts_with("t.toml:2: memory = \"lots\""), "{e}");
        assert!(e.contains("not a size"), "{e}");
        let e = parse_err("[server]\n\ntransport = \"carrier-pigeon\"\n");
        assert!(e.starts_with("t.toml:3:") && e.contains("expected \"stdio\" or \"http\""), "{e}");
        let e = parse_err("[components.x]\nsource = \"x.wasm\"\nhosts = [\"http://a/b\"]\n");
        assert!(e.starts_with("t.toml:3: hosts ="), "{e}");
        let e = parse_err("[server]\nhttp = \"nowhere\"\n");
        assert!(e.starts_with("t.toml:2: http = \"nowhere\""), "{e}");
    }

    #[test]
    fn unknown_keys_and_syntax_errors_are_refused_with_a_line() {
        let e = parse_err("[limits]\nmemroy = \"1MiB\"\n");
        assert!(e.starts_with("t.toml:2:") && e.contains("memroy"), "{e}");
        let e = parse_err("[server\n");
        assert!(e.starts_with("t.toml:1:"), "{e}");
        let e = parse_err("[components.x]\ndirs = []\n");
        assert!(e.contains("source"), "{e}");
        let e = parse_err("[server]\nmax_calls = 0\n");
        assert!(e.starts_with("t.toml:2: max_calls = 0"), "{e}");
        let e = parse_err("[limits]\nfuel = 0\n");
        assert!(e.starts_with("t.toml:2: fuel = 0"), "{e}");
        let e = parse_err("[components.\"a.b\"]\nsource = \"x\"\n");
        assert!(e.contains("component name `a.b`"), "{e}");
    }
}
