//! Capabilities: what a component requests (its manifest), what the operator grants (config or
//! CLI flags), and the effective grant a call runs with — requested ∩ granted.
//!
//! Deny by default: a component without a manifest requests nothing and so gets nothing; an
//! operator grant the component did not request is ignored; a request the operator did not grant
//! fails the load with a [`CapabilityError`] naming the missing capability.

use crate::Limits;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// What a component asks for in its manifest. Every item is required: a load fails when one is
/// not granted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Requests {
    /// Directories, by the path the guest sees (`/data`), read-only unless `write`.
    pub directories: Vec<DirRequest>,
    /// Outbound HTTP hosts (`api.example.com`, `*.example.com`, `127.0.0.1:8080`).
    pub hosts: Vec<String>,
    /// Environment variable names.
    pub env: Vec<String>,
    /// Memory the component wants per instance, in bytes (must fit the operator's limit).
    pub memory_bytes: Option<u64>,
    /// Wall-clock time the component wants per call, in milliseconds (must fit the operator's limit).
    pub timeout_ms: Option<u64>,
}

/// One requested directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "DirRequestForm", into = "DirRequestForm")]
pub struct DirRequest {
    /// Path inside the guest, e.g. `/data`.
    pub path: String,
    /// Whether the component needs to write there.
    pub write: bool,
}

/// A directory request is written either as `"/data"` (read-only) or `{path, write}`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum DirRequestForm {
    Path(String),
    Full {
        path: String,
        #[serde(default)]
        write: bool,
    },
}

impl From<DirRequestForm> for DirRequest {
    fn from(f: DirRequestForm) -> Self {
        match f {
            DirRequestForm::Path(path) => DirRequest { path, write: false },
            DirRequestForm::Full { path, write } => DirRequest { path, write },
        }
    }
}

impl From<DirRequest> for DirRequestForm {
    fn from(d: DirRequest) -> Self {
        if d.write {
            DirRequestForm::Full { path: d.path, write: true }
        } else {
            DirRequestForm::Path(d.path)
        }
    }
}

/// A directory the operator grants: host path, the path the guest sees, and read-only or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirGrant {
    /// Directory on the host.
    pub host: PathBuf,
    /// Path inside the guest.
    pub guest: String,
    /// Deny writes, truncation, renames, links and deletes.
    pub read_only: bool,
}

impl DirGrant {
    /// Parses `HOST[::GUEST][:ro|:rw]`; the guest path defaults to the host path, access to read-write.
    pub fn parse(spec: &str) -> Result<Self, CapabilityError> {
        let bad =
            |why: &str| CapabilityError::BadGrant { spec: spec.to_string(), why: why.to_string() };
        let (rest, read_only) = match spec.rsplit_once(':') {
            Some((r, "ro")) if !r.ends_with(':') => (r, true),
            Some((r, "rw")) if !r.ends_with(':') => (r, false),
            _ => (spec, false),
        };
        let (host, guest) = match rest.split_once("::") {
            Some((h, g)) => (h, g),
            None => (rest, rest),
        };
        if host.is_empty() || guest.is_empty() {
            return Err(bad("expected HOST[::GUEST][:ro]"));
        }
        if guest.contains('\0') || host.contains('\0') {
            return Err(bad("paths cannot contain NUL"));
        }
        Ok(DirGrant { host: PathBuf::from(host), guest: guest.to_string(), read_only })
    }
}

/// An allowed outbound host: exact (`api.example.com`), a subdomain wildcard (`*.example.com`),
/// optionally with a port (`127.0.0.1:8080`). Matching is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HostPattern {
    host: String,
    port: Option<u16>,
}

impl TryFrom<String> for HostPattern {
    type Error = CapabilityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        HostPattern::parse(&s)
    }
}

impl From<HostPattern> for String {
    fn from(p: HostPattern) -> String {
        p.to_string()
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        match self.port {
            Some(p) => write!(f, "{host}:{p}"),
            None => f.write_str(&host),
        }
    }
}

