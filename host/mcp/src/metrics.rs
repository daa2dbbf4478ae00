//! Prometheus metrics for `GET /metrics` (text format 0.0.4): calls by tool and outcome, latency
//! histograms, fuel and memory used, instances live, and the queue depth.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use wasm_host_code::Accounting;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 11] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0];

#[derive(Default)]
struct PerTool {
    outcomes: BTreeMap<&'static str, u64>,
    buckets: [u64; BUCKETS.len()],
    latency_sum: f64,
    latency_count: u64,
    fuel: u64,
    peak_memory: u64,
    bytes_out: u64,
}

/// `execute_code` figures for one language.
#[derive(Default)]
struct PerLanguage {
    runs: BTreeMap<&'static str, u64>,
    totals: Accounting,
}

/// Counters shared by every session of one server.
#[derive(Default)]
pub(crate) struct Metrics {
    tools: Mutex<BTreeMap<String, PerTool>>,
    code: Mutex<BTreeMap<&'static str, PerLanguage>>,
    /// PII values tokenized, by kind.
    pii: Mutex<BTreeMap<wasm_host_privacy::PiiKind, u64>>,
    live: AtomicI64,
}

/// Figures of one finished call.
pub(crate) struct Sample {
    pub outcome: &'static str,
    pub latency: Duration,
    pub fuel: u64,
    pub peak_memory: u64,
    pub bytes_out: u64,
}

/// Counts an instance as live until dropped.
pub(crate) struct Live<'a>(&'a AtomicI64);

