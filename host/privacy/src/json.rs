//! Tokenizing JSON: only string values change, never keys, numbers or the structure. A field
//! whose name says what it holds (`email`, `phone`, `card_number`, `ssn_last4`, …) has its whole
//! value replaced, which also catches a value split over several such fields.

use crate::kinds::{PiiKind, digits};
use crate::scan::Scanner;
use crate::vault::{Counts, Vault};
use serde_json::Value;
use std::collections::HashSet;

/// Field names that are never touched (the operator's allow-list), compared lowercased.
#[derive(Debug, Clone, Default)]
pub struct JsonOptions {
    /// Fields whose values are left as they are.
    pub allow_fields: HashSet<String>,
}

/// Replaces the values `scanner` finds, and the values of hinting fields, in every string of
/// `value` (numbers count too where a field name hints: `{"ssn": 123456789}`).
pub fn tokenize_json(
    vault: &mut Vault,
    scanner: &Scanner,
    value: &mut Value,
    options: &JsonOptions,
    counts: &mut Counts,
) {
    let mut walk = Walk { vault, scanner, options, counts, hints: Vec::new() };
    walk.value(value);
}

/// One tokenizing pass: what it writes to, and the field-name hints seen so far (an array of
/// records repeats the same few keys).
struct Walk<'a> {
    vault: &'a mut Vault,
    scanner: &'a Scanner,
    options: &'a JsonOptions,
    counts: &'a mut Counts,
    hints: Vec<(String, Option<PiiKind>)>,
}

/// Field names whose hint a pass remembers. Records repeat a handful of keys, and comparing a
/// short key with a few others is cheaper than hashing it.
const HINTS_KEPT: usize = 32;

impl Walk<'_> {
    fn hint(&mut self, key: &str) -> Option<PiiKind> {
        if let Some((_, h)) = self.hints.iter().find(|(k, _)| k == key) {
            return *h;
        }
        let h = field_hint(&key.to_ascii_lowercase());
        if self.hints.len() < HINTS_KEPT {
            self.hints.push((key.to_string(), h));
        }
        h
    }

    fn value(&mut self, value: &mut Value) {
        match value {
            Value::String(s) => self.vault.tokenize_in_place(self.scanner, s, self.counts),
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            Value::Object(fields) => {
                for (key, v) in fields.iter_mut() {
                    if !self.options.allow_fields.is_empty()
                        && self.options.allow_fields.contains(&key.to_lowercase())
                    {
                        continue;
                    }
                    let hinted = match (self.hint(key), &*v) {
                        (Some(kind), Value::String(s)) if hinted_value(kind, s) => {
                            Some((kind, s.clone()))
                        }
                        (Some(kind), Value::Number(n)) if hinted_value(kind, &n.to_string()) => {
                            Some((kind, n.to_string()))
                        }
                        _ => None,
                    };
                    match hinted {
                        Some((kind, text)) => {
                            let token = self.vault.token_for(kind, &text);
                            self.counts.add(kind);
                            *v = Value::String(token);
                        }
                        None => self.value(v),
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// The kind a field name says it holds.
fn field_hint(name: &str) -> Option<PiiKind> {
    let word = |w: &str| name.split(|c: char| !c.is_ascii_alphanumeric()).any(|x| x == w);
    let has = |w: &str| word(w) || (w.len() > 4 && name.contains(w));
    if has("email") || has("e_mail") {
        Some(PiiKind::Email)
    } else if has("phone") || has("mobile") || word("tel") {
        Some(PiiKind::Phone)
    } else if has("iban") {
        Some(PiiKind::Iban)
    } else if has("card") || has("pan") || has("ccnum") {
        Some(PiiKind::Card)
    } else if has("ssn") || has("social_security") {
        Some(PiiKind::Ssn)
    } else if word("ip") || has("ip_address") || has("ipaddr") {
        Some(PiiKind::Ipv4)
    } else if has("password") || has("secret") || has("api_key") || has("apikey") || has("token") {
        Some(PiiKind::Secret)
    } else {
        None
    }
}

/// Whether a hinted field's value has the shape of its kind (digits for numbers, an `@` for an
/// e-mail, anything non-trivial for a secret), so `{"card": "none"}` stays.
fn hinted_value(kind: PiiKind, s: &str) -> bool {
    match kind {
        PiiKind::Email => s.contains('@'),
        PiiKind::Secret => s.len() >= 8,
        PiiKind::Ipv4 | PiiKind::Ipv6 => s.contains('.') || s.contains(':'),
        _ => digits(s).len() >= 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_string_values_change_and_field_names_hint() {
        let mut v = Vault::new("x");
        let mut counts = Counts::default();
        let mut doc = json!({
            "note": "write to ana@example.org",
            "ana@example.org": 1,
            "card_first": "4111 1111", "card_last": "1111 1111",
            "ssn": 123456789,
            "phone": "555 0100",
            "count": 4111111111111111u64,
            "items": [{"ip": "10.0.0.7"}, "plain"],
            "api_key": "hunter2hunter2",
            "card_type": "none",
        });
        tokenize_json(&mut v, &Scanner::all(), &mut doc, &JsonOptions::default(), &mut counts);
        assert_eq!(doc["note"], "write to [EMAIL_1_x]");
        assert_eq!(doc["ana@example.org"], 1, "keys are never rewritten");
        assert_eq!(doc["card_first"], "[CARD_1_x]");
        assert_eq!(doc["card_last"], "[CARD_2_x]");
        assert_eq!(doc["ssn"], "[SSN_1_x]");
        assert_eq!(doc["phone"], "[PHONE_1_x]");
        assert_eq!(doc["count"], 4111111111111111u64, "numbers without a hint stay");
        assert_eq!(doc["items"][0]["ip"], "[IPV4_1_x]");
        assert_eq!(doc["items"][1], "plain");
        assert_eq!(doc["api_key"], "[SECRET_1_x]");
        assert_eq!(doc["card_type"], "none");
        assert_eq!(counts.total(), 7);
    }
}
