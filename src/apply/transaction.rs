//! The transaction: re-check, journal, write in a cut-safe order, then either verify
//! the new state or restore the old one from what the kernel holds.

use super::{
    Deferred,
    describe::describe,
    journal::{self, Header, Journal, Outcome, SnapshotOut},
    restore::{Rollback, restore},
    signals,
};
use crate::{
    backend::{Ipvs, IpvsOp, KernelError, Nft, addr::Addrs, ipvs, nft, sysctl::Sysctl},
    model::{Balancer, HostAddress, MarkRule, ServiceKey, SysctlValue},
    plan::{self, Mode, Plan},
    state::{self, Observed, StateError},
};
use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

type Marks = BTreeMap<u32, MarkRule>;

/// The kernel of one network namespace, through the backend traits.
pub struct Kernel<'k> {
    pub ipvs: &'k mut dyn Ipvs,
    pub nft: &'k mut (dyn Nft + Send),
    pub sysctl: &'k mut dyn Sysctl,
    pub addr: &'k mut dyn Addrs,
}

impl Kernel<'_> {
    pub fn read(&mut self) -> Result<Observed, StateError> {
        state::read(self.ipvs, self.nft, self.sysctl, self.addr)
    }

    pub fn reread(
        &mut self,
        before: &Observed,
        changed: &BTreeSet<ServiceKey>,
        with_nft: bool,
    ) -> Result<Observed, StateError> {
        state::reread(
            self.ipvs,
            self.nft,
            self.sysctl,
            self.addr,
            before,
            changed,
            with_nft,
        )
    }
}

/// What to send, in order: the sysctls, the addresses added, the nft table before
/// the IPVS requests (marks that appear or widen), the IPVS requests, the nft table
/// after them (marks that narrow or go), the addresses deleted. Each nft write is one
/// atomic transaction.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Steps {
    /// `net.ipv4.vs.*` values to write, first of all (see the plan's order).
    pub sysctls: Vec<(String, SysctlValue)>,
    /// The owned table with the marks added or widened (`None`: no change).
    pub nft_before: Option<Marks>,
    pub ipvs: Vec<IpvsOp>,
    /// The owned table as the script wants it (`None`: no change).
    pub nft_after: Option<Marks>,
    /// Addresses to add with lvsh's mark, before the IPVS requests.
    pub addresses_added: Vec<HostAddress>,
    /// Addresses with lvsh's mark to delete, last of all.
    pub addresses_deleted: Vec<HostAddress>,
}

impl Steps {
    pub fn is_empty(&self) -> bool {
        self.sysctls.is_empty()
            && self.addresses_added.is_empty()
            && self.addresses_deleted.is_empty()
            && self.nft_before.is_none()
            && self.ipvs.is_empty()
            && self.nft_after.is_none()
    }

    pub fn writes_nft(&self) -> bool {
        self.nft_before.is_some() || self.nft_after.is_some()
    }

    /// The services the requests change (and whose destinations they change).
    pub fn touched(&self) -> BTreeSet<ServiceKey> {
        touched(&self.ipvs)
    }
}

/// What an apply is about to do, against which state.
#[derive(Debug)]
pub struct Prepared {
    pub observed: Observed,
    pub plan: Plan,
    pub steps: Steps,
}

/// Plans `desired` against `observed` (read from the kernel); `None` when there is
/// nothing to do.
pub fn prepare(
    observed: Observed,
    desired: &Balancer,
    mode: Mode,
) -> Result<Option<Prepared>, ApplyError> {
    observed
        .has_sysctls_of(desired)
        .and_then(|()| observed.has_interfaces_of(desired))
        .map_err(|e| ApplyError::new(Cause::Read(e), Rollback::NotNeeded))?;
    let plan = plan::diff(desired, &desired.managed(&observed.balancer), mode);
    let foreign = !observed.foreign.is_empty();
    if plan.is_empty() && !foreign {
        return Ok(None);
    }
    let mut steps = Steps::from_plan(&plan, &observed.balancer);
    if foreign {
        if mode == Mode::Merge {
            return Err(ApplyError::new(Cause::ForeignInMerge, Rollback::NotNeeded));
        }
        // No mark changes were planned, so the table ends as observed: that keeps
        // the marks outside a scoped script's scope (desired holds none of them).
        steps.rewrite_table(&observed.balancer.marks);
    }
    Ok(Some(Prepared {
        observed,
        plan,
        steps,
    }))
}

/// What the journal records about who applies what.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// `apply`, `rollback 7`.
    pub command: String,
    pub script: Option<String>,
    pub script_sha256: Option<String>,
}

