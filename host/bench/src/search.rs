//! `wasm-host-bench search`: `search_tools` ranking over many synthetic tools (default 10,000),
//! p50/p99 per query and the quality of the top 10, against a plain substring scan over the same
//! tools in the same run.
//!
//! Quality: a synthetic tool is named service-N.verb_noun; its grade for a query is how many of
//! the query's service, verb and noun words it matches. A top-10 result is relevant when its grade
//! is the best any tool in the corpus reaches for that query; precision@10 is the relevant share.

use crate::calls::{Dist, dist};
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use wasm_host_search::{SearchIndex, ToolDoc};

/// Options of `bench search`.
#[derive(clap::Args, Debug)]
pub struct SearchBenchArgs {
    /// Synthetic tools to index.
    #[arg(long, default_value_t = 10_000)]
    pub tools: usize,
    /// Searches per measurement.
    #[arg(long, default_value_t = 2_000)]
    pub queries: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

const VERBS: &[&str] = &[
    "list",
    "read",
    "write",
    "delete",
    "search",
    "count",
    "create",
    "update",
    "send",
    "fetch",
    "convert",
    "summarize",
];
const NOUNS: &[&str] = &[
    "file",
    "issue",
    "invoice",
    "customer",
    "order",
    "email",
    "calendar",
    "event",
    "ticket",
    "repository",
    "image",
    "report",
    "record",
    "metric",
    "alert",
    "user",
    "payment",
    "message",
    "document",
    "table",
];
const SERVICES: &[&str] = &[
    "github",
    "jira",
    "stripe",
    "gmail",
    "drive",
    "slack",
    "postgres",
    "s3",
    "salesforce",
    "zendesk",
    "notion",
    "linear",
];
const QUERIES: &[&str] = &[
    "send an email message",
    "list open jira tickets",
    "stripe payment refund",
    "read a file from drive",
    "count postgres records",
    "summarize slack messages",
];

/// Deterministic synthetic tools: service × verb × noun, with a variant number to reach `n`.
fn synthetic(n: usize) -> Vec<ToolDoc> {
    (0..n)
        .map(|i| {
            let (s, v, o) = (
                SERVICES[i % SERVICES.len()],
                VERBS[(i / SERVICES.len()) % VERBS.len()],
                NOUNS[(i / 7) % NOUNS.len()],
            );
            ToolDoc {
                name: format!("{s}-{}.{v}_{o}", i / 1000),
                description: format!(
                    "{v} {o}s in {s}: variant {i}, with filters, paging and sorting."
                ),
                params: vec![
                    format!("{o}_id"),
                    "limit".into(),
                    "cursor".into(),
                    format!("{s}_workspace"),
                ],
                preferred: false,
            }
        })
        .collect()
}

/// The baseline: score by substring hits in name (3), params (2) and description (1).
fn scan(docs: &[ToolDoc], query: &str, limit: usize) -> Vec<usize> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut scored: Vec<(usize, usize)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let params = d.params.join(" ");
            let s = words
                .iter()
                .map(|w| {
                    3 * usize::from(d.name.contains(w.as_str()))
                        + 2 * usize::from(params.contains(w.as_str()))
                        + usize::from(d.description.contains(w.as_str()))
                })
                .sum();
            (s, i)
        })
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(limit).map(|(_, i)| i).collect()
}

/// The query's words that name a service, verb or noun (plurals folded: "tickets" → "ticket").
fn vocabulary_words(query: &str) -> Vec<&'static str> {
    let vocabulary = || SERVICES.iter().chain(VERBS).chain(NOUNS);
    query
        .split_whitespace()
        .filter_map(|w| {
            let w = w.to_lowercase();
            vocabulary().find(|v| **v == w || w.strip_suffix('s') == Some(**v)).copied()
        })
        .collect()
}

/// How many of `words` the synthetic tool `doc` is about (its service, verb and noun).
fn grade(doc: &ToolDoc, words: &[&str]) -> usize {
    let (service, rest) = doc.name.split_once('.').unwrap_or_default();
    let service = service.split('-').next().unwrap_or_default();
    let (verb, noun) = rest.split_once('_').unwrap_or_default();
    [service, verb, noun].iter().filter(|part| words.contains(part)).count()
}

/// Mean share of each query's top 10 (from `rank`) that has the best grade in the corpus.
fn precision_at_10(docs: &[ToolDoc], mut rank: impl FnMut(&str) -> Vec<usize>) -> f64 {
    let shares: Vec<f64> = QUERIES
        .iter()
        .map(|q| {
            let words = vocabulary_words(q);
            let best = docs.iter().map(|d| grade(d, &words)).max().unwrap_or(0);
            let top = rank(q);
            let relevant = top.iter().filter(|&&i| grade(&docs[i], &words) == best).count();
            relevant as f64 / top.len().max(1) as f64
        })
        .collect();
    shares.iter().sum::<f64>() / shares.len() as f64
}

fn time(queries: usize, mut f: impl FnMut(&str) -> usize) -> (Dist, usize) {
    let mut samples = Vec::with_capacity(queries);
    let mut found = 0;
    for i in 0..queries {
        let q = QUERIES[i % QUERIES.len()];
        let t = Instant::now();
        found += f(q);
        samples.push(t.elapsed());
    }
    (dist(samples), found)
}

/// Runs the search benchmark and prints the figures.
pub fn run(args: &SearchBenchArgs) -> anyhow::Result<ExitCode> {
    let docs = synthetic(args.tools);
    let started = Instant::now();
    let index = SearchIndex::build(&docs);
    let build: Duration = started.elapsed();
    let (bm25, hits) = time(args.queries, |q| index.search(q, 10).len());
    let (baseline, base_hits) = time(args.queries, |q| scan(&docs, q, 10).len());
    anyhow::ensure!(
        hits > 0 && base_hits > 0,
        "the queries found nothing: the synthetic corpus is broken"
    );
    let ratio = bm25.p50_us / baseline.p50_us;
    let bm25_precision =
        precision_at_10(&docs, |q| index.search(q, 10).into_iter().map(|h| h.doc).collect());
    let scan_precision = precision_at_10(&docs, |q| scan(&docs, q, 10));
    if args.json {
        let precision = json!({"bm25": bm25_precision, "substring_scan": scan_precision});
        println!(
            "{}",
            json!({"tools": args.tools, "build_ms": build.as_secs_f64() * 1e3, "bm25": bm25, "substring_scan": baseline, "p50_ratio": ratio, "precision_at_10": precision})
        );
    } else {
        println!(
            "wasm-host-bench search: {} synthetic tools, {} queries, top 10; index built in {:.1} ms",
            args.tools,
            args.queries,
            build.as_secs_f64() * 1e3
        );
        println!("{:<28} {:>10} {:>10}", "", "p50 µs", "p99 µs");
        println!(
            "{:<28} {:>10.1} {:>10.1}",
            "search_tools (BM25F index)", bm25.p50_us, bm25.p99_us
        );
        println!(
            "{:<28} {:>10.1} {:>10.1}",
            "substring scan (baseline)", baseline.p50_us, baseline.p99_us
        );
        println!(
            "ratio (index / scan) at p50: {ratio:.3}x; target: p50 <= 1000 µs over 10,000 tools"
        );
        println!(
            "precision@10 (top results with the best grade in the corpus): search_tools {bm25_precision:.2}, substring scan {scan_precision:.2}"
        );
    }
    Ok(ExitCode::SUCCESS)
}
