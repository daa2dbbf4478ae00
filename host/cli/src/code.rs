//! Code mode from the CLI: where the runners, workspaces and output cap come from (flag >
//! `WASM_HOST_*` env > `[code]` in `wasm-host.toml` > default), and `wasm-host exec`.
//!
//! Runners default to `runner-js.wasm` / `runner-python.wasm` beside the binary or in
//! `../guests/` from it (where `scripts/setup` builds them: `target/guests/`). A runner that was
//! configured but is missing is an error; a default one that is missing only leaves its language
//! out. Workspaces default to `<home>/workspaces` (`--home`, `WASM_HOST_HOME`, else
//! `$XDG_DATA_HOME/wasm-host`).

use crate::config::CodeConfig;
use crate::settings::{GlobalArgs, SandboxArgs, parse_timeout};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use wasm_host_code::{
    CodeRunner, DEFAULT_QUOTA_BYTES, ExecRequest, Language, RunnerLoader, RunnerSlot, SavePolicy,
    Workspace, WorkspaceLimits, Workspaces,
};
use wasm_host_mcp::{CodeMode, SkillSaving};
use wasm_host_policy::{Limits, parse_size};
use wasm_host_runtime::{Catalog, Executor, LoadOptions, Runtime};

/// Default cap on a run's printed output (and, separately, its returned value): 64 KiB.
pub const DEFAULT_CODE_OUTPUT: u64 = 64 << 10;

/// Code-mode options shared by `serve` and `exec`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct CodeArgs {
    /// The JavaScript runner component (default: runner-js.wasm beside the binary or in ../guests/).
    #[arg(long, env = "WASM_HOST_JAVASCRIPT_RUNNER", value_name = "FILE")]
    pub javascript_runner: Option<PathBuf>,
    /// The Python runner component (default: runner-python.wasm beside the binary or in ../guests/).
    #[arg(long, env = "WASM_HOST_PYTHON_RUNNER", value_name = "FILE")]
    pub python_runner: Option<PathBuf>,
    /// Printed output kept per run, and separately the returned value (default 64KiB).
    #[arg(long, env = "WASM_HOST_CODE_OUTPUT", value_name = "SIZE", value_parser = parse_size)]
    pub code_output: Option<u64>,
    /// Workspace size limit, workspace and checkpoints together; every file and directory
    /// counts at least 4 KiB (default 64MiB).
    #[arg(long, env = "WASM_HOST_WORKSPACE_QUOTA", value_name = "SIZE", value_parser = parse_size)]
    pub workspace_quota: Option<u64>,
    /// A workspace unused this long is removed (default 24h).
    #[arg(long, env = "WASM_HOST_WORKSPACE_EXPIRY", value_name = "DURATION", value_parser = parse_timeout)]
    pub workspace_expiry: Option<Duration>,
    /// Workspaces the server keeps at once (default 1000).
    #[arg(long, env = "WASM_HOST_MAX_WORKSPACES", value_name = "N")]
    pub max_workspaces: Option<usize>,
    /// The save_skill meta-tool: off (default), on (saved skills are stored in HOME and served
    /// at once; `serve` also serves the skills saved in HOME) or approve (they wait for
    /// `wasm-host skill approve NAME`).
    #[arg(long, env = "WASM_HOST_SAVE_SKILLS", value_name = "on|approve|off", value_parser = |s: &str| s.parse::<SavePolicy>())]
    pub save_skills: Option<SavePolicy>,
}

/// Resolved code-mode settings.
#[derive(Debug, Clone)]
pub struct CodeSettings {
    /// Runner files, and whether each was configured (a missing configured runner is an error).
    pub runners: Vec<(Language, PathBuf, bool)>,
    /// Output cap per run, bytes.
    pub output: u64,
    /// Workspace quota, bytes.
    pub quota: u64,
    /// Workspace limits: the quota, the idle expiry, the server-wide caps.
    pub workspace: WorkspaceLimits,
    /// Whether `save_skill` is offered, and whether saved skills wait for approval.
    pub save_skills: SavePolicy,
}

