//! `wasm-host-bench pii`: the PII scanner's precision and recall per kind on a generated,
//! labelled corpus, and its throughput on a 1 MB tool result against parsing and printing the
//! same JSON with serde_json (what every result costs anyway), in the same run.

use clap::Args;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Instant;
use wasm_host_privacy::corpus::{evaluate, generate};
use wasm_host_privacy::json::{JsonOptions, tokenize_json};
use wasm_host_privacy::{Counts, Scanner, Vault};

/// Corpus size, seed and result size.
#[derive(Args, Debug)]
pub struct PiiArgs {
    /// Labelled records in the corpus (at least 500).
    #[arg(long, default_value_t = 2000)]
    pub records: usize,
    /// Seed of the corpus generator.
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
    /// Size of the tool result scanned for throughput, in MiB.
    #[arg(long, default_value_t = 1)]
    pub mib: usize,
    /// Repetitions of the throughput measurement (the median is printed).
    #[arg(long, default_value_t = 15)]
    pub runs: usize,
}

/// Runs the benchmark and prints the figures.
pub fn run(args: &PiiArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.records >= 500, "--records must be at least 500");
    let scanner = Scanner::all();
    let records = generate(args.records, args.seed);
    let scores = evaluate(&scanner, &records);
    println!("wasm-host-bench pii: {} labelled records (seed {})", args.records, args.seed);
    println!(
        "{:<8} {:>6} {:>6} {:>6} {:>10} {:>8}",
        "kind", "TP", "FP", "FN", "precision", "recall"
    );
    for (kind, s) in &scores {
        println!(
            "{:<8} {:>6} {:>6} {:>6} {:>9.2}% {:>7.2}%",
            kind.label(),
            s.true_positives,
            s.false_positives,
            s.false_negatives,
            s.precision() * 100.0,
            s.recall() * 100.0
        );
    }
    let result = tool_result(args.mib << 20);
    let text = result.to_string();
    let mb = text.len() as f64 / 1e6;
    let (mut scan, mut base) = (Vec::new(), Vec::new());
    let mut counts = Counts::default();
    for _ in 0..args.runs {
        let started = Instant::now();
        let parsed: Value = serde_json::from_str(&text)?;
        let printed = serde_json::to_string(&parsed)?;
        base.push(started.elapsed().as_secs_f64());
        std::hint::black_box((parsed, printed));
    }
    // Copies made (and the baseline's memory freed) before timing, so the allocator's clean-up
    // of one side is not charged to the other.
    let mut docs: Vec<Value> = (0..args.runs).map(|_| result.clone()).collect();
    for doc in &mut docs {
        let mut vault = Vault::new("bench");
        counts = Counts::default();
        let started = Instant::now();
        tokenize_json(&mut vault, &scanner, doc, &JsonOptions::default(), &mut counts);
        scan.push(started.elapsed().as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (scan_s, base_s) = (median(&mut scan), median(&mut base));
    println!(
        "throughput on a {:.2} MB tool result (one core, median of {}): scan+tokenize {:.0} MB/s; \
         serde_json parse+print {:.0} MB/s; ratio {:.2}x; {} values replaced",
        mb,
        args.runs,
        mb / scan_s,
        mb / base_s,
        scan_s / base_s,
        counts.total()
    );
    Ok(ExitCode::SUCCESS)
}

/// A JSON array of log-like records of about `bytes`, one value of personal data in ten.
fn tool_result(bytes: usize) -> Value {
    let mut items = Vec::new();
    let mut size = 2;
    let mut i = 0u64;
    while size < bytes {
        let detail = match i % 10 {
            0 => format!("contact ana{i}@example.org about the renewal"),
            3 => "card on file 4111 1111 1111 1111, expires 12/29".to_string(),
            6 => format!("login from 10.{}.{}.7 at 12:30:45", i % 250, (i / 250) % 250),
            _ => format!("request {i} served in {} ms with status 200 and 1,234 bytes", i % 97),
        };
        let item =
            json!({"id": i, "level": "info", "message": detail, "tags": ["web", "eu-west-1"]});
        size += item.to_string().len() + 1;
        items.push(item);
        i += 1;
    }
    Value::Array(items)
}
