//! Saving working code as a skill (`save_skill`, `wasm-host skill save`): the code runs on each
//! example in the sandbox first and must give each expected output; the components its runs
//! called become caret-range requirements; the skill (SKILL.md, the script, its input schema and
//! examples) is packed into a skill component and handed to a [`SkillStore`] as a new version.
//! Nothing is stored when any step fails.

use crate::runner::{CodeRunner, Language};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use wasm_host_meta::skill::{Example, MAX_EXAMPLES, SkillPack, check_name};
use wasm_host_runtime::{ComponentKind, Output};

/// Longest description a skill may have (the Agent Skills limit), in characters.
const MAX_DESCRIPTION: usize = 1024;

/// Whether the server may save skills: the operator's choice (`[code] save_skills`). Off by
/// default: a saved skill changes what every later session is offered, so the operator opts in
/// (and `save_skill`'s definition costs every conversation about 80 tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SavePolicy {
    /// `save_skill` is not offered.
    #[default]
    Off,
    /// Saved skills are stored and served at once.
    On,
    /// Saved skills wait until the operator runs `wasm-host skill approve NAME`.
    Approve,
}

impl std::str::FromStr for SavePolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(SavePolicy::Off),
            "on" => Ok(SavePolicy::On),
            "approve" => Ok(SavePolicy::Approve),
            other => Err(format!("skill saving `{other}`: expected off, on or approve")),
        }
    }
}

/// Where saved skills go (the registry in the server's home).
pub trait SkillStore: Send + Sync {
    /// The newest stored (or pending) version of `name`; an error if `name` is taken by a
    /// component that is not a skill.
    fn latest(&self, name: &str) -> Result<Option<semver::Version>, String>;
    /// Stores `bytes` (a skill component) as a new version, served from now on. Returns where.
    fn store(&self, bytes: &[u8]) -> Result<String, String>;
    /// Keeps `bytes` until the operator approves them. Returns what the operator runs.
    fn stage(&self, name: &str, bytes: &[u8]) -> Result<String, String>;
}

/// A skill to save, as `save_skill` takes it.
#[derive(Debug, Clone)]
pub struct SkillDraft {
    /// 1–64 of a–z, 0–9 and single `-`.
    pub name: String,
    /// What it does and when to use it (1–1024 characters).
    pub description: String,
    /// The script's language.
    pub language: Language,
    /// The script: a program body that reads `args` and returns a value.
    pub code: String,
    /// JSON Schema of `args` (default: any object).
    pub input_schema: Value,
    /// At least one example, each run before saving.
    pub examples: Vec<Example>,
}

/// A saved (or staged) skill.
#[derive(Debug, Clone)]
pub struct SavedSkill {
    /// Its name.
    pub name: String,
    /// The version stored.
    pub version: semver::Version,
    /// The components its examples called, as `NAME@^VERSION`.
    pub requires: Vec<String>,
    /// The skill component.
    pub component: Vec<u8>,
    /// `Some(what the operator runs)` when it waits for approval.
    pub pending: Option<String>,
    /// Where it was stored.
    pub stored: String,
}

impl SkillDraft {
    /// Reads `save_skill`'s arguments; the error names the argument and what it should be.
    pub fn from_args(args: &Map<String, Value>) -> Result<Self, String> {
        let text = |key: &str| {
            args.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("`{key}` (a string) is required"))
        };
        let name = text("name")?;
        check_name(&name).map_err(|e| format!("`name`: {e}"))?;
        let description = text("description")?;
        if description.trim().is_empty() || description.chars().count() > MAX_DESCRIPTION {
            return Err(format!("`description` must be 1-{MAX_DESCRIPTION} characters"));
        }
        let language = text("language")?.parse()?;
        let code = text("code")?;
        let input_schema = match args.get("input_schema") {
            None | Some(Value::Null) => json!({"type": "object"}),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(other) => {
                return Err(format!("`input_schema` must be a JSON Schema object, got {other}"));
            }
        };
        let examples: Vec<Example> = match args.get("examples") {
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                format!("`examples`: {e} (expected [{{\"input\": {{…}}, \"output\": …}}])")
            })?,
            None => Vec::new(),
        };
        if examples.is_empty() || examples.len() > MAX_EXAMPLES {
            return Err(format!(
                "`examples` must hold 1-{MAX_EXAMPLES} examples (input and expected output); the host runs each before saving"
            ));
        }
        Ok(SkillDraft { name, description, language, code, input_schema, examples })
    }

    /// The skill's files at `version`, requiring `requires`.
    pub fn files(&self, version: &semver::Version, requires: &[String]) -> Vec<(String, Vec<u8>)> {
        let ext = match self.language {
            Language::JavaScript => "js",
            Language::Python => "py",
        };
        let script = format!("scripts/run.{ext}");
        let mut metadata = vec![("version", version.to_string())];
        if !requires.is_empty() {
            metadata.push(("requires", requires.join(" ")));
        }
        metadata.push(("run", script.clone()));
        metadata.push(("input-schema", "scripts/input.schema.json".into()));
        metadata.push(("examples", "scripts/examples.json".into()));
        let yaml_text = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut md = format!(
            "---\nname: {}\ndescription: {}\nmetadata:\n",
            self.name,
            yaml_text(&self.description)
        );
        for (k, v) in &metadata {
            md.push_str(&format!("  {k}: {}\n", yaml_text(v)));
        }
        let call = format!("skills.{}(args)", self.name.replace('-', "_"));
        let example = &self.examples[0];
        md.push_str(&format!(
            "---\n# {}\n\n{}\n\nIn code mode, call `{call}` inside `execute_code` ({}). For example, \
             with args `{}` it returned `{}`.\n\nThe script is `{script}`; its input schema is \
             `scripts/input.schema.json`; `scripts/examples.json` holds the examples \
             `wasm-host skill check` re-runs.\n",
            self.name,
            self.description,
            self.language.name(),
            Value::Object(example.input.clone()),
            example.output,
        ));
        let pretty = |v: &Value| serde_json::to_vec_pretty(v).unwrap_or_default();
        vec![
            ("SKILL.md".into(), md.into_bytes()),
            (script, self.code.clone().into_bytes()),
            ("scripts/input.schema.json".into(), pretty(&self.input_schema)),
            ("scripts/examples.json".into(), pretty(&json!(self.examples))),
        ]
    }
}

