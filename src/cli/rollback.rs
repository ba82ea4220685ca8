//! `lvsh rollback [ID]`: back to the state before an apply the journal recorded,
//! planned, shown and applied through the same transaction as `apply`.

use super::{
    CliError, Context,
    apply::{Consent, Phase, Phases, conclude},
    live::Live,
};
use crate::{
    apply::{ApplyLock, Entry, Journal, JournalError, Record, Snapshot, format_time},
    plan::Mode,
};

pub fn run(ctx: &Context, id: Option<u64>, consent: Consent) -> Result<i32, CliError> {
    let mut clock = Phases::start();
    // A journal that cannot say where to go back to is reported before the kernel
    // is opened (it needs neither root nor IPVS), and read again under the lock,
    // where an apply that finished meanwhile may be the newest.
    let journal = Journal::for_netns(ctx.netns.as_deref());
    pick(&journal, id)?;
    let mut live = Live::open(ctx)?;
    let _lock = ApplyLock::acquire_waiting(ctx.netns.as_deref(), crate::apply::WRITER_PATIENCE)?;
    let journal = live.journal();
    let (id, entry, snapshot) = pick(&journal, id)?;
    let observed = live.read()?;
    clock.lap(Phase::Read);
    if !ctx.quiet {
        let h = &entry.header;
        ctx.out(&format!(
            "Back to the state before apply {id} (`{}{}`, {} by {}):\n",
            h.command,
            h.script
                .as_deref()
                .map(|s| format!(" {s}"))
                .unwrap_or_default(),
            format_time(h.started),
            h.user
        ))?;
        if !snapshot.foreign.is_empty() {
            ctx.out(&format!(
                "~ table inet lvsh then also held {} object(s) lvsh did not write; rollback \
                 cannot bring them back:\n",
                snapshot.foreign.len()
            ))?;
            for f in &snapshot.foreign {
                ctx.out(&format!("    {f}\n"))?;
            }
        }
    }
    let record = Record {
        command: format!("rollback {id}"),
        script: None,
        script_sha256: None,
    };
    conclude(
        ctx,
        &mut live,
        observed,
        &snapshot.before,
        vec![],
        Mode::Replace,
        consent,
        record,
        &mut clock,
    )
}

/// The entry to roll back (`None`: the newest) and the state before it.
fn pick(journal: &Journal, id: Option<u64>) -> Result<(u64, Entry, Snapshot), JournalError> {
    let id = match id {
        Some(id) => id,
        None => {
            let entries = journal.entries()?;
            entries.last().ok_or(JournalError::Empty)?.header.id
        }
    };
    Ok((id, journal.entry(id)?, journal.snapshot(id)?))
}
