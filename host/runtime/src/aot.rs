//! Ahead-of-time artifacts (`.cwasm`): a component compiled by wasmtime for one target, so a host
//! with no compiler (`wasm-host-edge`) can run it and any host starts without compiling.
//!
//! The file is wasmtime's own artifact (an ELF object; `wasmtime run --allow-precompiled` reads
//! it too) followed by a trailer: the [`ArtifactInfo`] as JSON, its length (u64, little endian)
//! and the 16 bytes [`ARTIFACT_MAGIC`]. The trailer says what the code is for (target, wasmtime
//! version, engine settings) and carries what the host would otherwise read from the component
//! (its digest, manifest and WIT imports and exports), so nothing is compiled or parsed again.
//!
//! A loaded artifact is checked twice before any of it is mapped: the trailer against this host
//! (clear messages naming both sides), then wasmtime's own compatibility check of the ELF
//! (target, CPU features, engine flags, version). A `.cwasm` is native code, not sandboxed
//! bytecode: the host runs one only when the operator names the file (see docs/SECURITY.md).

use crate::error::LoadError;
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use wasm_host_meta::{ComponentInfo, Interfaces, Manifest};

/// The last 16 bytes of every artifact this host writes.
pub const ARTIFACT_MAGIC: &[u8; 16] = b"wasm-host-aot-v1";
/// The target triple this host was built for (and runs artifacts of).
pub const HOST_TARGET: &str = env!("WASM_HOST_TARGET");
/// The wasmtime version this host embeds (pinned in the workspace's Cargo.toml).
pub const WASMTIME_VERSION: &str = "48.0.8";
/// The engine settings that change compiled code, as `engine_config` sets them. Artifacts compiled
/// under other settings are refused.
pub const ENGINE_SETTINGS: &str = "component-model; fuel; epoch-interruption";
/// Largest trailer read, bytes (a manifest is capped far below this).
const MAX_TRAILER: u64 = 4 << 20;

/// What an artifact is and what it was compiled for (its trailer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    /// Trailer format, 1.
    pub format: u32,
    /// The target triple of the code, e.g. `aarch64-unknown-linux-gnu`.
    pub target: String,
    /// The wasmtime version that compiled it.
    pub wasmtime: String,
    /// [`ENGINE_SETTINGS`] of the host that compiled it.
    pub settings: String,
    /// Hex sha256 of the component it was compiled from (its identity in lock files and the
    /// registry).
    pub sha256: String,
    /// Size of that component, bytes.
    pub size: u64,
    /// The component's manifest.
    pub manifest: Option<Manifest>,
    /// The component's WIT imports and exports.
    pub interfaces: Interfaces,
    /// What its `list-tools` returned when it was compiled (a tool component), so loading the
    /// artifact runs none of its code.
    #[serde(default)]
    pub tools: Option<Vec<crate::ToolInfo>>,
}

impl ArtifactInfo {
    /// What the runtime needs of the component, without the component.
    pub fn component_info(&self) -> ComponentInfo {
        ComponentInfo {
            manifest: self.manifest.clone(),
            interfaces: self.interfaces.clone(),
            sha256: self.sha256.clone(),
            size: self.size,
            skill: None,
        }
    }

    /// Whether this host can run the artifact: same target (architecture and OS), wasmtime
    /// version and engine settings. The error names both sides and how to get a fitting one.
    pub fn check_fits_host(&self, file: &str) -> Result<(), LoadError> {
        let why = if arch_os(&self.target) != arch_os(HOST_TARGET) {
            format!(
                "compiled for {}, but this host runs on {HOST_TARGET}; compile the component for this host (`wasm-host compile COMPONENT.wasm --target {HOST_TARGET}`)",
                self.target
            )
        } else if major(&self.wasmtime) != major(WASMTIME_VERSION) {
            format!(
                "compiled by wasmtime {}, but this host embeds wasmtime {WASMTIME_VERSION}, which cannot run its code (artifacts move only within one major version); compile the component again with this host's version of `wasm-host compile`",
                self.wasmtime
            )
        } else if self.settings != ENGINE_SETTINGS {
            format!(
                "compiled with engine settings `{}`, but this host's engine uses `{ENGINE_SETTINGS}`; compile the component again with this host's version of `wasm-host compile`",
                self.settings
            )
        } else {
            return Ok(());
        };
        Err(artifact_error(file, why))
    }
}

/// The major version (`48.0.8` → `48`): wasmtime runs artifacts of any release of its own major
/// version (its engine section records only that).
fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// The architecture and operating system of a target triple (`x86_64-unknown-linux-gnu` →
/// `("x86_64", "linux")`), the parts that decide whether code runs.
fn arch_os(triple: &str) -> (&str, &str) {
    let mut parts = triple.split('-');
    let arch = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    const SYSTEMS: [&str; 6] = ["linux", "darwin", "windows", "freebsd", "netbsd", "android"];
    let os = rest.iter().copied().find(|p| SYSTEMS.contains(p)).unwrap_or_else(|| {
        // `arch-vendor-os[-env]`, or `arch-os` when there is no vendor.
        rest.get(1).or(rest.first()).copied().unwrap_or("")
    });
    (arch, os)
}

