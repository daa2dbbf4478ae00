//! A labelled corpus, generated (deterministically, from a seed) to measure the scanner: records
//! of running text holding real values of every kind, look-alikes that must be left alone
//! (Luhn-invalid cards, wrong IBAN check digits, SSNs out of range, versions, clock times,
//! digests, dates, order numbers) and evasions (full-width digits, dotted and dashed numbers).

use crate::kinds::{PiiKind, luhn_valid};
use crate::scan::Scanner;
use serde::Serialize;
use std::collections::BTreeMap;

/// One record: its text and the values in it, by kind.
#[derive(Debug, Clone)]
pub struct Record {
    /// The text.
    pub text: String,
    /// The real values in `text` (exact substrings).
    pub labels: Vec<(PiiKind, String)>,
}

/// Precision and recall of one kind over a corpus.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Score {
    /// Values found with the right kind and extent.
    pub true_positives: u64,
    /// Findings that are not a labelled value of that kind.
    pub false_positives: u64,
    /// Labelled values not found.
    pub false_negatives: u64,
}

impl Score {
    /// TP / (TP + FP); 1 when nothing was found.
    pub fn precision(&self) -> f64 {
        let found = self.true_positives + self.false_positives;
        if found == 0 { 1.0 } else { self.true_positives as f64 / found as f64 }
    }

    /// TP / (TP + FN); 1 when nothing was there.
    pub fn recall(&self) -> f64 {
        let there = self.true_positives + self.false_negatives;
        if there == 0 { 1.0 } else { self.true_positives as f64 / there as f64 }
    }
}

/// Scores `scanner` on `records`, per kind.
pub fn evaluate(scanner: &Scanner, records: &[Record]) -> BTreeMap<PiiKind, Score> {
    let mut scores: BTreeMap<PiiKind, Score> = BTreeMap::new();
    for r in records {
        let mut expected = r.labels.clone();
        for f in scanner.find(&r.text) {
            let got = (f.kind, r.text[f.range].to_string());
            match expected.iter().position(|e| *e == got) {
                Some(i) => {
                    expected.swap_remove(i);
                    scores.entry(f.kind).or_default().true_positives += 1;
                }
                None => scores.entry(f.kind).or_default().false_positives += 1,
            }
        }
        for (kind, _) in expected {
            scores.entry(kind).or_default().false_negatives += 1;
        }
    }
    scores
}

/// `n` records from `seed`.
pub fn generate(n: usize, seed: u64) -> Vec<Record> {
    let mut g = Gen(seed | 1);
    (0..n).map(|i| g.record(i)).collect()
}

struct Gen(u64);

const NAMES: &[&str] =
    &["ana", "bo", "chen", "dara", "eli", "fatima", "goran", "hiro", "ines", "jon"];
const DOMAINS: &[&str] =
    &["example.org", "mail.example.com", "corp.example.net", "uni.example.ac.uk"];
