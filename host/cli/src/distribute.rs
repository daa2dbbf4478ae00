//! Moving components between registries: `push` and `pull` through an OCI registry, `bundle` and
//! `install` for machines with no network. Whatever comes in is checked by
//! [`Registry::install`] (manifest, WIT imports, signatures and the signature policy,
//! immutability) before anything is stored.

use crate::settings::GlobalArgs;
use anyhow::Context;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
#[cfg(feature = "oci")]
use wasm_host_registry::oci::{self, OciOptions};
use wasm_host_registry::{Incoming, PublishOutcome, Registry, bundle};

/// How to reach an OCI registry.
#[derive(clap::Args, Debug, Clone)]
pub struct OciArgs {
    /// Plain HTTP even for a registry that is not on loopback (loopback always uses HTTP).
    #[arg(long)]
    pub insecure: bool,
    /// Registry user name (anonymous when not given).
    #[arg(long, env = "WASM_HOST_OCI_USERNAME")]
    pub username: Option<String>,
    /// Registry password or token.
    #[arg(long, env = "WASM_HOST_OCI_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

#[cfg(feature = "oci")]
impl OciArgs {
    fn options(&self) -> OciOptions {
        OciOptions {
            insecure: self.insecure,
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }
}

/// `push NAME@VERSION oci://HOST/REPO:TAG`.
#[derive(clap::Args, Debug)]
pub struct PushArgs {
    /// The package: NAME@VERSION, or a range.
    pub package: String,
    /// Where to: oci://HOST[:PORT]/REPOSITORY[:TAG] (the tag defaults to `latest`).
    pub target: String,
    #[command(flatten)]
    pub oci: OciArgs,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pull oci://HOST/REPO:TAG`.
#[derive(clap::Args, Debug)]
pub struct PullArgs {
    /// oci://HOST[:PORT]/REPOSITORY[:TAG].
    pub source: String,
    #[command(flatten)]
    pub oci: OciArgs,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `bundle NAME@RANGE ... -o FILE`. A skill brings the tools it requires (by its ranges) and the
/// runner its script needs, so the bundle runs on a machine with nothing else.
#[derive(clap::Args, Debug)]
pub struct BundleArgs {
    /// Packages to pack: NAME, NAME@1.2.3, NAME@^1.2 ...
    #[arg(required = true)]
    pub packages: Vec<String>,
    /// The bundle file to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also carry each component compiled ahead of time for this target triple (repeatable, e.g.
    /// `x86_64-unknown-linux-gnu`, `aarch64-unknown-linux-gnu`); needs --sign.
    #[arg(long, value_name = "TRIPLE", requires = "sign")]
    pub precompile: Vec<String>,
    /// Sign the precompiled artifacts with this key (a name from `key generate`, or a key file):
    /// hosts install only artifacts signed by a key they trust.
    #[arg(long, value_name = "KEY")]
    pub sign: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `install SOURCE ...`.
#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Bundle files, oci:// references or .wasm component files.
    #[arg(required = true)]
    pub sources: Vec<String>,
    #[command(flatten)]
    pub oci: OciArgs,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `push`.
#[cfg(feature = "oci")]
pub async fn push(reg: &Registry, args: &PushArgs) -> anyhow::Result<ExitCode> {
    let pushed = oci::push(reg, &args.package, &args.target, &args.oci.options())
        .await
        .with_context(|| format!("pushing {}", args.package))?;
    if args.json {
        println!("{}", serde_json::to_string(&pushed)?);
    } else {
        println!(
            "pushed {}@{} sha256:{} to {}",
            pushed.name, pushed.version, pushed.digest, pushed.manifest_url
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `pull`.
#[cfg(feature = "oci")]
pub async fn pull(reg: &Registry, args: &PullArgs) -> anyhow::Result<ExitCode> {
    let incoming = pull_one(&args.source, &args.oci).await?;
    let out = reg.install(vec![incoming]).with_context(|| format!("installing {}", args.source))?;
    report(&args.source, &out, &[], args.json);
    Ok(ExitCode::SUCCESS)
}

/// Runs `bundle`.
pub async fn bundle(
    global: &GlobalArgs,
    reg: &Registry,
    args: &BundleArgs,
) -> anyhow::Result<ExitCode> {
    let packages = with_skill_needs(reg, &args.packages)?;
    let mut precompiled = precompile(global, reg, &packages, args).await?;
    let packed = bundle::create(reg, &packages, &args.output, &mut precompiled)
        .with_context(|| format!("writing {}", args.output.display()))?;
    if args.json {
        println!("{}", json!({"bundle": args.output, "components": packed}));
    } else {
        for c in &packed {
            let targets: Vec<&str> = c.artifacts.iter().map(|a| a.target.as_str()).collect();
            let precompiled = if targets.is_empty() {
                String::new()
            } else {
                format!(", precompiled for {}", targets.join(", "))
            };
            println!(
                "packed {}@{} sha256:{} ({} signatures{precompiled})",
                c.name,
                c.version,
                c.sha256,
                c.signatures.len()
            );
        }
        println!("wrote {}", args.output.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "compiler")]
async fn precompile(
    global: &GlobalArgs,
    reg: &Registry,
    packages: &[String],
    args: &BundleArgs,
) -> anyhow::Result<bundle::Artifacts> {
    match (&args.sign, args.precompile.is_empty()) {
        (Some(key), false) => {
            crate::artifacts::precompile(global, reg, packages, &args.precompile, key).await
        }
        _ => Ok(Default::default()),
    }
}

#[cfg(not(feature = "compiler"))]
async fn precompile(
    _global: &GlobalArgs,
    _reg: &Registry,
    _packages: &[String],
    args: &BundleArgs,
) -> anyhow::Result<bundle::Artifacts> {
    anyhow::ensure!(
        args.precompile.is_empty(),
        "this is the runtime-only host, with no compiler: precompile with the full `wasm-host bundle --precompile`"
    );
    Ok(Default::default())
}

/// `packages` plus, for each skill among them, the tool components it requires (`NAME@RANGE`)
/// and the runner of its script's language (`runner-js`, `runner-python`; published into the
/// registry from beside the binary when it is not there yet).
fn with_skill_needs(reg: &Registry, packages: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = packages.to_vec();
    let listed = |out: &[String], name: &str| out.iter().any(|p| p.split('@').next() == Some(name));
    for package in packages {
        let resolved = reg.resolve(package).with_context(|| format!("resolving {package}"))?;
        let bytes = std::fs::read(&resolved.path)
            .with_context(|| format!("reading {}", resolved.path.display()))?;
        let Some(pack) = wasm_host_meta::inspect(&bytes)?.skill else { continue };
        for req in pack.requires() {
            if !listed(&out, &req.name) {
                out.push(format!("{}@{}", req.name, req.range));
            }
        }
        let Some(script) = pack.script() else { continue };
        let file = wasm_host_code::Language::from(script.language).runner_file();
        let runner = file.trim_end_matches(".wasm");
        if listed(&out, runner) {
            continue;
        }
        if reg.resolve(runner).is_err() {
            let path = crate::code::beside_binary(file).with_context(|| {
                format!(
                    "skill {} needs the {runner} runner, which is neither in the registry nor beside the binary: publish it (wasm-host publish {file})",
                    pack.name()
                )
            })?;
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let done = reg.publish(Incoming { bytes, ..Incoming::default() })?;
            eprintln!(
                "published {}@{} from {} (skill {} runs on it)",
                done.name,
                done.version,
                path.display(),
                pack.name()
            );
        }
        out.push(runner.to_string());
    }
    Ok(out)
}

/// Runs `install`: each source is checked in full, then installed all-or-nothing.
pub async fn install(reg: &Registry, args: &InstallArgs) -> anyhow::Result<ExitCode> {
    for source in &args.sources {
        let out: anyhow::Result<Vec<PublishOutcome>> = if source.starts_with("oci://") {
            let incoming = pull_one(source, &args.oci).await?;
            reg.install(vec![incoming]).map_err(Into::into)
        } else if is_wasm(source)? {
            let bytes = std::fs::read(source).with_context(|| format!("reading {source}"))?;
            reg.install(vec![Incoming { bytes, ..Incoming::default() }]).map_err(Into::into)
        } else {
            return install_bundle(reg, source, args.json);
        };
        report(source, &out.with_context(|| format!("installing {source}"))?, &[], args.json);
    }
    Ok(ExitCode::SUCCESS)
}

/// A bundle: its components all or none, then the artifacts that fit this host and are signed by
/// a trusted key (decided before anything is written).
fn install_bundle(reg: &Registry, source: &str, json: bool) -> anyhow::Result<ExitCode> {
    let installing = || format!("installing {source}");
    let contents = bundle::read(std::path::Path::new(source)).with_context(installing)?;
    let planned = crate::artifacts::plan(reg, contents.artifacts).with_context(installing)?;
    let out = reg.install(contents.incoming).with_context(installing)?;
    let artifacts = crate::artifacts::store(reg, planned).with_context(installing)?;
    report(source, &out, &artifacts, json);
    Ok(ExitCode::SUCCESS)
}

/// One component from an OCI registry.
#[cfg(feature = "oci")]
async fn pull_one(source: &str, args: &OciArgs) -> anyhow::Result<Incoming> {
    Ok(oci::pull(source, &args.options()).await?)
}

#[cfg(not(feature = "oci"))]
async fn pull_one(source: &str, _args: &OciArgs) -> anyhow::Result<Incoming> {
    anyhow::bail!(
        "{source}: this is the runtime-only host, with no OCI client; pull it with the full `wasm-host` and carry it here in a bundle (`wasm-host bundle`)"
    )
}

/// Whether the file starts with the Wasm magic (else it is taken for a bundle).
fn is_wasm(source: &str) -> anyhow::Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let n = std::fs::File::open(source)
        .and_then(|f| f.take(4).read(&mut magic))
        .with_context(|| format!("reading {source}"))?;
    Ok(n == 4 && &magic == b"\0asm")
}

fn report(
    source: &str,
    out: &[PublishOutcome],
    artifacts: &[crate::artifacts::ArtifactOutcome],
    json: bool,
) {
    if json {
        println!("{}", json!({"source": source, "installed": out, "artifacts": artifacts}));
        return;
    }
    for o in out {
        let note = if o.unchanged { " (already installed)" } else { "" };
        println!("installed {}@{} sha256:{} from {source}{note}", o.name, o.version, o.digest);
    }
    for a in artifacts {
        if a.installed {
            println!("installed the artifact of {} for {} ({})", a.package, a.target, a.note);
        } else {
            println!("left out the artifact of {} for {}: {}", a.package, a.target, a.note);
        }
    }
}