/// A script's result as an example's expected output is compared with: the JSON value, or the
/// text as a string.
pub fn output_value(out: &Output) -> Value {
    match out {
        Output::Json(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        Output::Text(text) => Value::String(text.clone()),
    }
}

/// Runs each example of `draft` in the sandbox; every one must return its expected output.
/// Returns the components the runs called, as caret ranges of the versions used.
pub async fn run_examples(runner: &CodeRunner, draft: &SkillDraft) -> Result<Vec<String>, String> {
    let mut used: BTreeMap<String, String> = BTreeMap::new();
    for (i, example) in draft.examples.iter().enumerate() {
        let args = Value::Object(example.input.clone());
        let outcome = runner.try_script(draft.language, &draft.code, args).await;
        let n = i + 1;
        let got = match &outcome.result {
            Ok(out) => output_value(out),
            Err(e) => return Err(format!("example {n} failed: {e}")),
        };
        if got != example.output {
            return Err(format!(
                "example {n} returned {}, but its expected output is {}",
                cut(&got),
                cut(&example.output)
            ));
        }
        for entry in &outcome.stats.used {
            if let Some((name, version)) = entry.split_once('@') {
                used.insert(name.to_string(), version.to_string());
            }
        }
    }
    Ok(used.into_iter().map(|(name, version)| format!("{name}@^{version}")).collect())
}

/// Checks, runs and stores `draft` as the next version of its skill (0.1.0 for a new one, else
/// the newest version with its patch number raised): a new immutable version every time.
pub async fn save(
    runner: &CodeRunner,
    store: &dyn SkillStore,
    policy: SavePolicy,
    draft: &SkillDraft,
) -> Result<SavedSkill, String> {
    if policy == SavePolicy::Off {
        return Err("saving skills is off on this server (the operator's [skills] save)".into());
    }
    // A skill must not take the name of a tool or program: it would replace it in the catalog
    // and, stored under that package name, be what `NAME@RANGE` resolves to.
    if let Some(c) = runner.executor().catalog().get(&draft.name)
        && c.kind != ComponentKind::Skill
    {
        return Err(format!(
            "`{}` is the name of a loaded {} component; a skill cannot take it",
            draft.name,
            if c.kind == ComponentKind::Tool { "tool" } else { "program" }
        ));
    }
    let requires = run_examples(runner, draft).await?;
    let version = match store.latest(&draft.name)? {
        Some(v) => semver::Version::new(v.major, v.minor, v.patch + 1),
        None => semver::Version::new(0, 1, 0),
    };
    let pack = SkillPack::from_files(Some(&draft.name), draft.files(&version, &requires))
        .map_err(|e| format!("the skill is not valid: {e}"))?;
    let component = wasm_host_meta::skill_component(&pack).map_err(|e| e.to_string())?;
    let (stored, pending) = match policy {
        SavePolicy::Approve => {
            let how = store.stage(&draft.name, &component)?;
            (how.clone(), Some(how))
        }
        _ => (store.store(&component)?, None),
    };
    Ok(SavedSkill { name: draft.name.clone(), version, requires, component, pending, stored })
}

fn cut(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(400) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}