/// A transaction that reached the new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub added: usize,
    pub changed: usize,
    pub deleted: usize,
    /// IPVS requests sent.
    pub requests: usize,
    /// The journal entry, when there was a journal.
    pub id: Option<u64>,
    /// Time spent writing (journal included) and reading back (the re-check before
    /// and the verification after), for `-v`.
    pub write_time: Duration,
    pub reread_time: Duration,
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Applied: {} added, {} changed, {} deleted.",
            self.added, self.changed, self.deleted
        )
    }
}

/// Runs `prepared` against `kernel` and checks the result against `desired`.
///
/// 1. Re-reads what the plan touches: if another tool changed it since the plan was
///    made, nothing is written ([`Cause::KernelChanged`]).
/// 2. Records the state before and the plan in `journal`, durably.
/// 3. Defers SIGINT/SIGTERM/SIGHUP; writes: nft before, IPVS in batches, nft after,
///    stopping at the first refused request, failed write or signal.
/// 4. On success re-reads and checks that the kernel holds `desired`; on failure
///    restores the state before from what the kernel holds ([`restore`]).
/// 5. Records the outcome.
pub fn execute(
    kernel: &mut Kernel<'_>,
    prepared: Prepared,
    desired: &Balancer,
    mode: Mode,
    journal: Option<(&Journal, Record)>,
) -> Result<Applied, ApplyError> {
    let Prepared {
        observed,
        plan,
        steps,
    } = prepared;
    let started = Instant::now();
    let touched = steps.touched();
    let now = kernel
        .reread(&observed, &touched, steps.writes_nft())
        .map_err(|e| ApplyError::new(Cause::Read(e), Rollback::NotNeeded))?;
    if !now.same_config(&observed) {
        return Err(ApplyError::new(Cause::KernelChanged, Rollback::NotNeeded));
    }
    drop(now);
    let rechecked = started.elapsed();

    let (added, changed, deleted) = plan.counts();
    let id = match &journal {
        Some((journal, record)) => Some(begin(journal, record, &observed, desired, &plan)?),
        None => None,
    };
    // The plan was shown; only its counts are left to say. It holds a copy of every
    // object changed, as the steps do: free it before the kernel's answers arrive.
    drop(plan);
    let deferred = Deferred::install().ok();
    let written = write(kernel, &steps, deferred.as_ref());
    let requests = steps.ipvs.len();
    let nft_written = steps.writes_nft();
    drop(steps);
    let write_time = started.elapsed() - rechecked;

    let result = match written {
        Ok(()) => match verify(kernel, &observed, desired, mode, &touched, nft_written) {
            Ok(()) => Ok(Applied {
                added,
                changed,
                deleted,
                requests,
                id,
                write_time,
                reread_time: started.elapsed() - write_time,
            }),
            Err(cause) => Err(ApplyError::new(cause, Rollback::NotAttempted)),
        },
        Err(cause) => {
            if let Some(d) = &deferred {
                d.restoring();
            }
            let rollback = restore(kernel, &observed, desired.scope.as_ref(), &touched);
            Err(ApplyError::new(cause, rollback))
        }
    };
    drop(deferred);
    if let (Some((journal, _)), Some(id)) = (&journal, id) {
        let (outcome, message) = match &result {
            Ok(_) => (Outcome::Applied, String::new()),
            Err(e) if e.kernel_as_before() => (Outcome::RolledBack, e.to_string()),
            Err(e) => (Outcome::NotRestored, e.to_string()),
        };
        let finished = journal.finish(id, outcome, &message);
        if outcome != Outcome::NotRestored {
            let _ = journal.settle(&format!("apply {id} settled the kernel after it"));
        }
        if let Err(e) = finished {
            // The kernel is settled; the journal will wrongly say this apply was cut
            // off. Say so rather than hide it.
            eprintln!("warning: {}", chain(&e));
        }
    }
    result.map_err(|mut e| {
        e.id = id;
        e
    })
}

