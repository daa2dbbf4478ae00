//! The per-call resource limiter: caps linear memory (summed over the instance's memories) and
//! table growth, records the peak, and remembers a refusal so the error can name the limit.

/// Tracks and limits one call's memories and tables.
pub(crate) struct Limiter {
    memory_limit: u64,
    table_limit: u64,
    memory_in_use: u64,
    /// Highest `memory_in_use` seen, in bytes.
    pub peak_memory: u64,
    /// The total size a refused memory grow asked for.
    pub memory_refused: Option<u64>,
    /// The size a refused table grow asked for.
    pub table_refused: Option<u64>,
}

impl Limiter {
    pub fn new(memory_limit: u64, table_limit: u64) -> Self {
        Limiter {
            memory_limit,
            table_limit,
            memory_in_use: 0,
            peak_memory: 0,
            memory_refused: None,
            table_refused: None,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.memory_in_use + (desired.saturating_sub(current)) as u64;
        if total > self.memory_limit {
            self.memory_refused = Some(total);
            return Ok(false);
        }
        self.memory_in_use = total;
        self.peak_memory = self.peak_memory.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.table_limit {
            self.table_refused = Some(desired as u64);
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        // A component's core instances; componentize-py components have a few dozen.
        1_000
    }

    fn tables(&self) -> usize {
        1_000
    }

    fn memories(&self) -> usize {
        1_000
    }
}

impl Limiter {
    /// The memory limit, in bytes.
    pub fn memory_limit(&self) -> u64 {
        self.memory_limit
    }

    /// The table element limit.
    pub fn table_limit(&self) -> u64 {
        self.table_limit
    }
}
