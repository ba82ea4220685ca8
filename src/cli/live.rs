//! The live kernel: the IPVS table, its sysctls, the owned nft table and the
//! interfaces' addresses of one network namespace.

use super::{CliError, Context};
use crate::{
    apply::{ApplyLock, Journal, Kernel, format_time},
    backend::{addr::Rtnl, ipvs::Netlink, nft::NftCli, sysctl::ProcSysctl},
    state::{self, Observed},
};

pub struct Live {
    pub ipvs: Netlink,
    pub nft: NftCli,
    pub sysctl: ProcSysctl,
    pub addr: Rtnl,
    netns: Option<String>,
    /// `-q`: warnings are not printed.
    quiet: bool,
}

impl Live {
    pub fn open(ctx: &Context) -> Result<Self, CliError> {
        let netns = ctx.netns.as_deref();
        Ok(Live {
            ipvs: Netlink::open(netns).map_err(CliError::Ipvs)?,
            nft: NftCli::new(netns),
            sysctl: ProcSysctl::new(netns),
            addr: Rtnl::new(netns),
            netns: ctx.netns.clone(),
            quiet: ctx.quiet,
        })
    }

    pub fn kernel(&mut self) -> Kernel<'_> {
        Kernel {
            ipvs: &mut self.ipvs,
            nft: &mut self.nft,
            sysctl: &mut self.sysctl,
            addr: &mut self.addr,
        }
    }

    pub fn read(&mut self) -> Result<Observed, CliError> {
        Ok(state::read(
            &mut self.ipvs,
            &mut self.nft,
            &mut self.sysctl,
            &mut self.addr,
        )?)
    }

    pub fn journal(&self) -> Journal {
        Journal::for_netns(self.netns.as_deref())
    }

    /// Warns on stderr about applies the journal says were cut off. `locked`: the
    /// caller holds the apply lock (else an apply running now is not cut off, and a
    /// held lock means one is running: nothing to say).
    pub fn warn_interrupted(&self, locked: bool) {
        if self.quiet {
            return;
        }
        if !locked && ApplyLock::acquire(self.netns.as_deref()).is_err() {
            return;
        }
        if let Some(text) = interrupted_notice(&self.journal()) {
            eprint!("{text}");
        }
    }
}

/// What to say about cut-off applies; `None` when there are none.
pub fn interrupted_notice(journal: &Journal) -> Option<String> {
    let open = journal.unfinished().ok()?;
    let newest = open.first()?;
    let h = &newest.header;
    let what = match &h.script {
        Some(s) => format!("`{} {s}`", h.command),
        None => format!("`{}`", h.command),
    };
    let mut text = format!(
        "warning: apply {id} was cut off: {what}, started {when} by {user} (pid {pid}), never \
         finished; the kernel may hold part of it\n  \
         `lvsh rollback {id}` restores the state before it; applying the script again \
         finishes it\n",
        id = h.id,
        when = format_time(h.started),
        user = h.user,
        pid = h.pid,
    );
    if open.len() > 1 {
        text.push_str(&format!(
            "  ({} earlier applies were cut off too; `lvsh history` lists them)\n",
            open.len() - 1
        ));
    }
    Some(text)
}
