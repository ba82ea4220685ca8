use super::{CliError, Context, live::Live};
use crate::convert::script;

/// `lvsh save`: the live state as a script that re-applies as a no-op.
pub fn run(ctx: &Context) -> Result<i32, CliError> {
    let mut live = Live::open(ctx)?;
    if !ctx.quiet {
        live.warn_interrupted(false);
    }
    let mut observed = live.read()?;
    // The services that steer `via_vip()` probes belong to `lvsh watch`, which makes
    // them from the script's checks; a plan of the saved script leaves them alone.
    let before = observed.balancer.services.len();
    observed
        .balancer
        .services
        .retain(|k, _| !crate::model::is_probe_service(k));
    let probes = before - observed.balancer.services.len();
    if probes > 0 {
        ctx.note(&format!(
            "note: {probes} probe service(s) of `lvsh watch` left out; watch makes them from the script's checks\n"
        ));
    }
    // A fresh namespace holds the defaults: a script says only what differs.
    observed.balancer.sysctls = observed.balancer.sysctls.changed();
    if !observed.foreign.is_empty() {
        ctx.note(&format!("warning: {}", observed.foreign_notice()));
    }
    let header = "saved by lvsh from the live kernel; `lvsh apply` of this file changes nothing";
    ctx.out(&script::to_script(&observed.balancer, header))?;
    Ok(0)
}
