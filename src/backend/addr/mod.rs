//! The addresses of a network namespace's interfaces, through rtnetlink
//! (`RTM_GETADDR`/`RTM_NEWADDR`/`RTM_DELADDR`), and an in-memory fake of them.
//! lvsh writes only addresses carrying its mark ([`IFAPROT_LVSH`]).
//!
//! [`IFAPROT_LVSH`]: crate::model::address::IFAPROT_LVSH

#[cfg(test)]
mod fake;
mod rtnl;
pub mod wire;

#[cfg(test)]
pub use fake::FakeAddrs;
pub use rtnl::Rtnl;

use crate::{
    backend::KernelError,
    model::{Addresses, HostAddress},
};

/// The interface addresses of one network namespace.
pub trait Addrs {
    /// The addresses with lvsh's mark, the others, and the interfaces.
    fn read(&mut self) -> Result<Addresses, Error>;

    /// Adds `a` with lvsh's mark.
    fn add(&mut self, a: &HostAddress) -> Result<(), KernelError>;

    /// Deletes `a` (the caller has seen it carry lvsh's mark).
    fn delete(&mut self, a: &HostAddress) -> Result<(), KernelError>;
}

/// Why the addresses could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Netns(Box<crate::backend::ipvs::Error>),
    #[error("rtnetlink: cannot {context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("rtnetlink: the kernel refused to {context}: {source}")]
    Refused {
        context: &'static str,
        #[source]
        source: KernelError,
    },
    #[error("rtnetlink: cannot read the kernel's answer: {0}")]
    Decode(String),
}

/// The words for a refused address change with `errno`.
pub fn refusal(errno: i32) -> KernelError {
    let message = match errno {
        libc::EEXIST => "the address is there already".to_string(),
        libc::ENODEV => "no such interface".to_string(),
        libc::EADDRNOTAVAIL => "the address is not there".to_string(),
        libc::EPERM | libc::EACCES => "not permitted (lvsh needs root, CAP_NET_ADMIN)".to_string(),
        _ => std::io::Error::from_raw_os_error(errno).to_string(),
    };
    KernelError { errno, message }
}
