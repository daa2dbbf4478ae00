//! Finding personal data and secrets in text: one pattern per kind to find candidates, the
//! kind's check to keep only real values, then the preferred kind where findings overlap.

use crate::kinds::{self, PiiKind};
use regex::{Regex, RegexSet};
use std::collections::BTreeSet;
use std::ops::Range;

/// One value found: its kind and its byte range in the text that was scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What it is.
    pub kind: PiiKind,
    /// Byte range in the scanned text.
    pub range: Range<usize>,
}

/// The compiled patterns for a set of kinds. Build once per server and share.
#[derive(Debug)]
pub struct Scanner {
    patterns: Vec<(PiiKind, Regex)>,
    /// All the patterns in one automaton: one pass tells which patterns can match at all, so a
    /// string with no candidate (most of a tool result) is not searched once per pattern.
    any: RegexSet,
    /// Values never reported (the operator's allow-list), exact text.
    allowed: std::collections::HashSet<String>,
}

/// Candidate patterns; each kind's check in [`kinds`] decides.
const PATTERNS: &[(PiiKind, &str)] = &[
    (
        PiiKind::Secret,
        r"(?-u:\b)(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}|sk_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|xox[baprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|glpat-[A-Za-z0-9_\-]{20,})|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    ),
    (PiiKind::Secret, r"[A-Za-z0-9+/_\-]{32,}={0,2}"),
    (PiiKind::Email, r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
    (PiiKind::Iban, r"(?-u:\b)[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?-u:\b)"),
    (PiiKind::Card, r"(?-u:\b)\d(?:[ .\-]?\d){12,18}(?-u:\b)"),
    (PiiKind::Ssn, r"(?-u:\b)\d{3}[ .\-]\d{2}[ .\-]\d{4}(?-u:\b)"),
    (PiiKind::Ipv6, r"[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"),
    (PiiKind::Ipv4, r"(?-u:\b)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?-u:\b)"),
    (PiiKind::Phone, r"\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,6}"),
    (PiiKind::Phone, r"(?:\(\d{3}\) ?|(?-u:\b)\d{3}[ .\-])\d{3}[ .\-]\d{4}(?-u:\b)"),
];

impl Scanner {
    /// A scanner for `kinds` (every kind when empty).
    pub fn new(kinds: &BTreeSet<PiiKind>) -> Scanner {
        let chosen: Vec<&(PiiKind, &str)> =
            PATTERNS.iter().filter(|(k, _)| kinds.is_empty() || kinds.contains(k)).collect();
        let patterns = chosen
            .iter()
            .map(|(k, p)| (*k, Regex::new(p).expect("built-in pattern compiles")))
            .collect();
        let any = RegexSet::new(chosen.iter().map(|(_, p)| *p)).expect("built-in patterns compile");
        Scanner { patterns, any, allowed: Default::default() }
    }

    /// This scanner, never reporting any of `values` (exact text, e.g. a public support address).
    pub fn allowing(mut self, values: impl IntoIterator<Item = String>) -> Scanner {
        self.allowed.extend(values);
        self
    }

    /// A scanner for every kind.
    pub fn all() -> Scanner {
        Scanner::new(&BTreeSet::new())
    }

    /// The values in `text`, in order, not overlapping. Full-width forms (`４１１１`, `＠`) count
    /// as their ASCII letters and digits; ranges are in `text` as given.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        let mut found = if text.is_ascii() || !text.chars().any(is_full_width) {
            self.find_ascii(text)
        } else {
            let (folded, origin) = fold_full_width(text);
            self.find_ascii(&folded)
                .into_iter()
                .map(|f| Finding {
                    kind: f.kind,
                    range: origin[f.range.start]..origin[f.range.end],
                })
                .collect()
        };
        if !self.allowed.is_empty() {
            found.retain(|f| !self.allowed.contains(&text[f.range.clone()]));
        }
        found
    }

    fn find_ascii(&self, text: &str) -> Vec<Finding> {
        // `is_match` allocates nothing and stops at the first candidate; most strings of a
        // result have none, and only the rest pay for the set of patterns that match.
        if !self.any.is_match(text) {
            return Vec::new();
        }
        let which = self.any.matches(text);
        let mut found: Vec<(usize, Finding)> = Vec::new();
        for (kind, re) in which.iter().map(|i| &self.patterns[i]) {
            let rank = PiiKind::ALL.iter().position(|k| k == kind).unwrap_or(usize::MAX);
            for m in re.find_iter(text) {
                if let Some(range) = checked(*kind, text, m.range()) {
                    found.push((rank, Finding { kind: *kind, range }));
                }
            }
        }
        // Preferred kinds first, then earlier and longer; keep what does not overlap.
        found.sort_by_key(|(rank, f)| (*rank, f.range.start, usize::MAX - f.range.end));
        let mut kept: Vec<Finding> = Vec::new();
        for (_, f) in found {
            if !kept.iter().any(|k| k.range.start < f.range.end && f.range.start < k.range.end) {
                kept.push(f);
            }
        }
        kept.sort_by_key(|f| f.range.start);
        kept
    }
}

