//! Skills over MCP, from the catalog's skill components, three ways: the skills extension
//! (SEP-2640: `skills/list`, `skills/get`, `skill://` resources and `resources/directory/read`)
//! and, for clients without it, MCP prompts (`prompts/list` is the skill catalog and
//! `prompts/get` returns a skill's instructions: the lazy prompt catalog).
//!
//! A skill named `n` lives at `skill://n/`; its entry point is `skill://n/SKILL.md`, its other
//! files `skill://n/<path>`. Directory URIs have no trailing slash.

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine;
use rmcp::ErrorData;
use rmcp::model::{
    DIRECTORY_MIME_TYPE, GetPromptResult, GetSkillResult, ListResourcesResult, MetaObject, Prompt,
    PromptMessage, ReadResourceResult, Resource, ResourceContents, Role, Skill, SkillFrontmatter,
    SkillResource, SkillResources,
};
use serde_json::json;
use wasm_host_code::{SkillFigures, SkillUsage};
use wasm_host_meta::skill::{SKILL_MD, SkillPack};
use wasm_host_runtime::{Catalog, ComponentKind};

/// The URI scheme of skill files.
pub const SCHEME: &str = "skill://";

/// `_meta` key of a skill entry whose required tools are not loaded at a version it accepts.
pub const INCOMPATIBLE_META: &str = "dev.wasm-host/incompatible";
/// `_meta` key listing the tool components a skill requires (`NAME@RANGE`).
pub const REQUIRES_META: &str = "dev.wasm-host/requires";
/// `_meta` key of a skill's usage since the server started: `{runs, successes, success_rate,
/// p50_ms}` (absent until it first runs).
pub const USAGE_META: &str = "dev.wasm-host/usage";
/// `_meta` key naming how a skill with a script runs: `{language, tool, call}` (`call` is the
/// code-mode expression, e.g. `skills.todo_report(args)`).
pub const RUN_META: &str = "dev.wasm-host/run";

/// How a skill's record scales its search score: 1 until it has run, then from 0.6 (every run
/// failed) to 1 (every run succeeded), so saved work that keeps failing sinks below fresh tools.
pub fn skill_weight(figures: Option<SkillFigures>) -> f32 {
    figures.map_or(1.0, |f| 0.6 + 0.4 * f.success_rate as f32)
}

