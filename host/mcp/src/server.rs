//! The rmcp `ServerHandler`: lists the catalog's tools, validates arguments, admits calls through
//! the gate, runs them (a cancelled request drops the call, which stops the guest), forwards the
//! guest's log lines as logging notifications, and maps outcomes to MCP results.

use crate::code::{self, CodeMode, ExecArgs, Session};
use crate::meta::{self, Mode};
use crate::metrics::{Metrics, Sample};
use crate::privacy::{self, Boundary, SharedVault};
use crate::skills::{Skills, skill_weight};
use crate::{convert, stubs};

mod access;
mod code_calls;
use rmcp::model::SubscriptionFilter;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, GetSkillRequestParams, GetSkillResult, Implementation, JsonObject,
    ListPromptsResult, ListResourcesResult, ListSkillsResult, ListToolsResult, LoggingLevel,
    LoggingMessageNotificationParam, MetaObject, PaginatedRequestParams, ProgressNotificationParam,
    ReadResourceDirectoryRequestParams, ReadResourceDirectoryResult, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ServerCapabilities,
    ServerConfig, SetLevelRequestParams, Tool,
};
use rmcp::service::{
    NotificationContext, Peer, RequestContext, SubscriptionContext, SubscriptionSendError,
    SubscriptionSink,
};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use wasm_host_privacy::PiiPolicy;
use wasm_host_runtime::{CallOutcome, Executor, Gate, GateLimits, LogLine, ToolInfo};
use wasm_host_search::SearchIndex;

/// The MCP server over one executor and its catalog. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
    /// This session's state; [`McpServer::new_session`] gives a clone a fresh one.
    session: Arc<Session>,
}

struct Inner {
    executor: Executor,
    /// The operator's choice; `None` = both, or code above 30 tools.
    mode: Option<Mode>,
    code: Option<CodeMode>,
    metrics: Metrics,
    listing: RwLock<Listing>,
    level: Mutex<LoggingLevel>,
    /// 2025-11-25 sessions, for list_changed and reload notices.
    peers: Mutex<Vec<Peer<RoleServer>>>,
    /// 2026-07-28 `subscriptions/listen` streams, by a number of their own.
    listeners: Mutex<Vec<(u64, SubscriptionSink)>>,
    next_listener: std::sync::atomic::AtomicU64,
    /// PII tokenizing (`None`: off).
    privacy: Option<Boundary>,
    /// The audit log (`None`: off).
    audit: Option<crate::audit::AuditLog>,
    /// `request_access`: the operator's settings (`None`: off) and the grants given.
    access: Option<crate::grants::AccessPolicy>,
    grants: crate::grants::GrantStore,
    /// The operator's terminal, when `[access] terminal` is on.
    terminal: Option<crate::terminal::TerminalPrompt>,
}

/// The MCP view of the catalog, rebuilt by [`McpServer::refresh`].
#[derive(Default)]
struct Listing {
    mode: Mode,
    /// What tools/list shows.
    tools: Vec<Tool>,
    /// Every component tool, in search-index order.
    infos: Vec<ToolInfo>,
    positions: HashMap<String, usize>,
    index: SearchIndex,
    structured: HashMap<String, bool>,
    /// The skill components, served as skills, resources and prompts in every mode.
    skills: Skills,
}

impl McpServer {
    /// A builder for a server over `executor`'s catalog: default concurrency limits
    /// ([`GateLimits::default`]), the default mode (component tools and meta-tools; only
    /// meta-tools above 30 tools) and no code mode until [`McpServerBuilder::code`].
    pub fn builder(executor: Executor) -> McpServerBuilder {
        McpServerBuilder {
            executor,
            gate: GateLimits::default(),
            mode: None,
            code: None,
            privacy: PiiPolicy::default(),
            audit: None,
            access: None,
        }
    }

