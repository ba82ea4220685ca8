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
/// into one model.
pub fn read(ipvs: &mut dyn Ipvs, nft: &mut dyn Nft) -> Result<Observed, StateError> {
    let mut balancer = ipvs.read().map_err(StateError::Ipvs)?;
    let table = nft::read_observed(nft).map_err(StateError::Nft)?;
    balancer.marks = table.marks;
    Ok(Observed {
        balancer,
        foreign: table.foreign,
    })
}

/// Brings a desired model into the form the kernel reports it in, so that a plan
/// made after an apply is empty (nft merges adjacent port ranges, for example).
pub fn canonical(desired: &mut Balancer) {
    for rule in desired.marks.values_mut() {
        *rule = nft::canonical(rule);
    }
}
