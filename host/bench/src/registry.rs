//! `wasm-host-bench registry`: open the local registry's index and resolve a version range, over
//! a synthetic index of many packages (default 10,000 × 3 versions, each signed, with tools and a
//! description), p50/p99 per open+resolve; the baseline is the same index stored as JSON, read,
//! parsed and resolved the same way, in the same run.

use crate::calls::{Dist, dist};
use anyhow::Context;
use serde_json::json;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;
use wasm_host_registry::index_file::{INDEX, IndexFile};
use wasm_host_registry::resolve::{Published, Reference};
use wasm_host_registry::sign::SecretKey;
use wasm_host_registry::{Entry, Registry};

/// Options of `bench registry`.
#[derive(clap::Args, Debug)]
pub struct RegistryBenchArgs {
    /// Packages in the synthetic index.
    #[arg(long, default_value_t = 10_000)]
    pub packages: usize,
    /// Versions per package.
    #[arg(long, default_value_t = 3)]
    pub versions: usize,
    /// Open+resolve rounds per measurement.
    #[arg(long, default_value_t = 300)]
    pub rounds: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A deterministic synthetic index: `pkg-N` with versions 1.0.0, 1.1.0, ... each signed.
fn synthetic(packages: usize, versions: usize) -> anyhow::Result<IndexFile> {
    let key = SecretKey::generate()?;
    let mut index = IndexFile { packages: BTreeMap::new() };
    for p in 0..packages {
        let name = format!("pkg-{p}");
        let entries = (0..versions)
            .map(|v| {
                let version = format!("1.{v}.0");
                let digest = wasm_host_meta::sha256_hex(format!("{name}@{version}").as_bytes());
                Entry {
                    signatures: vec![key.sign(&name, &version, &digest)],
                    version,
                    digest,
                    size: 1_000_000 + p as u64,
                    description: format!(
                        "Synthetic tool package number {p}: reads, filters and summarizes records."
                    ),
                    capabilities: Default::default(),
                    tools: vec!["list".into(), "read".into(), "filter".into(), "summarize".into()],
                    yanked: v == versions - 1 && p % 10 == 0,
                }
            })
            .collect();
        index.packages.insert(name, entries);
    }
    Ok(index)
}

fn reference(i: usize, packages: usize) -> Reference {
    let forms = ["^1", "~1.1", ">=1, <2", "*"];
    Reference::parse(&format!("pkg-{}@{}", (i * 7919) % packages, forms[i % forms.len()]))
        .unwrap_or_else(|_| unreachable!("valid by construction"))
}

/// Runs the registry benchmark and prints the figures.
pub fn run(args: &RegistryBenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.packages > 0 && args.versions > 0 && args.rounds >= 2,
        "--packages, --versions must be positive and --rounds at least 2"
    );
    let home = tempfile::tempdir().context("temp home")?;
    let index = synthetic(args.packages, args.versions)?;
    let rkyv_bytes = index.to_bytes().map_err(anyhow::Error::msg)?;
    std::fs::write(home.path().join(INDEX), &rkyv_bytes).context("writing the index")?;
    let json_path = home.path().join("index.json");
    std::fs::write(&json_path, serde_json::to_vec(&index)?).context("writing the JSON index")?;
    let json_size = std::fs::metadata(&json_path)?.len();

    let mut chosen = (0usize, 0usize);
    let mut samples = Vec::with_capacity(args.rounds);
    for i in 0..args.rounds {
        let r = reference(i, args.packages);
        let t = Instant::now();
        let entry = Registry::open(home.path())?.resolve_entry(&r)?;
        samples.push(t.elapsed());
        chosen.0 += entry.version.len();
    }
    let fast = dist(samples);
    let mut samples = Vec::with_capacity(args.rounds);
    for i in 0..args.rounds {
        let r = reference(i, args.packages);
        let t = Instant::now();
        let parsed: IndexFile = serde_json::from_slice(&std::fs::read(&json_path)?)?;
        let entries = parsed.packages.get(&r.name).map(Vec::as_slice).unwrap_or_default();
        let candidates: Vec<Published> = entries
            .iter()
            .filter_map(|e| {
                Some(Published {
                    version: semver::Version::parse(&e.version).ok()?,
                    digest: e.digest.clone(),
                    yanked: e.yanked,
                })
            })
            .collect();
        let version = r.resolve(&candidates)?.version.to_string();
        samples.push(t.elapsed());
        chosen.1 += version.len();
    }
    let baseline = dist(samples);
    anyhow::ensure!(chosen.0 == chosen.1, "the two indexes resolved differently");
    let archive = u64::from_le_bytes(rkyv_bytes[8..16].try_into().unwrap_or_default());
    report(args, &fast, &baseline, (rkyv_bytes.len() as u64, archive), json_size);
    Ok(ExitCode::SUCCESS)
}

fn report(
    args: &RegistryBenchArgs,
    fast: &Dist,
    baseline: &Dist,
    (rkyv_size, archive): (u64, u64),
    json_size: u64,
) {
    let ratio = fast.p50_us / baseline.p50_us;
    if args.json {
        println!(
            "{}",
            json!({"packages": args.packages, "versions": args.versions, "rkyv_bytes": rkyv_size, "archive_bytes": archive, "json_bytes": json_size, "rkyv": fast, "json": baseline, "p50_ratio": ratio})
        );
        return;
    }
    println!(
        "wasm-host-bench registry: {} packages × {} versions (signed, with tools); index.rkyv {:.1} MB (validated archive {:.1} MB, the rest metadata read per entry), index.json {:.1} MB; {} rounds",
        args.packages,
        args.versions,
        rkyv_size as f64 / 1e6,
        archive as f64 / 1e6,
        json_size as f64 / 1e6,
        args.rounds
    );
    println!("{:<34} {:>10} {:>10}", "open index + resolve a range", "p50 ms", "p99 ms");
    println!(
        "{:<34} {:>10.2} {:>10.2}",
        "index.rkyv (validated, zero-copy)",
        fast.p50_us / 1e3,
        fast.p99_us / 1e3
    );
    println!(
        "{:<34} {:>10.2} {:>10.2}",
        "index.json (parse, baseline)",
        baseline.p50_us / 1e3,
        baseline.p99_us / 1e3
    );
    println!("ratio (rkyv / JSON) at p50: {ratio:.3}x; target: p50 <= 5 ms over 10,000 packages");
}
