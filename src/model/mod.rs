//! The load balancer as plain data: what a script wants and what the kernel holds are
//! the same types, compared by key. No I/O, no rhai, no netlink here.

pub mod address;
mod balancer;
mod check;
mod daemon;
mod dest;
mod dests;
mod family;
mod holds;
mod keyed;
mod mark;
mod origin;
mod protocol;
pub mod runtime;
mod scheduler;
mod scope;
mod service;
mod stats;
pub mod sysctl;
mod timeouts;
pub mod validate;

pub use address::{Addresses, HostAddress};
pub use balancer::{Balancer, is_probe_service};
pub use check::{
    Check, CheckKind, Checks, DestChecks, HttpCheck, OnDown, PROBE_MARKS, ServiceChecks,
    StatusRange,
};
pub use daemon::{DaemonState, SyncDaemon};
pub use dest::{DEFAULT_WEIGHT, Dest, DestKey, Forward, TunnelChecksum, TunnelKind};
pub use dests::Dests;
pub use family::Family;
pub use holds::{Hold, HoldReason, effective};
pub use keyed::Keyed;
pub use mark::{MarkRule, PortRange};
pub use origin::{Origin, Pos};
pub use protocol::Protocol;
pub use runtime::{Drain, DrainState, Health, HealthState, ProbeResult, Runtime, ServerRuntime};
pub use scheduler::{SchedFlag, SchedFlags, Scheduler};
pub use scope::{MarkRange, Prefix, Scope};
pub use service::{DEFAULT_PERSIST_TIMEOUT, Netmask, PersistenceEngine, Service, ServiceKey};
pub use stats::{DestCounters, Stats, StatsBox};
pub use sysctl::{SysctlValue, Sysctls};
pub use timeouts::Timeouts;
pub use validate::{Field, Place, Problem, Severity, Subject, validate};
