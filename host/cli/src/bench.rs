//! `wasm-host bench` (placeholder filled in below).
use crate::settings::GlobalArgs;
use std::process::ExitCode;

/// Benchmark options.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Calls per measurement.
    #[arg(long, default_value_t = 200)]
    pub calls: usize,
}

/// Runs the benchmark.
pub async fn run(_global: &GlobalArgs, _args: &BenchArgs) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
