//! Backpressure: bounded concurrency per tool and overall, with a bounded wait queue. When the
//! queue is full a call fails at once with a clear "busy" error instead of piling up memory.
//! One gate per catalog: direct calls take a tool slot and an overall slot; a program's nested
//! `tools.call` takes the tool's slot only (the program already holds an overall one, so nested
//! calls cannot deadlock the overall pool).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Concurrency limits. Defaults follow the architecture card: 64 per tool, 256 overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateLimits {
    /// Calls of one tool running at once. Default 64.
    pub per_tool: usize,
    /// Calls running at once over all tools. Default 256.
    pub total: usize,
    /// Calls waiting for a slot before new ones are refused as busy. Default 1024.
    pub queue: usize,
}

impl Default for GateLimits {
    fn default() -> Self {
        GateLimits { per_tool: 64, total: 256, queue: 1024 }
    }
}

/// Why a call was not admitted.
#[derive(Debug, thiserror::Error)]
#[error(
    "server busy: {waiting} calls are already waiting (queue limit {queue}; {total} may run at once, {per_tool} per tool); retry later"
)]
pub struct Busy {
    waiting: usize,
    queue: usize,
    total: usize,
    per_tool: usize,
}

/// Holds the slots of one admitted call (the overall one is absent for nested calls).
pub struct Admitted {
    _tool: OwnedSemaphorePermit,
    _total: Option<OwnedSemaphorePermit>,
}

/// The slots of one catalog's calls.
pub struct Gate {
    limits: GateLimits,
    total: Arc<Semaphore>,
    per_tool: Mutex<HashMap<String, Arc<Semaphore>>>,
    waiting: AtomicUsize,
}

impl Gate {
    /// A gate with `limits`.
    pub fn new(limits: GateLimits) -> Self {
        Gate {
            limits,
            total: Arc::new(Semaphore::new(limits.total)),
            per_tool: Mutex::new(HashMap::new()),
            waiting: AtomicUsize::new(0),
        }
    }

    /// The limits.
    pub fn limits(&self) -> GateLimits {
        self.limits
    }

    /// Waits for a slot for `tool` and an overall one, or fails at once when the wait queue is full.
    pub async fn enter(&self, tool: &str) -> Result<Admitted, Busy> {
        self.admit(tool, true).await
    }

    /// Waits for a slot of `tool` only (a nested call), or fails when the wait queue is full.
    pub async fn enter_nested(&self, tool: &str) -> Result<Admitted, Busy> {
        self.admit(tool, false).await
    }

    async fn admit(&self, tool: &str, overall: bool) -> Result<Admitted, Busy> {
        let tool_slots = {
            let mut map = self.per_tool.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(tool.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.limits.per_tool)))
                .clone()
        };
        // A free slot needs no place in the queue.
        if let Ok(t) = tool_slots.clone().try_acquire_owned() {
            if !overall {
                return Ok(Admitted { _tool: t, _total: None });
            }
            if let Ok(all) = self.total.clone().try_acquire_owned() {
                return Ok(Admitted { _tool: t, _total: Some(all) });
            }
        }
        let waiting = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _leave = Leave(&self.waiting);
        if waiting >= self.limits.queue {
            let l = self.limits;
            return Err(Busy { waiting, queue: l.queue, total: l.total, per_tool: l.per_tool });
        }
        // The semaphores are never closed, so acquiring cannot fail.
        let closed = |_| Busy { waiting, queue: 0, total: 0, per_tool: 0 };
        let t = tool_slots.acquire_owned().await.map_err(closed)?;
        let all = if overall {
            Some(self.total.clone().acquire_owned().await.map_err(closed)?)
        } else {
            None
        };
        Ok(Admitted { _tool: t, _total: all })
    }

    /// Calls waiting for a slot right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

/// Decrements the waiting count when the wait ends, however it ends.
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once_and_slots_return() {
        let gate = Arc::new(Gate::new(GateLimits { per_tool: 1, total: 4, queue: 2 }));
        let first = gate.enter("t").await.expect("a free slot");
        // The next call waits (in the queue) for the tool's only slot.
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter("t").await.map(drop) })
        };
        while gate.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        let other_tool = gate.enter("u").await.expect("other tools are not blocked by t's limit");
        // `u` was admitted; one call waits. One more fills the queue; then busy.
        let second_waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter("t").await.map(drop) })
        };
        while gate.waiting() < 2 {
            tokio::task::yield_now().await;
        }
        let err = gate.enter("t").await.err().expect("busy");
        assert!(
            err.to_string().contains("server busy") && err.to_string().contains("queue limit 2"),
            "{err}"
        );
        drop((first, other_tool));
        waiter.await.expect("task").expect("admitted once the slot returned");
        second_waiter.await.expect("task").expect("admitted in turn");
        assert_eq!(gate.waiting(), 0);
    }

    #[tokio::test]
    async fn a_zero_queue_still_admits_calls_with_a_free_slot() {
        let gate = Gate::new(GateLimits { per_tool: 1, total: 4, queue: 0 });
        let first = gate.enter("t").await.expect("the slot is free: no queue needed");
        assert!(gate.enter("t").await.is_err(), "no free slot and no queue: busy");
        drop(first);
        gate.enter("t").await.expect("the slot came back");
    }
}