/// Writes the journal entry of an apply about to start.
fn begin(
    journal: &Journal,
    record: &Record,
    observed: &Observed,
    desired: &Balancer,
    plan: &Plan,
) -> Result<u64, ApplyError> {
    let (added, changed, deleted) = plan.counts();
    let header = Header {
        id: 0,
        command: record.command.clone(),
        started: journal::now(),
        user: journal::user(),
        pid: std::process::id(),
        script: record.script.clone(),
        script_sha256: record.script_sha256.clone(),
        added,
        changed,
        deleted,
    };
    // The scope travels with the snapshot: rolling back a scoped apply restores
    // only what it owned.
    let mut before = observed.balancer.clone();
    before.scope = desired.scope.clone();
    let foreign: Vec<String> = observed.foreign.iter().map(|f| f.to_string()).collect();
    let snapshot = SnapshotOut {
        before: &before,
        foreign: &foreign,
        plan: plan.json_document(),
    };
    journal
        .begin(header, &snapshot)
        .map_err(|e| ApplyError::new(Cause::Journal(e), Rollback::NotNeeded))
}

/// Sends the steps; the first failure stops everything after it.
fn write(kernel: &mut Kernel<'_>, steps: &Steps, signals: Option<&Deferred>) -> Result<(), Cause> {
    let signal = || signals.and_then(Deferred::received);
    if let Some(sig) = signal() {
        return Err(Cause::Interrupted(sig));
    }
    for (name, value) in &steps.sysctls {
        kernel
            .sysctl
            .write(name, value)
            .map_err(|error| Cause::Refused {
                change: describe_sysctl(name, value),
                error,
                also_failed: Vec::new(),
            })?;
    }
    for a in &steps.addresses_added {
        kernel.addr.add(a).map_err(|error| Cause::Refused {
            change: describe_address(a, true),
            error,
            also_failed: Vec::new(),
        })?;
    }
    if let Some(marks) = &steps.nft_before {
        kernel.nft.replace(marks).map_err(Cause::Nft)?;
    }
    let results = kernel
        .ipvs
        .execute(&steps.ipvs, &mut |done| {
            done.iter().all(Result::is_ok) && signal().is_none()
        })
        .map_err(Cause::Ipvs)?;
    let mut failed = steps
        .ipvs
        .iter()
        .zip(&results)
        .filter_map(|(op, r)| r.as_ref().err().map(|e| (describe(op), e.clone())));
    if let Some((change, error)) = failed.next() {
        return Err(Cause::Refused {
            change,
            error,
            also_failed: failed.collect(),
        });
    }
    if let Some(sig) = signal() {
        return Err(Cause::Interrupted(sig));
    }
    if let Some(marks) = &steps.nft_after {
        kernel.nft.replace(marks).map_err(Cause::Nft)?;
    }
    for a in &steps.addresses_deleted {
        kernel.addr.delete(a).map_err(|error| Cause::Refused {
            change: describe_address(a, false),
            error,
            also_failed: Vec::new(),
        })?;
    }
    Ok(())
}

/// `add address 192.168.10.120/32 on eth0`.
pub fn describe_address(a: &HostAddress, add: bool) -> String {
    let verb = if add { "add" } else { "delete" };
    format!("{verb} address {a}")
}

/// `set sysctl net.ipv4.vs.conntrack to 1`.
pub fn describe_sysctl(name: &str, value: &SysctlValue) -> String {
    format!(
        "set sysctl `{}` to {value}",
        crate::model::sysctl::full_name(name)
    )
}

/// Checks on a fresh read of what the apply touched that the kernel holds `desired`.
fn verify(
    kernel: &mut Kernel<'_>,
    before: &Observed,
    desired: &Balancer,
    mode: Mode,
    touched: &BTreeSet<ServiceKey>,
    nft_written: bool,
) -> Result<(), Cause> {
    let after = kernel
        .reread(before, touched, nft_written)
        .map_err(Cause::Read)?;
    let rest = plan::diff(desired, &desired.managed(&after.balancer), mode);
    if rest.is_empty() && after.foreign.is_empty() {
        Ok(())
    } else {
        Err(Cause::NotConverged(format!(
            "{}{}",
            after.foreign_notice(),
            rest.render(false)
        )))
    }
}

/// The services the requests change (and whose destinations they change).
pub fn touched(ops: &[IpvsOp]) -> BTreeSet<ServiceKey> {
    ops.iter()
        .filter_map(|op| match op {
            IpvsOp::AddService(s) | IpvsOp::EditService(s) => Some(s.key),
            IpvsOp::DelService(k)
            | IpvsOp::AddDest(k, _)
            | IpvsOp::EditDest(k, _)
            | IpvsOp::DelDest(k, _) => Some(*k),
            IpvsOp::SetTimeouts(_) | IpvsOp::AddDaemon(_) | IpvsOp::DelDaemon(_) => None,
        })
        .collect()
}

