//! `wasm-host skill save | run | check | approve`: skills with scripts from the command line, and
//! the store `save_skill` writes to (the registry in HOME; skills awaiting approval wait in
//! `HOME/skills-pending/`).
//!
//! `run` and `check` take their tools from the home: each component a skill requires is loaded
//! as `NAME@RANGE` (`run`) or at its newest version (`check`, so that a major bump shows up as an
//! incompatibility), unless a component of that name is given on the command line.

use crate::code::{CodeArgs, code_runner};
use crate::config::CodeConfig;
use crate::settings::{GlobalArgs, SandboxArgs};
use anyhow::Context;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use wasm_host_code::{CodeRunner, SkillDraft, SkillStore};
use wasm_host_meta::skill::SkillPack;
use wasm_host_registry::{Incoming, Registry};
use wasm_host_runtime::{Catalog, Executor, LoadOptions, LoadedComponent};

/// Where skills saved with `[code] save_skills = "approve"` wait, under the home.
const PENDING: &str = "skills-pending";

/// `skill` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum SkillCommand {
    /// Save working code as a skill: each example runs first and must give its output; the tools
    /// it called become requirements; a new version is published into HOME.
    Save(SaveArgs),
    /// Run a skill from HOME (NAME or NAME@RANGE) with its required tools from HOME.
    Run(RunArgs),
    /// Re-run every stored skill's examples against the newest tools in HOME, and report.
    Check(CheckArgs),
    /// Publish a skill that `save_skill` left waiting for approval.
    Approve {
        /// The skill's name.
        name: String,
    },
}

/// Options of `skill save`.
#[derive(clap::Args, Debug)]
pub struct SaveArgs {
    /// The skill's name (a-z, 0-9, single `-`).
    #[arg(long)]
    pub name: String,
    /// What it does and when to use it.
    #[arg(long)]
    pub description: String,
    /// The script's language: js (javascript) or python (py).
    #[arg(long, value_name = "js|python")]
    pub lang: String,
    /// The script: a program body that reads `args` and returns the result.
    #[arg(long, value_name = "FILE")]
    pub code: PathBuf,
    /// JSON Schema of `args` (a file).
    #[arg(long, value_name = "FILE")]
    pub input_schema: Option<PathBuf>,
    /// An example, `{"input": {...}, "output": ...}` (repeatable; at least one).
    #[arg(long = "example", value_name = "JSON")]
    pub examples: Vec<String>,
    /// Tool components the examples may call (paths or references), besides HOME's.
    #[arg(value_name = "COMPONENT")]
    pub components: Vec<PathBuf>,
    #[command(flatten)]
    pub code_args: CodeArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Options of `skill run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// NAME or NAME@RANGE of a skill in HOME.
    pub reference: String,
    /// Its arguments, a JSON object.
    #[arg(long = "with", default_value = "{}", value_name = "JSON")]
    pub args: String,
    /// Tool components to use instead of HOME's (paths or references).
    #[arg(value_name = "COMPONENT")]
    pub components: Vec<PathBuf>,
    #[command(flatten)]
    pub code_args: CodeArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `skill check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Only these skills (default: every skill in HOME).
    #[arg(long = "skill", value_name = "NAME")]
    pub skills: Vec<String>,
    #[command(flatten)]
    pub code_args: CodeArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `skill` subcommand.
pub async fn run(global: &GlobalArgs, command: &SkillCommand) -> anyhow::Result<ExitCode> {
    match command {
        SkillCommand::Save(args) => save(global, args).await,
        SkillCommand::Run(args) => run_skill(global, args).await,
        SkillCommand::Check(args) => check(global, args).await,
        SkillCommand::Approve { name } => approve(global, name),
    }
}

/// The registry in HOME as `save_skill`'s store.
pub struct HomeSkillStore {
    global: GlobalArgs,
}

impl HomeSkillStore {
    /// The store in `global`'s home.
    pub fn new(global: &GlobalArgs) -> Self {
        HomeSkillStore { global: global.clone() }
    }

    fn registry(&self) -> Result<Registry, String> {
        crate::registry::open(&self.global).map_err(|e| format!("{e:#}"))
    }
}

impl SkillStore for HomeSkillStore {
    fn latest(&self, name: &str) -> Result<Option<semver::Version>, String> {
        let registry = self.registry()?;
        if let Ok(newest) = registry.resolve(&format!("{name}@*")) {
            let bytes = std::fs::read(&newest.path).map_err(|e| e.to_string())?;
            let info = wasm_host_meta::inspect(&bytes).map_err(|e| e.to_string())?;
            if info.skill.is_none() {
                return Err(format!(
                    "`{name}` is a component in {} that is not a skill; a skill cannot take its name",
                    self.global.home().display()
                ));
            }
        }
        let listed = registry.list().map_err(|e| e.to_string())?;
        let stored = listed
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|e| semver::Version::parse(&e.version).ok());
        let pending = pending_version(&self.global.home(), name);
        Ok(stored.chain(pending).max())
    }

