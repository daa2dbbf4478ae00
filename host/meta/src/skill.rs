//! Skills: an Agent Skills directory (`SKILL.md` with YAML frontmatter, plus `scripts/`,
//! `references/`, `assets/`) checked by the specification's rules and packed into a component's
//! `wasm-host:skill` custom section, so a skill is published, signed, bundled and served like any
//! other component.
//!
//! The limits are the MCP skills extension's (SEP-2640): at most [`MAX_SKILL_FILES`] files and
//! [`MAX_SKILL_BYTES`] bytes per skill.
//!
//! ```
//! use wasm_host_meta::skill::SkillPack;
//! let md = "---\nname: tidy-csv\ndescription: Cleans CSV files.\n---\n# Steps\n";
//! let pack = SkillPack::from_files(Some("tidy-csv"), vec![("SKILL.md".into(), md.into())]).unwrap();
//! assert_eq!(pack.name(), "tidy-csv");
//! assert_eq!(SkillPack::decode(&pack.encode()).unwrap(), pack);
//! // Frontmatter that breaks the naming rules is refused, naming the rule.
//! let bad = "---\nname: Tidy--CSV\ndescription: x\n---\n";
//! let err = SkillPack::from_files(None, vec![("SKILL.md".into(), bad.into())]).unwrap_err();
//! assert!(err.to_string().contains("name"));
//! ```

use std::path::Path;

use serde_json::{Map, Value};

use crate::{Manifest, sha256_hex};

mod script;
pub use script::{Example, MAX_EXAMPLES, ScriptLanguage, SkillScript};

/// Name of the custom section that carries a skill's files.
pub const SKILL_SECTION: &str = "wasm-host:skill";
/// The file every skill has, at its root.
pub const SKILL_MD: &str = "SKILL.md";
/// Most files in one skill (SEP-2640's limit).
pub const MAX_SKILL_FILES: usize = 512;
/// Most bytes in one skill, all files together: 16 MiB (SEP-2640's limit).
pub const MAX_SKILL_BYTES: u64 = 16 << 20;
/// Longest path of a file inside a skill, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// Frontmatter keys the Agent Skills specification defines; any other is refused.
pub const FRONTMATTER_KEYS: [&str; 6] =
    ["name", "description", "license", "compatibility", "metadata", "allowed-tools"];
/// `metadata` keys with this prefix are reserved by the MCP skills extension.
const RESERVED_METADATA_PREFIX: &str = "io.modelcontextprotocol/";
/// The section's first bytes: format 1.
const MAGIC: &[u8; 8] = b"WHSKILL1";

/// Why a skill was refused; each names the file or field and the rule.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SkillError {
    /// A frontmatter field breaks the Agent Skills rules.
    #[error("SKILL.md frontmatter: {0}")]
    Frontmatter(String),
    /// A file's path is absolute, escapes the skill's directory, or is not plain UTF-8.
    #[error("file `{path}`: {why}")]
    BadPath {
        /// The path as given.
        path: String,
        /// The rule it breaks.
        why: String,
    },
    /// More files or bytes than a skill may hold.
    #[error("{what}: {actual}, above the limit of {limit} per skill")]
    TooLarge {
        /// `files` or `bytes`.
        what: &'static str,
        /// How many there are.
        actual: u64,
        /// The limit.
        limit: u64,
    },
    /// No `SKILL.md` at the skill's root.
    #[error("no SKILL.md at the skill's root")]
    NoSkillMd,
    /// The packed section is cut short or malformed.
    #[error("malformed `{SKILL_SECTION}` section: {0}")]
    Malformed(String),
    /// Reading the directory failed.
    #[error("{path}: {error}")]
    Io {
        /// The path being read.
        path: String,
        /// The error.
        error: String,
    },
}

/// One file of a skill, with its sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillFile {
    /// Path inside the skill, `/`-separated, e.g. `references/style.md`.
    pub path: String,
    /// Contents.
    pub bytes: Vec<u8>,
    /// Hex sha256 of the contents.
    pub sha256: String,
}

/// A tool component a skill uses and the versions it works with, from `metadata.requires`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The component's name, e.g. `csv`.
    pub name: String,
    /// The versions the skill works with, e.g. `^0.1`.
    pub range: semver::VersionReq,
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.range)
    }
}

/// A checked skill: its frontmatter (as JSON, verbatim), its instructions, the tool components
/// it requires and all its files, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillPack {
    frontmatter: Map<String, Value>,
    body: String,
    requires: Vec<Requirement>,
    files: Vec<SkillFile>,
    script: Option<SkillScript>,
}

