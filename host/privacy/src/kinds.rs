//! The kinds of personal data and secrets, and the checks that tell a real value from a
//! look-alike.

use serde::{Deserialize, Serialize};

/// A kind of personal data or secret. The token of a value is `[LABEL_N]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PiiKind {
    /// An e-mail address.
    Email,
    /// A telephone number: international (`+CC …`, 8–15 digits) or North American
    /// (`(NXX) NXX-XXXX`).
    Phone,
    /// A payment card number: 13–19 digits that pass the Luhn check.
    Card,
    /// An IBAN whose mod-97 check holds.
    Iban,
    /// A US social security number in its valid ranges (not area 000, 666 or 9xx; not group 00;
    /// not serial 0000), written with separators.
    Ssn,
    /// An IPv4 address (four octets 0–255).
    Ipv4,
    /// An IPv6 address (as `std::net::Ipv6Addr` parses it).
    Ipv6,
    /// A credential: a known key prefix (`sk-`, `ghp_`, `AKIA`, …) or a long random-looking token.
    Secret,
}

impl PiiKind {
    /// Every kind, in the order overlapping findings are preferred.
    pub const ALL: [PiiKind; 8] = [
        PiiKind::Secret,
        PiiKind::Email,
        PiiKind::Iban,
        PiiKind::Card,
        PiiKind::Ssn,
        PiiKind::Ipv6,
        PiiKind::Ipv4,
        PiiKind::Phone,
    ];

    /// The token label: `EMAIL`, `PHONE`, `CARD`, `IBAN`, `SSN`, `IPV4`, `IPV6`, `SECRET`.
    pub fn label(self) -> &'static str {
        match self {
            PiiKind::Email => "EMAIL",
            PiiKind::Phone => "PHONE",
            PiiKind::Card => "CARD",
            PiiKind::Iban => "IBAN",
            PiiKind::Ssn => "SSN",
            PiiKind::Ipv4 => "IPV4",
            PiiKind::Ipv6 => "IPV6",
            PiiKind::Secret => "SECRET",
        }
    }

    /// The kind a token label names.
    pub fn from_label(label: &str) -> Option<PiiKind> {
        PiiKind::ALL.into_iter().find(|k| k.label() == label)
    }

    /// The kind a configuration or field name names (`email`, `phone`, `card`, …).
    pub fn from_name(name: &str) -> Option<PiiKind> {
        PiiKind::ALL.into_iter().find(|k| k.label().eq_ignore_ascii_case(name))
    }
}

/// The ASCII digits of `s`, in order.
pub(crate) fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The Luhn check over `digits` (ASCII digits only).
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// A card number: 13–19 digits, Luhn-valid, not all one digit.
pub fn card_valid(candidate: &str) -> bool {
    let d = digits(candidate);
    (13..=19).contains(&d.len()) && luhn_valid(&d) && !d.bytes().all(|b| b == d.as_bytes()[0])
}

/// An IBAN: two letters, two check digits, 11–30 letters or digits (spaces ignored), mod 97 = 1.
pub fn iban_valid(candidate: &str) -> bool {
    let s: String = candidate.chars().filter(|c| !c.is_whitespace()).collect();
    let b = s.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let mut rem = 0u32;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = if c.is_ascii_digit() { u32::from(c - b'0') } else { u32::from(c - b'A') + 10 };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

/// A US SSN in its valid ranges: area 001–899 except 666, group 01–99, serial 0001–9999.
pub fn ssn_valid(candidate: &str) -> bool {
    let d = digits(candidate);
    if d.len() != 9 {
        return false;
    }
    let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// Four octets 0–255 without leading zeros beyond a single `0`.
pub fn ipv4_valid(candidate: &str) -> bool {
    let parts: Vec<&str> = candidate.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// An IPv6 address with three or more written groups, or two where one is four hex digits with
/// a digit among them (`fe80::1`); not a clock time (`12:30:45`) or a path (`a::b`).
pub fn ipv6_valid(candidate: &str) -> bool {
    let groups: Vec<&str> = candidate.split(':').filter(|g| !g.is_empty()).collect();
    let strong = groups.iter().any(|g| g.len() == 4 && g.bytes().any(|b| b.is_ascii_digit()));
    candidate.parse::<std::net::Ipv6Addr>().is_ok()
        && (groups.len() >= 3 || (groups.len() == 2 && strong))
}

/// A phone number: 8–15 digits with a leading `+`, or 10 digits in North American form.
pub fn phone_valid(candidate: &str) -> bool {
    let d = digits(candidate);
    if candidate.trim_start().starts_with('+') {
        (8..=15).contains(&d.len())
    } else {
        d.len() == 10 && !d.starts_with(['0', '1'])
    }
}

/// Shannon entropy of `s` in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
}

/// A long token that looks random: at least 32 characters, letters and digits mixed, and more
/// than 4.3 bits of entropy per character (hex digests, at most 4.0, are not secrets).
pub fn random_token(candidate: &str) -> bool {
    let b = candidate.as_bytes();
    b.len() >= 32
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_lowercase)
        && b.iter().any(u8::is_ascii_uppercase)
        && entropy(candidate) > 4.3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_separate_real_values_from_look_alikes() {
        assert!(card_valid("4111 1111 1111 1111"));
        assert!(!card_valid("4111 1111 1111 1112"), "Luhn-invalid");
        assert!(!card_valid("0000 0000 0000 0000"), "one digit repeated");
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32"));
        assert!(iban_valid("DE89370400440532013000"));
        assert!(!iban_valid("GB83 WEST 1234 5698 7654 32"), "wrong check digits");
        assert!(ssn_valid("123-45-6789"));
        for bad in ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"] {
            assert!(!ssn_valid(bad), "{bad}");
        }
        assert!(ipv4_valid("192.168.1.20") && !ipv4_valid("256.1.1.1") && !ipv4_valid("1.2.3"));
        assert!(ipv6_valid("2001:db8::1") && ipv6_valid("fe80:0:0:0:200:f8ff:fe21:67cf"));
        assert!(!ipv6_valid("12:30:45"));
        assert!(phone_valid("+44 20 7946 0958") && phone_valid("(415) 555-2671"));
        assert!(!phone_valid("+12 34") && !phone_valid("123-456-7890"), "too short; NANP area 1xx");
        assert!(random_token("Zx8kQ2mPvL9rT4wY7nB3cF6hJ1dG5sA0eR2uI8oK"));
        let digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert!(!random_token(digest), "a hex digest is not a secret");
    }

    #[test]
    fn labels_round_trip() {
        for k in PiiKind::ALL {
            assert_eq!(PiiKind::from_label(k.label()), Some(k));
            assert_eq!(PiiKind::from_name(&k.label().to_lowercase()), Some(k));
        }
    }
}
