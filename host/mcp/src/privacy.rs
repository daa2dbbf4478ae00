//! PII at the MCP boundary: what leaves for the model (tool results, `execute_code` output, log
//! notifications, error text) carries tokens (`[EMAIL_1_k3x9q2mf]`) instead of values, and a
//! token that comes back in arguments is replaced by its value before the tool runs.
//!
//! Where a vault lives: one per MCP session (a stdio connection, a 2025-11-25 HTTP session), and
//! one per workspace handle, so a stateless (2026-07-28) client that passes its workspace back
//! can send tokens back too. A stateless request without a workspace gets a vault of its own:
//! its tokens cannot come back, which fails safe (the model sees tokens, tools see tokens).
//! Tokens carry their vault's random tag, so another session's token, or a made-up one, is not
//! found in this vault and stays text.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use wasm_host_privacy::json::{JsonOptions, tokenize_json};
use wasm_host_privacy::{Counts, PiiPolicy, Scanner, Vault};

/// One vault, shared by the requests of its session or workspace.
pub(crate) type SharedVault = Arc<Mutex<Vault>>;

/// Workspace vaults kept at once; the oldest is forgotten first (its tokens then stay text).
const MAX_WORKSPACE_VAULTS: usize = 1024;

/// The name under which code mode's output is configured (`[privacy.components.execute_code]`).
pub(crate) const CODE_COMPONENT: &str = "execute_code";

/// The operator's policy, with a compiled scanner per component.
pub(crate) struct Boundary {
    policy: PiiPolicy,
    prepared: Mutex<HashMap<String, Option<Arc<Prepared>>>>,
    workspaces: Mutex<(HashMap<String, SharedVault>, VecDeque<String>)>,
}

/// A component's rules, ready to apply.
struct Prepared {
    scanner: Scanner,
    json: JsonOptions,
}

/// A new empty vault with an unguessable tag (40 random bits, base 32).
pub(crate) fn new_vault() -> SharedVault {
    let mut bytes = [0u8; 5];
    // Without randomness a predictable tag would let one session guess another's tokens; a
    // fixed tag per process start still keeps sessions apart by the values each vault holds.
    if getrandom::fill(&mut bytes).is_err() {
        tracing::warn!("no randomness for a PII vault tag; using the time");
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        bytes.copy_from_slice(&t.map_or(0, |d| d.as_nanos() as u64).to_le_bytes()[..5]);
    }
    let bits = u64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], 0, 0, 0]);
    let tag: String = (0..8)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz234567"[((bits >> (5 * i)) & 31) as usize] as char)
        .collect();
    Arc::new(Mutex::new(Vault::new(&tag)))
}

impl Boundary {
    /// The boundary for `policy`, or `None` when it tokenizes nothing.
    pub(crate) fn new(policy: PiiPolicy) -> Option<Boundary> {
        policy.any().then(|| Boundary {
            policy,
            prepared: Mutex::default(),
            workspaces: Mutex::default(),
        })
    }

    fn prepared(&self, component: &str) -> Option<Arc<Prepared>> {
        let mut all = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(component.to_string())
            .or_insert_with(|| {
                self.policy.rules_for(component).map(|rules| {
                    let scanner = Scanner::new(&rules.kinds).allowing(rules.allow_values.clone());
                    Arc::new(Prepared { scanner, json: rules.json_options() })
                })
            })
            .clone()
    }

    /// Whether tokens coming back in arguments and code are replaced by their values.
    pub(crate) fn detokenizes(&self) -> bool {
        self.policy.sandbox_sees_values
    }

    /// The vault of workspace `handle` (created on first use).
    pub(crate) fn workspace_vault(&self, handle: &str) -> SharedVault {
        let mut guard = self.workspaces.lock().unwrap_or_else(|p| p.into_inner());
        let (vaults, order) = &mut *guard;
        if let Some(v) = vaults.get(handle) {
            return v.clone();
        }
        if order.len() >= MAX_WORKSPACE_VAULTS
            && let Some(oldest) = order.pop_front()
        {
            vaults.remove(&oldest);
        }
        let vault = new_vault();
        vaults.insert(handle.to_string(), vault.clone());
        order.push_back(handle.to_string());
        vault
    }