    fn build(b: McpServerBuilder) -> Self {
        let McpServerBuilder { executor, gate: limits, mode, code, privacy, audit, access } = b;
        // One gate for the catalog: direct calls here, programs' nested calls in the runtime.
        executor.catalog().set_gate_limits(limits);
        let server = McpServer {
            inner: Arc::new(Inner {
                executor,
                mode,
                code,
                metrics: Metrics::default(),
                listing: RwLock::new(Listing::default()),
                level: Mutex::new(LoggingLevel::Info),
                peers: Mutex::new(Vec::new()),
                listeners: Mutex::new(Vec::new()),
                next_listener: std::sync::atomic::AtomicU64::new(0),
                privacy: Boundary::new(privacy),
                audit,
                terminal: access
                    .as_ref()
                    .filter(|a| a.enabled && a.terminal)
                    .map(|_| crate::terminal::TerminalPrompt::controlling()),
                access: access.filter(|a| a.enabled),
                grants: Default::default(),
            }),
            session: Arc::default(),
        };
        server.rebuild();
        server
    }

    /// A handle for a new MCP session: shares everything but the session state (workspace).
    pub fn new_session(&self) -> McpServer {
        McpServer { inner: self.inner.clone(), session: Arc::default() }
    }

    /// Re-reads the catalog (after components were added, replaced or removed) and tells every
    /// connected client with `notifications/tools/list_changed` (sessions, and stateless clients
    /// listening with `subscriptions/listen`).
    pub async fn refresh(&self) {
        self.rebuild();
        for p in self.live_peers() {
            let _ = p.notify_tool_list_changed().await;
            let _ = p.notify_resource_list_changed().await;
            let _ = p.notify_prompt_list_changed().await;
        }
        let listeners: Vec<(u64, SubscriptionSink)> =
            self.inner.listeners.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for (id, sink) in listeners {
            // The sink sends only what the listener asked for; a closed stream is dropped.
            let tools = sink.notify_tool_list_changed().await;
            let resources = sink.notify_resource_list_changed().await;
            let prompts = sink.notify_prompt_list_changed().await;
            let closed = |r: &Result<(), SubscriptionSendError>| {
                matches!(r, Err(SubscriptionSendError::Service(_)))
            };
            if closed(&tools) || closed(&resources) || closed(&prompts) {
                self.inner
                    .listeners
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain(|(i, _)| *i != id);
            }
        }
    }

    /// The executor (and through it the catalog) this server serves.
    pub fn executor(&self) -> &Executor {
        &self.inner.executor
    }

    /// Sends a logging notification to every connected client whose level lets it through.
    pub async fn notify_clients(&self, level: LoggingLevel, logger: &str, data: Value) {
        if convert::severity(level)
            < convert::severity(*self.inner.level.lock().unwrap_or_else(|p| p.into_inner()))
        {
            return;
        }
        for p in self.live_peers() {
            let _ = p
                .notify_logging_message(
                    LoggingMessageNotificationParam::new(level, data.clone())
                        .with_logger(logger.to_string()),
                )
                .await;
        }
    }

    fn live_peers(&self) -> Vec<Peer<RoleServer>> {
        let mut peers = self.inner.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.retain(|p| !p.is_transport_closed());
        peers.clone()
    }

    /// Calls waiting for a concurrency slot.
    pub fn queue_depth(&self) -> usize {
        self.gate().waiting()
    }

    /// The server's metrics in Prometheus text format.
    pub fn metrics_text(&self) -> String {
        let mut text = self.inner.metrics.render(self.queue_depth());
        if let Some(code) = &self.inner.code {
            text.push_str(&crate::skills::usage_metrics(code.runner.usage()));
        }
        text
    }

    /// The current skills, cloned out of the listing (cheap: shared packs).
    fn skills(&self) -> Skills {
        self.inner.listing.read().unwrap_or_else(|p| p.into_inner()).skills.clone()
    }

    fn gate(&self) -> Arc<Gate> {
        self.inner.executor.catalog().gate()
    }

    fn count(&self, tool: &str, outcome: &'static str) {
        self.inner.metrics.refused(tool, outcome);
    }

