//! `lvsh apply FILE`: plan against the live kernel, then apply as one transaction.

use super::{
    CliError, Context, input,
    live::{self, Live},
};
use crate::{
    apply::{self, ApplyError, ApplyLock, Steps},
    backend::IpvsOp,
    model::{Balancer, ServiceKey},
    plan::{self, Mode, Plan},
    state::{self, Observed},
};
use std::{
    collections::BTreeSet,
    io::{BufRead, IsTerminal, Write},
    path::Path,
    time::{Duration, Instant},
};

/// Where an apply spends its time, for `-v`.
#[derive(Clone, Copy)]
enum Phase {
    Evaluate,
    /// Waiting for the kernel read once the script is evaluated.
    Wait,
    Open,
    Read,
    Plan,
    Show,
    Apply,
    Reread,
}

const PHASES: [(Phase, &str); 8] = [
    (Phase::Evaluate, "evaluate"),
    (Phase::Wait, "wait"),
    (Phase::Open, "open"),
    (Phase::Read, "read"),
    (Phase::Plan, "plan"),
    (Phase::Show, "show"),
    (Phase::Apply, "apply"),
    (Phase::Reread, "re-read"),
];

/// A stopwatch that books the time since the last lap to a phase.
pub struct Phases {
    last: Instant,
    spent: [Duration; PHASES.len()],
}

impl Phases {
    fn start() -> Phases {
        Phases {
            last: Instant::now(),
            spent: [Duration::ZERO; PHASES.len()],
        }
    }

    /// Books the time since the last lap to `phase`, but the last `tail` of it to
    /// [`Phase::Wait`].
    fn lap_split(&mut self, phase: Phase, tail: Duration) {
        let now = Instant::now();
        let spent = now - self.last;
        self.spent[phase as usize] += spent.saturating_sub(tail);
        self.spent[Phase::Wait as usize] += spent.min(tail);
        self.last = now;
    }

    /// Notes time spent alongside another phase (it does not move the lap).
    fn book(&mut self, phase: Phase, spent: Duration) {
        self.spent[phase as usize] += spent;
    }

    fn lap(&mut self, phase: Phase) {
        let now = Instant::now();
        self.spent[phase as usize] += now - self.last;
        self.last = now;
    }

    /// `timings: evaluate 1.2 ms, ...; peak memory 3.4 MiB` (phases that took no time
    /// left out).
    fn report(&self, requests: Option<usize>) -> String {
        let mut parts = vec![];
        for (phase, name) in PHASES {
            let ms = self.spent[phase as usize].as_secs_f64() * 1e3;
            if ms >= 0.05 {
                parts.push(format!("{name} {ms:.1} ms"));
            }
        }
        let mut line = format!("timings: {}", parts.join(", "));
        if let Some(n) = requests {
            line.push_str(&format!(" ({n} IPVS requests)"));
        }
        if let Some(kib) = peak_memory_kib() {
            line.push_str(&format!("; peak memory {:.1} MiB", kib as f64 / 1024.0));
        }
        line
    }
}

/// The process's peak resident memory (`VmHWM`), when the kernel tells.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