impl HostPattern {
    /// Parses a host pattern; rejects schemes, paths, user info and empty labels.
    pub fn parse(spec: &str) -> Result<Self, CapabilityError> {
        let bad =
            |why: &str| CapabilityError::BadGrant { spec: spec.to_string(), why: why.to_string() };
        let s = spec.trim().to_ascii_lowercase();
        if s.contains("://")
            || s.contains('/')
            || s.contains('@')
            || s.contains(char::is_whitespace)
        {
            return Err(bad(
                "expected a host name such as api.example.com or *.example.com[:port]",
            ));
        }
        let parse_port = |p: &str| p.parse::<u16>().map_err(|_| bad("bad port"));
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            // An IPv6 literal: `[::1]` or `[::1]:8080`, kept without brackets.
            let (inner, after) = rest.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            inner.parse::<std::net::Ipv6Addr>().map_err(|_| bad("not an IPv6 address in [ ]"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(parse_port(p)?),
                None if after.is_empty() => None,
                None => return Err(bad("unexpected text after ]")),
            };
            return Ok(HostPattern { host: inner.to_string(), port });
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), Some(parse_port(p)?)),
                _ => (s.clone(), None),
            }
        };
        let labels = host.strip_prefix("*.").unwrap_or(&host);
        if labels.is_empty() || labels.split('.').any(|l| l.is_empty() || l.contains('*')) {
            return Err(bad("empty or wildcard label in the middle"));
        }
        Ok(HostPattern { host, port })
    }

    /// Whether a request to `host` (already lower-cased, no brackets) on `port` is allowed.
    pub fn matches(&self, host: &str, port: Option<u16>) -> bool {
        if self.port.is_some() && self.port != port {
            return false;
        }
        let host = host.trim_end_matches('.');
        match self.host.strip_prefix("*.") {
            Some(suffix) => {
                host.len() > suffix.len() + 1
                    && host.ends_with(suffix)
                    && host[..host.len() - suffix.len()].ends_with('.')
            }
            None => self.host == host,
        }
    }

    /// Whether a request to `host` on `port` is allowed, for a URL whose scheme's default port is
    /// `default_port`: a pattern without a port allows only the default port (80 for http, 443
    /// for https), never every port of the host.
    pub fn allows(&self, host: &str, port: u16, default_port: u16) -> bool {
        let wanted = self.port.unwrap_or(default_port);
        wanted == port && self.matches(host, Some(port).filter(|_| self.port.is_some()))
    }

    /// Whether this pattern is the IP literal `ip` itself with `port` allowed (`127.0.0.1:8080`,
    /// `[::1]`): only such a grant lets a request reach a loopback, private, link-local or
    /// metadata address.
    pub fn names_address(&self, ip: std::net::IpAddr, port: u16, default_port: u16) -> bool {
        self.port.unwrap_or(default_port) == port
            && self.host.parse::<std::net::IpAddr>().is_ok_and(|h| h == ip)
    }

    /// Whether every host this (requested) pattern allows is also allowed by `grant`.
    pub fn covered_by(&self, grant: &HostPattern) -> bool {
        if grant.port.is_some() && grant.port != self.port {
            return false;
        }
        match self.host.strip_prefix("*.") {
            // A wildcard request needs a wildcard grant at the same or a higher level.
            Some(suffix) => grant
                .host
                .strip_prefix("*.")
                .is_some_and(|g| suffix == g || suffix.ends_with(&format!(".{g}"))),
            None => grant.matches(&self.host, self.port.or(grant.port)),
        }
    }
}

/// What the operator grants to a component (config file or CLI flags), already resolved:
/// environment values are looked up when the configuration is parsed, not at call time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Grants {
    /// Directories.
    pub dirs: Vec<DirGrant>,
    /// Outbound HTTP hosts.
    pub hosts: Vec<HostPattern>,
    /// Environment variables and their values.
    pub env: Vec<(String, String)>,
}