impl CodeArgs {
    /// Flags over the file's `[code]` over defaults.
    pub fn settings(&self, file: &CodeConfig) -> CodeSettings {
        let output = self.code_output.or(file.output).unwrap_or(DEFAULT_CODE_OUTPUT);
        let quota = self.workspace_quota.or(file.workspace_quota).unwrap_or(DEFAULT_QUOTA_BYTES);
        let expiry = self.workspace_expiry.or(file.workspace_expiry);
        let defaults = WorkspaceLimits::default();
        let workspace = WorkspaceLimits {
            quota_bytes: quota,
            idle_expiry: expiry.unwrap_or(defaults.idle_expiry),
            max_workspaces: self
                .max_workspaces
                .or(file.max_workspaces)
                .unwrap_or(defaults.max_workspaces),
            ..defaults
        };
        let mut runners = Vec::new();
        for (language, flag, configured) in [
            (Language::JavaScript, &self.javascript_runner, &file.javascript),
            (Language::Python, &self.python_runner, &file.python),
        ] {
            match flag.clone().or_else(|| configured.clone()) {
                Some(path) => runners.push((language, path, true)),
                None => runners.extend(default_runner(language).map(|p| (language, p, false))),
            }
        }
        let save_skills = self.save_skills.or(file.save_skills).unwrap_or_default();
        CodeSettings { runners, output, quota, workspace, save_skills }
    }
}

/// `settings` with a runner from HOME (`runner-js`, `runner-python`, as a bundle installs them)
/// for each language that has none yet: an installed machine needs no repository.
pub fn with_home_runners(global: &GlobalArgs, mut settings: CodeSettings) -> CodeSettings {
    let missing: Vec<Language> = Language::ALL
        .into_iter()
        .filter(|language| !settings.runners.iter().any(|(l, _, _)| l == language))
        .collect();
    if missing.is_empty() {
        return settings;
    }
    let Ok(registry) = crate::registry::open(global) else { return settings };
    for language in missing {
        let name = language.runner_file().trim_end_matches(".wasm");
        if let Ok(resolved) = registry.resolve(name) {
            settings.runners.push((
                language,
                crate::artifacts::code_path(&registry, &resolved),
                false,
            ));
        }
    }
    settings
}

/// `runner-*.wasm` beside the executable, or in `../guests/` from it; the runtime-only host
/// (no compiler) takes only a precompiled `runner-*.cwasm` from there.
fn default_runner(language: Language) -> Option<PathBuf> {
    let wasm = language.runner_file();
    if cfg!(feature = "compiler") {
        beside_binary(wasm)
    } else {
        beside_binary(&wasm.replace(".wasm", ".cwasm"))
    }
}

/// `file` beside the executable, or in `../guests/` from it (`target/guests/` for a build in
/// this repository), if it exists.
pub fn beside_binary(file: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join(file), dir.join("../guests").join(file)].into_iter().find(|p| p.is_file())
}

/// Loads the runners into a [`CodeRunner`] whose runs get `limits` with the output cap.
pub async fn code_runner(
    runtime: &Arc<Runtime>,
    executor: Executor,
    settings: &CodeSettings,
    mut limits: Limits,
    load: RunnerLoad,
) -> anyhow::Result<CodeRunner> {
    limits.output_bytes = settings.output;
    let mut runner = CodeRunner::new(executor, limits);
    for (language, path, configured) in &settings.runners {
        if !path.is_file() {
            anyhow::ensure!(
                !configured,
                "{} runner {}: no such file (build it: wasm-host build guests/runners/{})",
                language.name(),
                path.display(),
                short(*language)
            );
            continue;
        }
        let loader = runner_loader(runtime, *language, path);
        match load {
            RunnerLoad::Now => {
                runner.add_runner(*language, loader().await.map_err(anyhow::Error::msg)?)
            }
            RunnerLoad::OnFirstUse => {
                runner.add_runner_slot(*language, RunnerSlot::deferred(loader))
            }
        }
    }
    Ok(runner)
}

/// When [`code_runner`] loads the runners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerLoad {
    /// Before it returns (one-shot commands that run a program right away).
    Now,
    /// On first use, or when the caller warms them up (`serve`: its first answer needs no
    /// runner, and compiling both takes most of a cold start).
    OnFirstUse,
}

