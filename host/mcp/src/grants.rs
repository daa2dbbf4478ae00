//! Capabilities only a human gives: the `request_access` meta-tool.
//!
//! An agent (or the code it writes) may ask for a directory, an outbound host or an environment
//! variable for one component (`execute_code` means its programs) for a while. It never grants
//! anything itself: the request is granted only when the operator listed it beforehand
//! (`[access] auto_approve`), answers it on the server's terminal (`[access] terminal`, see the
//! `terminal` module) or a human approves it, asked through MCP elicitation (a 2025-11-25
//! session: `elicitation/create`) or an input-required result (a stateless 2026-07-28 request:
//! the client asks its user and retries with the answer). A client that cannot ask anyone gets a
//! refusal. A grant is scoped (component; path and read-only or read-write, or host, or
//! variable) and expires; both outcomes go to the audit log.
//!
//! An input-required answer counts only with the `requestState` this server issued for that very
//! request (one use, 10 minutes), so an answer cannot be made up in advance or replayed.

use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitationAction, ElicitationSchema, InputRequest,
    InputRequests, InputResponses, JsonObject, Tool, ToolAnnotations,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wasm_host_policy::{DirGrant, HostPattern};

/// Name of the meta-tool.
pub const REQUEST_ACCESS: &str = "request_access";
/// The component name that stands for `execute_code`'s programs.
pub const PROGRAMS: &str = "execute_code";
/// Longest grant, and the default.
const MAX_MINUTES: u64 = 24 * 60;
const DEFAULT_MINUTES: u64 = 60;
/// How long an issued `requestState` stays answerable.
const PENDING_FOR: Duration = Duration::from_secs(600);
/// The key of the elicitation inside an input-required result.
const APPROVE: &str = "approve";

/// The operator's settings for `request_access`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    /// List `request_access` (`--grant-requests`). Default off.
    pub enabled: bool,
    /// Requests granted without asking, as `dir:PATH[:ro|:rw]`, `host:PATTERN` or `env:NAME`,
    /// optionally prefixed by `COMPONENT=` (`[access] auto_approve`).
    pub auto_approve: Vec<String>,
    /// Ask the operator on the server's controlling terminal first (`--grant-terminal`,
    /// `[access] terminal`). Default off. Without a terminal, the client's human is asked.
    pub terminal: bool,
}

/// One capability asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Capability {
    /// A directory, at the same path inside the guest.
    Dir(DirGrant),
    /// Outbound HTTP to a host pattern.
    Host(HostPattern),
    /// An environment variable and its value on the host.
    Env(String, String),
}

/// A parsed `request_access` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessRequest {
    pub component: String,
    pub capability: Capability,
    pub minutes: u64,
    pub reason: String,
}

/// A grant in force.
#[derive(Debug, Clone)]
pub(crate) struct TemporaryGrant {
    pub component: String,
    pub capability: Capability,
    pub until: Instant,
}

/// Grants in force and the input-required questions awaiting an answer, server-wide.
#[derive(Default)]
pub(crate) struct GrantStore {
    grants: Mutex<Vec<TemporaryGrant>>,
    pending: Mutex<HashMap<String, (AccessRequest, Instant)>>,
}