impl SkillPack {
    /// Checks a skill given as `(path, bytes)` pairs; `dir_name`, when the skill came from a
    /// directory, must equal the frontmatter `name`.
    pub fn from_files(
        dir_name: Option<&str>,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<SkillPack, SkillError> {
        check_totals(files.len(), files.iter().map(|(_, b)| b.len() as u64).sum())?;
        let mut checked = Vec::with_capacity(files.len());
        for (path, bytes) in files {
            check_path(&path)?;
            if checked.iter().any(|f: &SkillFile| f.path == path) {
                return Err(bad_path(&path, "listed twice"));
            }
            checked.push(SkillFile { sha256: sha256_hex(&bytes), path, bytes });
        }
        checked.sort_by(|a, b| a.path.cmp(&b.path));
        let md = checked.iter().find(|f| f.path == SKILL_MD).ok_or(SkillError::NoSkillMd)?;
        let text = std::str::from_utf8(&md.bytes)
            .map_err(|_| SkillError::Frontmatter("SKILL.md is not UTF-8".into()))?;
        let (frontmatter, body) = parse_skill_md(text)?;
        if let Some(dir) = dir_name
            && frontmatter["name"] != dir
        {
            return Err(SkillError::Frontmatter(format!(
                "name `{}` must equal the directory's name `{dir}`",
                frontmatter["name"].as_str().unwrap_or_default()
            )));
        }
        let requires = parse_requires(
            frontmatter.get("metadata").and_then(|m| m.get("requires")).and_then(Value::as_str),
        )?;
        let script = script::parse(frontmatter.get("metadata"), &checked)?;
        Ok(SkillPack { frontmatter, body, requires, files: checked, script })
    }

    /// Reads and checks the skill in `dir` (every file below it; symbolic links and special
    /// files are refused, hidden files such as `.gitignore` are left out).
    pub fn read_dir(dir: &Path) -> Result<SkillPack, SkillError> {
        SkillPack::read_dir_except(dir, &[])
    }

    /// Like [`SkillPack::read_dir`], leaving out the directories in `skip` (a build's `dist/`).
    pub fn read_dir_except(dir: &Path, skip: &[&Path]) -> Result<SkillPack, SkillError> {
        let mut files = Vec::new();
        let mut walker = Walker { skip, total: 0 };
        walker.walk(dir, "", &mut files)?;
        let name = dir.file_name().and_then(|n| n.to_str());
        SkillPack::from_files(name, files)
    }

    /// The skill's name (frontmatter `name`).
    pub fn name(&self) -> &str {
        self.frontmatter["name"].as_str().unwrap_or_default()
    }

    /// The skill's description (frontmatter `description`).
    pub fn description(&self) -> &str {
        self.frontmatter["description"].as_str().unwrap_or_default()
    }

    /// The frontmatter exactly as written, as JSON.
    pub fn frontmatter(&self) -> &Map<String, Value> {
        &self.frontmatter
    }

    /// The instructions: SKILL.md after its frontmatter.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The tool components it uses (`metadata.requires`: `NAME@RANGE` separated by spaces, a
    /// range without spaces, e.g. `csv@^0.1 grep@>=1.2,<2`).
    pub fn requires(&self) -> &[Requirement] {
        &self.requires
    }

    /// The script `skills.<name>(args)` runs (`metadata.run`), if the skill has one.
    pub fn script(&self) -> Option<&SkillScript> {
        self.script.as_ref()
    }

    /// Every file, sorted by path (SKILL.md included).
    pub fn files(&self) -> &[SkillFile] {
        &self.files
    }

    /// The file at `path`, if the skill has it.
    pub fn file(&self, path: &str) -> Option<&SkillFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// A string from the frontmatter's `metadata` map.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.frontmatter.get("metadata")?.get(key)?.as_str()
    }

    /// The manifest a skill component carries: its name, description and `metadata.version`
    /// (0.1.0 when absent). A skill asks for no capabilities.
    pub fn manifest(&self) -> Result<Manifest, SkillError> {
        let version = self.metadata("version").unwrap_or("0.1.0");
        let version = semver::Version::parse(version).map_err(|e| {
            SkillError::Frontmatter(format!("metadata.version `{version}` is not semver: {e}"))
        })?;
        Ok(Manifest {
            name: self.name().to_string(),
            version,
            description: self.description().to_string(),
            capabilities: Default::default(),
        })
    }