/// A metric family: name, type, help, and the value it reads from a skill's figures.
type Family = (&'static str, &'static str, &'static str, fn(&SkillFigures) -> String);

/// Each skill's runs in Prometheus text format (appended to `/metrics`).
pub fn usage_metrics(usage: &SkillUsage) -> String {
    let all = usage.all();
    let mut out = String::new();
    let families: [Family; 3] = [
        ("wasm_host_skill_runs_total", "counter", "Runs of each skill's script.", |f| {
            f.runs.to_string()
        }),
        ("wasm_host_skill_successes_total", "counter", "Runs that returned a result.", |f| {
            f.successes.to_string()
        }),
        ("wasm_host_skill_run_p50_seconds", "gauge", "Median wall time of recent runs.", |f| {
            format!("{:.6}", f.p50_ms / 1000.0)
        }),
    ];
    for (name, kind, help, value) in families {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (skill, f) in &all {
            out.push_str(&format!("{name}{{skill=\"{skill}\"}} {}\n", value(f)));
        }
    }
    out
}

/// The skills among the loaded components, sorted by name.
#[derive(Default, Clone)]
pub(crate) struct Skills {
    packs: Vec<Arc<SkillPack>>,
    /// Per pack: why it cannot run with the loaded tools, if it cannot.
    incompatible: Vec<Option<String>>,
    /// Runs per skill, when code mode runs skills' scripts.
    usage: Option<Arc<SkillUsage>>,
}

impl Skills {
    /// Picks the skill components out of the catalog and checks each one's required tools
    /// against the components loaded beside it.
    pub fn from_catalog(catalog: &Catalog) -> Skills {
        let mut packs: Vec<Arc<SkillPack>> = catalog
            .components()
            .iter()
            .filter(|c| c.kind == ComponentKind::Skill)
            .filter_map(|c| c.skill.clone())
            .collect();
        packs.sort_by(|a, b| a.name().cmp(b.name()));
        let incompatible = packs
            .iter()
            .map(|p| {
                let why = catalog.unmet_requirements(p);
                if let Some(why) = &why {
                    tracing::warn!(skill = p.name(), %why, "skill is incompatible with the loaded tools");
                }
                why
            })
            .collect();
        Skills { packs, incompatible, usage: None }
    }

    /// Reports each skill's runs from `usage` in its entry's `_meta`.
    pub fn with_usage(mut self, usage: Option<Arc<SkillUsage>>) -> Skills {
        self.usage = usage;
        self
    }

    /// The `skills/list` entries.
    pub fn list(&self) -> Vec<Skill> {
        (0..self.packs.len()).map(|at| self.entry(at)).collect()
    }

    fn entry(&self, at: usize) -> Skill {
        let pack = &self.packs[at];
        let figures = self.usage.as_ref().and_then(|u| u.figures(pack.name()));
        entry(pack, self.incompatible[at].as_deref(), figures)
    }

    /// The `skills/get` answer for the SKILL.md at `uri`; an unknown skill is -32602.
    pub fn get(&self, uri: &str) -> Result<GetSkillResult, ErrorData> {
        let at = self
            .by_uri(uri)
            .filter(|(_, path)| *path == SKILL_MD)
            .and_then(|(p, _)| self.packs.iter().position(|q| q.name() == p.name()))
            .ok_or_else(|| unknown(uri, "skills/list shows the skills served"))?;
        Ok(GetSkillResult::new(self.entry(at)))
    }

    /// One resource per skill's SKILL.md, for `resources/list`.
    pub fn resources(&self) -> Vec<Resource> {
        self.packs
            .iter()
            .map(|p| {
                Resource::new(skill_md_uri(p.name()), p.name())
                    .with_description(p.description())
                    .with_mime_type("text/markdown")
                    .with_size(p.file(SKILL_MD).map_or(0, |f| f.bytes.len() as u64))
            })
            .collect()
    }

    /// A skill file for `resources/read`: text when it is UTF-8 text, else base64.
    pub fn read(&self, uri: &str) -> Option<ReadResourceResult> {
        let (pack, path) = self.by_uri(uri)?;
        let file = pack.file(path)?;
        let mime = mime_type(path);
        let contents = match std::str::from_utf8(&file.bytes) {
            Ok(text) if is_text(mime) && !text.contains('\0') => {
                ResourceContents::text(text, uri).with_mime_type(mime)
            }
            _ => ResourceContents::blob(
                base64::engine::general_purpose::STANDARD.encode(&file.bytes),
                uri,
            )
            .with_mime_type(mime),
        };
        Some(ReadResourceResult::new(vec![contents]))
    }

    /// The direct children of a skill directory (`skill://n` or `skill://n/sub`); anything else
    /// is -32602.
    pub fn directory(&self, uri: &str) -> Result<ListResourcesResult, ErrorData> {
        let not_dir = || unknown(uri, "not a skill directory (a skill's root is `skill://<name>`)");
        let rest = uri.strip_prefix(SCHEME).ok_or_else(not_dir)?;
        let (name, dir) = rest.split_once('/').unwrap_or((rest, ""));
        let pack = self.packs.iter().find(|p| p.name() == name).ok_or_else(not_dir)?;
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let mut dirs = BTreeSet::new();
        let mut children = Vec::new();
        for f in pack.files() {
            let Some(below) = f.path.strip_prefix(&prefix) else { continue };
            match below.split_once('/') {
                Some((sub, _)) => {
                    dirs.insert(sub.to_string());
                }
                None => children.push(
                    Resource::new(format!("{SCHEME}{name}/{}", f.path), below)
                        .with_mime_type(mime_type(below))
                        .with_size(f.bytes.len() as u64),
                ),
            }
        }
        if children.is_empty() && dirs.is_empty() {
            return Err(not_dir());
        }
        let base = uri.trim_end_matches('/');
        children.extend(dirs.into_iter().map(|d| {
            Resource::new(format!("{base}/{d}"), d.clone()).with_mime_type(DIRECTORY_MIME_TYPE)
        }));
        Ok(ListResourcesResult::with_all_items(children))
    }

    /// The prompt catalog: one prompt per skill, named after it, with no arguments.
    pub fn prompts(&self) -> Vec<Prompt> {
        self.packs.iter().map(|p| Prompt::new(p.name(), Some(p.description()), None)).collect()
    }

    /// A skill's instructions as a prompt, with the URIs of its other files.
    pub fn prompt(&self, name: &str) -> Result<GetPromptResult, ErrorData> {
        let pack = self.packs.iter().find(|p| p.name() == name).ok_or_else(|| {
            ErrorData::invalid_params(
                format!("unknown prompt `{name}`; prompts/list shows the skills served as prompts"),
                Some(json!({"name": name})),
            )
        })?;
        let mut text = pack.body().trim_start().to_string();
        let others: Vec<String> = pack
            .files()
            .iter()
            .filter(|f| f.path != SKILL_MD)
            .map(|f| format!("- {SCHEME}{}/{}", pack.name(), f.path))
            .collect();
        if !others.is_empty() {
            text.push_str("\n\nFiles of this skill (read them with resources/read):\n");
            text.push_str(&others.join("\n"));
        }
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(pack.description()))
    }

    /// The skill and file path a `skill://name/path` URI names.
    fn by_uri<'a>(&'a self, uri: &'a str) -> Option<(&'a SkillPack, &'a str)> {
        let (name, path) = uri.strip_prefix(SCHEME)?.split_once('/')?;
        let pack = self.packs.iter().find(|p| p.name() == name)?;
        Some((pack, path))
    }
}

