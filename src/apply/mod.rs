//! Executes a plan against the backends as one transaction, with an undo journal.

mod lock;

pub use lock::{ApplyLock, LockError};
