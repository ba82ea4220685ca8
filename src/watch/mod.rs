//! The run-time side: health checks, drains, and the daemon that keeps every real
//! server's effective weight right. It writes only through `apply`'s transaction.

mod daemon;
pub mod drain;
mod engine;
mod health;
mod metrics;
pub mod probe;
pub mod status;
mod store;

pub use daemon::{Io, Prober, Request, WatchError, run, transition_line};
pub use engine::{Engine, Event, ProbeId, ProbeKey, Slot, Unprobed, Via};
pub use health::{Tracker, Transition};
pub use metrics::Metrics;
pub use status::{ServerStatus, ServiceStatus, Status};
pub use store::{Store, StoreError};