/// `skill://<name>/SKILL.md`.
pub fn skill_md_uri(name: &str) -> String {
    format!("{SCHEME}{name}/{SKILL_MD}")
}

fn entry(pack: &SkillPack, incompatible: Option<&str>, usage: Option<SkillFigures>) -> Skill {
    let mut frontmatter = SkillFrontmatter::new(pack.name(), pack.description());
    for (k, v) in pack.frontmatter() {
        if k != "name" && k != "description" {
            frontmatter = frontmatter.with_field(k.clone(), v.clone());
        }
    }
    let files = pack
        .files()
        .iter()
        .map(|f| {
            SkillResource::new(
                format!("{SCHEME}{}/{}", pack.name(), f.path),
                format!("sha256:{}", f.sha256),
                f.bytes.len() as u64,
            )
        })
        .collect();
    let skill = Skill::new(skill_md_uri(pack.name()), frontmatter, SkillResources::Files(files));
    let mut meta = serde_json::Map::new();
    if !pack.requires().is_empty() {
        let requires: Vec<String> = pack.requires().iter().map(ToString::to_string).collect();
        meta.insert(REQUIRES_META.into(), json!(requires));
    }
    if let Some(why) = incompatible {
        meta.insert(INCOMPATIBLE_META.into(), json!(why));
    }
    if let Some(script) = pack.script() {
        let call = format!("skills.{}(args)", pack.name().replace('-', "_"));
        let language = wasm_host_code::Language::from(script.language).name();
        let tool = format!("{}.run", pack.name());
        meta.insert(RUN_META.into(), json!({"language": language, "tool": tool, "call": call}));
    }
    if let Some(figures) = usage {
        meta.insert(USAGE_META.into(), json!(figures));
    }
    if meta.is_empty() { skill } else { skill.with_meta(MetaObject(meta)) }
}

fn unknown(uri: &str, hint: &str) -> ErrorData {
    ErrorData::invalid_params(
        format!("unknown skill resource `{uri}`: {hint}"),
        Some(json!({"uri": uri})),
    )
}

/// A MIME type from the file's extension.
fn mime_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "md" | "markdown" => "text/markdown",
        "txt" => "text/plain",
        "js" | "mjs" => "text/javascript",
        "ts" => "application/typescript",
        "py" => "text/x-python",
        "json" => "application/json",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "yaml" | "yml" => "application/yaml",
        "toml" => "application/toml",
        "sh" => "text/x-shellscript",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn is_text(mime: &str) -> bool {
    mime.starts_with("text/")
        || matches!(
            mime,
            "application/json"
                | "application/typescript"
                | "application/yaml"
                | "application/toml"
                | "image/svg+xml"
        )
}
