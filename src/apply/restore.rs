//! Rollback from what the kernel holds: after any failure (a refused request, a
//! socket error, a failed nft write, a signal) lvsh re-reads the kernel, plans the
//! way back to the state before, applies it, and compares once more. What was sent
//! does not matter: after a socket error nobody knows which requests took effect.

use super::{Kernel, Steps, describe::describe};
use crate::{
    model::{Balancer, Scope, ServiceKey},
    plan::{self, Mode},
    state::Observed,
};
use std::collections::BTreeSet;

/// What became of the kernel after a failed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollback {
    /// Nothing had been written.
    NotNeeded,
    /// The writes were undone: IPVS, table `inet lvsh`, the sysctls and lvsh's
    /// addresses are as before.
    Restored,
    /// The writes went through but the result differs; nothing was undone.
    NotAttempted,
    /// The kernel is not as before; `differs` says how (plan text from the state
    /// now to the state before, and what could not be sent).
    Incomplete { differs: String },
}

/// Brings the kernel back to `before`, within `scope` (what a scoped apply owned;
/// `None`: everything). `touched` are the services the failed transaction may have
/// changed (their destinations are re-read; the rest of IPVS only as far as the
/// service list).
pub fn restore(
    kernel: &mut Kernel<'_>,
    before: &Observed,
    scope: Option<&Scope>,
    touched: &BTreeSet<ServiceKey>,
) -> Rollback {
    let mut failures = String::new();
    let target = Balancer {
        scope: scope.cloned(),
        ..before.balancer.clone()
    };
    let differs =
        |now: &Observed| plan::diff(&target, &target.managed(&now.balancer), Mode::Replace);
    let now = match kernel.reread(before, touched, true) {
        Ok(now) => now,
        Err(e) => {
            return Rollback::Incomplete {
                differs: format!("cannot read the kernel to roll back: {e}\n"),
            };
        }
    };
    let back = differs(&now);
    if back.is_empty() && now.foreign == before.foreign {
        return Rollback::Restored;
    }
    let steps = Steps::from_plan(&back, &now.balancer);
    send_all(kernel, &steps, &mut failures);
    let mut rechecked: BTreeSet<ServiceKey> = touched.clone();
    rechecked.extend(steps.touched());
    match kernel.reread(before, &rechecked, true) {
        Ok(after) if differs(&after).is_empty() && after.foreign == before.foreign => {
            Rollback::Restored
        }
        Ok(after) => {
            let rest = differs(&after);
            let mut differs = if rest.is_empty() {
                String::new()
            } else {
                rest.render(false)
            };
            for f in &before.foreign {
                if !after.foreign.contains(f) {
                    differs.push_str(&format!(
                        "- table inet lvsh lost an object lvsh did not write: {f}\n"
                    ));
                }
            }
            differs.push_str(&failures);
            Rollback::Incomplete { differs }
        }
        Err(e) => Rollback::Incomplete {
            differs: format!("{failures}cannot read the kernel after rolling back: {e}\n"),
        },
    }
}

/// Sends every step of the way back, whatever fails: each request that can restore
/// something should.
fn send_all(kernel: &mut Kernel<'_>, steps: &Steps, failures: &mut String) {
    let nft = |kernel: &mut Kernel<'_>, marks: &Option<_>, failures: &mut String| {
        if let Some(marks) = marks {
            if let Err(e) = kernel.nft.replace(marks) {
                failures.push_str(&format!("  could not restore table inet lvsh: {e}\n"));
            }
        }
    };
    for (name, value) in &steps.sysctls {
        if let Err(e) = kernel.sysctl.write(name, value) {
            failures.push_str(&format!(
                "  could not {}: {e}\n",
                super::transaction::describe_sysctl(name, value)
            ));
        }
    }
    for a in &steps.addresses_added {
        if let Err(e) = kernel.addr.add(a) {
            failures.push_str(&format!(
                "  could not {}: {e}\n",
                super::transaction::describe_address(a, true)
            ));
        }
    }
    nft(kernel, &steps.nft_before, failures);
    match kernel.ipvs.execute(&steps.ipvs, &mut |_| true) {
        Ok(results) => {
            for (op, r) in steps.ipvs.iter().zip(results) {
                if let Err(e) = r {
                    failures.push_str(&format!("  could not {}: {e}\n", describe(op)));
                }
            }
        }
        Err(e) => failures.push_str(&format!(
            "  could not send the {} rollback requests: {e}\n",
            steps.ipvs.len()
        )),
    }
    nft(kernel, &steps.nft_after, failures);
    for a in &steps.addresses_deleted {
        if let Err(e) = kernel.addr.delete(a) {
            failures.push_str(&format!(
                "  could not {}: {e}\n",
                super::transaction::describe_address(a, false)
            ));
        }
    }
}
