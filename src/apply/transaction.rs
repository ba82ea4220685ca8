//! Runs the steps of a plan in order, recording the undo of each one that took
//! effect; on the first failure, undoes them in reverse and reports the cause.

use super::{describe::describe, inverse::inverse};
use crate::{
    backend::{Ipvs, IpvsOp, KernelError, Nft, ipvs, nft},
    model::{Balancer, MarkRule},
};
use std::collections::BTreeMap;

type Marks = BTreeMap<u32, MarkRule>;

/// What to send, in order: nft removals first, then IPVS, then nft additions.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Steps {
    /// The owned table without the marks that go away or change (`None`: no change).
    pub nft_before: Option<Marks>,
    pub ipvs: Vec<IpvsOp>,
    /// The owned table as the script wants it (`None`: no change).
    pub nft_after: Option<Marks>,
}

impl Steps {
    pub fn is_empty(&self) -> bool {
        self.nft_before.is_none() && self.ipvs.is_empty() && self.nft_after.is_none()
    }
}

/// A request that failed while undoing.
#[derive(Debug)]
pub struct UndoFailure {
    pub change: String,
    pub error: String,
}

/// The transaction failed; what caused it and whether everything was undone.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the kernel refused to {change}: {error}")]
    Refused {
        change: String,
        error: KernelError,
        /// Other requests of the same batch that also failed.
        also_failed: Vec<(String, KernelError)>,
        undo_failures: Vec<UndoFailure>,
    },
    #[error("talking to IPVS failed")]
    Ipvs {
        #[source]
        source: ipvs::Error,
        undo_failures: Vec<UndoFailure>,
    },
    #[error("nft refused the new `inet lvsh` table")]
    Nft {
        #[source]
        source: nft::Error,
        undo_failures: Vec<UndoFailure>,
    },
}

impl ApplyError {
    pub fn undo_failures(&self) -> &[UndoFailure] {
        match self {
            ApplyError::Refused { undo_failures, .. }
            | ApplyError::Ipvs { undo_failures, .. }
            | ApplyError::Nft { undo_failures, .. } => undo_failures,
        }
    }
}

/// Applies `steps` to the kernel whose state was `before`. Either everything took
/// effect (Ok, with the number of IPVS requests sent), or every change that did was
/// undone (as far as the kernel let us: see `undo_failures`).
pub fn run(
    steps: &Steps,
    before: &Balancer,
    ipvs: &mut dyn Ipvs,
    nft: &mut dyn Nft,
) -> Result<usize, ApplyError> {
    if let Some(marks) = &steps.nft_before {
        nft.replace(marks).map_err(|source| ApplyError::Nft {
            source,
            undo_failures: vec![],
        })?;
    }
    let nft_undo = |nft: &mut dyn Nft, failures: &mut Vec<UndoFailure>| {
        if steps.nft_before.is_some() || steps.nft_after.is_some() {
            if let Err(e) = nft.replace(&before.marks) {
                failures.push(UndoFailure {
                    change: "restore table inet lvsh".into(),
                    error: e.to_string(),
                });
            }
        }
    };

    let results = match ipvs.execute(&steps.ipvs) {
        Ok(r) => r,
        Err(source) => {
            // We cannot know which requests took effect; the caller re-reads the
            // kernel and reports the difference.
            let mut undo_failures = vec![];
            nft_undo(nft, &mut undo_failures);
            return Err(ApplyError::Ipvs {
                source,
                undo_failures,
            });
        }
    };
    let mut done = vec![];
    let mut failed = vec![];
    for (op, result) in steps.ipvs.iter().zip(&results) {
        match result {
            Ok(()) => done.push(op),
            Err(e) => failed.push((describe(op), e.clone())),
        }
    }
    if let Some((change, error)) = failed.first().cloned() {
        let mut undo_failures = undo(&done, before, ipvs);
        nft_undo(nft, &mut undo_failures);
        return Err(ApplyError::Refused {
            change,
            error,
            also_failed: failed.into_iter().skip(1).collect(),
            undo_failures,
        });
    }
    if let Some(marks) = &steps.nft_after {
        if let Err(source) = nft.replace(marks) {
            let mut undo_failures = undo(&done, before, ipvs);
            nft_undo(nft, &mut undo_failures);
            return Err(ApplyError::Nft {
                source,
                undo_failures,
            });
        }
    }
    Ok(steps.ipvs.len())
}

/// Undoes the requests that took effect, newest first, in one batch.
fn undo(done: &[&IpvsOp], before: &Balancer, ipvs: &mut dyn Ipvs) -> Vec<UndoFailure> {
    let ops: Vec<IpvsOp> = done
        .iter()
        .rev()
        .flat_map(|op| inverse(op, before))
        .collect();
    if ops.is_empty() {
        return vec![];
    }
    match ipvs.execute(&ops) {
        Ok(results) => ops
            .iter()
            .zip(results)
            .filter_map(|(op, r)| {
                r.err().map(|e| UndoFailure {
                    change: describe(op),
                    error: e.to_string(),
                })
            })
            .collect(),
        Err(e) => vec![UndoFailure {
            change: format!("{} undo requests", ops.len()),
            error: e.to_string(),
        }],
    }
}
