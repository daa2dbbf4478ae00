//! A runner component loaded now, or on first use (and warmed in the background): a cold `serve`
//! need not compile the 13–20 MB code-mode runners before it answers `tools/list`.
//!
//! Every caller that needs the runner while it loads waits for the same load (one compile, never
//! two); a load that failed is reported to each caller with why, and tried again by the next one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::Mutex;
use wasm_host_runtime::LoadedComponent;

/// Loads a runner: the component, or why not (the message names the file and what failed).
pub type RunnerLoader = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Arc<LoadedComponent>, String>> + Send>>
        + Send
        + Sync,
>;

/// A runner, loaded or to be loaded by its loader.
#[derive(Clone)]
pub struct RunnerSlot {
    loaded: Arc<Mutex<Option<Arc<LoadedComponent>>>>,
    loader: Option<RunnerLoader>,
}

impl RunnerSlot {
    /// A runner already loaded.
    pub fn ready(component: Arc<LoadedComponent>) -> Self {
        RunnerSlot { loaded: Arc::new(Mutex::new(Some(component))), loader: None }
    }

    /// A runner `loader` loads on first use (or when [`RunnerSlot::warm_up`] is called).
    pub fn deferred(loader: RunnerLoader) -> Self {
        RunnerSlot { loaded: Arc::new(Mutex::new(None)), loader: Some(loader) }
    }

    /// The runner, loading it first if needed; concurrent callers share one load.
    pub async fn get(&self) -> Result<Arc<LoadedComponent>, String> {
        let mut slot = self.loaded.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let loader = self.loader.as_ref().ok_or("the runner was never given")?;
        let started = std::time::Instant::now();
        let component = loader().await?;
        tracing::info!(runner = %component.name, ms = started.elapsed().as_millis() as u64, "runner loaded");
        *slot = Some(component.clone());
        Ok(component)
    }

    /// Starts loading in the background (on the current tokio runtime), so the first program
    /// does not wait for the whole compile; a failure is logged and retried on first use.
    pub fn warm_up(&self) {
        let slot = self.clone();
        tokio::spawn(async move {
            if let Err(why) = slot.get().await {
                tracing::warn!(%why, "loading a code-mode runner in the background failed");
            }
        });
    }
}
