//! The only code that talks to the kernel. Each backend sits behind a trait with an
//! in-memory fake, so plan, apply and rollback are tested without root: IPVS
//! (generic netlink), the owned nft table, and the IPVS sysctls (`/proc`).

use crate::model::{
    Balancer, DaemonState, Dest, DestKey, MarkRule, Service, ServiceKey, SyncDaemon, Timeouts,
};
use std::collections::{BTreeMap, BTreeSet};

pub mod addr;
pub mod ipvs;
pub mod modprobe;
pub mod nft;
pub mod sysctl;

/// One IPVS request. `apply` builds these from a plan; a backend sends many per batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpvsOp {
    AddService(Service),
    EditService(Service),
    DelService(ServiceKey),
    AddDest(ServiceKey, Dest),
    EditDest(ServiceKey, Dest),
    DelDest(ServiceKey, DestKey),
    SetTimeouts(Timeouts),
    AddDaemon(SyncDaemon),
    DelDaemon(DaemonState),
}

/// Asked before each batch of a write with the results so far: `false` stops it.
pub type GoOn<'a> = dyn FnMut(&[Result<(), KernelError>]) -> bool + 'a;

/// A request the kernel refused: its errno, and its extended-ack text when it sent one
/// (IPVS never does; the message then comes from lvsh, per request and errno).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (errno {errno})")]
pub struct KernelError {
    pub errno: i32,
    pub message: String,
}

/// The IPVS table of one network namespace.
pub trait Ipvs {
    /// Every service with its destinations and counters, the timeouts and the sync
    /// daemons. `marks` of the result is empty: those live in nft.
    fn read(&mut self) -> Result<Balancer, crate::backend::ipvs::Error>;

    /// Like [`Ipvs::read`], but the destinations of a service that is not in
    /// `changed` and was in `before` may come from `before` instead of the kernel:
    /// destinations are dumped one service at a time, so after an apply that touched
    /// a few services of many this re-reads in a few dumps, not thousands.
    fn read_changed(
        &mut self,
        before: &Balancer,
        changed: &BTreeSet<ServiceKey>,
    ) -> Result<Balancer, crate::backend::ipvs::Error> {
        let _ = (before, changed);
        self.read()
    }

    /// Sends `ops` in order, in batches that never split a new service from its
    /// destinations ([`ipvs::batch`]); returns one result per request sent, in the
    /// same order. The kernel goes on after a failed request within a batch, so
    /// later requests of that batch may have succeeded. `go_on` is asked before each
    /// batch with the results so far: sending stops when it says no, and the results
    /// then cover a prefix of `ops`.
    fn execute(
        &mut self,
        ops: &[IpvsOp],
        go_on: &mut GoOn<'_>,
    ) -> Result<Vec<Result<(), KernelError>>, crate::backend::ipvs::Error>;
}

/// The owned nft table `inet lvsh`; no other table is ever read or written.
pub trait Nft {
    fn read(&mut self) -> Result<BTreeMap<u32, MarkRule>, crate::backend::nft::Error>;

    /// Replaces the whole table content in one atomic transaction; an empty map
    /// removes the table.
    fn replace(
        &mut self,
        marks: &BTreeMap<u32, MarkRule>,
    ) -> Result<(), crate::backend::nft::Error>;
}
