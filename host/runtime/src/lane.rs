//! The long-call lane: fairness between short calls and calls that compute for long.
//!
//! Every call yields to the scheduler at each epoch tick (10 ms). On a machine with few cores,
//! a handful of guests in endless loops would still take most of the CPU from the many short
//! calls around them, round-robin, until their deadlines. So once a call has run for
//! [`RuntimeConfig::long_call_ticks`](crate::RuntimeConfig) epoch ticks (ticks it was running
//! at, so time spent waiting for a core does not count; a typical tool call runs for one to four),
//! it may go on computing only while it holds one of the few lane slots
//! ([`RuntimeConfig::long_call_slots`](crate::RuntimeConfig)). It holds a slot for one turn
//! ([`TURN`]), then queues again behind the other long calls (first come, first served). Waiting
//! counts against the call's own deadline. Nested calls of a program are exempt: their program
//! already takes its turns.
//!
//! Ticks, not fuel: wasmtime charges no fuel for some operators (a guest's `loop { }` burnt
//! 16,616 fuel in a second), so fuel cannot tell a spinning guest from an idle one.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::UpdateDeadline;

/// How long a long call keeps its slot before queuing again.
pub const TURN: Duration = Duration::from_millis(50);

/// One call's place in the lane; decides what happens at each epoch tick.
pub(crate) struct LaneTicket {
    slots: Option<Arc<Semaphore>>,
    long_after_ticks: u32,
    ticks: u32,
    deadline: Instant,
    held: Arc<Mutex<Option<(OwnedSemaphorePermit, Instant)>>>,
}

impl LaneTicket {
    /// A ticket for a call with `deadline` that counts as long after `long_after_ticks` ticks;
    /// `slots` is `None` for calls the lane does not apply to (nested calls).
    pub(crate) fn new(
        slots: Option<Arc<Semaphore>>,
        long_after_ticks: u32,
        deadline: Instant,
    ) -> Self {
        LaneTicket { slots, long_after_ticks, ticks: 0, deadline, held: Arc::default() }
    }

    /// What the epoch callback returns (it runs at each tick the call is running at).
    pub(crate) fn on_tick(&mut self) -> UpdateDeadline {
        let now = Instant::now();
        if now >= self.deadline {
            return UpdateDeadline::Interrupt;
        }
        let Some(slots) = &self.slots else { return UpdateDeadline::Yield(1) };
        self.ticks = self.ticks.saturating_add(1);
        if self.ticks < self.long_after_ticks {
            return UpdateDeadline::Yield(1);
        }
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.as_ref().is_some_and(|(_, since)| now.duration_since(*since) < TURN) {
            return UpdateDeadline::Yield(1);
        }
        // Give the slot back and queue behind the other long calls.
        *held = None;
        drop(held);
        let (slots, held, deadline) = (slots.clone(), self.held.clone(), self.deadline);
        UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                if let Ok(Ok(permit)) =
                    tokio::time::timeout_at(deadline.into(), slots.acquire_owned()).await
                {
                    *held.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some((permit, Instant::now()));
                }
            }),
        )
    }
}