    /// The section's bytes: magic, file count, then each file's path and contents.
    pub fn encode(&self) -> Vec<u8> {
        let size: usize = self.files.iter().map(|f| f.path.len() + f.bytes.len() + 12).sum();
        let mut out = Vec::with_capacity(MAGIC.len() + 4 + size);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.files.len() as u32).to_le_bytes());
        for f in &self.files {
            out.extend_from_slice(&(f.path.len() as u32).to_le_bytes());
            out.extend_from_slice(f.path.as_bytes());
            out.extend_from_slice(&(f.bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(&f.bytes);
        }
        out
    }

    /// Reads a section written by [`SkillPack::encode`] and checks it again, bounded before
    /// anything is allocated.
    pub fn decode(mut bytes: &[u8]) -> Result<SkillPack, SkillError> {
        let malformed = |what: &str| SkillError::Malformed(what.to_string());
        let magic = take(&mut bytes, MAGIC.len()).ok_or_else(|| malformed("no header"))?;
        if magic != MAGIC {
            return Err(malformed("unknown format"));
        }
        let count = u32_le(&mut bytes).ok_or_else(|| malformed("no file count"))? as usize;
        check_totals(count, 0)?;
        let mut files = Vec::with_capacity(count);
        let mut total = 0u64;
        for _ in 0..count {
            let len = u32_le(&mut bytes).ok_or_else(|| malformed("cut in a path"))? as usize;
            if len > MAX_PATH_BYTES {
                return Err(malformed("a path longer than the limit"));
            }
            let path = take(&mut bytes, len).ok_or_else(|| malformed("cut in a path"))?;
            let path =
                String::from_utf8(path.to_vec()).map_err(|_| malformed("a non-UTF-8 path"))?;
            let size = u64_le(&mut bytes).ok_or_else(|| malformed("cut in a size"))?;
            total = total.saturating_add(size);
            check_totals(count, total)?;
            let data = take(&mut bytes, size as usize).ok_or_else(|| malformed("cut in a file"))?;
            files.push((path, data.to_vec()));
        }
        if !bytes.is_empty() {
            return Err(malformed("bytes after the last file"));
        }
        SkillPack::from_files(None, files)
    }
}

/// Splits SKILL.md into its frontmatter (checked) and body.
fn parse_skill_md(text: &str) -> Result<(Map<String, Value>, String), SkillError> {
    let fm = |why: &str| SkillError::Frontmatter(why.to_string());
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
        .ok_or_else(|| fm("SKILL.md must start with a `---` line"))?;
    let (yaml, body) = split_closing(rest).ok_or_else(|| fm("no closing `---` line"))?;
    let value: Value = yaml_serde::from_str(yaml).map_err(|e| fm(&format!("not YAML: {e}")))?;
    let Value::Object(map) = value else { return Err(fm("must be a YAML mapping")) };
    check_frontmatter(&map)?;
    Ok((map, body.to_string()))
}

fn parse_requires(text: Option<&str>) -> Result<Vec<Requirement>, SkillError> {
    let mut out = Vec::new();
    for item in text.unwrap_or_default().split_whitespace() {
        let bad = |why: String| {
            SkillError::Frontmatter(format!(
                "metadata.requires `{item}`: {why} (expected NAME@RANGE, e.g. csv@^0.1)"
            ))
        };
        let (name, range) = item.split_once('@').ok_or_else(|| bad("no `@`".into()))?;
        check_name(name).map_err(bad)?;
        let range = semver::VersionReq::parse(range).map_err(|e| bad(e.to_string()))?;
        out.push(Requirement { name: name.to_string(), range });
    }
    Ok(out)
}

/// Finds the closing `---` line; returns the YAML before it and the body after it.
fn split_closing(rest: &str) -> Option<(&str, &str)> {
    let mut at = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "---" {
            return Some((&rest[..at], &rest[at + line.len()..]));
        }
        at += line.len();
    }
    None
}

