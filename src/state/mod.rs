//! The observed model: what the kernel holds, read through the backends.

use crate::{
    backend::{Ipvs, Nft, ipvs, nft},
    model::Balancer,
};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StateError {
    #[error("cannot read the IPVS table")]
    Ipvs(#[source] ipvs::Error),
    #[error("cannot read nft table `inet lvsh`")]
    Nft(#[source] nft::Error),
}

/// Reads IPVS (services, destinations, timeouts, daemons) and the owned nft table
/// into one model.
pub fn read(ipvs: &mut dyn Ipvs, nft: &mut dyn Nft) -> Result<Balancer, StateError> {
    let mut b = ipvs.read().map_err(StateError::Ipvs)?;
    b.marks = nft.read().map_err(StateError::Nft)?;
    Ok(b)
}
