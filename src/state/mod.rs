//! The observed model: what the kernel holds, read through the backends.

use crate::{
    backend::{
        Ipvs, Nft, ipvs,
        nft::{self, Foreign},
    },
    model::Balancer,
};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StateError {
    #[error("cannot read the IPVS table")]
    Ipvs(#[source] ipvs::Error),
    #[error("cannot read nft table `inet lvsh`")]
    Nft(#[source] nft::Error),
}

/// The kernel's state, and what table `inet lvsh` holds that lvsh did not write.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub balancer: Balancer,
    /// Drift in the owned table: any write replaces the table and removes these.
    pub foreign: Vec<Foreign>,
}

/// Reads IPVS (services, destinations, timeouts, daemons) and the owned nft table
/// into one model. `nft` is a process of its own: it runs on another thread while
/// this one dumps IPVS, so its start-up costs no time.
pub fn read(ipvs: &mut dyn Ipvs, nft: &mut (dyn Nft + Send)) -> Result<Observed, StateError> {
    let (balancer, table) = std::thread::scope(|s| {
        let table = s.spawn(|| nft::read_observed(nft));
        let balancer = ipvs.read();
        let table = table
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (balancer, table)
    });
    Ok(Observed::new(
        balancer.map_err(StateError::Ipvs)?,
        table.map_err(StateError::Nft)?,
    ))
}

impl Observed {
    /// The IPVS state with the owned table's marks and drift.
    pub fn new(mut balancer: Balancer, table: nft::Observed) -> Self {
        balancer.marks = table.marks;
        Observed {
            balancer,
            foreign: table.foreign,
        }
    }
}

/// Brings a desired model into the form the kernel reports it in, so that a plan
/// made after an apply is empty (nft merges adjacent port ranges, for example).
pub fn canonical(desired: &mut Balancer) {
    for rule in desired.marks.values_mut() {
        *rule = nft::canonical(rule);
    }
}
