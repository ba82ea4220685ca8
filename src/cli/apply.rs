//! `lvsh apply FILE`: plan against the live kernel, then apply as one transaction.

use super::{
    CliError, Context, input,
    live::{self, Live},
};
use crate::{
    apply::{self, ApplyError, ApplyLock, Steps},
    model::Balancer,
    plan::{self, Mode, Plan},
    state::{self, Observed},
};
use std::{
    io::{BufRead, IsTerminal, Write},
    path::Path,
    time::Instant,
};

pub fn run(
    ctx: &Context,
    file: &Path,
    merge: bool,
    dry_run: bool,
    yes: bool,
) -> Result<i32, CliError> {
    let mut desired = input::evaluate(ctx, file)?;
    state::canonical(&mut desired);
    let mode = if merge { Mode::Merge } else { Mode::Replace };
    let mut live = Live::open(ctx)?;
    let _lock = ApplyLock::acquire(ctx.netns.as_deref())?;
    let started = Instant::now();
    let Some(prepared) = prepare(&mut live, &desired, mode)? else {
        if !ctx.quiet {
            ctx.out("No changes. The kernel matches the script.\n")?;
        }
        return Ok(0);
    };
    if !ctx.quiet || dry_run {
        ctx.out(&format!(
            "{}{}",
            live::foreign_notice(&prepared.observed),
            prepared.plan.render(ctx.color)
        ))?;
    }
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
    let summary = execute(&mut live, &prepared, &desired, mode)?;
    if !ctx.quiet {
        ctx.out(&format!("{summary}\n"))?;
    }
    if ctx.verbose {
        eprintln!(
            "{} IPVS requests; {:.1} ms in all",
            prepared.steps.ipvs.len(),
            started.elapsed().as_secs_f64() * 1e3
        );
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
    let observed = live.read()?;
    let plan = plan::diff(desired, &observed.balancer, mode);
    let foreign = !observed.foreign.is_empty();
    if plan.is_empty() && !foreign {
        return Ok(None);
    }
    let mut steps = Steps::from_plan(&plan, &observed.balancer);
    if foreign {
        if mode == Mode::Merge {
            return Err(CliError::ForeignInMerge);
        }
        steps.rewrite_table(&desired.marks);
    }
    Ok(Some(Prepared {
        observed,
        plan,
        steps,
    }))
}

/// Runs the transaction, then re-reads the kernel: either it now matches `desired`
/// (Ok, with a one-line summary), or everything was rolled back (the error says so),
/// or lvsh says what differs.
pub fn execute(
    live: &mut Live,
    prepared: &Prepared,
    desired: &Balancer,
    mode: Mode,
) -> Result<String, CliError> {
    let before = &prepared.observed;
    let result = apply::run(
        &prepared.steps,
        &before.balancer,
        &mut live.ipvs,
        &mut live.nft,
    );
    let after = live.read();
    match result {
        Ok(_) => {
            let after = after?;
            let rest = plan::diff(desired, &after.balancer, mode);
            if !rest.is_empty() || !after.foreign.is_empty() {
                return Err(CliError::NotConverged(format!(
                    "{}{}",
                    live::foreign_notice(&after),
                    rest.render(false)
                )));
            }
            let (a, c, d) = prepared.plan.counts();
            Ok(format!("Applied: {a} added, {c} changed, {d} deleted."))
        }
        Err(e) => {
            let restored = matches!(&after, Ok(now) if now.balancer == before.balancer);
            Err(failure(e, restored))
        }
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