    fn rebuild(&self) {
        let infos = self.inner.executor.catalog().tools();
        let mode = Mode::effective(self.inner.mode, infos.len());
        let mut listing =
            Listing { mode, index: wasm_host_runtime::search_index(&infos), ..Listing::default() };
        if mode.has_meta_tools() {
            listing.tools.push(meta::search_tools_definition());
            if let Some(code) = &self.inner.code {
                listing.tools.extend(code::definitions(code));
            }
        }
        if self.inner.access.is_some() {
            listing.tools.push(crate::grants::definition());
        }
        for (i, info) in infos.iter().enumerate() {
            listing.positions.insert(info.qualified.clone(), i);
            listing.structured.insert(info.qualified.clone(), info.output_schema.is_some());
            if mode.lists_components() {
                listing.tools.push(convert::tool(info));
            }
        }
        listing.infos = infos;
        listing.skills = Skills::from_catalog(self.inner.executor.catalog())
            .with_usage(self.inner.code.as_ref().map(|c| c.runner.usage().clone()));
        let mut current = self.inner.listing.write().unwrap_or_else(|p| p.into_inner());
        // Keep the search tie-break's history for tools that are still there.
        for (name, &old) in &current.positions {
            if let Some(&new) = listing.positions.get(name) {
                listing.index.set_usage(new, current.index.usage(old));
            }
        }
        *current = listing;
    }