/// Loads the runner at `path` for `language`: a program component, or an error naming the file.
fn runner_loader(runtime: &Arc<Runtime>, language: Language, path: &Path) -> RunnerLoader {
    let (runtime, path) = (runtime.clone(), path.to_path_buf());
    Arc::new(move || {
        let (runtime, path) = (runtime.clone(), path.clone());
        Box::pin(async move {
            let what = format!("the {} runner {}", language.name(), path.display());
            let c = runtime
                .load_file(&path, LoadOptions::default())
                .await
                .map_err(|e| format!("loading {what}: {e:#}"))?;
            if c.kind != wasm_host_runtime::ComponentKind::Program {
                return Err(format!("{what}: not a program component, so not a runner"));
            }
            Ok(c)
        })
    })
}

fn short(language: Language) -> &'static str {
    match language {
        Language::JavaScript => "js",
        Language::Python => "python",
    }
}

/// Code mode for `serve`: the runners, the workspaces under `root` (`None`: no workspaces) and
/// where `save_skill` stores skills.
pub fn code_mode(
    runner: CodeRunner,
    root: Option<&Path>,
    limits: WorkspaceLimits,
    saving: Option<SkillSaving>,
) -> anyhow::Result<CodeMode> {
    let workspaces = root
        .map(|r| {
            Workspaces::new(r, limits.clone())
                .with_context(|| format!("workspace root {}", r.display()))
        })
        .transpose()?
        .map(Arc::new);
    Ok(CodeMode { runner, workspaces, saving })
}

/// Options of `exec`.
#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// The program's language: js (javascript) or python (py).
    #[arg(long, value_name = "js|python", value_parser = |s: &str| s.parse::<Language>())]
    pub lang: Language,
    /// Read the program from this file instead of the first argument.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The program (unless --file), then the tool components it may call.
    #[arg(value_name = "CODE | COMPONENT.wasm")]
    pub rest: Vec<String>,
    /// A directory kept as the program's /workspace (created if missing; checkpoints beside it).
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// A time limit for this run (e.g. 10s), below the --timeout limit.
    #[arg(long = "run-timeout", value_name = "DURATION", value_parser = parse_timeout)]
    pub run_timeout: Option<Duration>,
    #[command(flatten)]
    pub code: CodeArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Print the whole outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `wasm-host exec`: runs one program against the given tool components.
pub async fn exec(global: &GlobalArgs, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    let (code, components) = match &args.file {
        Some(f) => (
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
            &args.rest[..],
        ),
        None => match args.rest.split_first() {
            Some((code, rest)) => (code.clone(), rest),
            None => anyhow::bail!("no program: give it as the first argument or with --file"),
        },
    };
    let (grants, limits) = (args.sandbox.grants(), args.sandbox.limits());
    let runtime = global.runtime()?;
    let catalog = Arc::new(Catalog::new());
    for path in components {
        let opts =
            LoadOptions { grants: grants.clone(), limits: limits.clone(), ..Default::default() };
        let c = crate::registry::load(global, &runtime, Path::new(path), opts).await?;
        anyhow::ensure!(catalog.get(&c.name).is_none(), "two components are named `{}`", c.name);
        catalog.insert(c);
    }
    let settings = args.code.settings(&CodeConfig::default());
    let runner = code_runner(
        &runtime,
        Executor::new(runtime.clone(), catalog),
        &settings,
        limits,
        RunnerLoad::Now,
    )
    .await?;
    let workspace = args
        .workspace
        .as_deref()
        .map(|d| Workspace::open(d, settings.quota))
        .transpose()
        .context("--workspace")?;
    let exec = runner
        .execute(
            ExecRequest {
                language: args.lang,
                code: &code,
                timeout: args.run_timeout,
                extra_dirs: Vec::new(),
            },
            workspace.as_ref(),
        )
        .await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&exec)?);
    } else {
        print!("{}", exec.body());
        let a = &exec.accounting;
        eprintln!(
            "[{} {}: {:.2} ms; {} tool call(s) returned {} bytes inside the sandbox; {} bytes returned]",
            exec.language.name(),
            exec.status,
            exec.stats.wall_us as f64 / 1000.0,
            a.tool_calls,
            a.tool_result_bytes,
            a.returned_bytes
        );
    }
    Ok(if exec.is_error() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
