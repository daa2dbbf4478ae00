//! The audit log: one JSON line per call (and per grant decision), rotated by size.
//!
//! A line says who ran what with which capabilities and how it ended, never what it said: the
//! arguments and the result appear only as their size and sha256. Lines are written whole, with
//! one `write` on a file opened for appending (mode 0600), so readers never see half a record;
//! when the next line would take the file past `max_bytes`, `audit.jsonl` becomes
//! `audit.jsonl.1` (the older ones move up, the oldest beyond `keep` is removed) and a new file
//! starts.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use wasm_host_policy::EffectiveGrant;
use wasm_host_privacy::Counts;

/// Where the audit log goes and how much of it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// The current file (`--audit-log`, `WASM_HOST_AUDIT_LOG`, `[audit] path`).
    pub path: PathBuf,
    /// Size at which the file is rotated, in bytes. Default 10 MiB.
    pub max_bytes: u64,
    /// Rotated files kept (`PATH.1` newest … `PATH.N`). Default 5.
    pub keep: usize,
}

impl AuditConfig {
    /// The defaults for a log at `path`.
    pub fn at(path: PathBuf) -> AuditConfig {
        AuditConfig { path, max_bytes: 10 << 20, keep: 5 }
    }
}

/// An open audit log, shared by every session of a server.
pub(crate) struct AuditLog {
    config: AuditConfig,
    file: Mutex<(File, u64)>,
}

/// One record. Field names are the log's format: keep them stable.
#[derive(Serialize, Default)]
pub(crate) struct Record<'a> {
    /// RFC 3339 UTC, milliseconds.
    pub time: String,
    /// `call` (a tool or meta-tool ran) or `grant` (a capability was asked for).
    pub event: &'a str,
    /// The tool as served (`grep.count`, `execute_code`).
    pub tool: &'a str,
    /// `name@version` of the component, when the tool belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The capabilities the call ran with: `dirs` (`/data:ro`), `hosts`, `env` (names only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grants: Option<BTreeMap<&'static str, Vec<String>>>,
    /// `ok`, or why not (`timeout`, `memory`, `denied`, `granted`, `refused`, …).
    pub outcome: &'a str,
    pub fuel: u64,
    pub memory_bytes: u64,
    pub wall_ms: f64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// sha256 of the arguments as received.
    pub args_sha256: String,
    /// sha256 of the result as sent (after tokenizing); absent for a grant decision.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub result_sha256: String,
    /// PII values tokenized in the result, by kind.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub pii: BTreeMap<&'static str, u64>,
    /// What a grant record is about (`dir /home/me/notes:ro for 10m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The current time as the log writes it.
pub(crate) fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// The grants of a component, as the log shows them (environment values left out).
pub(crate) fn grants(g: &EffectiveGrant) -> BTreeMap<&'static str, Vec<String>> {
    let dirs = g
        .dirs
        .iter()
        .map(|d| format!("{}:{}", d.guest, if d.read_only { "ro" } else { "rw" }))
        .collect();
    let hosts = g.hosts.iter().map(ToString::to_string).collect();
    let env = g.env.iter().map(|(k, _)| k.clone()).collect();
    BTreeMap::from([("dirs", dirs), ("hosts", hosts), ("env", env)])
}

/// PII counts by token label.
pub(crate) fn pii(counts: &Counts) -> BTreeMap<&'static str, u64> {
    counts.0.iter().map(|(k, n)| (k.label(), *n)).collect()
}

impl AuditLog {
    /// Opens (creating it and its directory) the log for appending.
    pub(crate) fn open(config: AuditConfig) -> std::io::Result<AuditLog> {
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = open_append(&config.path)?;
        let size = file.metadata()?.len();
        Ok(AuditLog { config, file: Mutex::new((file, size)) })
    }

    /// Appends `record`; a failure is logged, never passed to the caller (the call happened).
    pub(crate) fn write(&self, record: &Record<'_>) {
        let mut line = match serde_json::to_vec(record) {
            Ok(l) => l,
            Err(e) => return tracing::error!(error = %e, "cannot encode an audit record"),
        };
        line.push(b'\n');
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if guard.1 > 0 && guard.1 + line.len() as u64 > self.config.max_bytes {
            match self.rotate() {
                Ok(file) => *guard = (file, 0),
                Err(e) => {
                    tracing::error!(error = %e, path = %self.config.path.display(), "cannot rotate the audit log")
                }
            }
        }
        match guard.0.write_all(&line) {
            Ok(()) => guard.1 += line.len() as u64,
            Err(e) => {
                tracing::error!(error = %e, path = %self.config.path.display(), "cannot write the audit log")
            }
        }
    }

    /// Shifts `PATH.N` up by one (dropping the last), `PATH` to `PATH.1`, and opens a new `PATH`.
    fn rotate(&self) -> std::io::Result<File> {
        let path = &self.config.path;
        let numbered = |n: usize| PathBuf::from(format!("{}.{n}", path.display()));
        if self.config.keep == 0 {
            std::fs::remove_file(path)?;
        } else {
            for n in (1..self.config.keep).rev() {
                if numbered(n).exists() {
                    std::fs::rename(numbered(n), numbered(n + 1))?;
                }
            }
            std::fs::rename(path, numbered(1))?;
        }
        open_append(path)
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_by_size_and_keeps_whole_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(AuditConfig { path: path.clone(), max_bytes: 1000, keep: 2 })
            .expect("open");
        for i in 0..40 {
            let tool = format!("t{i}");
            log.write(&Record {
                time: now(),
                event: "call",
                tool: &tool,
                outcome: "ok",
                ..Record::default()
            });
        }
        let mut files = vec![path.clone()];
        files.extend([1, 2].map(|n| PathBuf::from(format!("{}.{n}", path.display()))));
        assert!(!PathBuf::from(format!("{}.3", path.display())).exists(), "keep = 2");
        let mut seen = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).expect("rotated file");
            assert!(text.len() <= 1000, "{} is {} bytes", f.display(), text.len());
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("whole JSON line");
                assert_eq!(v["event"], "call");
                seen += 1;
            }
        }
        let newest = std::fs::read_to_string(&path).expect("current");
        assert!(newest.contains("\"t39\""), "the newest record is in the current file");
        assert!(seen < 40, "older records beyond `keep` were dropped");
    }
}