    fn search_tools(&self, args: JsonObject) -> Result<CallToolResponse, ErrorData> {
        let listing = self.inner.listing.read().unwrap_or_else(|p| p.into_inner());
        if !listing.mode.has_meta_tools() {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{}`: meta-tools are off in direct mode", meta::SEARCH_TOOLS),
                None,
            ));
        }
        let usage = self.inner.code.as_ref().map(|c| c.runner.usage().clone());
        let weight = |t: &ToolInfo| match (&usage, t.skill) {
            (Some(u), true) => skill_weight(u.figures(t.qualified.trim_end_matches(".run"))),
            _ => 1.0,
        };
        Ok(match meta::search(&listing.index, &listing.infos, &args, &weight) {
            Ok(found) => {
                CallToolResult::success(vec![ContentBlock::text(found.to_string())]).into()
            }
            Err(why) => convert::error(format!("{}: {why}", meta::SEARCH_TOOLS)).into(),
        })
    }

    fn record_use(&self, tool: &str, success: bool) {
        let listing = self.inner.listing.read().unwrap_or_else(|p| p.into_inner());
        if let Some(&i) = listing.positions.get(tool) {
            listing.index.record_use(i, success);
        }
    }

    async fn forward_log(
        &self,
        tool: &str,
        outcome: &CallOutcome,
        cx: &RequestContext<RoleServer>,
    ) {
        self.forward_lines(tool, &outcome.log, cx).await;
    }

    /// The lowest severity a request's log notifications may have, or `None` for no logging: a
    /// stateless (2026-07-28) request gets log lines only if its `_meta` asks for a level; a
    /// 2025-11-25 session, at the level it set (default info).
    fn log_floor(&self, cx: &RequestContext<RoleServer>) -> Option<u8> {
        if cx.protocol_version().is_some_and(|v| !v.has_initialize()) {
            return cx.meta.log_level().map(convert::severity);
        }
        Some(convert::severity(*self.inner.level.lock().unwrap_or_else(|p| p.into_inner())))
    }

    /// Sends log lines as logging notifications, at or above the request's level: at most
    /// [`MAX_LOG_NOTIFICATIONS`] per call, then one line saying how many more were not sent.
    async fn forward_lines(&self, tool: &str, lines: &[LogLine], cx: &RequestContext<RoleServer>) {
        let Some(min) = self.log_floor(cx) else { return };
        let peer = &cx.peer;
        let mut wanted = lines.iter().filter(|l| convert::severity(convert::level(l.level)) >= min);
        for line in wanted.by_ref().take(MAX_LOG_NOTIFICATIONS) {
            let text = match &self.inner.privacy {
                Some(b) => b.text(self.session.vault(), component_of(tool), &line.text),
                None => line.text.clone(),
            };
            let data = json!({"tool": tool, "stream": line.stream, "text": text});
            let _ = peer
                .notify_logging_message(
                    LoggingMessageNotificationParam::new(convert::level(line.level), data)
                        .with_logger(tool.to_string()),
                )
                .await;
        }
        let more = wanted.count();
        if more > 0 {
            let text = format!(
                "{more} more log lines of this call not sent (at most {MAX_LOG_NOTIFICATIONS} per call)"
            );
            let data = json!({"tool": tool, "stream": "host", "text": text});
            let _ = peer
                .notify_logging_message(
                    LoggingMessageNotificationParam::new(LoggingLevel::Warning, data)
                        .with_logger(tool.to_string()),
                )
                .await;
        }
    }
}

/// The component a served tool name belongs to (`grep` of `grep.count`).
fn component_of(tool: &str) -> &str {
    tool.split('.').next().unwrap_or(tool)
}

/// Most logging notifications one call sends (its log keeps up to the log cap; a client flooded
/// with a thousand notifications per call, as a guest writing empty lines causes, slows every
/// session on the server).
pub const MAX_LOG_NOTIFICATIONS: usize = 100;

/// Builds an [`McpServer`]; see [`McpServer::builder`].
#[must_use]
pub struct McpServerBuilder {
    executor: Executor,
    gate: GateLimits,
    mode: Option<Mode>,
    code: Option<CodeMode>,
    privacy: PiiPolicy,
    audit: Option<crate::audit::AuditLog>,
    access: Option<crate::grants::AccessPolicy>,
}

impl McpServerBuilder {
    /// Concurrency limits of direct calls (and of programs' nested calls; one gate per catalog).
    pub fn gate(mut self, limits: GateLimits) -> Self {
        self.gate = limits;
        self
    }

    /// Which tools are listed; `None` keeps the default (both; code above 30 tools).
    pub fn mode(mut self, mode: Option<Mode>) -> Self {
        self.mode = mode;
        self
    }

    /// Code mode: `execute_code` (for the languages that have a runner) and, with workspaces,
    /// `checkpoint` / `restore`, wherever meta-tools are listed.
    pub fn code(mut self, code: CodeMode) -> Self {
        self.code = Some(code);
        self
    }

    /// PII tokenizing of what leaves for the model (default off; see the `privacy` module).
    pub fn privacy(mut self, policy: PiiPolicy) -> Self {
        self.privacy = policy;
        self
    }

    /// An audit log of every call (see the `audit` module); fails if the file cannot be opened.
    pub fn audit(mut self, config: crate::audit::AuditConfig) -> std::io::Result<Self> {
        self.audit = Some(crate::audit::AuditLog::open(config)?);
        Ok(self)
    }

    /// The `request_access` meta-tool (listed only when `policy.enabled`).
    pub fn access(mut self, policy: crate::grants::AccessPolicy) -> Self {
        self.access = Some(policy);
        self
    }

    /// The server.
    pub fn build(self) -> McpServer {
        McpServer::build(self)
    }
}

impl McpServer {
    fn instructions(&self) -> String {
        let sandbox = "Tools are WASI components run in a sandbox (memory, time and fuel limits; only granted directories, \
                       hosts and env). Tool names are <component>.<tool>.";
        let listing = self.inner.listing.read().unwrap_or_else(|p| p.into_inner());
        let n = listing.infos.len();
        match listing.mode {
            Mode::Direct => sandbox.to_string(),
            Mode::Both => format!(
                "{sandbox} All {n} tools are listed; search_tools finds them by what they do.{}",
                self.code_hint()
            ),
            Mode::Code => format!(
                "{sandbox} Code mode: {n} tools are loaded (more than {} lists only meta-tools). Use search_tools to find \
                 the tools you need (detail \"full\" gives schemas and signatures), then call them by name.{}",
                meta::AUTO_CODE_MODE_ABOVE,
                self.code_hint()
            ),
        }
    }
}

impl McpServer {
    /// A sentence on execute_code, if it is offered (and on keeping workspaces, if there are any).
    fn code_hint(&self) -> String {
        const HINT: &str = " To chain tools or handle large results, send one program to execute_code: tools are functions there \
             (stubs: resources wasm-host://tools/<component>/<tool>.d.ts and .pyi), and only what it prints or returns comes back.";
        const KEEP: &str = " Pass a result's `workspace` back to keep using its /workspace files.";
        match &self.inner.code {
            Some(c) if !c.runner.languages().is_empty() => {
                format!("{HINT}{}", if c.workspaces.is_some() { KEEP } else { "" })
            }
            _ => String::new(),
        }
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_logging()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_resources()
                .enable_resources_list_changed()
                .enable_prompts()
                .enable_prompts_list_changed()
                .enable_skills_with_directory_read()
                .build(),
        )
        .with_server_info(Implementation::new("wasm-host", env!("CARGO_PKG_VERSION")))
        .with_instructions(self.instructions())
    }

    async fn list_tools(
        &self,
        _req: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.inner.listing.read().unwrap_or_else(|p| p.into_inner()).tools.clone(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner
            .listing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .tools
            .iter()
            .find(|t| t.name == name)
            .cloned()
    }

    async fn call_tool(
        &self,
        req: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = req.name.to_string();
        if name == meta::SEARCH_TOOLS {
            return self.search_tools(req.arguments.unwrap_or_default());
        }
        if name == crate::grants::REQUEST_ACCESS {
            return self.request_access(&req, &cx).await;
        }
        if [code::EXECUTE_CODE, code::CHECKPOINT, code::RESTORE, code::SAVE_SKILL]
            .contains(&name.as_str())
        {
            let mut response = self.code_tool(&name, req.arguments.unwrap_or_default(), &cx).await;
            // Error text and checkpoint answers; a program's own output was tokenized already
            // (in its workspace's vault), and tokens are not found again.
            if let Ok(CallToolResponse::Complete(result)) = &mut response {
                self.tokenize(self.session.vault(), privacy::CODE_COMPONENT, result);
            }
            return response;
        }
        let Some(structured) = self
            .inner
            .listing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .structured
            .get(&name)
            .copied()
        else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{name}`; tools/list shows the available tools"),
                None,
            ));
        };
        // The runtime checks the arguments against the tool's schema before the guest runs.
        let mut args = Value::Object(req.arguments.unwrap_or_default());
        // The audit log hashes the arguments as the client sent them (tokens, not values).
        let received =
            self.inner.privacy.as_ref().and(self.inner.audit.as_ref()).map(|_| args.to_string());
        if self.inner.privacy.as_ref().is_some_and(Boundary::detokenizes) {
            privacy::detokenize_json(&[self.session.vault()], &mut args);
        }
        let _slot = match self.gate().enter(&name).await {
            Ok(slot) => slot,
            Err(busy) => {
                self.count(&name, "busy");
                return Ok(convert::error(busy.to_string()).into());
            }
        };
        let _live = self.inner.metrics.live();
        let arguments = args.to_string();
        let (executor, sent) = (&self.inner.executor, &arguments);
        let call: std::pin::Pin<Box<dyn Future<Output = CallOutcome> + Send + '_>> =
            match self.granted_component(&name) {
                // With what `request_access` granted: the same argument check, then the call.
                Some((component, tool)) => Box::pin(async move {
                    match component.check_arguments(&tool, sent) {
                        Ok(()) => executor.call_component(&component, &tool, sent).await,
                        Err(e) => CallOutcome::failed(e),
                    }
                }),
                None => Box::pin(executor.call(&name, &arguments)),
            };
        let progress = report_progress(&cx);
        let outcome = tokio::select! {
            // Dropping the call future drops the store: the guest stops at once.
            _ = cx.ct.cancelled() => {
                self.count(&name, "cancelled");
                let call = code_calls::AuditedCall {
                    tool: &name,
                    outcome: "cancelled",
                    stats: None,
                    args: received.as_deref().unwrap_or(&arguments).as_bytes(),
                    pii: Default::default(),
                };
                self.audit_call(call, &CallToolResult::success(Vec::new()));
                return Err(ErrorData::internal_error(format!("call to {name} cancelled by the client"), None));
            }
            outcome = call => outcome,
        };
        drop(progress);
        let s = &outcome.stats;
        let sample = Sample {
            outcome: outcome.result.as_ref().map_or_else(|e| e.kind(), |_| "ok"),
            latency: Duration::from_micros(s.wall_us),
            fuel: s.fuel_used,
            peak_memory: s.peak_memory_bytes,
            bytes_out: s.bytes_out,
        };
        self.inner.metrics.record(&name, sample);
        self.record_use(&name, outcome.result.is_ok());
        self.forward_log(&name, &outcome, &cx).await;
        let mut result = convert::result(&outcome, structured);
        let pii = self.tokenize(self.session.vault(), component_of(&name), &mut result);
        let call = code_calls::AuditedCall {
            tool: &name,
            outcome: outcome.result.as_ref().map_or_else(|e| e.kind(), |_| "ok"),
            stats: Some(&outcome.stats),
            args: received.as_deref().unwrap_or(&arguments).as_bytes(),
            pii,
        };
        self.audit_call(call, &result);
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _req: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let listing = self.inner.listing.read().unwrap_or_else(|p| p.into_inner());
        let mut all = listing.skills.resources();
        if !listing.mode.has_meta_tools() {
            return Ok(ListResourcesResult::with_all_items(all));
        }
        all.push(
            Resource::new(stubs::INDEX_URI, "index.md")
                .with_description("Every tool: one line each, with its stubs")
                .with_mime_type("text/markdown"),
        );
        for t in &listing.infos {
            let [ts, py] = stubs::uris(t);
            all.push(
                Resource::new(ts, format!("{}.d.ts", t.qualified))
                    .with_mime_type("application/typescript"),
            );
            all.push(
                Resource::new(py, format!("{}.pyi", t.qualified)).with_mime_type("text/x-python"),
            );
        }
        Ok(ListResourcesResult::with_all_items(all))
    }

    async fn read_resource(
        &self,
        req: ReadResourceRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let listing = self.inner.listing.read().unwrap_or_else(|p| p.into_inner());
        if let Some(read) = listing.skills.read(&req.uri) {
            return Ok(read.into());
        }
        match stubs::read(&listing.infos, &req.uri).filter(|_| listing.mode.has_meta_tools()) {
            Some(text) => {
                Ok(ReadResourceResult::new(vec![ResourceContents::text(text, req.uri.clone())])
                    .into())
            }
            None => Err(ErrorData::resource_not_found(
                format!("no resource `{}`; resources/list shows the tool tree", req.uri),
                Some(json!({"uri": req.uri})),
            )),
        }
    }

    async fn list_skills(
        &self,
        _req: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, ErrorData> {
        Ok(ListSkillsResult::with_all_items(self.skills().list()))
    }

    async fn get_skill(
        &self,
        req: GetSkillRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, ErrorData> {
        self.skills().get(&req.uri)
    }

    async fn read_resource_directory(
        &self,
        req: ReadResourceDirectoryRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceDirectoryResult, ErrorData> {
        self.skills().directory(&req.uri)
    }

    async fn list_prompts(
        &self,
        _req: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(self.skills().prompts()))
    }

    async fn get_prompt(
        &self,
        req: GetPromptRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        Ok(self.skills().prompt(&req.name)?.into())
    }

    async fn set_level(
        &self,
        req: SetLevelRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        // 2026-07-28 removed logging/setLevel: the level travels in each request's `_meta`.
        if cx.protocol_version().is_some_and(|v| !v.has_initialize()) {
            return Err(ErrorData::method_not_found::<rmcp::model::SetLevelRequestMethod>());
        }
        *self.inner.level.lock().unwrap_or_else(|p| p.into_inner()) = req.level;
        Ok(())
    }

    async fn on_initialized(&self, cx: NotificationContext<RoleServer>) {
        self.inner.peers.lock().unwrap_or_else(|p| p.into_inner()).push(cx.peer);
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        // The SDK intersects this with what get_info advertises (tools, resources and prompts
        // list_changed).
        let mut accepted = SubscriptionFilter::builder();
        if requested.tools_list_changed == Some(true) {
            accepted = accepted.tools_list_changed();
        }
        if requested.resources_list_changed == Some(true) {
            accepted = accepted.resources_list_changed();
        }
        if requested.prompts_list_changed == Some(true) {
            accepted = accepted.prompts_list_changed();
        }
        Some(accepted.build())
    }

    async fn listen(&self, cx: SubscriptionContext) -> Result<(), ErrorData> {
        let id = self.inner.next_listener.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, cx.sink().clone()));
        cx.cancelled().await;
        self.inner.listeners.lock().unwrap_or_else(|p| p.into_inner()).retain(|(i, _)| *i != id);
        Ok(())
    }
}

/// Sends a progress notification every second while a call runs, if the client asked for
/// progress; the task ends when the returned guard is dropped.
fn report_progress(cx: &RequestContext<RoleServer>) -> Option<tokio_util::sync::DropGuard> {
    let token = cx.meta.get_progress_token()?;
    let peer = cx.peer.clone();
    let stop = tokio_util::sync::CancellationToken::new();
    let guard = stop.clone().drop_guard();
    tokio::spawn(async move {
        let mut seconds = 0u32;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            seconds += 1;
            let note = ProgressNotificationParam::new(token.clone(), f64::from(seconds))
                .with_message(format!("running for {seconds} s"));
            let _ = peer.notify_progress(note).await;
        }
    });
    Some(guard)
}
