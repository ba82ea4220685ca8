use super::{CliError, Context, args::StateSource, input, live};
use crate::{
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
    let plan = plan::diff(&desired, &observed.balancer, mode);
    let pending = !plan.is_empty() || !observed.foreign.is_empty();
    if json {
        ctx.out(&(plan.to_json() + "\n"))?;
    } else if !ctx.quiet || pending {
        let notice = live::foreign_notice(&observed);
        if plan.is_empty() && !notice.is_empty() {
            ctx.out(&notice)?;
        } else {
            ctx.out(&notice)?;
            ctx.out_with(|w| plan.write_text(ctx.color, w))?;
        }
    }
    Ok(if detailed && pending { 2 } else { 0 })
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