/// What a call actually runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveGrant {
    /// Preopened directories.
    pub dirs: Vec<DirGrant>,
    /// Hosts outbound HTTP may reach.
    pub hosts: Vec<HostPattern>,
    /// Visible environment variables.
    pub env: Vec<(String, String)>,
    /// Operator grants the component did not request (so not given), for the log.
    pub ignored: Vec<String>,
}

impl EffectiveGrant {
    /// Whether outbound HTTP to `host:port` is allowed by name (see [`HostPattern::allows`]);
    /// the addresses the name resolves to are checked separately ([`EffectiveGrant::names_address`]).
    pub fn allows_request(&self, host: &str, port: u16, default_port: u16) -> bool {
        self.hosts.iter().any(|p| p.allows(host, port, default_port))
    }

    /// Whether some granted pattern names the address `ip` literally, with `port` allowed.
    pub fn names_address(&self, ip: std::net::IpAddr, port: u16, default_port: u16) -> bool {
        self.hosts.iter().any(|p| p.names_address(ip, port, default_port))
    }
}

/// A capability problem found at load time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapabilityError {
    /// The component requests a capability the operator did not grant.
    #[error("component requests {what}, which was not granted (grant it with {how})")]
    Missing {
        /// The capability, e.g. `directory /data`.
        what: String,
        /// The flag or config key that grants it.
        how: String,
    },
    /// The component wants more of a limited resource than the operator allows.
    #[error("component wants {what} of {wanted}, above the operator's limit of {limit}")]
    OverLimit {
        /// `memory` or `timeout`.
        what: &'static str,
        /// The wish, formatted.
        wanted: String,
        /// The limit, formatted.
        limit: String,
    },
    /// A grant could not be parsed.
    #[error("bad grant `{spec}`: {why}")]
    BadGrant {
        /// The text given.
        spec: String,
        /// What is wrong with it.
        why: String,
    },
}

/// The effective grant for a component: everything it requested, each item checked against the
/// operator's grants. `requests = None` (no manifest) means the component requested nothing.
pub fn effective_grant(
    requests: Option<&Requests>,
    grants: &Grants,
) -> Result<EffectiveGrant, CapabilityError> {
    let empty = Requests::default();
    let req = requests.unwrap_or(&empty);
    let mut out = EffectiveGrant::default();
    for d in &req.directories {
        let Some(g) = grants.dirs.iter().find(|g| g.guest == d.path) else {
            let how = format!("--dir HOST::{}{}", d.path, if d.write { "" } else { ":ro" });
            return Err(CapabilityError::Missing { what: format!("directory {}", d.path), how });
        };
        if d.write && g.read_only {
            let how = format!("--dir {}::{} (without :ro)", g.host.display(), d.path);
            return Err(CapabilityError::Missing {
                what: format!("write access to directory {}", d.path),
                how,
            });
        }
        out.dirs.push(DirGrant { read_only: g.read_only || !d.write, ..g.clone() });
    }
    for h in &req.hosts {
        let pattern = HostPattern::parse(h)?;
        // The narrower of request and grant: `127.0.0.1` granted as `127.0.0.1:8080` is port 8080 only.
        let narrowest = grants.hosts.iter().find_map(|g| {
            if pattern.covered_by(g) {
                Some(pattern.clone())
            } else {
                g.covered_by(&pattern).then(|| g.clone())
            }
        });
        let Some(effective) = narrowest else {
            return Err(CapabilityError::Missing {
                what: format!("outbound HTTP to {pattern}"),
                how: format!("--allow-host {pattern}"),
            });
        };
        out.hosts.push(effective);
    }
    for key in &req.env {
        let Some((k, v)) = grants.env.iter().find(|(k, _)| k == key) else {
            return Err(CapabilityError::Missing {
                what: format!("environment variable {key}"),
                how: format!("--env {key}[=VALUE]"),
            });
        };
        out.env.push((k.clone(), v.clone()));
    }
    for g in &grants.dirs {
        if !out.dirs.iter().any(|d| d.guest == g.guest) {
            out.ignored.push(format!("directory {} (not requested)", g.guest));
        }
    }
    for g in &grants.hosts {
        if !out.hosts.iter().any(|h| h.covered_by(g)) {
            out.ignored.push(format!("host {g} (not requested)"));
        }
    }
    for (k, _) in &grants.env {
        if !out.env.iter().any(|(e, _)| e == k) {
            out.ignored.push(format!("env {k} (not requested)"));
        }
    }
    Ok(out)
}