    /// Tokenizes a result of `component` in place: text blocks (as JSON when they are JSON, so
    /// only string values change) and the structured content. Returns the values replaced.
    pub(crate) fn result(
        &self,
        vault: &SharedVault,
        component: &str,
        result: &mut CallToolResult,
    ) -> Counts {
        let mut counts = Counts::default();
        let Some(p) = self.prepared(component) else { return counts };
        let mut vault = vault.lock().unwrap_or_else(|e| e.into_inner());
        for block in &mut result.content {
            if let ContentBlock::Text(t) = block {
                t.text = tokenize_text(&mut vault, &p, &t.text, &mut counts);
            }
        }
        if let Some(s) = &mut result.structured_content {
            tokenize_json(&mut vault, &p.scanner, s, &p.json, &mut counts);
        }
        counts
    }

    /// Tokenizes one line of text of `component` (a log line, an error message).
    pub(crate) fn text(&self, vault: &SharedVault, component: &str, text: &str) -> String {
        let Some(p) = self.prepared(component) else { return text.to_string() };
        let mut vault = vault.lock().unwrap_or_else(|e| e.into_inner());
        tokenize_text(&mut vault, &p, text, &mut Counts::default())
    }
}

/// `text`, tokenized as JSON when it is a JSON object or array, else as text.
fn tokenize_text(vault: &mut Vault, p: &Prepared, text: &str, counts: &mut Counts) -> String {
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(mut value) = serde_json::from_str::<Value>(text)
    {
        tokenize_json(vault, &p.scanner, &mut value, &p.json, counts);
        return value.to_string();
    }
    vault.tokenize(&p.scanner, text, counts)
}

/// Replaces, in every string of `value`, the tokens of `vaults` by their values (tokens of other
/// vaults, and made-up ones, stay as they are).
pub(crate) fn detokenize_json(vaults: &[&SharedVault], value: &mut Value) {
    match value {
        Value::String(s) if s.contains('[') => *s = detokenize(vaults, s),
        Value::Array(items) => items.iter_mut().for_each(|v| detokenize_json(vaults, v)),
        Value::Object(fields) => fields.values_mut().for_each(|v| detokenize_json(vaults, v)),
        _ => {}
    }
}

/// `text` with the tokens of `vaults` replaced by their values.
pub(crate) fn detokenize(vaults: &[&SharedVault], text: &str) -> String {
    let mut out = text.to_string();
    for vault in vaults {
        out = vault.lock().unwrap_or_else(|e| e.into_inner()).detokenize(&out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_text_block_keeps_its_structure_and_a_plain_one_is_scanned() {
        let policy = PiiPolicy { enabled: true, ..PiiPolicy::default() };
        let boundary = Boundary::new(policy).expect("on");
        let vault = new_vault();
        let mut result = CallToolResult::success(vec![
            ContentBlock::text(r#"{"card": 4111111111111111, "note": "mail ann@example.com"}"#),
            ContentBlock::text("call +44 20 7946 0958"),
        ]);
        let counts = boundary.result(&vault, "any", &mut result);
        assert_eq!(counts.total(), 3, "{result:?}");
        let json: Value = serde_json::from_str(&result.content[0].as_text().expect("present").text)
            .expect("still JSON");
        assert!(json["card"].as_str().expect("present").starts_with("[CARD_1_"), "{json}");
        let back = detokenize(&[&vault], json["note"].as_str().expect("present"));
        assert_eq!(back, "mail ann@example.com");
        let other = new_vault();
        assert_eq!(detokenize(&[&other], json["note"].as_str().expect("present")), json["note"]);
    }
}
