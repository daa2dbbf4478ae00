//! Per-call resource limits and the parsers for their human-readable forms (`128MiB`, `30s`).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Limits applied to every call of a component. Defaults follow the architecture card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Linear memory per instance, in bytes. Default 128 MiB.
    pub memory_bytes: u64,
    /// Wall clock per call. Default 30 s.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// Fuel (roughly: wasm instructions) per call; `None` = unmetered (still counted). Default none.
    pub fuel: Option<u64>,
    /// Bytes of result handed back to the caller before it is cut with a marker. Default 1 MiB.
    pub output_bytes: u64,
    /// Bytes of captured stdout + stderr + log lines kept per call. Default 64 KiB.
    pub log_bytes: u64,
    /// Elements per table (funcref tables). Default 100,000.
    pub table_elements: u64,
    /// Live resource handles (files, streams, pollables…) per call. Default 10,000.
    pub resource_handles: u64,
    /// Nesting of `tools.call` from programs. Default 4.
    pub call_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 128 << 20,
            timeout: Duration::from_secs(30),
            fuel: None,
            output_bytes: 1 << 20,
            log_bytes: 64 << 10,
            table_elements: 100_000,
            resource_handles: 10_000,
            call_depth: 4,
        }
    }
}

/// A size or duration that could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitsError {
    /// Not a size such as `128MiB`, `64k`, `1048576`.
    #[error("`{0}` is not a size (examples: 128MiB, 512KiB, 1GB, 1048576)")]
    Size(String),
    /// Not a duration such as `30s`, `250ms`, `2m`.
    #[error("`{0}` is not a duration (examples: 30s, 250ms, 2m)")]
    Duration(String),
    /// Zero where a positive value is required.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
}

/// Parses a byte size: a plain number of bytes or a number with a unit (`KiB`, `MiB`, `GiB`,
/// `KB`, `MB`, `GB`, `k`, `m`, `g`; binary for the single letters). Case-insensitive.
pub fn parse_size(text: &str) -> Result<u64, LimitsError> {
    let t = text.trim();
    let err = || LimitsError::Size(text.to_string());
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(err());
    }
    let unit = unit.trim();
    // Single letters are binary, as in `ulimit`, `docker --memory` and `wasmtime -W`.
    let short = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => Some(1u64),
        "k" => Some(1 << 10),
        "m" => Some(1 << 20),
        "g" => Some(1 << 30),
        _ => None,
    };
    let bytes = match short {
        Some(mult) => num.parse::<f64>().map_err(|_| err())? * mult as f64,
        None => t.parse::<bytesize::ByteSize>().map_err(|_| err())?.as_u64() as f64,
    };
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(err());
    }
    Ok(bytes as u64)
}

/// Parses a duration (`30s`, `250ms`, `2m`, `1h 5m`); a bare number means seconds.
pub fn parse_duration(text: &str) -> Result<Duration, LimitsError> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(LimitsError::Duration(text.to_string()));
    }
    humantime::parse_duration(t).map_err(|_| LimitsError::Duration(text.to_string()))
}

/// (De)serializes a `Duration` as a humantime string (`"30s"`), accepting a number of seconds too.
mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Secs(f64),
            Text(String),
        }
        match Form::deserialize(d)? {
            Form::Secs(s) if s.is_finite() && s >= 0.0 => Ok(Duration::from_secs_f64(s)),
            Form::Secs(s) => Err(D::Error::custom(format!("{s} is not a duration"))),
            Form::Text(t) => super::parse_duration(&t).map_err(D::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        assert_eq!(parse_size("128MiB"), Ok(128 << 20));
        assert_eq!(parse_size("128 MiB"), Ok(128 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("1.5m"), Ok(1_572_864));
    }

    #[test]
    fn bad_sizes_are_rejected_with_the_input_named() {
        for bad in ["", "MiB", "12 parsecs", "-5", "1e999"] {
            let e = parse_size(bad).expect_err(bad);
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn durations_parse_with_units_and_bare_seconds() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn limits_deserialize_from_partial_json_with_defaults() {
        let l: Limits =
            serde_json::from_str(r#"{"memory_bytes": 1024, "timeout": "2s"}"#).expect("parse");
        assert_eq!(l.memory_bytes, 1024);
        assert_eq!(l.timeout, Duration::from_secs(2));
        assert_eq!(l.output_bytes, Limits::default().output_bytes);
    }
}
