//! What can be known about a component without instantiating it: its embedded manifest (a custom
//! section written by `wasm-host build`), its sha256, and the WIT interfaces it imports and
//! exports, checked against the host's semver policy.
//!
//! ```
//! assert_eq!(
//!     wasm_host_meta::sha256_hex(b"abc"),
//!     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//! );
//! // Bytes that are not a component are refused with a reason, never run.
//! assert!(wasm_host_meta::inspect(b"not wasm").is_err());
//! ```

pub mod skill;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasm_host_policy::{ImportVerdict, Requests, check_import};
use wasmparser::{Parser, Payload};

/// Name of the custom section that carries the manifest (JSON).
pub const MANIFEST_SECTION: &str = "wasm-host:manifest";

/// Largest manifest accepted, in bytes; a manifest is a few hundred bytes.
pub const MAX_MANIFEST_BYTES: usize = 64 << 10;

/// A component's self-description, embedded by `wasm-host build`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Component name: `[a-z0-9-]`, 1..=64 characters; tools are addressed as `<name>.<tool>`.
    pub name: String,
    /// The component's own semver version.
    pub version: semver::Version,
    /// One line on what it is for.
    #[serde(default)]
    pub description: String,
    /// Capabilities and limits it asks for.
    #[serde(default)]
    pub capabilities: Requests,
}

/// Problems reading or writing component metadata.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// Not a WebAssembly component (a core module, or not Wasm at all).
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    /// The binary is cut short or malformed.
    #[error("malformed component binary (truncated or corrupt): {0}")]
    Malformed(String),
    /// The manifest section is not valid JSON of the expected shape.
    #[error("invalid manifest in the `{MANIFEST_SECTION}` section: {0}")]
    BadManifest(String),
    /// The skill a component carries breaks the Agent Skills rules or the extension's limits.
    #[error("invalid skill: {0}")]
    BadSkill(skill::SkillError),
    /// An import the host does not provide, per the semver policy.
    #[error("incompatible import: component {0}")]
    IncompatibleImport(String),
}

// By hand rather than `#[from]`: the message already carries the skill error, and a `source`
// would make error chains print it twice.
impl From<skill::SkillError> for MetaError {
    fn from(e: skill::SkillError) -> Self {
        MetaError::BadSkill(e)
    }
}

impl Manifest {
    /// Checks the name and fields a host relies on.
    pub fn validate(&self) -> Result<(), MetaError> {
        let ok_name = !self.name.is_empty()
            && self.name.len() <= 64
            && self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !self.name.starts_with('-');
        if !ok_name {
            return Err(MetaError::BadManifest(format!(
                "name `{}` must be 1-64 characters of a-z, 0-9 and '-'",
                self.name.escape_debug()
            )));
        }
        Ok(())
    }
}

/// Hex sha256 of a component's bytes: its identity in caches, lockfiles and the registry.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The component's WIT-level imports and exports (top level only), e.g. `wasi:cli/stdout@0.2.3`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interfaces {
    /// Imported instance/function names.
    pub imports: Vec<String>,
    /// Exported names.
    pub exports: Vec<String>,
}

/// Everything read in one pass over the binary.
#[derive(Debug, Clone)]
pub struct ComponentInfo {
    /// The embedded manifest, if the component has one.
    pub manifest: Option<Manifest>,
    /// Top-level imports and exports.
    pub interfaces: Interfaces,
    /// Hex sha256 of the bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The skill it carries (`wasm-host:skill` section), checked; a skill component has no code.
    pub skill: Option<skill::SkillPack>,
}

impl ComponentInfo {
    /// Applies the host's semver policy to every import; the first refusal is the error.
    pub fn check_imports(&self) -> Result<(), MetaError> {
        for name in &self.interfaces.imports {
            if let ImportVerdict::Rejected(why) = check_import(name) {
                return Err(MetaError::IncompatibleImport(why));
            }
        }
        Ok(())
    }
}

