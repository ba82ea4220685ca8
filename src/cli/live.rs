//! The live kernel: the IPVS table and the owned nft table of one network namespace.

use super::{CliError, Context};
use crate::{
    backend::{
        ipvs::Netlink,
        nft::{self, NftCli},
    },
    model::ServiceKey,
    state::{self, Observed, StateError},
};
use std::collections::BTreeSet;

pub struct Live {
    pub ipvs: Netlink,
    pub nft: NftCli,
}

impl Live {
    pub fn open(ctx: &Context) -> Result<Self, CliError> {
        let netns = ctx.netns.as_deref();
        Ok(Live {
            ipvs: Netlink::open(netns).map_err(CliError::Ipvs)?,
            nft: NftCli::new(netns),
        })
    }

    pub fn read(&mut self) -> Result<Observed, CliError> {
        Ok(state::read(&mut self.ipvs, &mut self.nft)?)
    }

    /// Reads the state after an apply: the destinations of the services in
    /// `changed` (and of services new since `before`), the rest as `before` read
    /// them; the owned table only when the apply wrote it (lvsh's lock keeps lvsh
    /// to one writer at a time).
    pub fn reread(
        &mut self,
        before: &Observed,
        changed: &BTreeSet<ServiceKey>,
        nft_written: bool,
    ) -> Result<Observed, CliError> {
        let Live { ipvs, nft } = self;
        let (balancer, table) = std::thread::scope(|s| {
            let table = nft_written.then(|| s.spawn(|| nft::read_observed(nft)));
            let balancer = ipvs.read_changed(&before.balancer, changed);
            let table = table.map(|t| {
                t.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            });
            (balancer, table)
        });
        let balancer = balancer.map_err(StateError::Ipvs)?;
        let table = match table {
            Some(table) => table.map_err(StateError::Nft)?,
            None => nft::Observed {
                marks: before.balancer.marks.clone(),
                foreign: before.foreign.clone(),
            },
        };
        Ok(Observed::new(balancer, table))
    }
}

/// Lines telling what `inet lvsh` holds that lvsh did not write; empty when nothing.
pub fn foreign_notice(observed: &Observed) -> String {
    if observed.foreign.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "~ table inet lvsh holds {} object{} lvsh did not write; apply removes {}:\n",
        observed.foreign.len(),
        if observed.foreign.len() == 1 { "" } else { "s" },
        if observed.foreign.len() == 1 {
            "it"
        } else {
            "them"
        },
    );
    for f in &observed.foreign {
        s.push_str(&format!("    {f}\n"));
    }
    s
}
