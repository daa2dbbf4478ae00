//! Tokens that stand for values: stable within one vault (a session or a workspace handle),
//! meaningless anywhere else.

use crate::kinds::PiiKind;
use crate::scan::{Finding, Scanner};
use regex::Regex;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

/// How many values of each kind were replaced (for the audit log: counts, never values).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts(pub BTreeMap<PiiKind, u64>);

impl Counts {
    /// Adds one value of `kind`.
    pub fn add(&mut self, kind: PiiKind) {
        *self.0.entry(kind).or_default() += 1;
    }

    /// All values counted.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// The values one session (or workspace) has seen, and the tokens issued for them.
///
/// A token is `[KIND_N_TAG]`: `N` counts per kind from 1, and `TAG` is the vault's own tag, so a
/// token issued by another vault, or made up, is not one of ours and stays text.
#[derive(Debug)]
pub struct Vault {
    tag: String,
    tokens: HashMap<(PiiKind, String), String>,
    values: HashMap<String, String>,
    next: BTreeMap<PiiKind, u64>,
    allowed: HashSet<String>,
}

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[(EMAIL|PHONE|CARD|IBAN|SSN|IPV4|IPV6|SECRET)_[0-9]+_[a-z0-9]+\]")
        .expect("token pattern")
});

impl Vault {
    /// An empty vault whose tokens end in `tag` (lowercase letters and digits: give each vault
    /// an unguessable one, e.g. 8 random base-32 characters).
    pub fn new(tag: &str) -> Vault {
        Vault {
            tag: tag.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase(),
            tokens: HashMap::new(),
            values: HashMap::new(),
            next: BTreeMap::new(),
            allowed: HashSet::new(),
        }
    }

    /// Values never replaced (the operator's allow-list, e.g. a support address).
    pub fn allow(&mut self, values: impl IntoIterator<Item = String>) {
        self.allowed.extend(values);
    }

    /// The token for `value` of `kind`: the one issued before for the same value, or a new one.
    pub fn token_for(&mut self, kind: PiiKind, value: &str) -> String {
        let key = (kind, canonical(kind, value));
        if let Some(t) = self.tokens.get(&key) {
            return t.clone();
        }
        let n = self.next.entry(kind).or_insert(0);
        *n += 1;
        let token = format!("[{}_{}_{}]", kind.label(), n, self.tag);
        self.tokens.insert(key, token.clone());
        self.values.insert(token.clone(), value.to_string());
        token
    }

    /// `text` with every value `scanner` finds replaced by its token; `counts` gets one per value.
    pub fn tokenize(&mut self, scanner: &Scanner, text: &str, counts: &mut Counts) -> String {
        let found = scanner.find(text);
        if found.is_empty() {
            return text.to_string();
        }
        self.replace(text, found, counts)
    }

    /// Like [`Vault::tokenize`], rewriting `text` only when something was found (no copy of the
    /// many strings that hold nothing).
    pub fn tokenize_in_place(&mut self, scanner: &Scanner, text: &mut String, counts: &mut Counts) {
        let found = scanner.find(text);
        if !found.is_empty() {
            *text = self.replace(text, found, counts);
        }
    }

    /// `text` with the values at `found` (in order, not overlapping) replaced by their tokens.
    fn replace(&mut self, text: &str, found: Vec<Finding>, counts: &mut Counts) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in found {
            let value = &text[f.range.clone()];
            if self.allowed.contains(value) {
                continue;
            }
            out.push_str(&text[at..f.range.start]);
            out.push_str(&self.token_for(f.kind, value));
            counts.add(f.kind);
            at = f.range.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// `text` with this vault's tokens replaced by the values they stand for; any other
    /// token-shaped text (another vault's, made up) is left as it is.
    pub fn detokenize(&self, text: &str) -> String {
        TOKEN
            .replace_all(text, |c: &regex::Captures<'_>| {
                self.values.get(&c[0]).cloned().unwrap_or_else(|| c[0].to_string())
            })
            .into_owned()
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the vault holds nothing yet.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// One spelling per value: digits only for numbers, no spaces in an IBAN, lowercase e-mail.
fn canonical(kind: PiiKind, value: &str) -> String {
    // A full-width spelling is the same value as the ASCII one (`４１１１…` = `4111…`).
    let folded;
    let value = if value.is_ascii() {
        value
    } else {
        folded = crate::scan::fold_full_width(value).0;
        folded.as_str()
    };
    match kind {
        PiiKind::Card | PiiKind::Ssn | PiiKind::Phone => crate::kinds::digits(value),
        PiiKind::Iban => value.chars().filter(|c| !c.is_whitespace()).collect(),
        PiiKind::Email => value.to_lowercase(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_and_round_trip_only_in_their_vault() {
        let scanner = Scanner::all();
        let (mut a, mut b) = (Vault::new("a1b2"), Vault::new("c3d4"));
        let mut counts = Counts::default();
        let text = "ana@example.org paid with 4111 1111 1111 1111; ANA@example.org again";
        let t = a.tokenize(&scanner, text, &mut counts);
        assert_eq!(t, "[EMAIL_1_a1b2] paid with [CARD_1_a1b2]; [EMAIL_1_a1b2] again");
        let wide = a.tokenize(&scanner, "４１１１ １１１１ １１１１ １１１１", &mut counts);
        assert_eq!(wide, "[CARD_1_a1b2]", "a full-width spelling is the same value");
        assert_eq!(counts.0[&PiiKind::Email], 2);
        assert_eq!(a.detokenize("send to [EMAIL_1_a1b2]"), "send to ana@example.org");
        let other = b.tokenize(&scanner, "bob@example.org", &mut Counts::default());
        assert_eq!(other, "[EMAIL_1_c3d4]");
        assert_eq!(a.detokenize(&other), other, "another vault's token stays text");
        assert_eq!(a.detokenize("[EMAIL_2_a1b2] [CARD_9_a1b2]"), "[EMAIL_2_a1b2] [CARD_9_a1b2]");
    }

    #[test]
    fn allowed_values_stay() {
        let mut v = Vault::new("t");
        v.allow(["help@example.org".to_string()]);
        let out = v.tokenize(
            &Scanner::all(),
            "help@example.org, ana@example.org",
            &mut Counts::default(),
        );
        assert_eq!(out, "help@example.org, [EMAIL_1_t]");
    }
}
