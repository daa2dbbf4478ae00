//! Precompiled artifacts in bundles: `bundle --precompile TRIPLE --sign KEY` compiles each
//! component for each target and signs the code; `install BUNDLE` keeps only the artifacts that
//! fit this host (target, wasmtime, engine settings) and are signed by a key trusted here, so a
//! runtime-only host serves what it installed without a compiler. Registry references load a
//! stored artifact instead of the component when it fits ([`code_path`]).

use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;
use wasm_host_registry::artifacts::{ArtifactTrust, trust};
use wasm_host_registry::bundle::IncomingArtifact;
use wasm_host_registry::{Registry, Resolved};
use wasm_host_runtime::aot::{self, HOST_TARGET};

/// What `install` did with one artifact of a bundle.
#[derive(Debug, Serialize)]
pub struct ArtifactOutcome {
    /// name@version of its component.
    pub package: String,
    /// The target it was compiled for.
    pub target: String,
    /// Whether it was stored for this host.
    pub installed: bool,
    /// Who signed it (installed), or why it was left out.
    pub note: String,
}

/// Decides, before anything is installed, which artifacts to keep: a bundle whose artifact
/// trailers contradict their listing is refused whole; artifacts for another target or engine,
/// or not signed by a trusted key, are left out with the reason.
pub fn plan(
    reg: &Registry,
    artifacts: Vec<IncomingArtifact>,
) -> anyhow::Result<Vec<(ArtifactOutcome, Option<IncomingArtifact>)>> {
    let trusted = reg.trusted()?;
    let mut out = Vec::new();
    for a in artifacts {
        let package = format!("{}@{}", a.name, a.version);
        let file = format!("the artifact of {package} for {}", a.listing.target);
        let info = aot::artifact_info_of(&a.bytes, &file)?;
        anyhow::ensure!(
            info.target == a.listing.target && info.sha256 == a.component,
            "{file}: its trailer says it is for {} compiled from sha256:{}, which is not what the bundle lists; refusing the bundle",
            info.target,
            info.sha256
        );
        let outcome = |installed, note| ArtifactOutcome {
            package: package.clone(),
            target: a.listing.target.clone(),
            installed,
            note,
        };
        let keep = if let Err(e) = info.check_fits_host(&file) {
            Err(e.to_string())
        } else {
            match trust(&a.listing, &a.name, &a.version, &a.component, &trusted) {
                ArtifactTrust::Trusted(label) => Ok(format!("signed by {label}")),
                ArtifactTrust::Untrusted => Err(format!(
                    "{file}: not signed by a key trusted here (signed by: {}); native code runs only from a trusted signer (`wasm-host trust add KEY.pub`); {package} will be compiled here instead",
                    signers(&a.listing.signatures)
                )),
                ArtifactTrust::Bad(key) => anyhow::bail!("{file}: bad signature by {key}"),
            }
        };
        out.push(match keep {
            Ok(note) => (outcome(true, note), Some(a)),
            Err(why) => (outcome(false, why), None),
        });
    }
    Ok(out)
}

fn signers(signatures: &[wasm_host_registry::sign::Signature]) -> String {
    if signatures.is_empty() {
        return "nobody".into();
    }
    signatures.iter().map(|s| s.key.as_str()).collect::<Vec<_>>().join(", ")
}

/// Stores the artifacts [`plan`] kept (each written atomically) and returns every outcome.
pub fn store(
    reg: &Registry,
    planned: Vec<(ArtifactOutcome, Option<IncomingArtifact>)>,
) -> anyhow::Result<Vec<ArtifactOutcome>> {
    let mut out = Vec::new();
    for (outcome, kept) in planned {
        if let Some(a) = kept {
            reg.put_artifact(&a.component, HOST_TARGET, &a.bytes)
                .with_context(|| format!("storing the artifact of {}", outcome.package))?;
        }
        out.push(outcome);
    }
    Ok(out)
}

/// What to load for a resolved registry reference: its stored artifact for this host when there
/// is one that fits (no compiling), else the component. An artifact that no longer fits (the
/// host was upgraded) is passed over with a warning when this host can compile, and loaded
/// anyway by a host that cannot, whose load error then says what to do.
pub fn code_path(reg: &Registry, resolved: &Resolved) -> PathBuf {
    let Some(artifact) = reg.artifact(&resolved.digest, HOST_TARGET) else {
        return resolved.path.clone();
    };
    let fits = aot::read_artifact_info(&artifact)
        .and_then(|info| info.check_fits_host(&artifact.display().to_string()));
    match fits {
        Err(e) if cfg!(feature = "compiler") => {
            tracing::warn!(package = %format!("{}@{}", resolved.name, resolved.version), error = %e, "stored artifact passed over; compiling the component");
            resolved.path.clone()
        }
        _ => artifact,
    }
}

/// Precompiles every component of `packages` for each of `targets` and signs each artifact with
/// `key`: per component digest, the listings and bytes a bundle carries.
#[cfg(feature = "compiler")]
pub async fn precompile(
    global: &crate::settings::GlobalArgs,
    reg: &Registry,
    packages: &[String],
    targets: &[String],
    key: &str,
) -> anyhow::Result<wasm_host_registry::bundle::Artifacts> {
    use wasm_host_registry::artifacts::{BundledArtifact, digest, sign};
    let key = crate::keys::load_secret(global, key)?;
    let mut out = wasm_host_registry::bundle::Artifacts::new();
    for package in packages {
        let (resolved, entry, bytes) = reg.fetch(package)?;
        if out.contains_key(&entry.digest) || wasm_host_meta::inspect(&bytes)?.skill.is_some() {
            continue; // a skill is files, not code
        }
        let mut made = Vec::new();
        for target in targets {
            let started = std::time::Instant::now();
            let (code, info) = crate::compile::artifact(global, &bytes, Some(target))
                .await
                .with_context(|| format!("compiling {package} for {target}"))?;
            let sha256 = digest(&code);
            let signature =
                sign(&key, &resolved.name, &resolved.version, &entry.digest, target, &sha256);
            eprintln!(
                "compiled {}@{} for {target} in {:.1} s ({:.1} MB)",
                resolved.name,
                resolved.version,
                started.elapsed().as_secs_f64(),
                code.len() as f64 / 1e6
            );
            let listing = BundledArtifact {
                target: info.target,
                wasmtime: info.wasmtime,
                settings: info.settings,
                sha256,
                size: code.len() as u64,
                signatures: vec![signature],
            };
            made.push((listing, code));
        }
        out.insert(entry.digest, made);
    }
    Ok(out)
}
