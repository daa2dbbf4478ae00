//! The local registry from the CLI: `publish`, `list`, `search`, `info`, `yank`, `remove`,
//! `verify` (and, in [`crate::distribute`] and [`crate::keys`], `install`, `push`, `pull`,
//! `bundle`, `key`, `trust`), and registry references (`csv`, `csv@^1.2`) wherever a component path is accepted (`call`, `run`,
//! `exec`, `serve`, `[components] source`). The registry lives in `--home` / `WASM_HOST_HOME`.

use crate::settings::GlobalArgs;
use anyhow::Context;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use wasm_host_registry::resolve::Reference;
use wasm_host_registry::{Incoming, Registry};
use wasm_host_runtime::{LoadOptions, LoadedComponent, Runtime};

/// Registry subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum RegistryCommand {
    /// Publish a built component (name and version from its manifest) into the local registry.
    Publish {
        /// The component file.
        file: PathBuf,
        /// Sign it with this key (a key file, or a name under HOME/keys from `key generate`).
        #[arg(long, value_name = "KEY")]
        sign: Option<String>,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Install components from a bundle file, an OCI reference (oci://HOST/REPO:TAG) or a .wasm file.
    Install(crate::distribute::InstallArgs),
    /// List the packages and versions in the local registry.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Find packages whose name, description or tool names contain QUERY.
    Search {
        /// Text to look for (any case).
        query: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show what a reference (NAME, NAME@1.2.3, NAME@^1.2) resolves to, and every version of it.
    Info {
        /// The reference.
        reference: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Mark NAME@VERSION yanked: ranges no longer choose it; the exact version still resolves.
    Yank {
        /// NAME@VERSION.
        reference: String,
        /// Undo a yank.
        #[arg(long)]
        undo: bool,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove NAME@VERSION from the index.
    Remove {
        /// NAME@VERSION.
        reference: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check every stored component against its digest and its signatures.
    Verify {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    #[cfg(feature = "oci")]
    /// Push NAME@VERSION (or a range) to an OCI registry in the CNCF Wasm artifact layout.
    Push(crate::distribute::PushArgs),
    #[cfg(feature = "oci")]
    /// Pull a component from an OCI registry into the local registry (checked like `install`).
    Pull(crate::distribute::PullArgs),
    /// Pack components (NAME@RANGE ...) with their signatures and a lock file into one file.
    Bundle(crate::distribute::BundleArgs),
    /// Signing keys: `key generate [NAME]`, `key list`.
    #[command(subcommand)]
    Key(crate::keys::KeyCommand),
    /// Trusted public keys: `trust add PUBKEY`, `trust list`, `trust remove KEY|NAME`.
    #[command(subcommand)]
    Trust(crate::keys::TrustCommand),
}

/// The local registry these settings name, with their signature policy.
pub fn open(global: &GlobalArgs) -> anyhow::Result<Registry> {
    let home = global.home();
    let reg = Registry::open(&home)
        .with_context(|| format!("opening the registry in {}", home.display()))?;
    Ok(reg.require_signatures(global.require_signatures))
}

/// Runs a registry subcommand.
pub async fn run(global: &GlobalArgs, command: &RegistryCommand) -> anyhow::Result<ExitCode> {
    let reg = open(global)?;
    match command {
        RegistryCommand::Publish { file, sign, json } => {
            publish(global, &reg, file, sign.as_deref(), *json).await?
        }
        RegistryCommand::Install(args) => return crate::distribute::install(&reg, args).await,
        #[cfg(feature = "oci")]
        RegistryCommand::Push(args) => return crate::distribute::push(&reg, args).await,
        #[cfg(feature = "oci")]
        RegistryCommand::Pull(args) => return crate::distribute::pull(&reg, args).await,
        RegistryCommand::Bundle(args) => {
            return crate::distribute::bundle(global, &reg, args).await;
        }
        RegistryCommand::Key(command) => return crate::keys::key(global, command),
        RegistryCommand::Trust(command) => return crate::keys::trust(&reg, command),
        RegistryCommand::List { json } => {
            let list = reg.list()?;
            if *json {
                println!("{}", serde_json::to_string(&list)?);
            }
            for (name, versions) in list.iter().filter(|_| !json) {
                let vs: Vec<String> = versions
                    .iter()
                    .map(|e| {
                        if e.yanked { format!("{} (yanked)", e.version) } else { e.version.clone() }
                    })
                    .collect();
                println!(
                    "{name}  {}  {}",
                    vs.join(", "),
                    versions.last().map(|e| e.description.as_str()).unwrap_or_default()
                );
            }
        }
        RegistryCommand::Search { query, json } => {
            let hits = reg.search(query)?;
            if *json {
                println!("{}", json!(hits.iter().map(|(n, e)| json!({"name": n, "version": e.version, "description": e.description, "tools": e.tools})).collect::<Vec<_>>()));
            } else if hits.is_empty() {
                println!("no package matches `{query}`");
            }
            for (name, e) in hits.iter().filter(|_| !json) {
                println!("{name}@{}  {}  tools: {}", e.version, e.description, e.tools.join(", "));
            }
        }
        RegistryCommand::Info { reference, json } => {
            let resolved = reg.resolve(reference)?;
            let versions = reg.list()?.remove(&resolved.name).unwrap_or_default();
            if *json {
                println!("{}", json!({"resolved": resolved, "versions": versions}));
            } else {
                println!(
                    "{reference} -> {}@{} sha256:{}\n{}",
                    resolved.name,
                    resolved.version,
                    resolved.digest,
                    resolved.path.display()
                );
                if let Some(e) = versions.iter().find(|e| e.version == resolved.version) {
                    println!("asks for: {}", serde_json::to_string(&e.capabilities)?);
                }
                for e in versions {
                    let signed: Vec<&str> = e.signatures.iter().map(|s| s.key.as_str()).collect();
                    println!(
                        "  {}{}  {} bytes  {}  signed by: {}",
                        e.version,
                        if e.yanked { " (yanked)" } else { "" },
                        e.size,
                        e.description,
                        if signed.is_empty() { "nobody".to_string() } else { signed.join(", ") }
                    );
                }
            }
        }
        RegistryCommand::Yank { reference, undo, json } => {
            let (name, version) = exact(reference)?;
            reg.set_yanked(&name, &version, !undo)?;
            done(*json, if *undo { "unyanked" } else { "yanked" }, &name, &version);
        }
        RegistryCommand::Remove { reference, json } => {
            let (name, version) = exact(reference)?;
            reg.remove(&name, &version)?;
            done(*json, "removed", &name, &version);
        }
        RegistryCommand::Verify { json } => {
            let problems = reg.verify()?;
            if *json {
                println!(
                    "{}",
                    json!({"problems": problems.iter().map(|(r, p)| json!({"package": r, "problem": p})).collect::<Vec<_>>()})
                );
            } else if problems.is_empty() {
                println!("every stored component matches its digest and signatures");
            }
            for (r, p) in problems.iter().filter(|_| !json) {
                println!("{r}: {p}");
            }
            return Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `publish FILE [--sign KEY]`: loads the component once (so it is known to instantiate here and
/// its tool names go into the index for `search`), signs it if asked, publishes it.
async fn publish(
    global: &GlobalArgs,
    reg: &Registry,
    file: &Path,
    sign: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let info = wasm_host_meta::inspect(&bytes)
        .with_context(|| format!("publishing {}", file.display()))?;
    let manifest = info.manifest.with_context(|| {
        format!(
            "publishing {}: no wasm-host manifest (build it with `wasm-host build`)",
            file.display()
        )
    })?;
    let loaded = global
        .runtime()?
        .load_file(file, LoadOptions { inspect_only: true, ..LoadOptions::default() })
        .await
        .with_context(|| format!("publishing {}: it does not load", file.display()))?;
    let tools = loaded.tools.iter().map(|t| t.name.clone()).collect();
    let signatures = match sign {
        Some(key) => vec![crate::keys::load_secret(global, key)?.sign(
            &manifest.name,
            &manifest.version.to_string(),
            &info.sha256,
        )],
        None => Vec::new(),
    };
    let out = reg
        .publish(Incoming { bytes, signatures, tools })
        .with_context(|| format!("publishing {}", file.display()))?;
    if json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        let note = if out.unchanged { " (already published, unchanged)" } else { "" };
        let signed = if sign.is_some() { " signed" } else { "" };
        println!("published{signed} {}@{} sha256:{}{note}", out.name, out.version, out.digest);
    }
    Ok(())
}

fn done(json: bool, what: &str, name: &str, version: &str) {
    if json {
        println!("{}", json!({what: true, "name": name, "version": version}));
    } else {
        println!("{what} {name}@{version}");
    }
}

fn exact(reference: &str) -> anyhow::Result<(String, String)> {
    let r = Reference::parse(reference)?;
    anyhow::ensure!(r.is_exact(), "`{reference}`: give an exact version, NAME@1.2.3");
    Ok((r.name, r.req.to_string().trim_start_matches('=').to_string()))
}

/// Loads a component given as a path or a registry reference; a referenced component must have
/// the bytes the index names.
pub async fn load(
    global: &GlobalArgs,
    runtime: &Arc<Runtime>,
    spec: &Path,
    mut opts: LoadOptions,
) -> anyhow::Result<Arc<LoadedComponent>> {
    let (path, digest) = locate(global, spec)?;
    // A registry reference must be the bytes the (verified) index names, checked before any code runs.
    if let Some(d) = digest
        && opts.expect_sha256.is_none()
    {
        opts.expect_sha256 = Some((d, "the registry index".into()));
    }
    runtime.load_file(&path, opts).await.with_context(|| format!("loading {}", spec.display()))
}

/// A component given as a path, or as a registry reference when no such file exists: the path to
/// load, and the digest the loaded bytes must have (for a reference).
pub fn locate(global: &GlobalArgs, spec: &Path) -> anyhow::Result<(PathBuf, Option<String>)> {
    if spec.exists() {
        return Ok((spec.to_path_buf(), None));
    }
    let text = spec.to_string_lossy();
    if Reference::parse(&text).is_err() {
        anyhow::bail!(
            "{text}: no such component file (and not a registry reference such as csv@^1.2)"
        );
    }
    let reg = open(global)?;
    let resolved =
        reg.resolve(&text).with_context(|| format!("resolving {text} in the registry"))?;
    Ok((crate::artifacts::code_path(&reg, &resolved), Some(resolved.digest)))
}