    fn store(&self, bytes: &[u8]) -> Result<String, String> {
        let incoming = Incoming { bytes: bytes.to_vec(), ..Default::default() };
        let out = self.registry()?.publish(incoming).map_err(|e| e.to_string())?;
        Ok(format!("{}@{} in {}", out.name, out.version, self.global.home().display()))
    }

    fn stage(&self, name: &str, bytes: &[u8]) -> Result<String, String> {
        let dir = self.global.home().join(PENDING);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        write_atomic(&dir.join(format!("{name}.wasm")), bytes)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(format!("wasm-host skill approve {name}"))
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it into place.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn pending_version(home: &Path, name: &str) -> Option<semver::Version> {
    let bytes = std::fs::read(home.join(PENDING).join(format!("{name}.wasm"))).ok()?;
    Some(wasm_host_meta::inspect(&bytes).ok()?.manifest?.version)
}

fn approve(global: &GlobalArgs, name: &str) -> anyhow::Result<ExitCode> {
    let path = global.home().join(PENDING).join(format!("{name}.wasm"));
    let bytes = std::fs::read(&path)
        .with_context(|| format!("no skill `{name}` waits for approval ({})", path.display()))?;
    let where_ = HomeSkillStore::new(global).store(&bytes).map_err(anyhow::Error::msg)?;
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    println!("approved: published {where_}");
    Ok(ExitCode::SUCCESS)
}

/// A runtime, a catalog with `components` (and, as the caller adds them, skills and their
/// requirements), and a code runner over it with the runners from flags, beside the binary, or
/// in HOME.
struct SkillEnv {
    runtime: Arc<wasm_host_runtime::Runtime>,
    catalog: Arc<Catalog>,
    runner: CodeRunner,
    sandbox: SandboxArgs,
}

impl SkillEnv {
    async fn new(
        global: &GlobalArgs,
        code: &CodeArgs,
        sandbox: &SandboxArgs,
        components: &[PathBuf],
    ) -> anyhow::Result<Self> {
        let runtime = global.runtime()?;
        let catalog = Arc::new(Catalog::new());
        let settings =
            crate::code::with_home_runners(global, code.settings(&CodeConfig::default()));
        let executor = Executor::new(runtime.clone(), catalog.clone());
        let runner = code_runner(
            &runtime,
            executor,
            &settings,
            sandbox.limits(),
            crate::code::RunnerLoad::Now,
        )
        .await?;
        anyhow::ensure!(
            !runner.languages().is_empty(),
            "no runner for skill scripts: build them (scripts/setup) or install runner-js / runner-python into HOME"
        );
        let env = SkillEnv { runtime, catalog, runner, sandbox: sandbox.clone() };
        for c in components {
            env.load(global, c).await?;
        }
        Ok(env)
    }

    async fn load(&self, global: &GlobalArgs, spec: &Path) -> anyhow::Result<Arc<LoadedComponent>> {
        let opts = LoadOptions {
            grants: self.sandbox.grants(),
            limits: self.sandbox.limits(),
            ..Default::default()
        };
        let c = crate::registry::load(global, &self.runtime, spec, opts).await?;
        self.catalog.insert(c.clone());
        Ok(c)
    }

    /// Loads each tool `pack` requires that is not loaded yet: `NAME@RANGE`, or with `newest`
    /// the newest version in HOME whatever the range (a missing one is left for the
    /// requirement check to report).
    async fn load_requirements(&self, global: &GlobalArgs, pack: &SkillPack, newest: bool) {
        for req in pack.requires() {
            if self.catalog.get(&req.name).is_some() {
                continue;
            }
            let spec =
                if newest { req.name.clone() } else { format!("{}@{}", req.name, req.range) };
            if let Err(e) = self.load(global, Path::new(&spec)).await {
                tracing::debug!(error = %format!("{e:#}"), %spec, "required tool not loaded");
            }
        }
    }

    async fn call(&self, skill: &str, args: &str) -> wasm_host_runtime::CallOutcome {
        self.runner.executor().call(&format!("{skill}.run"), args).await
    }
}

async fn save(global: &GlobalArgs, args: &SaveArgs) -> anyhow::Result<ExitCode> {
    let code = std::fs::read_to_string(&args.code)
        .with_context(|| format!("reading {}", args.code.display()))?;
    let mut map = Map::new();
    map.insert("name".into(), json!(args.name));
    map.insert("description".into(), json!(args.description));
    map.insert("language".into(), json!(args.lang));
    map.insert("code".into(), json!(code));
    if let Some(path) = &args.input_schema {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let schema: Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        map.insert("input_schema".into(), schema);
    }
    let examples: Vec<Value> = args
        .examples
        .iter()
        .map(|e| serde_json::from_str(e).with_context(|| format!("--example {e}: not JSON")))
        .collect::<anyhow::Result<_>>()?;
    map.insert("examples".into(), Value::Array(examples));
    let draft = SkillDraft::from_args(&map).map_err(anyhow::Error::msg)?;
    let env = SkillEnv::new(global, &args.code_args, &args.sandbox, &args.components).await?;
    let store = HomeSkillStore::new(global);
    let saved = wasm_host_code::save(&env.runner, &store, wasm_host_code::SavePolicy::On, &draft)
        .await
        .map_err(anyhow::Error::msg)?;
    println!(
        "saved skill {}@{} ({} example(s) passed; requires {}) -> {}",
        saved.name,
        saved.version,
        draft.examples.len(),
        if saved.requires.is_empty() { "no tools".into() } else { saved.requires.join(", ") },
        saved.stored
    );
    Ok(ExitCode::SUCCESS)
}

async fn run_skill(global: &GlobalArgs, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let env = SkillEnv::new(global, &args.code_args, &args.sandbox, &args.components).await?;
    let skill = env.load(global, Path::new(&args.reference)).await?;
    let pack = skill.skill.clone().with_context(|| format!("{}: not a skill", args.reference))?;
    anyhow::ensure!(
        pack.script().is_some(),
        "skill {} has no script to run (metadata.run); read its SKILL.md instead",
        skill.name
    );
    env.load_requirements(global, &pack, false).await;
    let outcome = env.call(&skill.name, &args.args).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        match &outcome.result {
            Ok(out) => println!("{}", out.as_str()),
            Err(e) => eprintln!("error: {e}"),
        }
    }
    Ok(if outcome.result.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The newest non-yanked version of every skill in HOME (or of `only`), as loadable specs.
pub fn stored_skills(global: &GlobalArgs, only: &[String]) -> anyhow::Result<Vec<String>> {
    let registry = crate::registry::open(global)?;
    let mut out = Vec::new();
    for name in registry.list()?.keys() {
        if !only.is_empty() && !only.contains(name) {
            continue;
        }
        let Ok(resolved) = registry.resolve(name) else { continue };
        let bytes = std::fs::read(&resolved.path)?;
        if wasm_host_meta::inspect(&bytes).is_ok_and(|i| i.skill.is_some()) {
            out.push(format!("{name}@={}", resolved.version));
        }
    }
    for name in only {
        anyhow::ensure!(
            out.iter().any(|s| s.split('@').next() == Some(name)),
            "no skill `{name}` in {}",
            global.home().display()
        );
    }
    Ok(out)
}

async fn check(global: &GlobalArgs, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let specs = stored_skills(global, &args.skills)?;
    let env = SkillEnv::new(global, &args.code_args, &args.sandbox, &[]).await?;
    let mut report = Vec::new();
    for spec in &specs {
        let skill = env.load(global, Path::new(spec)).await?;
        let Some(pack) = skill.skill.clone() else { continue };
        env.load_requirements(global, &pack, true).await;
        report.push(check_one(&env, &skill.name, &pack).await);
    }
    let failed = report.iter().filter(|r| r["status"] != "ok").count();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for r in &report {
            println!("{}", check_line(r));
        }
        println!("{} skill(s) checked, {failed} not ok", report.len());
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// One skill's check: incompatible (a required tool missing or outside its range), or each
/// example run against the tools loaded now.
async fn check_one(env: &SkillEnv, name: &str, pack: &SkillPack) -> Value {
    let version = pack.manifest().map(|m| m.version.to_string()).unwrap_or_default();
    let head = json!({"skill": name, "version": version});
    let with = |status: &str, detail: Value| {
        let mut v = head.clone();
        v["status"] = json!(status);
        v["detail"] = detail;
        v
    };
    if let Some(why) = env.catalog.unmet_requirements(pack) {
        return with("incompatible", json!(why));
    }
    let Some(script) = pack.script() else { return with("ok", json!("no script")) };
    if script.examples.is_empty() {
        return with("ok", json!("no examples"));
    }
    let mut results = Vec::new();
    let mut ok = true;
    for (i, example) in script.examples.iter().enumerate() {
        let started = Instant::now();
        let outcome = env.call(name, &Value::Object(example.input.clone()).to_string()).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let problem = match &outcome.result {
            Err(e) => Some(e.to_string()),
            Ok(out) => {
                let got = wasm_host_code::output_value(out);
                (got != example.output)
                    .then(|| format!("returned {got}, expected {}", example.output))
            }
        };
        ok &= problem.is_none();
        results
            .push(json!({"example": i + 1, "ok": problem.is_none(), "ms": ms, "problem": problem}));
    }
    with(if ok { "ok" } else { "failed" }, Value::Array(results))
}

fn check_line(r: &Value) -> String {
    let head = format!(
        "{} {}: {}",
        r["skill"].as_str().unwrap_or_default(),
        r["version"].as_str().unwrap_or_default(),
        r["status"].as_str().unwrap_or_default()
    );
    match &r["detail"] {
        Value::String(s) => format!("{head} ({s})"),
        Value::Array(examples) => {
            let parts: Vec<String> = examples
                .iter()
                .map(|e| match e["problem"].as_str() {
                    None => format!(
                        "example {} ok ({:.1} ms)",
                        e["example"],
                        e["ms"].as_f64().unwrap_or(0.0)
                    ),
                    Some(p) => format!("example {} FAILED: {p}", e["example"]),
                })
                .collect();
            format!("{head}: {}", parts.join("; "))
        }
        _ => head,
    }
}