const FILLER: &[&str] = &[
    "the ticket was updated",
    "see the attached report",
    "status: resolved",
    "priority high",
    "version 2.14.3 released",
    "meeting at 12:30:45 UTC",
    "order 48213377 shipped on 2024-03-15",
    "total 1,234.56 EUR",
    "build sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "use std::net::Ipv6Addr",
    "page 3 of 12",
    "ratio 0.75",
    "room 101-B",
];

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }

    fn record(&mut self, i: usize) -> Record {
        let mut text = String::new();
        let mut labels = Vec::new();
        for _ in 0..1 + self.below(3) {
            let kind = PiiKind::ALL[self.below(8) as usize];
            let value = self.value(kind, i);
            text.push_str(&format!("{}: {} — ", self.pick(FILLER), value));
            labels.push((kind, value));
        }
        for _ in 0..1 + self.below(2) {
            let negative = self.negative();
            text.push_str(&format!("{negative}; {}. ", self.pick(FILLER)));
        }
        Record { text, labels }
    }

    fn value(&mut self, kind: PiiKind, i: usize) -> String {
        let evade = i % 10 == 9;
        match kind {
            PiiKind::Email => {
                let v = format!(
                    "{}.{}{}@{}",
                    self.pick(NAMES),
                    self.pick(NAMES),
                    self.below(100),
                    self.pick(DOMAINS)
                );
                if evade { full_width(&v) } else { v }
            }
            PiiKind::Phone => match self.below(4) {
                0 => format!("+44 20 {} {}", self.digits(4), self.digits(4)),
                1 => format!(
                    "+1 ({}) {}-{}",
                    200 + self.below(700),
                    200 + self.below(700),
                    self.digits(4)
                ),
                2 => format!("+49 30 {}", self.digits(7)),
                _ => format!(
                    "({}) {}-{}",
                    200 + self.below(700),
                    200 + self.below(700),
                    self.digits(4)
                ),
            },
            PiiKind::Card => {
                let d = self.card_digits();
                let sep = [" ", "-", ".", ""][self.below(4) as usize];
                let v = d
                    .as_bytes()
                    .chunks(4)
                    .map(|c| std::str::from_utf8(c).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join(sep);
                if evade { full_width(&v) } else { v }
            }
            PiiKind::Iban => {
                let bban = self.digits(18);
                let v = format!("DE{:02}{bban}", iban_check("DE", &bban));
                if self.below(2) == 0 { spaced(&v) } else { v }
            }
            PiiKind::Ssn => {
                let area = 1 + self.below(899);
                let area = if area == 666 { 667 } else { area };
                let sep = ["-", " ", "."][self.below(3) as usize];
                format!("{area:03}{sep}{:02}{sep}{:04}", 1 + self.below(99), 1 + self.below(9999))
            }
            PiiKind::Ipv4 => format!(
                "{}.{}.{}.{}",
                1 + self.below(254),
                self.below(256),
                self.below(256),
                1 + self.below(254)
            ),
            PiiKind::Ipv6 => {
                let g: Vec<String> = (0..8).map(|_| format!("{:x}", self.below(0x10000))).collect();
                if self.below(2) == 0 {
                    format!("2001:db8:{}::{}", g[2], g[7])
                } else {
                    g.join(":")
                }
            }
            PiiKind::Secret => match self.below(4) {
                0 => format!("sk-proj-{}", self.alnum(40)),
                1 => format!("ghp_{}", self.alnum(36)),
                2 => format!("AKIA{}", self.upper_digits(16)),
                _ => self.alnum(40),
            },
        }
    }

    fn negative(&mut self) -> String {
        match self.below(7) {
            0 => {
                let mut d = self.card_digits();
                let last = (d.pop().map_or(0, |c| c as u8 - b'0') + 1) % 10;
                d.push(char::from(b'0' + last));
                d
            }
            1 => {
                let bban = self.digits(18);
                format!("DE{:02}{bban}", (iban_check("DE", &bban) + 1) % 97)
            }
            2 => format!("666-{:02}-{:04}", 1 + self.below(99), 1 + self.below(9999)),
            3 => format!("9{}-{}-{}", self.digits(2), self.digits(2), self.digits(4)),
            4 => format!("v{}.{}.{}", self.below(10), self.below(30), self.below(300)),
            5 => format!("ref {}", self.digits(9)),
            _ => format!("{}:{:02}:{:02}", self.below(24), self.below(60), self.below(60)),
        }
    }

    fn card_digits(&mut self) -> String {
        let mut d = format!("4{}", self.digits(14));
        let check = (0..10).find(|c| luhn_valid(&format!("{d}{c}"))).unwrap_or(0);
        d.push(char::from(b'0' + check as u8));
        d
    }

    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut s: String =
            (0..n).map(|_| char::from(A[self.below(A.len() as u64) as usize])).collect();
        // At least one of each class, as every real key format has.
        s.replace_range(0..3, "aZ7");
        s
    }

    fn upper_digits(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..n).map(|_| char::from(A[self.below(A.len() as u64) as usize])).collect()
    }
}

/// The two IBAN check digits for `country` and `bban` (digits only).
fn iban_check(country: &str, bban: &str) -> u32 {
    let mut rem = 0u32;
    let letters = country.bytes().map(|c| u32::from(c - b'A') + 10);
    for v in bban.bytes().map(|c| u32::from(c - b'0')).chain(letters).chain([0, 0]) {
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    98 - rem
}

fn spaced(v: &str) -> String {
    v.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// ASCII letters, digits and `@.-` in their full-width forms.
fn full_width(v: &str) -> String {
    v.chars()
        .map(
            |c| {
                if c.is_ascii_graphic() {
                    char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
                } else {
                    c
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scanner_meets_its_targets_on_the_labelled_corpus() {
        let records = generate(2000, 17);
        let scores = evaluate(&Scanner::all(), &records);
        for (kind, s) in &scores {
            assert!(
                s.recall() >= 0.99 && s.precision() >= 0.98,
                "{kind:?}: recall {:.4}, precision {:.4} ({s:?})",
                s.recall(),
                s.precision()
            );
        }
        assert_eq!(scores.len(), 8, "every kind occurs: {scores:?}");
    }
}