/// Reads a component's manifest and interfaces, validating the whole binary structure
/// (a truncated or corrupt file is an error, never a partial answer).
pub fn inspect(bytes: &[u8]) -> Result<ComponentInfo, MetaError> {
    let mut manifest = None;
    let mut skill = None;
    let mut interfaces = Interfaces::default();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| MetaError::Malformed(e.to_string()))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != wasmparser::Encoding::Component {
                    return Err(MetaError::NotAComponent("this is a core module; build a component (wasm32-wasip2, ComponentizeJS, componentize-py)".into()));
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(c) if depth == 1 && c.name() == MANIFEST_SECTION => {
                if c.data().len() > MAX_MANIFEST_BYTES {
                    return Err(MetaError::BadManifest(format!(
                        "{} bytes, above the {MAX_MANIFEST_BYTES}-byte cap",
                        c.data().len()
                    )));
                }
                let m: Manifest = serde_json::from_slice(c.data())
                    .map_err(|e| MetaError::BadManifest(e.to_string()))?;
                m.validate()?;
                manifest = Some(m);
            }
            Payload::CustomSection(c) if depth == 1 && c.name() == skill::SKILL_SECTION => {
                skill = Some(skill::SkillPack::decode(c.data())?);
            }
            Payload::ComponentImportSection(s) if depth == 1 => {
                for import in s {
                    let import = import.map_err(|e| MetaError::Malformed(e.to_string()))?;
                    interfaces.imports.push(import.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(s) if depth == 1 => {
                for export in s {
                    let export = export.map_err(|e| MetaError::Malformed(e.to_string()))?;
                    interfaces.exports.push(export.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(MetaError::Malformed("unexpected end of file".into()));
    }
    if let (Some(pack), Some(m)) = (&skill, &manifest)
        && pack.name() != m.name
    {
        return Err(MetaError::BadManifest(format!(
            "the manifest names `{}` but the skill is `{}`",
            m.name,
            pack.name()
        )));
    }
    Ok(ComponentInfo {
        manifest,
        interfaces,
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
        skill,
    })
}

/// Returns `component` with `manifest` embedded as its (only) manifest section, appended at the
/// end of the top-level component. Any previous manifest section is dropped.
pub fn embed_manifest(component: &[u8], manifest: &Manifest) -> Result<Vec<u8>, MetaError> {
    manifest.validate()?;
    inspect(component)?; // a valid component, whatever its current manifest
    let stripped = strip_manifest(component)?;
    let json = serde_json::to_vec(manifest).map_err(|e| MetaError::BadManifest(e.to_string()))?;
    let section = wasm_encoder::CustomSection { name: MANIFEST_SECTION.into(), data: json.into() };
    let mut out = stripped;
    out.push(wasm_encoder::ComponentSectionId::CoreCustom as u8);
    wasm_encoder::Encode::encode(&section, &mut out);
    Ok(out)
}

/// A skill as a component: no code, no imports, its manifest and its files in custom sections,
/// so registries, signatures and bundles treat it like any other component.
pub fn skill_component(pack: &skill::SkillPack) -> Result<Vec<u8>, MetaError> {
    let mut out = wasm_encoder::Component::new().finish();
    let files = pack.encode();
    let section =
        wasm_encoder::CustomSection { name: skill::SKILL_SECTION.into(), data: files.into() };
    out.push(wasm_encoder::ComponentSectionId::CoreCustom as u8);
    wasm_encoder::Encode::encode(&section, &mut out);
    embed_manifest(&out, &pack.manifest()?)
}

/// The component's bytes without top-level manifest sections.
fn strip_manifest(bytes: &[u8]) -> Result<Vec<u8>, MetaError> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut depth = 0usize;
    let mut last = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| MetaError::Malformed(e.to_string()))? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(c) if depth == 1 && c.name() == MANIFEST_SECTION => {
                // The section's range covers its contents; the id byte and size precede it.
                let range = c.range();
                let header_start = section_header_start(bytes, range.start);
                out.extend_from_slice(&bytes[last..header_start]);
                last = range.end;
            }
            _ => {}
        }
    }
    out.extend_from_slice(&bytes[last..]);
    Ok(out)
}

/// Walks back from a custom section's payload start over its LEB128 size and id byte.
fn section_header_start(bytes: &[u8], payload_start: usize) -> usize {
    // Find `i` such that bytes[i] == 0 (custom id) and the LEB128 from i+1 ends at payload_start.
    (payload_start.saturating_sub(6)..payload_start)
        .find(|&i| bytes[i] == 0 && leb128_end(bytes, i + 1) == Some(payload_start))
        .unwrap_or(payload_start)
}

fn leb128_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    for _ in 0..5 {
        let b = *bytes.get(i)?;
        i += 1;
        if b & 0x80 == 0 {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid component: the empty component, plus one export-less nested core module.
    fn tiny_component() -> Vec<u8> {
        wat::parse_str("(component (core module (func)))").expect("wat")
    }

    fn manifest() -> Manifest {
        serde_json::from_str(r#"{"name":"csv","version":"1.2.3","description":"d","capabilities":{"directories":["/data",{"path":"/out","write":true}],"env":["K"]}}"#).expect("json")
    }

    #[test]
    fn manifest_round_trips_through_the_custom_section() {
        let with = embed_manifest(&tiny_component(), &manifest()).expect("embed");
        let info = inspect(&with).expect("inspect");
        assert_eq!(info.manifest, Some(manifest()));
        assert!(info.manifest.as_ref().is_some_and(|m| m.capabilities.directories[1].write));
    }

    #[test]
    fn embedding_twice_replaces_the_manifest() {
        let once = embed_manifest(&tiny_component(), &manifest()).expect("embed");
        let mut m2 = manifest();
        m2.version = semver::Version::new(2, 0, 0);
        let twice = embed_manifest(&once, &m2).expect("embed again");
        assert_eq!(inspect(&twice).expect("inspect").manifest, Some(m2));
        assert_eq!(twice.len(), once.len(), "old section removed, not stacked");
    }

    #[test]
    fn truncated_and_core_binaries_are_rejected() {
        let full = embed_manifest(&tiny_component(), &manifest()).expect("embed");
        for cut in [4, 7, full.len() / 2, full.len() - 1] {
            assert!(matches!(inspect(&full[..cut]), Err(MetaError::Malformed(_))), "cut at {cut}");
        }
        let core = wat::parse_str("(module)").expect("wat");
        assert!(matches!(inspect(&core), Err(MetaError::NotAComponent(_))));
    }

    #[test]
    fn bad_names_are_refused() {
        let mut m = manifest();
        m.name = "evil\u{202e}name".into();
        let err = embed_manifest(&tiny_component(), &m).expect_err("bidi name").to_string();
        assert!(err.contains("\\u{202e}"), "escaped in the message: {err}");
    }

    #[test]
    fn imports_are_listed_and_checked() {
        let c = wat::parse_str(r#"(component (import "wasm-host:mcp/log@0.2.0" (instance)))"#)
            .expect("wat");
        let info = inspect(&c).expect("inspect");
        assert_eq!(info.interfaces.imports, vec!["wasm-host:mcp/log@0.2.0"]);
        let err = info.check_imports().expect_err("0.2 refused").to_string();
        assert!(err.contains("accepts 0.1.x"), "{err}");
        let ok = wat::parse_str(r#"(component (import "wasm-host:mcp/log@0.1.4" (instance)))"#)
            .expect("wat");
        inspect(&ok).expect("inspect").check_imports().expect("0.1.4 accepted");
    }
}