/// The limits for a component: the operator's, tightened by the component's own wishes; a wish
/// above the operator's limit is an error.
pub fn effective_limits(
    requests: Option<&Requests>,
    limits: &Limits,
) -> Result<Limits, CapabilityError> {
    let mut out = limits.clone();
    let Some(req) = requests else { return Ok(out) };
    if let Some(m) = req.memory_bytes {
        if m > limits.memory_bytes {
            return Err(CapabilityError::OverLimit {
                what: "memory",
                wanted: format!("{m} bytes"),
                limit: format!("{} bytes (--memory)", limits.memory_bytes),
            });
        }
        out.memory_bytes = m;
    }
    if let Some(ms) = req.timeout_ms {
        let wish = Duration::from_millis(ms);
        if wish > limits.timeout {
            return Err(CapabilityError::OverLimit {
                what: "timeout",
                wanted: format!("{wish:?}"),
                limit: format!("{:?} (--timeout)", limits.timeout),
            });
        }
        out.timeout = wish;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants() -> Grants {
        Grants {
            dirs: vec![
                DirGrant::parse("/srv/docs::/data").expect("dir"),
                DirGrant::parse("/tmp/out::/out:ro").expect("dir"),
            ],
            hosts: vec![
                HostPattern::parse("*.example.com").expect("host"),
                HostPattern::parse("127.0.0.1:8080").expect("host"),
            ],
            env: vec![("API_KEY".into(), "k".into()), ("OTHER".into(), "o".into())],
        }
    }

    #[test]
    fn dir_grants_parse_host_guest_and_mode() {
        assert_eq!(
            DirGrant::parse("./a").expect("p"),
            DirGrant { host: "./a".into(), guest: "./a".into(), read_only: false }
        );
        assert_eq!(
            DirGrant::parse("/x::/data:ro").expect("p"),
            DirGrant { host: "/x".into(), guest: "/data".into(), read_only: true }
        );
        assert!(!DirGrant::parse("/x::/data:rw").expect("p").read_only);
        assert!(DirGrant::parse("::/data").is_err());
        assert!(DirGrant::parse("/x::").is_err());
    }

    #[test]
    fn effective_grant_is_the_intersection() {
        let req = Requests {
            directories: vec![DirRequest { path: "/data".into(), write: false }],
            hosts: vec!["api.example.com".into()],
            env: vec!["API_KEY".into()],
            ..Default::default()
        };
        let eff = effective_grant(Some(&req), &grants()).expect("granted");
        assert_eq!(eff.dirs.len(), 1);
        assert!(
            eff.dirs[0].read_only,
            "a read-only request gets a read-only preopen even if granted rw"
        );
        assert_eq!(eff.env, vec![("API_KEY".to_string(), "k".to_string())]);
        assert!(eff.allows_request("api.example.com", 443, 443));
        assert!(!eff.allows_request("other.example.com", 443, 443), "only what was requested");
        assert_eq!(eff.ignored.len(), 3, "{:?}", eff.ignored);
    }

    #[test]
    fn missing_capabilities_are_named() {
        let cases = [
            (
                Requests {
                    directories: vec![DirRequest { path: "/secret".into(), write: false }],
                    ..Default::default()
                },
                "directory /secret",
            ),
            (
                Requests {
                    directories: vec![DirRequest { path: "/out".into(), write: true }],
                    ..Default::default()
                },
                "write access to directory /out",
            ),
            (
                Requests { hosts: vec!["evil.org".into()], ..Default::default() },
                "outbound HTTP to evil.org",
            ),
            (
                Requests { env: vec!["HOME".into()], ..Default::default() },
                "environment variable HOME",
            ),
        ];
        for (req, want) in cases {
            let err = effective_grant(Some(&req), &grants()).expect_err(want).to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn no_manifest_means_nothing_granted() {
        let eff = effective_grant(None, &grants()).expect("ok");
        assert!(eff.dirs.is_empty() && eff.hosts.is_empty() && eff.env.is_empty());
    }

    #[test]
    fn host_patterns_match_exactly_or_by_subdomain() {
        let p = HostPattern::parse("*.example.com").expect("p");
        assert!(p.matches("api.example.com", None));
        assert!(!p.matches("example.com", None));
        assert!(!p.matches("evilexample.com", None));
        assert!(!p.matches("example.com.evil.org", None));
        assert!(p.allows("api.example.com", 443, 443), "no port: the scheme's default port");
        assert!(!p.allows("api.example.com", 18777, 80), "no port: not any other port");
        let q = HostPattern::parse("127.0.0.1:8080").expect("q");
        assert!(q.allows("127.0.0.1", 8080, 80) && !q.allows("127.0.0.1", 80, 80));
        let lo: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
        assert!(
            q.names_address(lo, 8080, 80)
                && !q.names_address(lo, 1, 80)
                && !p.names_address(lo, 443, 443)
        );
        assert!(HostPattern::parse("[::1]:8080").expect("v6").names_address(
            "::1".parse().expect("ip"),
            8080,
            80
        ));
        assert!(q.matches("127.0.0.1", Some(8080)));
        assert!(!q.matches("127.0.0.1", Some(8081)));
        for bad in ["http://a.com", "a.com/x", "allowed.com@evil", "*.", "a..b", "a.*.com"] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wildcard_requests_need_wildcard_grants() {
        let g = HostPattern::parse("*.example.com").expect("g");
        assert!(HostPattern::parse("*.api.example.com").expect("r").covered_by(&g));
        assert!(HostPattern::parse("*.example.com").expect("r").covered_by(&g));
        assert!(!HostPattern::parse("*.com").expect("r").covered_by(&g));
        assert!(
            !HostPattern::parse("*.example.com")
                .expect("r")
                .covered_by(&HostPattern::parse("api.example.com").expect("g"))
        );
    }

    #[test]
    fn host_grant_narrower_than_the_request_wins() {
        let req = Requests { hosts: vec!["127.0.0.1".into()], ..Default::default() };
        let g = Grants {
            hosts: vec![HostPattern::parse("127.0.0.1:8080").expect("g")],
            ..Default::default()
        };
        let eff = effective_grant(Some(&req), &g).expect("granted");
        assert!(eff.allows_request("127.0.0.1", 8080, 80));
        assert!(!eff.allows_request("127.0.0.1", 22, 80), "the grant's port restriction holds");
    }

    #[test]
    fn limit_wishes_tighten_or_fail() {
        let base = Limits::default();
        let tight =
            Requests { memory_bytes: Some(1 << 20), timeout_ms: Some(500), ..Default::default() };
        let l = effective_limits(Some(&tight), &base).expect("fits");
        assert_eq!((l.memory_bytes, l.timeout), (1 << 20, Duration::from_millis(500)));
        let greedy = Requests { memory_bytes: Some(1 << 40), ..Default::default() };
        let err = effective_limits(Some(&greedy), &base).expect_err("too much").to_string();
        assert!(err.contains("memory") && err.contains("--memory"), "{err}");
    }
}
