use super::{CliError, Context, args::StateSource, input};
use crate::{
    model::Balancer,
    plan::{self, Mode},
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
    let desired = input::evaluate(ctx, file)?;
    let observed = observe(ctx, source)?;
    let mode = if merge { Mode::Merge } else { Mode::Replace };
    let plan = plan::diff(&desired, &observed, mode);
    if json {
        ctx.out(&(plan.to_json() + "\n"))?;
    } else if !ctx.quiet || !plan.is_empty() {
        ctx.out(&plan.render(ctx.color))?;
    }
    Ok(if detailed && !plan.is_empty() { 2 } else { 0 })
}

/// The state to compare with: a state file, nothing, or the live kernel.
pub fn observe(ctx: &Context, source: &StateSource) -> Result<Balancer, CliError> {
    match (&source.state, source.empty) {
        (Some(path), _) => input::read_state(path),
        (None, true) => Ok(Balancer::default()),
        (None, false) => super::live::read(ctx),
    }
}
