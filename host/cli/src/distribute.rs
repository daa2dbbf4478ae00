//! Moving components between registries: `push` and `pull` through an OCI registry, `bundle` and
//! `install` for machines with no network. Whatever comes in is checked by
//! [`Registry::install`] (manifest, WIT imports, signatures and the signature policy,
//! immutability) before anything is stored.

use anyhow::Context;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
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

/// `bundle NAME@RANGE ... -o FILE`.
#[derive(clap::Args, Debug)]
pub struct BundleArgs {
    /// Packages to pack: NAME, NAME@1.2.3, NAME@^1.2 ...
    #[arg(required = true)]
    pub packages: Vec<String>,
    /// The bundle file to write.
    #[arg(short, long)]
    pub output: PathBuf,
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
pub async fn pull(reg: &Registry, args: &PullArgs) -> anyhow::Result<ExitCode> {
    let incoming = oci::pull(&args.source, &args.oci.options()).await?;
    let out = reg.install(vec![incoming]).with_context(|| format!("installing {}", args.source))?;
    report(&args.source, &out, args.json);
    Ok(ExitCode::SUCCESS)
}

/// Runs `bundle`.
pub fn bundle(reg: &Registry, args: &BundleArgs) -> anyhow::Result<ExitCode> {
    let packed = bundle::create(reg, &args.packages, &args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    if args.json {
        println!("{}", json!({"bundle": args.output, "components": packed}));
    } else {
        for c in &packed {
            println!(
                "packed {}@{} sha256:{} ({} signatures)",
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

/// Runs `install`: each source is checked in full, then installed all-or-nothing.
pub async fn install(reg: &Registry, args: &InstallArgs) -> anyhow::Result<ExitCode> {
    for source in &args.sources {
        let out: anyhow::Result<Vec<PublishOutcome>> = if source.starts_with("oci://") {
            let incoming = oci::pull(source, &args.oci.options()).await?;
            reg.install(vec![incoming]).map_err(Into::into)
        } else if is_wasm(source)? {
            let bytes = std::fs::read(source).with_context(|| format!("reading {source}"))?;
            reg.install(vec![Incoming { bytes, ..Incoming::default() }]).map_err(Into::into)
        } else {
            bundle::install(reg, std::path::Path::new(source)).map_err(Into::into)
        };
        report(source, &out.with_context(|| format!("installing {source}"))?, args.json);
    }
    Ok(ExitCode::SUCCESS)
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

fn report(source: &str, out: &[PublishOutcome], json: bool) {
    if json {
        println!("{}", json!({"source": source, "installed": out}));
    }
    for o in out.iter().filter(|_| !json) {
        let note = if o.unchanged { " (already installed)" } else { "" };
        println!("installed {}@{} sha256:{} from {source}{note}", o.name, o.version, o.digest);
    }
}
