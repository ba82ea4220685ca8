//! Executes a plan against the backends as one transaction, with an undo journal.

mod describe;
mod inverse;
mod lock;
mod steps;
mod transaction;

pub use describe::describe;
pub use lock::{ApplyLock, LockError};
pub use transaction::{ApplyError, Steps, UndoFailure, run};
