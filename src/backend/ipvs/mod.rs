//! IPVS over generic netlink (family "IPVS"), and an in-memory fake of it.
//!
//! One file per object encodes the model into attributes and decodes the kernel's
//! attributes back into the model (`service`, `dest`, `daemon`, `config`, `info`,
//! `stats`); `wire` frames bytes, `request` builds whole requests and classifies
//! answers, `explain` words refused requests, `netlink` is the socket and `fake` the
//! kernel stand-in for tests.

pub mod batch;
pub mod config;
pub mod constants;
pub mod daemon;
pub mod dest;
pub mod explain;
#[cfg(test)]
pub mod fake;
pub mod fault;
pub mod info;
pub mod netlink;
pub mod request;
pub mod service;
pub mod stats;
pub mod wire;

#[cfg(test)]
pub use fake::{FakeIpvs, Killed};
pub use info::Info;
pub use netlink::Netlink;
pub use wire::{DecodeError, TooLong};

use crate::backend::KernelError;

/// Why the IPVS backend could not do its work at all (a refused single request is a
/// [`KernelError`] in the per-op results instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("lvsh needs root (CAP_NET_ADMIN) to talk to IPVS")]
    NotRoot,
    #[error("the kernel has no IPVS: {0}")]
    NoIpvs(Box<crate::backend::modprobe::NotLoaded>),
    #[error(
        "network namespace `{0}` does not exist (no /run/netns/{0}; create it with `ip netns add {0}`)"
    )]
    NoNetns(String),
    #[error("cannot {action} network namespace `{name}`: {source}")]
    Netns {
        name: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("netlink: cannot {context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the kernel dropped answers because the socket receive buffer overflowed; \
         re-read the IPVS state before trusting it"
    )]
    Overrun,
    #[error("cannot read the kernel's IPVS state: {0}")]
    Decode(#[from] DecodeError),
    #[error("cannot send a request: {0}")]
    TooLong(#[from] TooLong),
    #[error("{0}")]
    Kernel(KernelError),
}
