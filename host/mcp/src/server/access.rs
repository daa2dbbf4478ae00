//! `request_access`: a capability asked for, granted only by the operator (its list, or its
//! answer on the server's terminal) or a human (see the `grants` module for the rules).

use super::*;
use crate::audit;
use crate::grants::{AccessRequest, PROGRAMS, REQUEST_ACCESS, approves};
use crate::terminal::Unanswered;
use rmcp::model::InputRequiredResult;
use rmcp::service::ElicitationMode;
use wasm_host_runtime::LoadedComponent;

/// How long a human has to answer an elicitation before the request counts as refused.
const ASK_FOR: Duration = Duration::from_secs(300);

impl McpServer {
    /// Runs `request_access`: decides, records, answers (or asks, for a stateless client).
    pub(super) async fn request_access(
        &self,
        req: &CallToolRequestParams,
        cx: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = REQUEST_ACCESS;
        let Some(policy) = self.inner.access.as_ref().filter(|p| p.enabled) else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{name}`: the operator did not enable it (--grant-requests)"),
                None,
            ));
        };
        let args = req.arguments.clone().unwrap_or_default();
        let request = match AccessRequest::parse(&args) {
            Ok(r) => r,
            Err(why) => return Ok(convert::error(format!("{name}: {why}")).into()),
        };
        let known = request.component == PROGRAMS
            || self.inner.executor.catalog().get(&request.component).is_some();
        if !known {
            let why = format!("no component `{}` is served", request.component);
            return Ok(convert::error(format!("{name}: {why}")).into());
        }
        let stateless = cx.protocol_version().is_some_and(|v| !v.has_initialize());
        let on_terminal = match &self.inner.terminal {
            Some(t) if !request.auto_approved(policy) => {
                match t.ask(&request.question(), ASK_FOR).await {
                    Err(Unanswered::NoTerminal(why)) => {
                        tracing::warn!(%why, "request_access: asking the client's human instead");
                        None
                    }
                    answer => Some(answer),
                }
            }
            _ => None,
        };
        let decided: Result<&str, String> = if let Some(answer) = on_terminal {
            match answer {
                Ok(true) => Ok("the operator (terminal)"),
                Ok(false) => Err("the operator declined on the terminal".into()),
                Err(why) => Err(why.to_string()),
            }
        } else if request.auto_approved(policy) {
            Ok("the operator ([access] auto_approve)")
        } else if stateless {
            let grants = &self.inner.grants;
            match grants.answer(
                &request,
                req.request_state.as_deref(),
                req.input_responses.as_ref(),
            ) {
                Some(true) => Ok("a human (input-required elicitation)"),
                Some(false) => Err("the human declined".into()),
                None if cx.client_capabilities().is_some_and(|c| c.elicitation.is_some()) => {
                    let (questions, state) = grants.ask(&request);
                    let ask = InputRequiredResult::new(Some(questions), Some(state));
                    return Ok(CallToolResponse::InputRequired(ask));
                }
                None => {
                    Err("no human can be asked: the client does not support elicitation".into())
                }
            }
        } else if cx.peer.supported_elicitation_modes().contains(&ElicitationMode::Form) {
            match cx
                .peer
                .create_elicitation_with_timeout(request.elicitation(), Some(ASK_FOR))
                .await
            {
                Ok(r) if approves(&r.action, r.content.as_ref()) => Ok("a human (elicitation)"),
                Ok(_) => Err("the human declined".into()),
                Err(e) => Err(format!("no answer from the human: {e}")),
            }
        } else {
            Err("no human can be asked: the client does not support elicitation".into())
        };
        let what = request.describe();
        let (outcome, result) = match &decided {
            Ok(by) => {
                self.inner.grants.grant(&request);
                let text = format!("granted: {what}; approved by {by}");
                ("granted", CallToolResult::success(vec![ContentBlock::text(text)]))
            }
            Err(why) => {
                let text = format!(
                    "{name}: refused: {what}: {why}. Only the operator (--dir, --allow-host, --env, [access] auto_approve) or a human can grant it."
                );
                ("refused", convert::error(text))
            }
        };
        if let Some(log) = &self.inner.audit {
            let sent = serde_json::to_vec(&args).unwrap_or_default();
            log.write(&audit::Record {
                time: audit::now(),
                event: "grant",
                tool: name,
                outcome,
                bytes_in: sent.len() as u64,
                args_sha256: audit::sha256_hex(&sent),
                detail: Some(match &decided {
                    Ok(by) => format!("{what}; approved by {by}"),
                    Err(why) => format!("{what}; {why}"),
                }),
                ..audit::Record::default()
            });
        }
        Ok(result.into())
    }

    /// A component with the grants `request_access` gave it, if it has any in force.
    pub(super) fn granted_component(&self, qualified: &str) -> Option<(LoadedComponent, String)> {
        self.inner.access.as_ref()?;
        let (component, tool) = self.inner.executor.catalog().resolve(qualified)?;
        let granted = self.inner.grants.of(&component.name);
        if granted.is_empty() {
            return None;
        }
        let mut extra = wasm_host_policy::EffectiveGrant::default();
        for g in granted {
            match g.capability {
                crate::grants::Capability::Dir(d) => extra.dirs.push(d),
                crate::grants::Capability::Host(h) => extra.hosts.push(h),
                crate::grants::Capability::Env(k, v) => extra.env.push((k, v)),
            }
        }
        Some((component.with_granted(&extra), tool))
    }
}
