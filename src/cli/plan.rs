use super::{CliError, Context, args::StateSource, input, live};
use crate::{
    model::Balancer,
    plan::{self, Mode},
    state::{self, Observed},
};
use std::path::Path;

/// `lvsh plan FILE`: the diff of the script against the observed state.
pub fn run(
    ctx: &Context,
    file: &Path,
    source: &StateSource,
    json: bool,
    detailed: bool,
    merge: bool,
) -> Result<i32, CliError> {
    let mut desired = input::evaluate(ctx, file)?;
    state::canonical(&mut desired);
    let observed = observe(ctx, source)?;
    let mode = if merge { Mode::Merge } else { Mode::Replace };
    let managed = desired.managed(&observed.balancer);
    let plan = plan::diff(&desired, &managed, mode);
    let pending = !plan.is_empty() || !observed.foreign.is_empty();
    if json {
        ctx.out(&(plan.to_json() + "\n"))?;
    } else if !ctx.quiet || pending {
        ctx.out(&scope_notice(&desired, &observed.balancer, &managed))?;
        let notice = live::foreign_notice(&observed);
        ctx.out(&notice)?;
        // "The kernel matches the script" would be false with drift in the table.
        if !plan.is_empty() || notice.is_empty() {
            ctx.out_with(|w| plan.write_text(ctx.color, w))?;
        }
    }
    Ok(if detailed && pending { 2 } else { 0 })
}

/// One line saying how many services and marks outside a scoped script's scope the
/// plan leaves alone; empty when there are none. `managed` is `desired.managed(observed)`.
pub fn scope_notice(desired: &Balancer, observed: &Balancer, managed: &Balancer) -> String {
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
        (None, false) => return live::Live::open(ctx)?.read(),
    };
    Ok(Observed {
        balancer,
        foreign: vec![],
    })
}