/// The Agent Skills rules, with the MCP extension's reserved metadata prefix.
fn check_frontmatter(map: &Map<String, Value>) -> Result<(), SkillError> {
    let fm = |why: String| SkillError::Frontmatter(why);
    if let Some(key) = map.keys().find(|k| !FRONTMATTER_KEYS.contains(&k.as_str())) {
        return Err(fm(format!(
            "unknown field `{key}` (allowed: {})",
            FRONTMATTER_KEYS.join(", ")
        )));
    }
    let name = string_field(map, "name")?.ok_or_else(|| fm("`name` is required".into()))?;
    check_name(name).map_err(fm)?;
    let description =
        string_field(map, "description")?.ok_or_else(|| fm("`description` is required".into()))?;
    check_len("description", description, 1024).map_err(fm)?;
    for (key, max) in [("license", 1024), ("compatibility", 500)] {
        if let Some(v) = string_field(map, key)? {
            check_len(key, v, max).map_err(fm)?;
        }
    }
    if let Some(meta) = map.get("metadata") {
        let Value::Object(meta) = meta else {
            return Err(fm("`metadata` must be a map of strings".into()));
        };
        for (k, v) in meta {
            if !v.is_string() {
                return Err(fm(format!("metadata `{k}` must be a string")));
            }
            if k.starts_with(RESERVED_METADATA_PREFIX) {
                return Err(fm(format!(
                    "metadata `{k}`: the prefix `{RESERVED_METADATA_PREFIX}` is reserved"
                )));
            }
        }
    }
    match map.get("allowed-tools") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => return Err(fm("`allowed-tools` must be a string or a list of strings".into())),
    }
    Ok(())
}

/// A frontmatter field that must be a string when present.
fn string_field<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, SkillError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(SkillError::Frontmatter(format!("`{key}` must be a string"))),
    }
}

/// 1–64 characters of a–z, 0–9 and single hyphens, not at either end.
pub fn check_name(name: &str) -> Result<(), String> {
    let chars_ok = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if name.is_empty() || name.len() > 64 || !chars_ok {
        return Err(format!(
            "name `{}` must be 1-64 characters of a-z, 0-9 and '-'",
            name.escape_debug()
        ));
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err(format!("name `{name}` must not start or end with '-' nor contain \"--\""));
    }
    Ok(())
}

fn check_len(key: &str, value: &str, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    if n == 0 || n > max {
        return Err(format!("`{key}` must be 1-{max} characters (it has {n})"));
    }
    Ok(())
}

fn bad_path(path: &str, why: &str) -> SkillError {
    SkillError::BadPath { path: path.escape_debug().to_string(), why: why.to_string() }
}

/// A relative, `/`-separated path that stays inside the skill.
fn check_path(path: &str) -> Result<(), SkillError> {
    if path.is_empty() || path.len() > MAX_PATH_BYTES {
        return Err(bad_path(path, "empty or longer than 512 bytes"));
    }
    if path.starts_with('/') || path.contains('\\') || path.contains(':') {
        return Err(bad_path(path, "must be relative, with '/' separators"));
    }
    if path.chars().any(char::is_control) {
        return Err(bad_path(path, "contains a control character"));
    }
    if path.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Err(bad_path(path, "escapes the skill's directory or has an empty part"));
    }
    Ok(())
}

fn check_totals(files: usize, bytes: u64) -> Result<(), SkillError> {
    if files > MAX_SKILL_FILES {
        return Err(SkillError::TooLarge {
            what: "files",
            actual: files as u64,
            limit: MAX_SKILL_FILES as u64,
        });
    }
    if bytes > MAX_SKILL_BYTES {
        return Err(SkillError::TooLarge { what: "bytes", actual: bytes, limit: MAX_SKILL_BYTES });
    }
    Ok(())
}

/// Collects the files below a directory, stopping as soon as a limit is passed.
struct Walker<'a> {
    skip: &'a [&'a Path],
    total: u64,
}

impl Walker<'_> {
    fn walk(
        &mut self,
        dir: &Path,
        prefix: &str,
        out: &mut Vec<(String, Vec<u8>)>,
    ) -> Result<(), SkillError> {
        let io = |p: &Path, e: std::io::Error| SkillError::Io {
            path: p.display().to_string(),
            error: e.to_string(),
        };
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| io(dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(bad_path(&name.to_string_lossy(), "not UTF-8"));
            };
            if name.starts_with('.') || self.skip.contains(&entry.path().as_path()) {
                continue;
            }
            let rel = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
            let kind = entry.file_type().map_err(|e| io(&entry.path(), e))?;
            if kind.is_dir() {
                self.walk(&entry.path(), &rel, out)?;
            } else if kind.is_file() {
                self.total += entry.metadata().map_err(|e| io(&entry.path(), e))?.len();
                check_totals(out.len() + 1, self.total)?;
                out.push((rel, std::fs::read(entry.path()).map_err(|e| io(&entry.path(), e))?));
            } else {
                return Err(bad_path(
                    &rel,
                    "a symbolic link or special file (only plain files are packed)",
                ));
            }
        }
        Ok(())
    }
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if bytes.len() < n {
        return None;
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Some(head)
}

fn u32_le(bytes: &mut &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(take(bytes, 4)?.try_into().ok()?))
}

fn u64_le(bytes: &mut &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(take(bytes, 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests;