/// The part of candidate `range` that passes `kind`'s check, if any.
fn checked(kind: PiiKind, text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let s = &text[range.clone()];
    let ok = match kind {
        PiiKind::Email => true,
        PiiKind::Phone => kinds::phone_valid(s),
        PiiKind::Card => kinds::card_valid(s),
        PiiKind::Ssn => kinds::ssn_valid(s),
        PiiKind::Ipv4 => kinds::ipv4_valid(s),
        PiiKind::Ipv6 => {
            // Not the tail of a word (`std::net` holds the valid address `d::`).
            let word_before =
                text[..range.start].chars().next_back().is_some_and(char::is_alphanumeric);
            let t = s.trim_end_matches('.');
            return (!word_before && kinds::ipv6_valid(t))
                .then(|| range.start..range.start + t.len());
        }
        PiiKind::Secret => s.starts_with("-----BEGIN") || known_prefix(s) || kinds::random_token(s),
        // An IBAN pattern may run on into the next word: shorten at spaces until it checks.
        PiiKind::Iban => {
            let mut end = s.len();
            loop {
                if kinds::iban_valid(&s[..end]) {
                    return Some(range.start..range.start + end);
                }
                end = s[..end].rfind(' ')?;
            }
        }
    };
    ok.then_some(range)
}

fn known_prefix(s: &str) -> bool {
    [
        "sk-",
        "sk_live_",
        "sk_test_",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "xox",
        "AKIA",
        "AIza",
        "glpat-",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

fn is_full_width(c: char) -> bool {
    ('\u{FF01}'..='\u{FF5E}').contains(&c) || c == '\u{3000}'
}

/// `text` with full-width forms folded to ASCII, and for every byte of the result (and its end)
/// the byte offset in `text` it came from.
pub(crate) fn fold_full_width(text: &str) -> (String, Vec<usize>) {
    let mut folded = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len() + 1);
    for (at, c) in text.char_indices() {
        let ascii = match c {
            '\u{3000}' => Some(' '),
            c if is_full_width(c) => char::from_u32(c as u32 - 0xFEE0),
            _ => None,
        };
        let out = ascii.unwrap_or(c);
        for _ in 0..out.len_utf8() {
            origin.push(at);
        }
        folded.push(out);
    }
    origin.push(text.len());
    (folded, origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_in(text: &str) -> Vec<(PiiKind, String)> {
        Scanner::all().find(text).into_iter().map(|f| (f.kind, text[f.range].to_string())).collect()
    }

    #[test]
    fn finds_each_kind_in_running_text() {
        let text = "Mail ana.silva@example.org or call +44 20 7946 0958 / (415) 555-2671. \
                    Card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789, \
                    host 192.168.1.20 and 2001:db8::1, key sk-proj-abcdefghijklmnopqrstuvwx12.";
        let got = kinds_in(text);
        let want = [
            (PiiKind::Email, "ana.silva@example.org"),
            (PiiKind::Phone, "+44 20 7946 0958"),
            (PiiKind::Phone, "(415) 555-2671"),
            (PiiKind::Card, "4111 1111 1111 1111"),
            (PiiKind::Iban, "GB82 WEST 1234 5698 7654 32"),
            (PiiKind::Ssn, "123-45-6789"),
            (PiiKind::Ipv4, "192.168.1.20"),
            (PiiKind::Ipv6, "2001:db8::1"),
            (PiiKind::Secret, "sk-proj-abcdefghijklmnopqrstuvwx12"),
        ];
        let want: Vec<(PiiKind, String)> = want.iter().map(|(k, s)| (*k, s.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn look_alikes_are_left_alone() {
        let text = "order 4111 1111 1111 1112, GB83 WEST 1234 5698 7654 32, 666-12-3456, \
                    version 1.2.300.4, at 12:30:45, sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, \
                    dated 2024-01-15, id 1234567890123";
        assert_eq!(kinds_in(text), vec![]);
    }

    #[test]
    fn evasions_full_width_and_separators() {
        let text = "ｃａｒｄ ４１１１ １１１１ １１１１ １１１１ mail ａｎａ＠ｅｘａｍｐｌｅ．ｏｒｇ ssn 123.45.6789 card 4111-1111-1111-1111";
        let got: Vec<PiiKind> = kinds_in(text).into_iter().map(|(k, _)| k).collect();
        assert_eq!(got, vec![PiiKind::Card, PiiKind::Email, PiiKind::Ssn, PiiKind::Card]);
        let first = &Scanner::all().find(text)[0];
        assert_eq!(&text[first.range.clone()], "４１１１ １１１１ １１１１ １１１１");
    }
}