fn artifact_error(file: &str, why: String) -> LoadError {
    LoadError::Artifact { file: file.to_string(), why }
}

/// Whether `path` is an ELF file, i.e. a precompiled artifact rather than a component.
pub fn is_artifact(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok()
        && &magic == b"\x7fELF"
}

/// Reads an artifact's trailer. A file without one (plain wasmtime output, truncated, another
/// tool's) is refused naming what is missing.
pub fn read_artifact_info(path: &Path) -> Result<ArtifactInfo, LoadError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| LoadError::Read { path: file.clone(), source: e };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    if len < 24 {
        return Err(artifact_error(&file, "too short to be a precompiled artifact".into()));
    }
    let mut tail = [0u8; 24];
    f.seek(SeekFrom::End(-24)).map_err(io)?;
    f.read_exact(&mut tail).map_err(io)?;
    let json_len = trailer_len(&file, len, &tail)?;
    let mut json = vec![0u8; json_len as usize];
    f.seek(SeekFrom::End(-24 - json_len as i64)).map_err(io)?;
    f.read_exact(&mut json).map_err(io)?;
    decode_trailer(&file, &json)
}

/// [`read_artifact_info`] of an artifact in memory (one carried in a bundle, named `file` in
/// errors); bytes that are not an ELF file are refused too.
pub fn artifact_info_of(bytes: &[u8], file: &str) -> Result<ArtifactInfo, LoadError> {
    if !bytes.starts_with(b"\x7fELF") {
        return Err(artifact_error(file, "not a precompiled artifact (no ELF header)".into()));
    }
    let len = bytes.len() as u64;
    if len < 24 {
        return Err(artifact_error(file, "too short to be a precompiled artifact".into()));
    }
    let end = bytes.len() - 24;
    let json_len = trailer_len(file, len, &bytes[end..])? as usize;
    decode_trailer(file, &bytes[end - json_len..end])
}

/// The trailer's JSON length from the last 24 bytes of a `len`-byte file, checked.
fn trailer_len(file: &str, len: u64, tail: &[u8]) -> Result<u64, LoadError> {
    if &tail[8..] != ARTIFACT_MAGIC {
        return Err(artifact_error(
            file,
            "no wasm-host trailer (it was not written by `wasm-host compile`, or it is truncated)"
                .into(),
        ));
    }
    let json_len = u64::from_le_bytes(tail[..8].try_into().unwrap_or_default());
    if json_len > MAX_TRAILER || json_len + 24 > len {
        return Err(artifact_error(file, format!("its trailer claims {json_len} bytes")));
    }
    Ok(json_len)
}

fn decode_trailer(file: &str, json: &[u8]) -> Result<ArtifactInfo, LoadError> {
    let info: ArtifactInfo = serde_json::from_slice(json)
        .map_err(|e| artifact_error(file, format!("its trailer does not parse: {e}")))?;
    if info.format != 1 {
        return Err(artifact_error(file, format!("trailer format {} is unknown", info.format)));
    }
    if let Some(m) = &info.manifest {
        m.validate()?;
    }
    Ok(info)
}

/// Compiles `bytes` (a tool or program component) into an artifact for `target` (default: this
/// host, with this CPU's features; a named target gets that architecture's baseline), with the
/// engine settings `config` gives every call. `tools` is what the component's `list-tools`
/// returned (from loading it here), recorded so that loading the artifact need not run it;
/// `host_code` is the component already compiled by this host's engine
/// ([`crate::Runtime::compiled_code`]), used instead of compiling again when no target is named.
/// Returns the file's bytes and its trailer.
#[cfg(feature = "compiler")]
pub fn compile_artifact(
    bytes: &[u8],
    target: Option<&str>,
    config: &crate::RuntimeConfig,
    tools: Option<Vec<crate::ToolInfo>>,
    host_code: Option<Vec<u8>>,
) -> Result<(Vec<u8>, ArtifactInfo), LoadError> {
    let component = wasm_host_meta::inspect(bytes)?;
    if component.skill.is_some() {
        return Err(LoadError::Compile(
            "a skill component carries files, not code: ship its .wasm as it is".into(),
        ));
    }
    crate::runtime::kind_of(&component)?;
    component.check_imports()?;
    let artifact = match (target, host_code) {
        (None, Some(code)) => code,
        _ => compile_for(bytes, target, config)?,
    };
    let info = ArtifactInfo {
        format: 1,
        target: target.unwrap_or(HOST_TARGET).to_string(),
        wasmtime: WASMTIME_VERSION.into(),
        settings: ENGINE_SETTINGS.into(),
        sha256: component.sha256,
        size: component.size,
        manifest: component.manifest,
        interfaces: component.interfaces,
        tools,
    };
    Ok((with_trailer(artifact, &info), info))
}

