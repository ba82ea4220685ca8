//! The sysctls lvsh manages in one network namespace (`/proc/sys/net/ipv4/vs/*` and
//! the host ones a director needs), read and
//! written from inside that namespace (`/proc/sys/net` shows the namespace of the
//! thread that looks), and an in-memory fake of them.

#[cfg(test)]
mod fake;
mod proc;

#[cfg(test)]
pub use fake::FakeSysctl;
pub use proc::ProcSysctl;

use crate::{
    backend::KernelError,
    model::{SysctlValue, Sysctls},
};
use std::{io, path::PathBuf};

/// The `net.ipv4.vs.*` and host sysctls of one network namespace.
pub trait Sysctl {
    /// Every sysctl lvsh knows that the namespace has; no IPVS ones when it has no
    /// `/proc/sys/net/ipv4/vs` (ip_vs not loaded, or a namespace that belongs to
    /// another user namespace). Only a script that sets one needs them.
    fn read(&mut self) -> Result<Sysctls, Error>;

    /// Writes one; a refusal carries the errno and says why.
    fn write(&mut self, name: &str, value: &SysctlValue) -> Result<(), KernelError>;
}

/// Why the sysctls could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Netns(Box<crate::backend::ipvs::Error>),
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{}` holds `{text}`, which lvsh cannot read", path.display())]
    Parse { path: PathBuf, text: String },
}

/// The words for a refused write of `name` with `errno` (the change that failed names
/// the sysctl and the value).
pub fn refusal(name: &str, errno: i32) -> KernelError {
    let message = match errno {
        libc::ENOENT if crate::model::sysctl::interface_of(name).is_some() => {
            "no such sysctl (the interface does not exist)".to_string()
        }
        libc::ENOENT if crate::model::sysctl::is_host(name) => "no such sysctl".to_string(),
        libc::ENOENT => {
            "no such sysctl (ip_vs is not loaded, or this kernel is older than it)".to_string()
        }
        libc::EINVAL => "invalid value".to_string(),
        libc::EPERM | libc::EACCES => "not permitted (not root, or a sysctl that is read-only \
             in a namespace of another user namespace)"
            .to_string(),
        _ => io::Error::from_raw_os_error(errno).to_string(),
    };
    KernelError { errno, message }
}
