//! The apply transaction, whole: re-check, journal, cut-safe write, verification
//! or rollback from what the kernel holds, and the outcome recorded. Everything
//! goes through the backend traits, so the fakes drive all of it.

mod consent;
mod describe;
mod journal;
mod lock;
mod restore;
mod saved;
mod signals;
mod steps;
mod transaction;

pub use consent::mass_delete;
pub use describe::describe;
pub use journal::{
    End, Entry, Header, Journal, JournalError, Outcome, STATE_DIR, Snapshot, SnapshotOut,
    WATCH_COMMAND, format_time, namespace_dir, namespace_state_dir, now as journal_now, sync_dir,
    write_atomic,
};
pub use lock::{ApplyLock, LOCK_DIR, LockError, WRITER_PATIENCE};
pub use restore::{Rollback, restore};
pub use saved::{FORMAT as PLAN_FORMAT, SavedPlan, SavedPlanError};
pub use signals::{Deferred, route as route_signals};
pub use transaction::{
    Applied, ApplyError, Cause, Kernel, Prepared, Record, Steps, execute, prepare, touched,
};
#[cfg(test)]
mod tests;
