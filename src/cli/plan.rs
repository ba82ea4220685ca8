use super::{CliError, Context, apply::script_hash, args::StateSource, input, live};
use crate::{
    apply::{PLAN_FORMAT, SavedPlan},
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
    out: Option<&Path>,
) -> Result<i32, CliError> {
    let mut desired = input::evaluate(ctx, file)?;
    state::canonical(&mut desired);
    let observed = observe(ctx, source)?;
    if source.state.is_none() && !source.empty {
        observed.has_sysctls_of(&desired)?;
    }
    let mode = if merge { Mode::Merge } else { Mode::Replace };
    let managed = desired.managed(&observed.balancer);
    let plan = plan::diff(&desired, &managed, mode);
    let pending = !plan.is_empty() || !observed.foreign.is_empty();
    if let Some(path) = out {
        let saved = SavedPlan {
            lvsh_plan: PLAN_FORMAT,
            lvsh_version: env!("CARGO_PKG_VERSION").into(),
            created: crate::apply::journal_now(),
            netns: ctx.netns.clone(),
            script: (file != Path::new("-")).then(|| file.display().to_string()),
            script_sha256: script_hash(file),
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
        }
    }
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
