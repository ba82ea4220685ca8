//! `lvsh apply FILE`: plan against the live kernel, then apply as one transaction.

use super::{CliError, Context, input, live::Live};
use crate::{
    apply::{self, ApplyLock, Record, SavedPlan, SavedPlanError},
    model::{Balancer, Hold},
    plan::{self, Mode},
    state::{self, Observed},
};
use std::{
    io::{BufRead, IsTerminal, Write},
    path::Path,
    time::{Duration, Instant},
};

/// Where an apply spends its time, for `-v`.
#[derive(Clone, Copy)]
pub enum Phase {
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
    pub fn start() -> Phases {
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

    pub fn lap(&mut self, phase: Phase) {
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

/// What `apply` (and `rollback`) may do besides showing the plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct Consent {
    pub dry_run: bool,
    pub yes: bool,
    pub allow_mass_delete: bool,
}

pub fn run(
    ctx: &Context,
    file: &Path,
    merge: bool,
    skip_empty: bool,
    consent: Consent,
) -> Result<i32, CliError> {
    if file != Path::new("-") {
        if let Ok(text) = std::fs::read_to_string(file) {
            if let Some(saved) = SavedPlan::detect(&text) {
                let saved = saved.map_err(|source| CliError::PlanFile {
                    path: file.to_path_buf(),
                    source,
                })?;
                if skip_empty && saved.desired.is_empty() {
                    return Ok(skipped(ctx, file, "the saved plan's script"));
                }
                return run_saved(ctx, file, saved, merge, consent);
            }
        }
    }
    let mut clock = Phases::start();
    // With --skip-empty the script is evaluated before the kernel is opened: an
    // empty one must not fail for want of ip_vs at boot, nor wait for the lock.
    let early = match skip_empty {
        true => {
            let desired = evaluate(ctx, file)?;
            if desired.is_empty() {
                return Ok(skipped(ctx, file, "the script"));
            }
            Some(desired)
        }
        false => None,
    };
    let mode = if merge { Mode::Merge } else { Mode::Replace };
    // The kernel is read while the script evaluates: neither needs the other, and
    // the kernel's side of a dump runs on another CPU. The lock is taken first, so
    // the state read is still the one the plan is applied to (for lvsh writers).
    let (desired, kernel) = std::thread::scope(|s| {
        let reader = s.spawn(|| -> Result<_, CliError> {
            let started = Instant::now();
            let live = Live::open(ctx)?;
            let lock =
                ApplyLock::acquire_waiting(ctx.netns.as_deref(), crate::apply::WRITER_PATIENCE)?;
            let opened = started.elapsed();
            let mut live = live;
            let observed = live.read()?;
            Ok((live, lock, observed, opened, started.elapsed() - opened))
        });
        let desired = early.map_or_else(|| evaluate(ctx, file), Ok);
        let evaluated = Instant::now();
        let kernel = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (desired, kernel.map(|k| (k, evaluated.elapsed())))
    });
    // A broken script is the first thing to report, whatever the kernel said.
    let desired = desired?;
    let ((mut live, _lock, observed, opened, read), waited) = kernel?;
    live.warn_interrupted(true);
    clock.lap_split(Phase::Evaluate, waited);
    clock.book(Phase::Open, opened);
    clock.book(Phase::Read, read);
    let record = Record {
        command: "apply".into(),
        script: Some(file.display().to_string()),
        script_sha256: ctx.script_sha256(file),
    };
    // Read under the lock, as `lvsh drain` writes it under the lock.
    let (desired, holds) = super::plan::held(ctx, &desired)?;
    conclude(
        ctx, &mut live, observed, &desired, holds, mode, consent, record, &mut clock,
    )
}

/// The script's model, validated and in the kernel's canonical form.
fn evaluate(ctx: &Context, file: &Path) -> Result<Balancer, CliError> {
    input::evaluate(ctx, file).map(|mut desired| {
        state::canonical(&mut desired);
        desired
    })
}

/// `--skip-empty` on a script that declares nothing: says so, changes nothing.
fn skipped(ctx: &Context, file: &Path, what: &str) -> i32 {
    ctx.note(&format!(
        "`{}`: {what} declares no services, marks, timeouts, sync daemons or sysctls; \
         --skip-empty: nothing was changed, and the kernel was not read\n",
        file.display()
    ));
    0
}

/// `lvsh apply FILE.plan`: exactly the saved plan, if the kernel is still as it was.
fn run_saved(
    ctx: &Context,
    file: &Path,
    saved: SavedPlan,
    merge: bool,
    consent: Consent,
) -> Result<i32, CliError> {
    if merge && !saved.merge {
        return Err(CliError::MergeOnSavedPlan);
    }
    let mut clock = Phases::start();
    let mut live = Live::open(ctx)?;
    let _lock = ApplyLock::acquire_waiting(ctx.netns.as_deref(), crate::apply::WRITER_PATIENCE)?;
    live.warn_interrupted(true);
    let observed = live.read()?;
    clock.lap(Phase::Read);
    let path = file.display().to_string();
    saved.check(&path, ctx.netns.as_deref(), &observed)?;
    let mode = saved.mode();
    // The same lvsh against the same state and the same holds plans the same; say
    // so if it did not (a drain that began or ended since changes the plan).
    let (desired, holds) = super::plan::held(ctx, &saved.desired)?;
    let again =
        plan::diff(&desired, &desired.managed(&observed.balancer), mode).with_holds(holds.clone());
    let again: serde_json::Value =
        serde_json::from_str(&again.to_json()).expect("the plan's JSON parses");
    if again != saved.plan {
        return Err(SavedPlanError::Differs { path }.into());
    }
    let record = Record {
        command: "apply".into(),
        script: Some(match &saved.script {
            Some(s) => format!("{path} (plan of {s})"),
            None => path,
        }),
        script_sha256: saved.script_sha256.clone(),
    };
    conclude(
        ctx, &mut live, observed, &desired, holds, mode, consent, record, &mut clock,
    )
}

/// Plans, shows, asks, and applies: what `apply` and `rollback` share once the
/// desired model and the kernel's state are known. The caller holds the lock.
/// `desired` carries the held weights already; `holds` says which, for the plan.
#[allow(clippy::too_many_arguments)]
pub fn conclude(
    ctx: &Context,
    live: &mut Live,
    observed: Observed,
    desired: &Balancer,
    holds: Vec<Hold>,
    mode: Mode,
    consent: Consent,
    record: Record,
    clock: &mut Phases,
) -> Result<i32, CliError> {
    note_forwarding(ctx, desired, &observed);
    let Some(mut prepared) = apply::prepare(observed, desired, mode)? else {
        clock.lap(Phase::Plan);
        // The kernel already holds what was asked: an apply cut off earlier is
        // settled (we hold the lock, so none is running).
        if let Err(e) = live
            .journal()
            .settle("a later apply found the kernel as asked")
        {
            eprintln!("warning: {e}");
        }
        if !ctx.quiet {
            let plan = plan::Plan::default().with_holds(holds);
            ctx.out_with(|w| plan.write_text(ctx.color, w))?;
            super::plan::note_watch(ctx, &plan.holds);
        }
        if ctx.verbose {
            eprintln!("{}", clock.report(None));
        }
        return Ok(0);
    };
    clock.lap(Phase::Plan);
    prepared.plan.holds = holds;
    if !ctx.quiet || consent.dry_run {
        let managed = desired.managed(&prepared.observed.balancer);
        ctx.out(&super::plan::scope_notice(
            desired,
            &prepared.observed.balancer,
            &managed,
        ))?;
        ctx.out(&prepared.observed.foreign_notice())?;
        // Only drift in the table: no "No changes" line before it is repaired.
        if !prepared.plan.is_empty() {
            ctx.out_with(|w| prepared.plan.write_text(ctx.color, w))?;
        } else {
            ctx.out_with(|w| prepared.plan.write_holds(ctx.color, w))?;
        }
        super::plan::note_watch(ctx, &prepared.plan.holds);
    }
    clock.lap(Phase::Show);
    if consent.dry_run {
        return Ok(0);
    }
    if let Some((deleted, total)) = apply::mass_delete(&prepared.plan, &prepared.observed.balancer)
    {
        if !consent.allow_mass_delete {
            return Err(CliError::MassDelete { deleted, total });
        }
    }
    if !consent.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::NeedsYes);
        }
        if !confirm()? {
            return Err(CliError::Cancelled);
        }
    }
    clock.lap(Phase::Show);
    let foreign = prepared.observed.foreign.len();
    let journal = live.journal();
    let applied = apply::execute(
        &mut live.kernel(),
        prepared,
        desired,
        mode,
        Some((&journal, record)),
    )?;
    clock.book(Phase::Apply, applied.write_time);
    clock.book(Phase::Reread, applied.reread_time);
    if !ctx.quiet {
        if applied.added + applied.changed + applied.deleted == 0 {
            ctx.out(&format!(
                "Applied: table inet lvsh rewritten without the {foreign} object(s) lvsh did not write.\n"
            ))?;
        } else {
            ctx.out(&format!("{applied}\n"))?;
        }
    }
    if ctx.verbose {
        eprintln!("{}", clock.report(Some(applied.requests)));
    }
    Ok(0)
}

/// Warns about NAT services on a host that does not forward (see
/// [`forwarding_warnings`](crate::model::sysctl::forwarding_warnings)).
pub fn note_forwarding(ctx: &Context, desired: &Balancer, observed: &Observed) {
    for w in crate::model::sysctl::forwarding_warnings(desired, &observed.balancer.sysctls) {
        ctx.note(&format!("{w}\n"));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