pub fn run(
    ctx: &Context,
    file: &Path,
    merge: bool,
    dry_run: bool,
    yes: bool,
) -> Result<i32, CliError> {
    let mut clock = Phases::start();
    let mode = if merge { Mode::Merge } else { Mode::Replace };
    // The kernel is read while the script evaluates: neither needs the other, and
    // the kernel's side of a dump runs on another CPU. The lock is taken first, so
    // the state read is still the one the plan is applied to (for lvsh writers).
    let (desired, kernel) = std::thread::scope(|s| {
        let reader = s.spawn(|| -> Result<_, CliError> {
            let started = Instant::now();
            let mut live = Live::open(ctx)?;
            let lock = ApplyLock::acquire(ctx.netns.as_deref())?;
            let opened = started.elapsed();
            let observed = live.read()?;
            Ok((live, lock, observed, opened, started.elapsed() - opened))
        });
        let desired = input::evaluate(ctx, file).map(|mut desired| {
            state::canonical(&mut desired);
            desired
        });
        let evaluated = Instant::now();
        let kernel = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (desired, kernel.map(|k| (k, evaluated.elapsed())))
    });
    // A broken script is the first thing to report, whatever the kernel said.
    let desired = desired?;
    let ((mut live, _lock, observed, opened, read), waited) = kernel?;
    clock.lap_split(Phase::Evaluate, waited);
    clock.book(Phase::Open, opened);
    clock.book(Phase::Read, read);
    let Some(prepared) = plan_against(observed, &desired, mode)? else {
        clock.lap(Phase::Plan);
        if !ctx.quiet {
            ctx.out("No changes. The kernel matches the script.\n")?;
        }
        if ctx.verbose {
            eprintln!("{}", clock.report(None));
        }
        return Ok(0);
    };
    clock.lap(Phase::Plan);
    if !ctx.quiet || dry_run {
        ctx.out(&live::foreign_notice(&prepared.observed))?;
        ctx.out_with(|w| prepared.plan.write_text(ctx.color, w))?;
    }
    clock.lap(Phase::Show);
    if dry_run {
        return Ok(0);
    }
    if !yes && std::io::stdin().is_terminal() {
        if !confirm()? {
            return Err(CliError::Cancelled);
        }
        // Time passed while the user read the plan: apply only what they saw.
        if live.read()? != prepared.observed {
            return Err(CliError::KernelChanged);
        }
    }
    clock.lap(Phase::Show);
    let requests = prepared.steps.ipvs.len();
    let summary = execute(&mut live, prepared, &desired, mode, Some(&mut clock))?;
    if !ctx.quiet {
        ctx.out(&format!("{summary}\n"))?;
    }
    if ctx.verbose {
        eprintln!("{}", clock.report(Some(requests)));
    }
    Ok(0)
}

/// What an apply is about to do, against which state.
pub struct Prepared {
    pub observed: Observed,
    pub plan: Plan,
    pub steps: Steps,
}

/// Reads the kernel and plans; `None` when there is nothing to do. The caller holds
/// the namespace lock.
pub fn prepare(
    live: &mut Live,
    desired: &Balancer,
    mode: Mode,
) -> Result<Option<Prepared>, CliError> {
    plan_against(live.read()?, desired, mode)
}

