//! The run-time side: health checks, drains, and the daemon that keeps every real
//! server's effective weight right. It writes only through `apply`'s transaction.

mod daemon;
mod engine;
mod health;
mod metrics;
mod store;

pub use daemon::{Io, Prober, Request, WatchError, run, transition_line};
pub use engine::{Engine, Event, ProbeKey, Slot, Unprobed};
pub use health::{Tracker, Transition};
pub use metrics::Metrics;
pub use store::{Store, StoreError};
