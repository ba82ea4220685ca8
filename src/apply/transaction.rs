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
    // Whether the owned table differs from `before` (an nft batch is atomic: one
    // that failed changed nothing and needs no undo).
    let mut nft_changed = false;
    if let Some(marks) = &steps.nft_before {
        nft.replace(marks).map_err(|source| ApplyError::Nft {
            source,
            undo_failures: vec![],
        })?;
        nft_changed = true;
    }
    let nft_undo = |nft: &mut dyn Nft, failures: &mut Vec<UndoFailure>| {
        if nft_changed {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        backend::{ipvs::FakeIpvs, nft::FakeNft},
        model::{Dest, DestKey, Family, Protocol, Scheduler, Service, ServiceKey},
        plan::{Mode, diff},
    };

    fn service(addr: &str, sched: Scheduler, dests: &[&str]) -> Service {
        let key = ServiceKey::inet(Protocol::Tcp, addr.parse().unwrap(), 80);
        let mut s = Service::new(key);
        s.scheduler = sched;
        for d in dests {
            let dk = DestKey {
                address: d.parse().unwrap(),
                port: 80,
            };
            s.dests.insert(dk, Dest::new(dk));
        }
        s
    }

    fn balancer(services: Vec<Service>) -> Balancer {
        let mut b = Balancer::default();
        for s in services {
            b.services.insert(s.key, s);
        }
        b
    }

    fn with_mark(mut b: Balancer, n: u32) -> Balancer {
        let mut m = MarkRule::new(n);
        m.addresses.insert("10.9.9.9".parse().unwrap());
        b.marks.insert(n, m);
        let mut s = Service::new(ServiceKey::fwmark(Family::Inet, n));
        s.persistence = Some(60);
        b.services.insert(s.key, s);
        b
    }

    fn observe(ipvs: &mut FakeIpvs, nft: &mut FakeNft) -> Balancer {
        crate::state::read(ipvs, nft).unwrap().balancer
    }

    /// The steps that take the kernel from `before` to `desired`.
    fn steps_to(desired: &Balancer, before: &Balancer) -> Steps {
        Steps::from_plan(&diff(desired, before, Mode::Replace), before)
    }

    #[test]
    fn success_reaches_the_desired_state() {
        let before = with_mark(
            balancer(vec![service("10.0.0.1", Scheduler::Rr, &["10.1.0.1"])]),
            5,
        );
        let desired = with_mark(
            balancer(vec![
                service("10.0.0.1", Scheduler::Wrr, &["10.1.0.2"]),
                service("10.0.0.2", Scheduler::Rr, &["10.1.0.1", "10.1.0.2"]),
            ]),
            6,
        );
        let mut ipvs = FakeIpvs::with_state(&before);
        let mut nft = FakeNft::with_marks(before.marks.clone());
        let before = observe(&mut ipvs, &mut nft);
        run(&steps_to(&desired, &before), &before, &mut ipvs, &mut nft).unwrap();
        let after = observe(&mut ipvs, &mut nft);
        assert!(
            diff(&desired, &after, Mode::Replace).is_empty(),
            "{}",
            diff(&desired, &after, Mode::Replace).render(false)
        );
    }

    #[test]
    fn a_refused_request_mid_batch_rolls_everything_back() {
        let before = with_mark(
            balancer(vec![service("10.0.0.1", Scheduler::Rr, &["10.1.0.1"])]),
            5,
        );
        let desired = with_mark(
            balancer(vec![
                service("10.0.0.1", Scheduler::Wrr, &["10.1.0.2"]),
                service("10.0.0.2", Scheduler::Twos, &["10.1.0.1"]),
                service("10.0.0.3", Scheduler::Rr, &["10.1.0.1"]),
            ]),
            6,
        );
        let mut ipvs = FakeIpvs::with_state(&before).without_scheduler(Scheduler::Twos);
        let mut nft = FakeNft::with_marks(before.marks.clone());
        let before = observe(&mut ipvs, &mut nft);
        let err = run(&steps_to(&desired, &before), &before, &mut ipvs, &mut nft).unwrap_err();
        match &err {
            ApplyError::Refused {
                change,
                error,
                also_failed,
                undo_failures,
            } => {
                assert_eq!(change, "add service tcp 10.0.0.2:80 twos");
                assert_eq!(error.errno, libc::ENOENT);
                // its real server could not be added either: the service is missing
                assert_eq!(also_failed.len(), 1, "{also_failed:?}");
                assert!(undo_failures.is_empty(), "{undo_failures:?}");
            }
            other => panic!("{other:?}"),
        }
        let after = observe(&mut ipvs, &mut nft);
        assert_eq!(after, before, "kernel not restored");
    }

    #[test]
    fn a_failed_nft_write_after_ipvs_rolls_ipvs_back() {
        let before = balancer(vec![service("10.0.0.1", Scheduler::Rr, &["10.1.0.1"])]);
        let desired = with_mark(before.clone(), 7);
        let mut ipvs = FakeIpvs::with_state(&before);
        let mut nft = FakeNft::new();
        let before = observe(&mut ipvs, &mut nft);
        nft.fail_next_replace("Error: Could not process rule: No such file or directory");
        let err = run(&steps_to(&desired, &before), &before, &mut ipvs, &mut nft).unwrap_err();
        assert!(matches!(err, ApplyError::Nft { .. }), "{err:?}");
        assert_eq!(observe(&mut ipvs, &mut nft), before);
    }

    #[test]
    fn a_failed_first_nft_write_changes_nothing() {
        let before = with_mark(balancer(vec![]), 5);
        let desired = balancer(vec![service("10.0.0.1", Scheduler::Rr, &[])]);
        let mut ipvs = FakeIpvs::with_state(&before);
        let mut nft = FakeNft::with_marks(before.marks.clone());
        let before = observe(&mut ipvs, &mut nft);
        nft.fail_next_replace("Error: boom");
        let steps = steps_to(&desired, &before);
        assert!(steps.nft_before.is_some());
        let err = run(&steps, &before, &mut ipvs, &mut nft).unwrap_err();
        assert!(matches!(err, ApplyError::Nft { .. }), "{err:?}");
        assert_eq!(ipvs.executed(), 0);
        assert_eq!(observe(&mut ipvs, &mut nft), before);
    }

    #[test]
    fn only_an_nft_write_that_took_effect_is_undone() {
        // IPVS refuses a request before the marks are written: nothing to restore in
        // nft (restoring anyway fails where the kernel lacks what the table needs).
        let before = balancer(vec![]);
        let desired = with_mark(balancer(vec![service("10.0.0.2", Scheduler::Twos, &[])]), 6);
        let mut ipvs = FakeIpvs::with_state(&before).without_scheduler(Scheduler::Twos);
        let mut nft = FakeNft::new();
        let before = observe(&mut ipvs, &mut nft);
        nft.fail_next_replace("Error: restore attempted");
        let steps = steps_to(&desired, &before);
        assert!(steps.nft_before.is_none() && steps.nft_after.is_some());
        let err = run(&steps, &before, &mut ipvs, &mut nft).unwrap_err();
        assert!(matches!(err, ApplyError::Refused { .. }), "{err:?}");
        assert!(err.undo_failures().is_empty(), "{:?}", err.undo_failures());

        // The final nft write fails: it changed nothing, so only IPVS is undone.
        let desired = with_mark(balancer(vec![]), 7);
        let mut ipvs = FakeIpvs::with_state(&before);
        let mut nft = FakeNft::new();
        nft.fail_replace(0, "Error: the write")
            .fail_replace(1, "Error: a restore");
        let err = run(&steps_to(&desired, &before), &before, &mut ipvs, &mut nft).unwrap_err();
        assert!(matches!(err, ApplyError::Nft { .. }), "{err:?}");
        assert!(err.undo_failures().is_empty(), "{:?}", err.undo_failures());
        assert_eq!(observe(&mut ipvs, &mut nft), before);
    }

    /// A scoped model applied through the fakes: what lies outside its scope is
    /// exactly as before, IPVS and nft, and the rest matches the model.
    #[test]
    fn a_scoped_apply_leaves_what_is_outside_as_it_was() {
        let others = with_mark(
            balancer(vec![service("10.0.1.1", Scheduler::Wlc, &["10.1.1.1"])]),
            50,
        );
        let mut before = with_mark(
            balancer(vec![service("10.0.0.1", Scheduler::Rr, &["10.1.0.1"])]),
            5,
        );
        before.services.extend(others.services.clone());
        before.marks.extend(others.marks.clone());
        let mut scope = crate::model::Scope::default();
        scope.addresses.insert("10.0.0.0/24".parse().unwrap());
        scope.marks.insert("1-9".parse().unwrap());
        let mut desired = with_mark(
            balancer(vec![service("10.0.0.2", Scheduler::Rr, &["10.1.0.2"])]),
            6,
        );
        desired.scope = Some(scope.clone());
        let mut ipvs = FakeIpvs::with_state(&before);
        let mut nft = FakeNft::with_marks(before.marks.clone());
        for desired in [
            desired,
            Balancer {
                scope: Some(scope),
                ..Balancer::default()
            },
        ] {
            let before = observe(&mut ipvs, &mut nft);
            let plan = diff(&desired, &desired.managed(&before), Mode::Replace);
            run(
                &Steps::from_plan(&plan, &before),
                &before,
                &mut ipvs,
                &mut nft,
            )
            .unwrap();
            let after = observe(&mut ipvs, &mut nft);
            assert!(diff(&desired, &desired.managed(&after), Mode::Replace).is_empty());
            let outside = |b: &Balancer| {
                let mut b = b.clone();
                b.services.retain(|k, _| others.services.contains_key(k));
                b.marks.retain(|m, _| others.marks.contains_key(m));
                b
            };
            assert_eq!(outside(&after), outside(&before));
            assert_eq!(after.marks.len(), desired.marks.len() + 1);
            assert_eq!(after.services.len(), desired.services.len() + 2);
        }
    }
}
