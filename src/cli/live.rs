//! The live kernel: the IPVS table and the owned nft table of one network namespace.

use super::{CliError, Context};
use crate::{
    backend::{ipvs::Netlink, nft::NftCli},
    state::{self, Observed},
};

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
