//! The `[privacy]` table (PII tokenizing for the whole server and per component), the `[audit]`
//! table (the JSON Lines audit log) and the `[access]` table (`request_access`: capabilities
//! only a human or this list grants).
//!
//! ```toml
//! [privacy]
//! pii = true                          # or --pii / WASM_HOST_PII=1
//! kinds = ["email", "card", "iban"]   # default: every kind
//! allow_values = ["help@example.com"] # never replaced
//! allow_fields = ["request_id"]       # JSON fields never replaced
//! sandbox_sees_values = true          # tokens in arguments and code become values (default)
//!
//! [privacy.components.grep]           # any served name; `execute_code` for programs
//! pii = false
//!
//! [audit]
//! path = "audit.jsonl"                # or --audit-log / WASM_HOST_AUDIT_LOG
//! max_bytes = "10MiB"                 # rotated at this size
//! keep = 5                            # rotated files kept
//!
//! [access]
//! requests = true                     # list request_access (or --grant-requests)
//! terminal = false                    # ask on the server's terminal first (or --grant-terminal)
//! auto_approve = ["dir:/srv/shared:ro", "grep=host:api.example.com", "env:LANG"]
//! ```

use super::ConfigError;
use super::Cx;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;
use wasm_host_mcp::{AccessPolicy, AuditConfig, ComponentPii, PiiKind, PiiPolicy, PiiRules};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccess {
    #[serde(default)]
    requests: bool,
    #[serde(default)]
    auto_approve: Vec<Spanned<String>>,
    #[serde(default)]
    terminal: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    path: Option<String>,
    max_bytes: Option<Spanned<String>>,
    keep: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrivacy {
    #[serde(default)]
    pii: bool,
    sandbox_sees_values: Option<bool>,
    kinds: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    allow_values: Vec<String>,
    #[serde(default)]
    allow_fields: Vec<String>,
    #[serde(default)]
    components: BTreeMap<String, RawComponentPii>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawComponentPii {
    pii: Option<bool>,
    kinds: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    allow_values: Vec<String>,
    #[serde(default)]
    allow_fields: Vec<String>,
}

impl Cx<'_> {
    /// The validated `[privacy]` table.
    pub(super) fn privacy(&self, raw: &RawPrivacy) -> Result<PiiPolicy, ConfigError> {
        let mut rules = PiiRules {
            allow_values: raw.allow_values.iter().cloned().collect(),
            allow_fields: raw.allow_fields.iter().cloned().collect(),
            ..PiiRules::default()
        };
        if let Some(kinds) = &raw.kinds {
            rules.kinds = self.pii_kinds(kinds)?;
        }
        let mut components = BTreeMap::new();
        for (name, c) in &raw.components {
            let kinds = c.kinds.as_deref().map(|k| self.pii_kinds(k)).transpose()?;
            components.insert(
                name.clone(),
                ComponentPii {
                    enabled: c.pii,
                    kinds,
                    allow_values: c.allow_values.iter().cloned().collect(),
                    allow_fields: c.allow_fields.iter().cloned().collect(),
                },
            );
        }
        Ok(PiiPolicy {
            enabled: raw.pii,
            sandbox_sees_values: raw.sandbox_sees_values.unwrap_or(true),
            rules,
            components,
        })
    }

    /// The validated `[audit]` table (`None` without a `path`).
    pub(super) fn audit(&self, raw: &RawAudit) -> Result<Option<AuditConfig>, ConfigError> {
        let Some(path) = &raw.path else {
            if raw.max_bytes.is_some() || raw.keep.is_some() {
                return Err(self.err(0, "[audit] needs a path = \"FILE\"".into()));
            }
            return Ok(None);
        };
        let mut config = AuditConfig::at(self.path(path));
        if let Some(max) = &raw.max_bytes {
            config.max_bytes = self.check("max_bytes", max, wasm_host_policy::parse_size)?;
        }
        if let Some(keep) = raw.keep {
            config.keep = keep;
        }
        Ok(Some(config))
    }

    /// The validated `[access]` table.
    pub(super) fn access(&self, raw: &RawAccess) -> Result<AccessPolicy, ConfigError> {
        for entry in &raw.auto_approve {
            let spec = entry.get_ref().split_once('=').map_or(entry.get_ref().as_str(), |(_, s)| s);
            let kind = spec.split_once(':').map(|(k, _)| k);
            if !matches!(kind, Some("dir" | "host" | "env")) {
                return Err(self.err(
                    entry.span().start,
                    format!("auto_approve: {:?} is not [COMPONENT=]dir:PATH[:ro|:rw], host:PATTERN or env:NAME", entry.get_ref()),
                ));
            }
        }
        Ok(AccessPolicy {
            enabled: raw.requests || raw.terminal,
            auto_approve: raw.auto_approve.iter().map(|e| e.get_ref().clone()).collect(),
            terminal: raw.terminal,
        })
    }

    fn pii_kinds(&self, names: &[Spanned<String>]) -> Result<BTreeSet<PiiKind>, ConfigError> {
        let known = PiiKind::ALL.map(|k| k.label().to_lowercase()).join(", ");
        names
            .iter()
            .map(|n| {
                PiiKind::from_name(n.get_ref()).ok_or_else(|| {
                    self.err(
                        n.span().start,
                        format!("kinds: unknown PII kind `{}` (known: {known})", n.get_ref()),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::parse;
    use std::path::Path;

    #[test]
    fn privacy_table_with_a_component_override() {
        let text = "[privacy]\npii = true\nkinds = [\"email\", \"card\"]\nallow_values = [\"help@example.com\"]\n[privacy.components.grep]\npii = false\n";
        let c = parse(text, "t.toml", Path::new("/")).expect("valid");
        assert!(c.privacy.enabled);
        assert_eq!(c.privacy.rules.kinds.len(), 2);
        assert!(c.privacy.rules_for("grep").is_none());
        assert!(c.privacy.rules_for("csv").is_some());
    }

    #[test]
    fn access_terminal_turns_requests_on_and_a_bad_auto_approve_is_named() {
        let c = parse("[access]\nterminal = true\n", "t.toml", Path::new("/")).expect("valid");
        assert!(c.access.enabled && c.access.terminal);
        let c = parse("[access]\nrequests = true\n", "t.toml", Path::new("/")).expect("valid");
        assert!(c.access.enabled && !c.access.terminal);
        let e = parse("[access]\nauto_approve = [\"disk:/x\"]\n", "t.toml", Path::new("/"))
            .expect_err("invalid");
        assert!(e.to_string().contains("t.toml:2") && e.to_string().contains("disk:/x"), "{e}");
    }

    #[test]
    fn an_unknown_pii_kind_is_named_with_its_line() {
        let e = parse("[privacy]\npii = true\nkinds = [\"emial\"]\n", "t.toml", Path::new("/"))
            .expect_err("invalid");
        let text = e.to_string();
        assert!(text.contains("t.toml:3") && text.contains("emial"), "{text}");
    }
}
