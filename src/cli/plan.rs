use super::{CliError, Context, args::StateSource, input, live};
use crate::{
    apply::{ApplyLock, PLAN_FORMAT, SavedPlan},
    model::{Balancer, Hold, HoldReason, effective},
    plan::{self, Mode},
    state::{self, Observed},
    watch::Store,
};
use std::{borrow::Cow, path::Path};

/// `lvsh plan FILE`: the diff of the script against the observed state.
pub fn run(
    ctx: &Context,
    file: &Path,
    source: &StateSource,
    json: bool,
    detailed: bool,
    merge: bool,
    out: Option<&Path>,
) -> Result<i32, CliError> {
    let mut desired = input::evaluate(ctx, file)?;
    state::canonical(&mut desired);
    let observed = observe(ctx, source)?;
    if source.state.is_none() && !source.empty {
        observed.has_sysctls_of(&desired)?;
        observed.has_interfaces_of(&desired)?;
    }
    super::apply::note_forwarding(ctx, &desired, &observed);
    let mode = if merge { Mode::Merge } else { Mode::Replace };
    let (held, holds) = held(ctx, &desired)?;
    let managed = held.managed(&observed.balancer);
    let plan = plan::diff(&held, &managed, mode).with_holds(holds);
    let pending = !plan.is_empty() || !observed.foreign.is_empty();
    if let Some(path) = out {
        let saved = SavedPlan {
            lvsh_plan: PLAN_FORMAT,
            lvsh_version: env!("CARGO_PKG_VERSION").into(),
            created: crate::apply::journal_now(),
            netns: ctx.netns.clone(),
            script: (file != Path::new("-")).then(|| file.display().to_string()),
            script_sha256: ctx.script_sha256(file),
            merge,
            fingerprint: observed.fingerprint(),
            desired: desired.clone(),
            plan: serde_json::from_str(&plan.to_json()).expect("the plan's JSON parses"),
        };
        std::fs::write(path, saved.to_json()).map_err(|source| CliError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    }
    if json {
        ctx.out(&(plan.to_json() + "\n"))?;
    } else if !ctx.quiet || pending {
        ctx.out(&scope_notice(&desired, &observed.balancer, &managed))?;
        let notice = observed.foreign_notice();
        ctx.out(&notice)?;
        // "The kernel matches the script" would be false with drift in the table.
        if !plan.is_empty() || notice.is_empty() {
            let against = source.against();
            ctx.out_with(|w| plan.write_text_against(ctx.color, &against, w))?;
        } else {
            ctx.out_with(|w| plan.write_holds(ctx.color, w))?;
        }
    }
    note_watch(ctx, &plan.holds);
    if let Some(path) = out {
        ctx.note(&format!(
            "Saved the plan to `{}`: `lvsh apply {}` applies exactly it, while the kernel \
             stays as it is now.\n",
            path.display(),
            path.display()
        ));
    }
    Ok(if detailed && pending { 2 } else { 0 })
}

/// The script's model with what the run-time side of the namespace holds applied
/// (drains, health; see [`effective`]), and those holds. Every command that diffs a
/// script against the kernel goes through here, so none undoes a drain or a failed
/// health check. Health holds count whether or not `lvsh watch` runs: a server seen
/// down stays held until watch sees it rise.
pub fn held<'a>(
    ctx: &Context,
    desired: &'a Balancer,
) -> Result<(Cow<'a, Balancer>, Vec<Hold>), CliError> {
    let runtime = Store::for_netns(ctx.netns.as_deref()).load()?;
    if runtime.servers.is_empty() && desired.checks.is_empty() {
        return Ok((Cow::Borrowed(desired), vec![]));
    }
    let (held, holds) = effective(desired, &runtime, crate::apply::journal_now());
    Ok((Cow::Owned(held), holds))
}

/// Says on stderr that health holds are what the last `lvsh watch` saw, when none
/// runs now (drains need no watch to hold).
pub fn note_watch(ctx: &Context, holds: &[Hold]) {
    if health_holds(holds) && !ApplyLock::watch_running(ctx.netns.as_deref()) {
        ctx.note(
            "note: `lvsh watch` is not running in this namespace: the health holds are as it \
             last saw them, and a server stays held until a watch sees it rise\n",
        );
    }
}

/// Whether some hold comes from health (drains hold without a watch).
fn health_holds(holds: &[Hold]) -> bool {
    holds.iter().any(|h| {
        !matches!(
            h.reason,
            HoldReason::Draining { .. } | HoldReason::Drained { .. }
        )
    })
}

/// A line per address the script declares that the kernel holds without lvsh's mark
/// (keepalived's VIP, or one added by hand), and one saying how many services and
/// marks outside a scoped script's scope the plan leaves alone; empty when there are
/// none. `managed` is `desired.managed(observed)`.
pub fn scope_notice(desired: &Balancer, observed: &Balancer, managed: &Balancer) -> String {
    let mut out = String::new();
    for a in desired.addresses.unowned_in(&observed.addresses) {
        out.push_str(&format!(
            "~ left alone: address {a} is there without lvsh's mark (keepalived's, or added \
             by hand); lvsh neither takes it over nor removes it\n"
        ));
    }
    out.push_str(&scope_count(desired, observed, managed));
    out
}

fn scope_count(desired: &Balancer, observed: &Balancer, managed: &Balancer) -> String {
    let Some(scope) = &desired.scope else {
        return String::new();
    };
    let count = |n: usize, one: &str, many: &str| match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    };
    let services = observed.services.len() - managed.services.len();
    let marks = observed.marks.len() - managed.marks.len();
    let parts: Vec<String> = [
        count(services, "service", "services"),
        count(marks, "nft mark", "nft marks"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "~ left alone outside the scope ({scope}): {}\n",
        parts.join(" and ")
    )
}

/// The state to compare with: a state file, nothing, or the live kernel.
pub fn observe(ctx: &Context, source: &StateSource) -> Result<Observed, CliError> {
    let balancer = match (&source.state, source.empty) {
        (Some(path), _) => input::read_state(path)?,
        (None, true) => Default::default(),
        (None, false) => {
            let mut live = live::Live::open(ctx)?;
            if !ctx.quiet {
                live.warn_interrupted(false);
            }
            return live.read();
        }
    };
    Ok(Observed {
        balancer,
        foreign: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DestKey, Protocol, ServiceKey};

    #[test]
    fn only_health_holds_need_a_watch() {
        let hold = |reason| Hold {
            service: ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80),
            dest: DestKey {
                address: "10.0.0.1".parse().unwrap(),
                port: 80,
            },
            reason,
            script: Some(1),
            held: Some(0),
        };
        let drains = [
            hold(HoldReason::Draining { since: 1 }),
            hold(HoldReason::Drained { since: 2 }),
        ];
        assert!(!health_holds(&drains));
        assert!(!health_holds(&[]));
        for reason in [
            HoldReason::Down { since: 1 },
            HoldReason::Unknown { since: 1 },
            HoldReason::SlowStart { since: 1, over: 9 },
            HoldReason::Sorry,
        ] {
            assert!(
                health_holds(&[drains[0].clone(), hold(reason)]),
                "{reason:?}"
            );
        }
    }
}
