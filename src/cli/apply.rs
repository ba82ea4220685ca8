//! `lvsh apply FILE`: plan against the live kernel, then apply as one transaction.

use super::{
    CliError, Context, input,
    live::{self, Live},
};
use crate::{
    apply::{self, ApplyError, ApplyLock, Steps},
    plan::{self, Mode},
    state,
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
    let observed = live.read()?;
    let plan = plan::diff(&desired, &observed.balancer, mode);
    let foreign = !observed.foreign.is_empty();
    if plan.is_empty() && !foreign {
        if !ctx.quiet {
            ctx.out("No changes. The kernel matches the script.\n")?;
        }
        return Ok(0);
    }
    let mut steps = Steps::from_plan(&plan, &observed.balancer);
    if foreign {
        if merge {
            return Err(CliError::ForeignInMerge);
        }
        steps.rewrite_table(&desired.marks);
    }
    if !ctx.quiet || dry_run {
        ctx.out(&format!(
            "{}{}",
            live::foreign_notice(&observed),
            plan.render(ctx.color)
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
        if live.read()? != observed {
            return Err(CliError::KernelChanged);
        }
    }
    let applying = Instant::now();
    let result = apply::run(&steps, &observed.balancer, &mut live.ipvs, &mut live.nft);
    let applied_in = applying.elapsed();
    let after = live.read();
    match result {
        Ok(requests) => {
            let after = after?;
            let rest = plan::diff(&desired, &after.balancer, mode);
            if !rest.is_empty() || !after.foreign.is_empty() {
                return Err(CliError::NotConverged(format!(
                    "{}{}",
                    live::foreign_notice(&after),
                    rest.render(false)
                )));
            }
            if !ctx.quiet {
                let (a, c, d) = plan.counts();
                ctx.out(&format!("Applied: {a} added, {c} changed, {d} deleted.\n"))?;
            }
            if ctx.verbose {
                eprintln!(
                    "{requests} IPVS requests in {:.1} ms; {:.1} ms in all",
                    applied_in.as_secs_f64() * 1e3,
                    started.elapsed().as_secs_f64() * 1e3
                );
            }
            Ok(0)
        }
        Err(e) => {
            let restored = match &after {
                Ok(now) => now.balancer == observed.balancer,
                Err(_) => false,
            };
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
