//! The server's code-mode calls (`execute_code`, `save_skill`, `checkpoint` / `restore`) and
//! what every call passes through on its way out: PII tokenizing and the audit log.

use super::*;
use crate::audit;
use wasm_host_privacy::Counts;
use wasm_host_runtime::{CallStats, LoadedComponent};

/// What the audit log records of one call, besides its result.
pub(super) struct AuditedCall<'a> {
    /// The tool as served (`component.tool`, or a meta-tool).
    pub tool: &'a str,
    /// `ok` or the failure's kind.
    pub outcome: &'a str,
    /// The run's figures, if it ran.
    pub stats: Option<&'a CallStats>,
    /// The arguments as received.
    pub args: &'a [u8],
    /// PII values tokenized in the result.
    pub pii: Counts,
}

impl McpServer {
    /// `save_skill`, in a slot of the gate; a saved skill is served at once.
    async fn save_skill(&self, code: &CodeMode, args: &JsonObject) -> CallToolResponse {
        let name = code::SAVE_SKILL;
        let _slot = match self.gate().enter(name).await {
            Ok(slot) => slot,
            Err(busy) => return convert::error(busy.to_string()).into(),
        };
        match code::save_skill(code, &self.inner.executor, args).await {
            Ok((text, loaded)) => {
                if let Some(skill) = loaded {
                    self.inner.executor.catalog().insert(skill);
                    self.refresh().await;
                }
                CallToolResult::success(vec![ContentBlock::text(text)]).into()
            }
            Err(why) => {
                self.count(name, "refused");
                convert::error(format!("{name}: {why}")).into()
            }
        }
    }

    /// Runs one of the code-mode meta-tools, if it is listed.
    pub(super) async fn code_tool(
        &self,
        name: &str,
        args: JsonObject,
        cx: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let listed = self
            .inner
            .listing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .tools
            .iter()
            .any(|t| t.name == name);
        let Some(code) = self.inner.code.as_ref().filter(|_| listed) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{name}`: code mode is off (direct mode, or no runner configured)"
                ),
                None,
            ));
        };
        if name == code::SAVE_SKILL {
            return Ok(self.save_skill(code, &args).await);
        }
        if name != code::EXECUTE_CODE {
            return Ok(
                match self.session.checkpoint_or_restore(code, &self.gate(), name, &args).await {
                    Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]).into(),
                    Err(why) => convert::error(format!("{name}: {why}")).into(),
                },
            );
        }
        let raw_args = Value::Object(args.clone()).to_string();
        let args = match ExecArgs::parse(&args) {
            Ok(mut a) => {
                a.extra_dirs = self.inner.grants.dirs_of(crate::grants::PROGRAMS);
                if self.inner.privacy.as_ref().is_some_and(Boundary::detokenizes) {
                    let workspace = a.workspace.as_deref().map(|h| self.workspace_vault(h));
                    let mut vaults = vec![self.session.vault()];
                    vaults.extend(workspace.as_ref());
                    a.code = privacy::detokenize(&vaults, &a.code);
                }
                a
            }
            Err(why) => {
                self.count(name, "invalid-arguments");
                return Ok(convert::error(format!("{name}: {why}")).into());
            }
        };
        let _slot = match self.gate().enter(name).await {
            Ok(slot) => slot,
            Err(busy) => {
                self.count(name, "busy");
                return Ok(convert::error(busy.to_string()).into());
            }
        };
        let _live = self.inner.metrics.live();
        let progress = report_progress(cx);
        let exec = tokio::select! {
            _ = cx.ct.cancelled() => {
                self.count(name, "cancelled");
                return Err(ErrorData::internal_error(format!("{name} cancelled by the client"), None));
            }
            exec = self.session.execute(code, &args) => exec,
        };
        drop(progress);
        let exec = match exec {
            Ok(e) => e,
            Err(why) => return Ok(convert::error(format!("{name}: {why}")).into()),
        };
        let s = &exec.stats;
        let sample = Sample {
            outcome: exec.status,
            latency: Duration::from_micros(s.wall_us),
            fuel: s.fuel_used,
            peak_memory: s.peak_memory_bytes,
            bytes_out: exec.accounting.returned_bytes,
        };
        self.inner.metrics.record(name, sample);
        self.inner.metrics.record_code(exec.language.name(), exec.status, &exec.accounting);
        self.forward_lines(name, &exec.log, cx).await;
        let content = vec![ContentBlock::text(exec.render())];
        let mut result = if exec.is_error() {
            CallToolResult::error(content)
        } else {
            CallToolResult::success(content)
        };
        let mut meta = JsonObject::new();
        meta.insert(code::ACCOUNTING_META.into(), json!({"language": exec.language, "status": exec.status, "wall_ms": s.wall_us as f64 / 1000.0, "accounting": exec.accounting, "workspace": exec.workspace}));
        result.meta = Some(MetaObject(meta));
        result.structured_content =
            Some(json!({"status": exec.status, "workspace": exec.workspace}));
        let pii = match exec.workspace.as_deref().map(|h| self.workspace_vault(h)) {
            Some(vault) => self.tokenize(&vault, privacy::CODE_COMPONENT, &mut result),
            None => self.tokenize(self.session.vault(), privacy::CODE_COMPONENT, &mut result),
        };
        let call = AuditedCall {
            tool: name,
            outcome: exec.status,
            stats: Some(s),
            args: raw_args.as_bytes(),
            pii,
        };
        self.audit_call(call, &result);
        Ok(result.into())
    }

    /// Tokenizes `result` of `component` into `vault`, if PII tokenizing is on; returns the
    /// values replaced.
    pub(super) fn tokenize(
        &self,
        vault: &SharedVault,
        component: &str,
        result: &mut CallToolResult,
    ) -> Counts {
        let Some(b) = &self.inner.privacy else { return Counts::default() };
        let counts = b.result(vault, component, result);
        self.inner.metrics.record_pii(&counts);
        counts
    }

    /// Writes one call's audit record, if the audit log is on.
    pub(super) fn audit_call(&self, call: AuditedCall<'_>, result: &CallToolResult) {
        let Some(log) = &self.inner.audit else { return };
        let sent = serde_json::to_vec(result).unwrap_or_default();
        // Looked up only here, so a server without an audit log pays nothing per call.
        let component = self.inner.executor.catalog().get(super::component_of(call.tool));
        let component = component.as_deref();
        let version = |c: &LoadedComponent| {
            c.manifest.as_ref().map_or("unversioned".to_string(), |m| m.version.to_string())
        };
        let s = call.stats;
        log.write(&audit::Record {
            time: audit::now(),
            event: "call",
            tool: call.tool,
            component: component.map(|c| format!("{}@{}", c.name, version(c))),
            grants: component.map(|c| audit::grants(&c.grant)),
            outcome: call.outcome,
            fuel: s.map_or(0, |s| s.fuel_used),
            memory_bytes: s.map_or(0, |s| s.peak_memory_bytes),
            wall_ms: s.map_or(0.0, |s| s.wall_us as f64 / 1000.0),
            bytes_in: call.args.len() as u64,
            bytes_out: sent.len() as u64,
            args_sha256: audit::sha256_hex(call.args),
            result_sha256: audit::sha256_hex(&sent),
            pii: audit::pii(&call.pii),
            detail: None,
        });
    }

    /// The PII vault of a workspace handle (a new one when tokenizing is off: never used).
    pub(super) fn workspace_vault(&self, handle: &str) -> SharedVault {
        match &self.inner.privacy {
            Some(b) => b.workspace_vault(handle),
            None => privacy::new_vault(),
        }
    }
}