impl Drop for Live<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Metrics {
    /// Marks a call as running (one fresh instance) until the guard drops.
    pub fn live(&self) -> Live<'_> {
        self.live.fetch_add(1, Ordering::SeqCst);
        Live(&self.live)
    }

    /// Counts a call of `tool` that never ran (refused or cancelled): no latency sample.
    pub fn refused(&self, tool: &str, outcome: &'static str) {
        let mut tools = self.tools.lock().unwrap_or_else(|p| p.into_inner());
        *tools.entry(tool.to_string()).or_default().outcomes.entry(outcome).or_default() += 1;
    }

    /// Records one call of `tool`.
    pub fn record(&self, tool: &str, s: Sample) {
        let mut tools = self.tools.lock().unwrap_or_else(|p| p.into_inner());
        let t = tools.entry(tool.to_string()).or_default();
        *t.outcomes.entry(s.outcome).or_default() += 1;
        let secs = s.latency.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                t.buckets[i] += 1;
            }
        }
        t.latency_sum += secs;
        t.latency_count += 1;
        t.fuel += s.fuel;
        t.peak_memory = t.peak_memory.max(s.peak_memory);
        t.bytes_out += s.bytes_out;
    }

    /// Counts PII values tokenized on their way to the model.
    pub fn record_pii(&self, counts: &wasm_host_privacy::Counts) {
        let mut pii = self.pii.lock().unwrap_or_else(|p| p.into_inner());
        for (kind, n) in &counts.0 {
            *pii.entry(*kind).or_default() += n;
        }
    }

    fn render_pii(&self, out: &mut String) {
        let pii = self.pii.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(
            out,
            "# HELP wasm_host_pii_tokenized_total PII values replaced by tokens, by kind.\n# TYPE wasm_host_pii_tokenized_total counter"
        );
        for (kind, n) in pii.iter() {
            let _ = writeln!(out, "wasm_host_pii_tokenized_total{{kind=\"{}\"}} {n}", kind.label());
        }
    }

    /// Records one `execute_code` run: its status and where its bytes went.
    pub fn record_code(&self, language: &'static str, status: &'static str, a: &Accounting) {
        let mut code = self.code.lock().unwrap_or_else(|p| p.into_inner());
        let l = code.entry(language).or_default();
        *l.runs.entry(status).or_default() += 1;
        let t = &mut l.totals;
        t.tool_calls += a.tool_calls;
        t.tool_result_bytes += a.tool_result_bytes;
        t.tool_result_tokens += a.tool_result_tokens;
        t.returned_bytes += a.returned_bytes;
        t.returned_tokens += a.returned_tokens;
    }

    fn render_code(&self, out: &mut String) {
        let code = self.code.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(
            out,
            "# HELP wasm_host_code_runs_total execute_code runs by language and status.\n# TYPE wasm_host_code_runs_total counter"
        );
        for (language, l) in code.iter() {
            for (status, n) in &l.runs {
                let _ = writeln!(
                    out,
                    "wasm_host_code_runs_total{{language=\"{language}\",status=\"{status}\"}} {n}"
                );
            }
        }
        type Counter = (&'static str, &'static str, fn(&Accounting) -> u64);
        let counters: [Counter; 5] = [
            ("wasm_host_code_tool_calls_total", "Tool calls made by programs.", |a| a.tool_calls),
            (
                "wasm_host_code_tool_result_bytes_total",
                "Bytes tool calls returned inside the sandbox.",
                |a| a.tool_result_bytes,
            ),
            (
                "wasm_host_code_tool_result_tokens_total",
                "The same in estimated tokens (bytes/4).",
                |a| a.tool_result_tokens,
            ),
            (
                "wasm_host_code_returned_bytes_total",
                "Bytes execute_code returned to the model.",
                |a| a.returned_bytes,
            ),
            (
                "wasm_host_code_returned_tokens_total",
                "The same in estimated tokens (bytes/4).",
                |a| a.returned_tokens,
            ),
        ];
        for (metric, help, get) in counters {
            let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} counter");
            for (language, l) in code.iter() {
                let _ = writeln!(out, "{metric}{{language=\"{language}\"}} {}", get(&l.totals));
            }
        }
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self, queue_depth: usize) -> String {
        let tools = self.tools.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP wasm_host_calls_total Tool calls by tool and outcome.\n# TYPE wasm_host_calls_total counter"
        );
        for (name, t) in tools.iter() {
            for (outcome, n) in &t.outcomes {
                let _ = writeln!(
                    out,
                    "wasm_host_calls_total{{tool=\"{}\",outcome=\"{outcome}\"}} {n}",
                    escape(name)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP wasm_host_call_seconds Tool call latency.\n# TYPE wasm_host_call_seconds histogram"
        );
        for (name, t) in tools.iter() {
            let name = escape(name);
            for (bound, n) in BUCKETS.iter().zip(t.buckets) {
                let _ = writeln!(
                    out,
                    "wasm_host_call_seconds_bucket{{tool=\"{name}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "wasm_host_call_seconds_bucket{{tool=\"{name}\",le=\"+Inf\"}} {}",
                t.latency_count
            );
            let _ =
                writeln!(out, "wasm_host_call_seconds_sum{{tool=\"{name}\"}} {}", t.latency_sum);
            let _ = writeln!(
                out,
                "wasm_host_call_seconds_count{{tool=\"{name}\"}} {}",
                t.latency_count
            );
        }
        type Gauge = (&'static str, &'static str, &'static str, fn(&PerTool) -> u64);
        let gauges: [Gauge; 3] = [
            ("wasm_host_fuel_used_total", "counter", "Fuel consumed by a tool's calls.", |t| {
                t.fuel
            }),
            (
                "wasm_host_peak_memory_bytes",
                "gauge",
                "Largest linear memory one call of a tool used.",
                |t| t.peak_memory,
            ),
            ("wasm_host_bytes_out_total", "counter", "Result bytes a tool returned.", |t| {
                t.bytes_out
            }),
        ];
        for (metric, kind, help, get) in gauges {
            let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} {kind}");
            for (name, t) in tools.iter() {
                let _ = writeln!(out, "{metric}{{tool=\"{}\"}} {}", escape(name), get(t));
            }
        }
        let _ = writeln!(
            out,
            "# HELP wasm_host_instances_live Calls running now (one fresh instance each).\n# TYPE wasm_host_instances_live gauge"
        );
        let _ = writeln!(out, "wasm_host_instances_live {}", self.live.load(Ordering::SeqCst));
        let _ = writeln!(
            out,
            "# HELP wasm_host_queue_depth Calls waiting for a concurrency slot.\n# TYPE wasm_host_queue_depth gauge"
        );
        let _ = writeln!(out, "wasm_host_queue_depth {queue_depth}");
        drop(tools);
        self.render_code(&mut out);
        self.render_pii(&mut out);
        out
    }
}

/// Escapes a label value.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_histogram_and_gauges() {
        let m = Metrics::default();
        m.record(
            "grep.count",
            Sample {
                outcome: "ok",
                latency: Duration::from_micros(300),
                fuel: 10,
                peak_memory: 1 << 20,
                bytes_out: 5,
            },
        );
        m.record(
            "grep.count",
            Sample {
                outcome: "deadline",
                latency: Duration::from_secs(2),
                fuel: 7,
                peak_memory: 2 << 20,
                bytes_out: 0,
            },
        );
        let _live = m.live();
        let a = Accounting {
            tool_calls: 2,
            tool_result_bytes: 4000,
            tool_result_tokens: 1000,
            returned_bytes: 40,
            returned_tokens: 10,
        };
        m.record_code("python", "ok", &a);
        let text = m.render(3);
        assert!(
            text.contains("wasm_host_code_runs_total{language=\"python\",status=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("wasm_host_code_tool_result_bytes_total{language=\"python\"} 4000")
                && text.contains("wasm_host_code_returned_bytes_total{language=\"python\"} 40")
        );
        assert!(
            text.contains("wasm_host_calls_total{tool=\"grep.count\",outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(text.contains("wasm_host_calls_total{tool=\"grep.count\",outcome=\"deadline\"} 1"));
        assert!(
            text.contains("wasm_host_call_seconds_bucket{tool=\"grep.count\",le=\"0.0005\"} 1")
        );
        assert!(text.contains("wasm_host_call_seconds_bucket{tool=\"grep.count\",le=\"+Inf\"} 2"));
        assert!(text.contains("wasm_host_fuel_used_total{tool=\"grep.count\"} 17"));
        assert!(text.contains("wasm_host_peak_memory_bytes{tool=\"grep.count\"} 2097152"));
        assert!(
            text.contains("wasm_host_instances_live 1") && text.contains("wasm_host_queue_depth 3")
        );
    }
}
