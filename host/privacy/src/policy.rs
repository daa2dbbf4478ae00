//! The operator's PII settings: on or off for the server, which kinds, allow-lists of values
//! and fields, and the same per component. Pure data, resolved once at start.

use crate::json::JsonOptions;
use crate::kinds::PiiKind;
use std::collections::{BTreeMap, BTreeSet};

/// What to tokenize where. `Default`: off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiPolicy {
    /// Tokenize what leaves for the model (`--pii`, `WASM_HOST_PII`, `[privacy] pii`).
    pub enabled: bool,
    /// Replace a session's tokens in arguments and program code by their values, so code inside
    /// the sandbox works with real data (`[privacy] sandbox_sees_values`). Default true; false
    /// keeps tokens as tokens all the way in (tools then see only what the model saw; what tools
    /// return inside a program is still real).
    pub sandbox_sees_values: bool,
    /// The server-wide rules (`[privacy]`).
    pub rules: PiiRules,
    /// Per component (`[privacy.components.NAME]`; `execute_code` names code mode's output).
    pub components: BTreeMap<String, ComponentPii>,
}

/// Which kinds are tokenized, and what is left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiRules {
    /// Kinds looked for. Default: every kind.
    pub kinds: BTreeSet<PiiKind>,
    /// Values never replaced (exact text, e.g. a public support address).
    pub allow_values: BTreeSet<String>,
    /// JSON field names whose values are never replaced (compared lowercased).
    pub allow_fields: BTreeSet<String>,
}

impl Default for PiiRules {
    fn default() -> Self {
        PiiRules {
            kinds: PiiKind::ALL.into_iter().collect(),
            allow_values: BTreeSet::new(),
            allow_fields: BTreeSet::new(),
        }
    }
}

impl PiiRules {
    /// The JSON options these rules imply.
    pub fn json_options(&self) -> JsonOptions {
        JsonOptions { allow_fields: self.allow_fields.iter().map(|f| f.to_lowercase()).collect() }
    }
}

/// One component's overrides of the server-wide rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentPii {
    /// On or off for this component (`None`: as the server).
    pub enabled: Option<bool>,
    /// Its kinds, replacing the server's (`None`: the server's).
    pub kinds: Option<BTreeSet<PiiKind>>,
    /// Values allowed besides the server's.
    pub allow_values: BTreeSet<String>,
    /// Fields allowed besides the server's.
    pub allow_fields: BTreeSet<String>,
}

impl Default for PiiPolicy {
    fn default() -> Self {
        PiiPolicy {
            enabled: false,
            sandbox_sees_values: true,
            rules: PiiRules::default(),
            components: BTreeMap::new(),
        }
    }
}

impl PiiPolicy {
    /// The rules for what `component` returns, or `None` when nothing of it is tokenized.
    pub fn rules_for(&self, component: &str) -> Option<PiiRules> {
        let own = self.components.get(component);
        if !own.and_then(|c| c.enabled).unwrap_or(self.enabled) {
            return None;
        }
        let mut rules = self.rules.clone();
        if let Some(own) = own {
            if let Some(kinds) = &own.kinds {
                rules.kinds = kinds.clone();
            }
            rules.allow_values.extend(own.allow_values.iter().cloned());
            rules.allow_fields.extend(own.allow_fields.iter().cloned());
        }
        Some(rules)
    }

    /// Whether anything at all is tokenized (the server or any component turned it on).
    pub fn any(&self) -> bool {
        self.enabled || self.components.values().any(|c| c.enabled == Some(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_overrides_the_server_both_ways_and_adds_to_its_allow_lists() {
        let mut policy = PiiPolicy { enabled: true, ..PiiPolicy::default() };
        policy.rules.allow_values.insert("help@example.com".into());
        policy.components.insert(
            "grep".into(),
            ComponentPii { enabled: Some(false), ..ComponentPii::default() },
        );
        policy.components.insert(
            "csv".into(),
            ComponentPii {
                kinds: Some([PiiKind::Email].into()),
                allow_values: ["a@b.co".to_string()].into(),
                ..ComponentPii::default()
            },
        );
        assert!(policy.rules_for("grep").is_none());
        let csv = policy.rules_for("csv").expect("on");
        assert_eq!(csv.kinds, [PiiKind::Email].into());
        assert_eq!(csv.allow_values.len(), 2);
        assert_eq!(policy.rules_for("other").expect("on").kinds.len(), PiiKind::ALL.len());
        policy.enabled = false;
        assert!(policy.rules_for("other").is_none());
        assert!(!policy.any());
    }
}