/// Why a transaction did not reach the new state.
#[derive(Debug)]
pub enum Cause {
    /// The kernel refused a request; sending stopped after its batch.
    Refused {
        change: String,
        error: KernelError,
        /// Other requests of the same batch that also failed.
        also_failed: Vec<(String, KernelError)>,
    },
    /// The conversation with IPVS failed: which requests took effect is unknown.
    Ipvs(ipvs::Error),
    Nft(nft::Error),
    Interrupted(i32),
    /// Everything was accepted, yet the kernel differs from the script (another
    /// writer at the same time, or a value the kernel adjusted).
    NotConverged(String),
    /// The kernel changed between the plan and the write.
    KernelChanged,
    Read(StateError),
    Journal(journal::JournalError),
    /// `--merge` cannot remove what `inet lvsh` holds that lvsh did not write.
    ForeignInMerge,
}

/// A transaction that failed, and what became of the kernel.
#[derive(Debug)]
pub struct ApplyError {
    pub cause: Cause,
    pub rollback: Rollback,
    /// The journal entry, when one was written.
    pub id: Option<u64>,
}

impl ApplyError {
    pub fn new(cause: Cause, rollback: Rollback) -> Self {
        ApplyError {
            cause,
            rollback,
            id: None,
        }
    }

    /// Whether the kernel is as it was before the transaction (exit status 1, not 3).
    pub fn kernel_as_before(&self) -> bool {
        match self.rollback {
            Rollback::NotNeeded | Rollback::Restored => true,
            Rollback::NotAttempted | Rollback::Incomplete { .. } => false,
        }
    }

    /// 1: failed, the kernel is as before; 3: failed, it is not.
    pub fn exit_code(&self) -> i32 {
        if self.kernel_as_before() { 1 } else { 3 }
    }
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Cause::Refused {
                change,
                error,
                also_failed,
            } => {
                write!(f, "the kernel refused to {change}: {error}")?;
                for (change, err) in also_failed {
                    write!(f, "\n  also refused: {change}: {err}")?;
                }
                Ok(())
            }
            Cause::Ipvs(e) => write!(f, "talking to IPVS failed: {}", chain(e)),
            Cause::Nft(e) => write!(f, "nft refused the new `inet lvsh` table: {}", chain(e)),
            Cause::Interrupted(sig) => write!(f, "interrupted by {}", signals::name(*sig)),
            Cause::NotConverged(rest) => {
                write!(
                    f,
                    "after apply the kernel still differs from the script:\n{rest}"
                )
            }
            Cause::KernelChanged => write!(
                f,
                "the kernel changed since the plan was made; nothing was applied"
            ),
            Cause::Read(e) => write!(f, "{}", chain(e)),
            Cause::Journal(e) => write!(f, "{}", chain(e)),
            Cause::ForeignInMerge => write!(
                f,
                "table `inet lvsh` holds objects lvsh did not write, and --merge never deletes"
            ),
        }
    }
}

impl std::error::Error for ApplyError {}

impl miette::Diagnostic for ApplyError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let rollback_hint = match self.id {
            Some(id) => format!("`lvsh rollback {id}` restores the state before this apply"),
            None => "`lvsh plan` with the previous script shows the difference".to_string(),
        };
        let text = match (&self.cause, &self.rollback) {
            (Cause::KernelChanged, _) => {
                "another tool changed IPVS or table `inet lvsh`; run lvsh again to see the new plan"
                    .to_string()
            }
            (Cause::ForeignInMerge, _) => {
                "apply without --merge to replace the table, or remove them by hand first"
                    .to_string()
            }
            (Cause::Journal(_), _) => {
                "lvsh records every apply before changing anything; nothing was changed".to_string()
            }
            (_, Rollback::NotNeeded) => "nothing was changed".to_string(),
            (_, Rollback::Restored) => "nothing was changed: every change that had taken effect \
                 was rolled back, and IPVS, table `inet lvsh`, the sysctls and lvsh's addresses \
                 are as before"
                .to_string(),
            (Cause::NotConverged(_), Rollback::NotAttempted) => format!(
                "something else changed IPVS or table `inet lvsh` at the same time, or the \
                 kernel adjusted a value; `lvsh plan` shows the difference; {rollback_hint}"
            ),
            (_, Rollback::NotAttempted) => {
                format!("the kernel was left as written; {rollback_hint}")
            }
            (_, Rollback::Incomplete { differs }) => format!(
                "ROLLBACK INCOMPLETE: the kernel is not as before. What differs from before:\n{differs}\
                 {rollback_hint}, or apply the script again"
            ),
        };
        Some(Box::new(text))
    }
}

/// An error with its causes, `: `-joined.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    s
}