impl AccessRequest {
    /// Checks the arguments; the error names what is wrong.
    pub(crate) fn parse(args: &JsonObject) -> Result<AccessRequest, String> {
        let text = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_string);
        let component = text("component").unwrap_or_else(|| PROGRAMS.to_string());
        let write = args.get("write").and_then(Value::as_bool).unwrap_or(false);
        let minutes = match args.get("minutes") {
            None => DEFAULT_MINUTES,
            Some(v) => v
                .as_u64()
                .filter(|m| (1..=MAX_MINUTES).contains(m))
                .ok_or(format!("`minutes` must be a whole number from 1 to {MAX_MINUTES}"))?,
        };
        let capability = match (text("dir"), text("host"), text("env")) {
            (Some(dir), None, None) => Capability::Dir(dir_grant(&dir, write)?),
            (None, Some(host), None) => Capability::Host(
                HostPattern::parse(&host).map_err(|e| format!("`host` {host:?}: {e}"))?,
            ),
            (None, None, Some(name)) => {
                let value = std::env::var(&name)
                    .map_err(|_| format!("`env` {name:?} is not set on the host"))?;
                Capability::Env(name, value)
            }
            _ => return Err("give exactly one of `dir`, `host` or `env`".into()),
        };
        Ok(AccessRequest {
            component,
            capability,
            minutes,
            reason: text("reason").unwrap_or_default(),
        })
    }

    /// What is asked, for people and the audit log: `dir /srv/notes (read-only) for execute_code, 60 min`.
    pub(crate) fn describe(&self) -> String {
        let what = match &self.capability {
            Capability::Dir(d) => format!(
                "dir {} ({})",
                d.host.display(),
                if d.read_only { "read-only" } else { "read-write" }
            ),
            Capability::Host(h) => format!("host {h}"),
            Capability::Env(name, _) => format!("env {name}"),
        };
        format!("{what} for {}, {} min", self.component, self.minutes)
    }

    /// Whether the operator's `auto_approve` list names this request.
    pub(crate) fn auto_approved(&self, policy: &AccessPolicy) -> bool {
        policy.auto_approve.iter().any(|entry| {
            let (component, spec) = match entry.split_once('=') {
                Some((c, s)) => (Some(c), s),
                None => (None, entry.as_str()),
            };
            if component.is_some_and(|c| c != self.component) {
                return false;
            }
            match (&self.capability, spec.split_once(':')) {
                (Capability::Dir(d), Some(("dir", rest))) => {
                    let (path, ro) = match rest.rsplit_once(':') {
                        Some((p, "ro")) => (p, true),
                        Some((p, "rw")) => (p, false),
                        _ => (rest, true),
                    };
                    let Ok(allowed) = std::fs::canonicalize(path) else { return false };
                    d.host.starts_with(&allowed) && (d.read_only || !ro)
                }
                (Capability::Host(h), Some(("host", pattern))) => {
                    HostPattern::parse(pattern).is_ok_and(|p| h.covered_by(&p))
                }
                (Capability::Env(name, _), Some(("env", n))) => name == n,
                _ => false,
            }
        })
    }

    /// What a human is asked about this request (the agent's reason included).
    pub(crate) fn question(&self) -> String {
        let reason = if self.reason.is_empty() {
            String::new()
        } else {
            format!(" Reason given: {}", self.reason)
        };
        format!("The agent asks for access: {}.{reason}", self.describe())
    }

    /// The elicitation that asks a human about this request.
    pub(crate) fn elicitation(&self) -> ElicitRequestParams {
        let schema = ElicitationSchema::builder().required_bool(APPROVE).build_unchecked();
        ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: format!("{} Approve?", self.question()),
            requested_schema: schema,
        }
    }
}

/// The meta-tool's definition (short: it is paid for in every conversation).
pub(crate) fn definition() -> Tool {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "dir": {"type": "string", "description": "Absolute host directory"},
            "write": {"type": "boolean"},
            "host": {"type": "string", "description": "Outbound HTTP host, e.g. api.example.com"},
            "env": {"type": "string", "description": "Environment variable name"},
            "component": {"type": "string", "description": "Who gets it (default: execute_code programs)"},
            "minutes": {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES},
            "reason": {"type": "string"}
        }
    });
    let Value::Object(schema) = schema else { unreachable!("an object literal") };
    Tool::new(
        REQUEST_ACCESS,
        "Ask a human for a directory, host or env variable (one of them) for a while. Granted only if approved.",
        schema,
    )
    .with_annotations(
        ToolAnnotations::new().read_only(false).destructive(false).idempotent(true).open_world(false),
    )
}

/// `dir` made absolute and real (symlinks resolved), checked to be a directory.
fn dir_grant(dir: &str, write: bool) -> Result<DirGrant, String> {
    let path = PathBuf::from(dir);
    if !path.is_absolute() {
        return Err(format!("`dir` {dir:?} must be an absolute path on the host"));
    }
    let real = std::fs::canonicalize(&path).map_err(|e| format!("`dir` {dir:?}: {e}"))?;
    if !real.is_dir() {
        return Err(format!("`dir` {dir:?} is not a directory"));
    }
    let guest = real.to_string_lossy().into_owned();
    Ok(DirGrant { host: real, guest, read_only: !write })
}

/// Whether an elicitation answer approves: accepted with `approve: true`.
pub(crate) fn approves(action: &ElicitationAction, content: Option<&Value>) -> bool {
    *action == ElicitationAction::Accept
        && content.and_then(|c| c.get(APPROVE)).and_then(Value::as_bool) == Some(true)
}

impl GrantStore {
    /// Records a grant of `req`.
    pub(crate) fn grant(&self, req: &AccessRequest) {
        let until = Instant::now() + Duration::from_secs(req.minutes * 60);
        let mut grants = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        grants.retain(|g| g.until > Instant::now());
        grants.push(TemporaryGrant {
            component: req.component.clone(),
            capability: req.capability.clone(),
            until,
        });
    }