fn plan_against(
    observed: Observed,
    desired: &Balancer,
    mode: Mode,
) -> Result<Option<Prepared>, CliError> {
    let plan = plan::diff(desired, &desired.managed(&observed.balancer), mode);
    let foreign = !observed.foreign.is_empty();
    if plan.is_empty() && !foreign {
        return Ok(None);
    }
    let mut steps = Steps::from_plan(&plan, &observed.balancer);
    if foreign {
        if mode == Mode::Merge {
            return Err(CliError::ForeignInMerge);
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

/// Runs the transaction, then re-reads what it touched: either the kernel now
/// matches `desired` (Ok, with a one-line summary), or everything was rolled back
/// (the error says so), or lvsh says what differs.
pub fn execute(
    live: &mut Live,
    prepared: Prepared,
    desired: &Balancer,
    mode: Mode,
    mut clock: Option<&mut Phases>,
) -> Result<String, CliError> {
    let Prepared {
        observed,
        plan,
        steps,
    } = prepared;
    // The plan was shown; only its counts are left to say. It holds a copy of every
    // object changed, as the steps do: free it before the kernel's answers arrive.
    let (added, changed, deleted) = plan.counts();
    drop(plan);
    let result = apply::run(&steps, &observed.balancer, &mut live.ipvs, &mut live.nft);
    if let Some(c) = clock.as_deref_mut() {
        c.lap(Phase::Apply);
    }
    let nft_written = steps.nft_before.is_some() || steps.nft_after.is_some();
    let services = touched(&steps.ipvs);
    // Free the steps too, for the read that follows.
    drop(steps);
    // Convergence is checked on a fresh read of what the apply touched.
    let after = live.reread(&observed, &services, nft_written);
    match result {
        Ok(_) => {
            let after = after?;
            let rest = plan::diff(desired, &desired.managed(&after.balancer), mode);
            if let Some(c) = clock {
                c.lap(Phase::Reread);
            }
            if !rest.is_empty() || !after.foreign.is_empty() {
                return Err(CliError::NotConverged(format!(
                    "{}{}",
                    live::foreign_notice(&after),
                    rest.render(false)
                )));
            }
            Ok(format!(
                "Applied: {added} added, {changed} changed, {deleted} deleted."
            ))
        }
        Err(e) => {
            let restored = matches!(&after, Ok(now) if now.balancer == observed.balancer);
            Err(failure(e, restored))
        }
    }
}

/// The services the requests change (and whose destinations they change).
fn touched(ops: &[IpvsOp]) -> BTreeSet<ServiceKey> {
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

/// Asks on the terminal; anything but yes cancels.
fn confirm() -> Result<bool, CliError> {
    eprint!("Apply these changes? [y/N] ");
    std::io::stderr().flush().map_err(CliError::Output)?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(CliError::Output)?;
    Ok(matches!(answer.trim(), "yes" | "y"))
}

/// The error of a failed transaction, with what happened to the changes made before.
fn failure(e: ApplyError, restored: bool) -> CliError {
    let mut message = e.to_string();
    if let ApplyError::Refused { also_failed, .. } = &e {
        for (change, err) in also_failed {
            message.push_str(&format!("\n  also refused: {change}: {err}"));
        }
    }
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    let undo = e.undo_failures();
    let help = if undo.is_empty() && restored {
        "nothing was changed: every change that had taken effect was rolled back, and the \
         kernel is as before"
            .to_string()
    } else {
        let mut h = String::from(
            "ROLLBACK INCOMPLETE: the kernel is not as before; run `lvsh plan` with the previous \
             script to see the difference",
        );
        for u in undo {
            h.push_str(&format!("\n  could not {}: {}", u.change, u.error));
        }
        h
    };
    CliError::Apply { message, help }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dest, DestKey, Protocol, Service, Timeouts};

    #[test]
    fn the_re_read_covers_every_service_a_request_touches() {
        let key = |last: u8| ServiceKey::inet(Protocol::Tcp, [10, 0, 0, last].into(), 80);
        let dest = Dest::new(DestKey {
            address: [10, 1, 0, 1].into(),
            port: 80,
        });
        let ops = vec![
            IpvsOp::AddService(Service::new(key(1))),
            IpvsOp::EditService(Service::new(key(2))),
            IpvsOp::DelService(key(3)),
            IpvsOp::AddDest(key(4), dest.clone()),
            IpvsOp::EditDest(key(5), dest.clone()),
            IpvsOp::DelDest(key(6), dest.key),
            IpvsOp::SetTimeouts(Timeouts::default()),
        ];
        let want: BTreeSet<ServiceKey> = (1..=6).map(key).collect();
        assert_eq!(touched(&ops), want);
        assert!(touched(&[]).is_empty());
    }

    /// Drift in the owned table makes apply rewrite it even when no mark changes; the
    /// rewritten table keeps the marks outside a scoped script's scope.
    #[test]
    fn a_table_rewritten_for_drift_keeps_marks_outside_the_scope() {
        let mut observed = Balancer::default();
        let mut rule = crate::model::MarkRule::new(50);
        rule.addresses.insert([10, 0, 0, 50].into());
        observed.marks.insert(50, rule);
        let foreign = crate::backend::nft::Foreign {
            kind: "rule".into(),
            name: "prerouting".into(),
            handle: Some(9),
            detail: "not written by lvsh".into(),
            content: None,
        };
        let desired = Balancer {
            scope: Some(crate::model::Scope::default()),
            ..Balancer::default()
        };
        let observed = Observed {
            balancer: observed,
            foreign: vec![foreign],
        };
        let prepared = plan_against(observed.clone(), &desired, Mode::Replace)
            .unwrap()
            .unwrap();
        assert!(prepared.plan.is_empty());
        assert_eq!(prepared.steps.nft_after, Some(observed.balancer.marks));
    }

    #[test]
    fn time_is_booked_to_phases_and_the_wait_split_off() {
        let mut clock = Phases::start();
        std::thread::sleep(Duration::from_millis(20));
        clock.lap_split(Phase::Evaluate, Duration::from_millis(5));
        clock.book(Phase::Read, Duration::from_millis(7));
        let evaluate = clock.spent[Phase::Evaluate as usize];
        assert!(evaluate >= Duration::from_millis(15), "{evaluate:?}");
        assert_eq!(clock.spent[Phase::Wait as usize], Duration::from_millis(5));
        let report = clock.report(Some(3));
        assert!(report.starts_with("timings: evaluate "), "{report}");
        assert!(
            report.contains(", wait 5.0 ms, read 7.0 ms (3 IPVS requests)"),
            "{report}"
        );
    }
}
