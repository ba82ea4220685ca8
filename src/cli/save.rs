use super::{CliError, Context, live::Live};
use crate::convert::script;

/// `lvsh save`: the live state as a script that re-applies as a no-op.
pub fn run(ctx: &Context) -> Result<i32, CliError> {
    let observed = Live::open(ctx)?.read()?;
    if !observed.foreign.is_empty() {
        eprint!("warning: {}", super::live::foreign_notice(&observed));
    }
    let header = "saved by lvsh from the live kernel; `lvsh apply` of this file changes nothing";
    ctx.out(&script::to_script(&observed.balancer, header))?;
    Ok(0)
}