    /// The grants of `component` still in force.
    pub(crate) fn of(&self, component: &str) -> Vec<TemporaryGrant> {
        let now = Instant::now();
        let grants = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        grants.iter().filter(|g| g.component == component && g.until > now).cloned().collect()
    }

    /// The directories granted to `component`, still in force.
    pub(crate) fn dirs_of(&self, component: &str) -> Vec<DirGrant> {
        self.of(component)
            .into_iter()
            .filter_map(|g| match g.capability {
                Capability::Dir(d) => Some(d),
                _ => None,
            })
            .collect()
    }

    /// An input-required result's question for `req`, and the state that must come back with
    /// its answer.
    pub(crate) fn ask(&self, req: &AccessRequest) -> (InputRequests, String) {
        let mut bytes = [0u8; 16];
        let _ = getrandom::fill(&mut bytes);
        let state: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.retain(|_, (_, t)| t.elapsed() < PENDING_FOR);
        pending.insert(state.clone(), (req.clone(), Instant::now()));
        let question = InputRequest::Elicitation(ElicitRequest::new(req.elicitation()));
        (InputRequests::from([(APPROVE.to_string(), question)]), state)
    }

    /// The answer to an earlier question: `Some(approved)` when `state` was issued for this
    /// very request and has not been used; `None` otherwise (then ask again).
    pub(crate) fn answer(
        &self,
        req: &AccessRequest,
        state: Option<&str>,
        responses: Option<&InputResponses>,
    ) -> Option<bool> {
        let state = state?;
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let (asked, at) = pending.remove(state)?;
        if asked != *req || at.elapsed() >= PENDING_FOR {
            return None;
        }
        let answer = responses.and_then(|r| r.get(APPROVE))?;
        let action: ElicitationAction =
            serde_json::from_value(answer.get("action")?.clone()).ok()?;
        Some(approves(&action, answer.get("content")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(dir: &std::path::Path) -> AccessRequest {
        let args = json!({"dir": dir.display().to_string()});
        AccessRequest::parse(args.as_object().expect("object")).expect("valid")
    }

    fn answer(approve: bool) -> InputResponses {
        let action = if approve { "accept" } else { "decline" };
        InputResponses::from([(
            APPROVE.into(),
            json!({"action": action, "content": {"approve": approve}}),
        )])
    }

    #[test]
    fn an_answer_counts_only_with_the_state_issued_for_that_request_and_only_once() {
        let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
        let store = GrantStore::default();
        let (req, other) = (request(a.path()), request(b.path()));
        let yes = answer(true);
        assert_eq!(
            store.answer(&req, None, Some(&yes)),
            None,
            "no state: an answer made up in advance"
        );
        assert_eq!(store.answer(&req, Some("00ff"), Some(&yes)), None, "a state never issued");
        let (_, state) = store.ask(&req);
        assert_eq!(
            store.answer(&other, Some(&state), Some(&yes)),
            None,
            "issued for another request"
        );
        let (_, state) = store.ask(&req);
        assert_eq!(store.answer(&req, Some(&state), Some(&answer(false))), Some(false));
        let (_, state) = store.ask(&req);
        assert_eq!(store.answer(&req, Some(&state), Some(&yes)), Some(true));
        assert_eq!(store.answer(&req, Some(&state), Some(&yes)), None, "used once");
    }

    #[test]
    fn requests_are_checked_and_auto_approval_is_narrow() {
        let dir = tempfile::tempdir().expect("dir");
        let bad = |args: serde_json::Value| {
            AccessRequest::parse(args.as_object().expect("object")).expect_err("invalid")
        };
        assert!(bad(json!({})).contains("exactly one"));
        assert!(bad(json!({"dir": "relative"})).contains("absolute"));
        assert!(bad(json!({"dir": "/", "host": "a.example"})).contains("exactly one"));
        assert!(bad(json!({"dir": "/", "minutes": 0})).contains("minutes"));
        let req = request(dir.path());
        let listed = |entry: String| AccessPolicy {
            enabled: true,
            auto_approve: vec![entry],
            terminal: false,
        };
        let path = dir.path().display();
        assert!(req.auto_approved(&listed(format!("dir:{path}:ro"))));
        assert!(req.auto_approved(&listed(format!("execute_code=dir:{path}"))));
        assert!(!req.auto_approved(&listed(format!("grep=dir:{path}"))), "another component");
        assert!(!req.auto_approved(&listed("dir:/nonexistent-dir".into())));
        let rw = AccessRequest::parse(
            json!({"dir": path.to_string(), "write": true}).as_object().expect("object"),
        )
        .expect("valid");
        assert!(!rw.auto_approved(&listed(format!("dir:{path}:ro"))), "ro does not cover rw");
    }
}