/// Cranelift for `target` (default: this host) with the engine settings of `config`.
#[cfg(feature = "compiler")]
fn compile_for(
    bytes: &[u8],
    target: Option<&str>,
    config: &crate::RuntimeConfig,
) -> Result<Vec<u8>, LoadError> {
    let mut engine_config = crate::runtime::engine_config(config);
    if let Some(t) = target {
        engine_config.target(t).map_err(|e| {
            LoadError::Compile(format!("target `{t}` is not one wasmtime knows: {e:#}"))
        })?;
    }
    let engine = wasmtime::Engine::new(&engine_config).map_err(|e| {
        LoadError::Compile(format!(
            "no engine for target `{}`: {e:#}",
            target.unwrap_or(HOST_TARGET)
        ))
    })?;
    engine.precompile_component(bytes).map_err(|e| LoadError::Compile(format!("{e:#}")))
}

/// Appends the trailer for `info` to wasmtime's artifact bytes.
#[cfg(any(feature = "compiler", test))]
pub(crate) fn with_trailer(mut artifact: Vec<u8>, info: &ArtifactInfo) -> Vec<u8> {
    let json = serde_json::to_vec(info).unwrap_or_default();
    artifact.extend_from_slice(&json);
    artifact.extend_from_slice(&(json.len() as u64).to_le_bytes());
    artifact.extend_from_slice(ARTIFACT_MAGIC);
    artifact
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(target: &str) -> ArtifactInfo {
        ArtifactInfo {
            format: 1,
            target: target.into(),
            wasmtime: WASMTIME_VERSION.into(),
            settings: ENGINE_SETTINGS.into(),
            sha256: "00".repeat(32),
            size: 1,
            manifest: None,
            interfaces: Interfaces::default(),
            tools: None,
        }
    }

    #[test]
    fn wasmtime_version_matches_the_lock_file() {
        let lock =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
                .expect("Cargo.lock");
        let expected = format!("name = \"wasmtime\"\nversion = \"{WASMTIME_VERSION}\"");
        assert!(
            lock.contains(&expected),
            "Cargo.lock pins another wasmtime than {WASMTIME_VERSION}"
        );
    }

    #[test]
    fn another_target_or_version_is_refused_naming_both() {
        assert!(info(HOST_TARGET).check_fits_host("x.cwasm").is_ok());
        let other = if HOST_TARGET.starts_with("aarch64") {
            "x86_64-unknown-linux-gnu"
        } else {
            "aarch64-unknown-linux-gnu"
        };
        let err = info(other).check_fits_host("x.cwasm").expect_err("refused").to_string();
        assert!(err.contains(other) && err.contains(HOST_TARGET), "{err}");
        let mut old = info(HOST_TARGET);
        old.wasmtime = "47.0.0".into();
        let err = old.check_fits_host("x.cwasm").expect_err("refused").to_string();
        assert!(err.contains("47.0.0") && err.contains(WASMTIME_VERSION), "{err}");
        // Another release of the same major version runs it, as wasmtime itself allows.
        let mut patch = info(HOST_TARGET);
        patch.wasmtime = format!("{}.9.9", major(WASMTIME_VERSION));
        assert!(patch.check_fits_host("x.cwasm").is_ok());
    }

    #[test]
    fn triples_compare_by_architecture_and_system() {
        assert_eq!(arch_os("x86_64-unknown-linux-gnu"), ("x86_64", "linux"));
        assert_eq!(arch_os("aarch64-linux"), ("aarch64", "linux"));
        assert_eq!(arch_os("aarch64-apple-darwin"), ("aarch64", "darwin"));
    }

    #[test]
    fn a_trailer_round_trips_and_garbage_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.cwasm");
        std::fs::write(&path, with_trailer(b"\x7fELFcode".to_vec(), &info(HOST_TARGET)))
            .expect("write");
        assert!(is_artifact(&path));
        assert_eq!(read_artifact_info(&path).expect("trailer"), info(HOST_TARGET));
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(artifact_info_of(&bytes, "x.cwasm").expect("trailer"), info(HOST_TARGET));
        let err = artifact_info_of(b"\0asm....", "x.cwasm").expect_err("refused").to_string();
        assert!(err.contains("no ELF header"), "{err}");
        std::fs::write(&path, b"\x7fELF and nothing else, no trailer at all").expect("write");
        let err = read_artifact_info(&path).expect_err("refused").to_string();
        assert!(err.contains("no wasm-host trailer"), "{err}");
    }
}
