//! The run-time side: health checks, drains, and the daemon that keeps every real
//! server's effective weight right. It writes only through `apply`'s transaction.

pub mod probe;
mod store;

pub use store::{Store, StoreError};
