//! The whole transaction over the fakes: success, refusals, socket errors, nft
//! failures, races, and kills at every batch boundary of generated plans.

use super::*;
use crate::{
    backend::{
        Nft,
        addr::{Addrs, FakeAddrs},
        ipvs::{FakeIpvs, Killed},
        nft::FakeNft,
        sysctl::FakeSysctl,
    },
    model::{
        Balancer, Dest, DestKey, Family, Forward, MarkRule, PortRange, Protocol, Scheduler,
        Service, ServiceKey,
    },
    plan::{Mode, diff},
    state::Observed,
};
use std::collections::BTreeSet;

struct Fakes {
    ipvs: FakeIpvs,
    nft: FakeNft,
    sysctl: FakeSysctl,
    addr: FakeAddrs,
}

impl Fakes {
    /// `state`'s objects; its sysctls over a fresh namespace's defaults.
    fn with(state: &Balancer) -> Fakes {
        let mut sysctl = FakeSysctl::new();
        for (name, v) in state.sysctls.iter() {
            sysctl.set(name, v.clone());
        }
        let mut addr = FakeAddrs::default();
        for a in state.addresses.iter() {
            addr.add(a).unwrap();
        }
        addr.log.clear();
        Fakes {
            ipvs: FakeIpvs::with_state(state),
            nft: FakeNft::with_marks(state.marks.clone()),
            sysctl,
            addr,
        }
    }

    fn kernel(&mut self) -> Kernel<'_> {
        Kernel {
            ipvs: &mut self.ipvs,
            nft: &mut self.nft,
            sysctl: &mut self.sysctl,
            addr: &mut self.addr,
        }
    }

    fn observe(&mut self) -> Observed {
        self.kernel().read().unwrap()
    }

    /// Plans `desired` against the kernel and runs the transaction.
    fn apply(
        &mut self,
        desired: &Balancer,
        journal: Option<&Journal>,
    ) -> Result<Applied, ApplyError> {
        let observed = self.observe();
        let prepared = prepare(observed, desired, Mode::Replace)?.expect("a plan with changes");
        let record = Record {
            command: "apply".into(),
            ..Record::default()
        };
        execute(
            &mut self.kernel(),
            prepared,
            desired,
            Mode::Replace,
            journal.map(|j| (j, record)),
        )
    }
}

fn key(last: u8) -> ServiceKey {
    ServiceKey::inet(Protocol::Tcp, [10, 0, 0, last].into(), 80)
}

fn fwmark_of(k: &ServiceKey) -> Option<u32> {
    match k {
        ServiceKey::Fwmark { fwmark, .. } => Some(*fwmark),
        ServiceKey::Inet { .. } => None,
    }
}

fn service(k: ServiceKey, sched: Scheduler, dests: &[u8]) -> Service {
    let fwmark = fwmark_of(&k).is_some();
    let mut s = Service::new(k);
    s.scheduler = sched;
    for &d in dests {
        let mut dest = Dest::new(DestKey {
            address: [10, 1, 0, d].into(),
            port: if fwmark { 0 } else { 8080 },
        });
        dest.forward = if fwmark {
            Forward::default()
        } else {
            Forward::Masq
        };
        s.dests.insert(dest.key, dest);
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

/// Adds fwmark service `n` and its mark (VIP 10.9.0.N, tcp port 80 + n).
fn with_mark(mut b: Balancer, n: u32, dests: &[u8]) -> Balancer {
    let mut m = MarkRule::new(n);
    m.addresses.insert([10, 9, 0, n as u8].into());
    m.ports.insert(PortRange::single(80 + n as u16));
    b.marks.insert(n, m);
    let mut s = service(ServiceKey::fwmark(Family::Inet, n), Scheduler::Rr, dests);
    s.persistence = Some(60);
    b.services.insert(s.key, s);
    b
}

/// Whether the kernel holds `b`: no change left to plan, nothing foreign.
fn holds(a: &Observed, b: &Balancer) -> bool {
    diff(b, &a.balancer, Mode::Replace).is_empty() && a.foreign.is_empty()
}

#[test]
fn success_reaches_the_desired_state_and_is_journalled() {
    let before = with_mark(
        balancer(vec![service(key(1), Scheduler::Rr, &[1])]),
        5,
        &[1],
    );
    let desired = with_mark(
        balancer(vec![
            service(key(1), Scheduler::Wrr, &[2]),
            service(key(2), Scheduler::Rr, &[1, 2]),
        ]),
        6,
        &[2],
    );
    let mut f = Fakes::with(&before);
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::at(dir.path().to_path_buf());
    let applied = f.apply(&desired, Some(&journal)).unwrap();
    assert_eq!(applied.id, Some(1));
    assert_eq!(
        applied.to_string(),
        // The fwmark service 5 goes with its real server: each counts.
        "Applied: 7 added, 1 changed, 4 deleted."
    );
    assert!(holds(&f.observe(), &desired));
    let entry = journal.entry(1).unwrap();
    assert_eq!(entry.end.unwrap().outcome, Outcome::Applied);
    assert_eq!((entry.header.added, entry.header.deleted), (7, 4));
    assert!(diff(&before, &journal.snapshot(1).unwrap().before, Mode::Replace).is_empty());
}

#[test]
fn a_refused_request_stops_the_sending_and_everything_is_rolled_back() {
    let before = with_mark(
        balancer(vec![service(key(1), Scheduler::Rr, &[1])]),
        5,
        &[1],
    );
    let desired = with_mark(
        balancer(vec![
            service(key(1), Scheduler::Wrr, &[2]),
            service(key(2), Scheduler::Twos, &[1]),
            service(key(3), Scheduler::Rr, &[1]),
        ]),
        6,
        &[1],
    );
    let mut f = Fakes::with(&before);
    f.ipvs = FakeIpvs::with_state(&before)
        .without_scheduler(Scheduler::Twos)
        .batch_ops(2);
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::at(dir.path().to_path_buf());
    let initial = f.observe();
    let err = f.apply(&desired, Some(&journal)).unwrap_err();
    match &err.cause {
        Cause::Refused { change, error, .. } => {
            assert_eq!(change, "add service tcp 10.0.0.2:80 twos");
            assert_eq!(error.errno, libc::ENOENT);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.rollback, Rollback::Restored);
    assert_eq!(err.exit_code(), 1);
    assert!(f.observe().same_config(&initial), "kernel not restored");
    // Nothing after the refused request's batch was sent: the third service was
    // never added, not even to be removed again.
    assert!(
        !f.ipvs
            .log()
            .iter()
            .any(|op| matches!(op, crate::backend::IpvsOp::AddService(s) if s.key == key(3))),
        "{:#?}",
        f.ipvs.log()
    );
    assert_eq!(
        journal.entry(1).unwrap().end.unwrap().outcome,
        Outcome::RolledBack
    );
    let text = format!("{:?}", miette::Report::new(err));
    assert!(text.contains("nothing was changed"), "{text}");
}

#[test]
fn a_socket_error_is_rolled_back_from_what_the_kernel_holds() {
    let before = balancer(vec![service(key(1), Scheduler::Rr, &[1, 2])]);
    let desired = balancer(vec![
        service(key(1), Scheduler::Rr, &[3]),
        service(key(2), Scheduler::Rr, &[1]),
    ]);
    let mut f = Fakes::with(&before);
    f.ipvs = FakeIpvs::with_state(&before).batch_ops(1);
    f.ipvs.fail_socket_after_batch(2);
    let initial = f.observe();
    let err = f.apply(&desired, None).unwrap_err();
    assert!(matches!(err.cause, Cause::Ipvs(_)), "{err:?}");
    assert_eq!(err.rollback, Rollback::Restored);
    assert!(f.observe().same_config(&initial));
}

#[test]
fn a_failed_nft_write_after_ipvs_rolls_ipvs_back() {
    let before = balancer(vec![service(key(1), Scheduler::Rr, &[1])]);
    let desired = with_mark(before.clone(), 7, &[1]);
    let mut gone = with_mark(before.clone(), 8, &[1]);
    // A mark that goes: the table is written after IPVS too.
    gone.services
        .insert(key(9), service(key(9), Scheduler::Rr, &[1]));
    let mut f = Fakes::with(&gone);
    f.nft.fail_replace(
        1,
        "Error: Could not process rule: No such file or directory",
    );
    let initial = f.observe();
    let err = f.apply(&desired, None).unwrap_err();
    assert!(matches!(err.cause, Cause::Nft(_)), "{err:?}");
    assert_eq!(err.rollback, Rollback::Restored);
    assert!(f.observe().same_config(&initial));
}

#[test]
fn a_failed_first_nft_write_changes_nothing() {
    let before = balancer(vec![]);
    let desired = with_mark(balancer(vec![]), 5, &[1]);
    let mut f = Fakes::with(&before);
    f.nft.fail_next_replace("Error: boom");
    let initial = f.observe();
    let err = f.apply(&desired, None).unwrap_err();
    assert!(matches!(err.cause, Cause::Nft(_)), "{err:?}");
    assert_eq!(err.rollback, Rollback::Restored);
    assert_eq!(f.ipvs.executed(), 0);
    assert!(f.observe().same_config(&initial));
    assert!(f.observe().same_config(&initial));
}

#[test]
fn a_kernel_changed_after_the_plan_is_not_written() {
    let before = balancer(vec![service(key(1), Scheduler::Rr, &[1])]);
    let desired = balancer(vec![service(key(1), Scheduler::Rr, &[2])]);
    let mut f = Fakes::with(&before);
    let prepared = prepare(f.observe(), &desired, Mode::Replace)
        .unwrap()
        .unwrap();
    // Another tool edits the service between plan and write.
    f.ipvs
        .execute_all(&[crate::backend::IpvsOp::EditService(service(
            key(1),
            Scheduler::Wlc,
            &[],
        ))])
        .unwrap();
    let executed = f.ipvs.executed();
    let err = execute(&mut f.kernel(), prepared, &desired, Mode::Replace, None).unwrap_err();
    assert!(matches!(err.cause, Cause::KernelChanged), "{err:?}");
    assert_eq!(err.exit_code(), 1);
    assert_eq!(f.ipvs.executed(), executed, "nothing was sent");
}

#[test]
fn a_rollback_the_kernel_refuses_says_what_differs_and_exits_3() {
    let before = balancer(vec![service(key(1), Scheduler::Rr, &[1])]);
    let desired = balancer(vec![
        service(key(1), Scheduler::Rr, &[1, 2]),
        service(key(2), Scheduler::Twos, &[]),
    ]);
    let mut f = Fakes::with(&before);
    f.ipvs = FakeIpvs::with_state(&before).without_scheduler(Scheduler::Twos);
    // Request 3 is the first of the way back (delete the added real server): refuse it.
    f.ipvs.fail_op(3, libc::EBUSY);
    let err = f.apply(&desired, None).unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err:?}");
    let Rollback::Incomplete { differs } = &err.rollback else {
        panic!("{err:?}")
    };
    assert!(
        differs.contains("- ") && differs.contains("10.1.0.2:8080"),
        "{differs}"
    );
    assert!(
        differs.contains("could not delete real server"),
        "{differs}"
    );
    let text = format!("{:?}", miette::Report::new(err));
    assert!(text.contains("ROLLBACK INCOMPLETE"), "{text}");
}

#[test]
fn a_foreign_object_lost_in_a_rollback_is_not_called_restored() {
    let before = balancer(vec![]);
    let desired = with_mark(
        balancer(vec![service(key(2), Scheduler::Twos, &[])]),
        6,
        &[1],
    );
    let mut f = Fakes::with(&before);
    f.ipvs = FakeIpvs::new().without_scheduler(Scheduler::Twos);
    f.nft.foreign.push(crate::backend::nft::Foreign {
        kind: "rule".into(),
        name: "prerouting".into(),
        handle: Some(9),
        detail: "not written by lvsh".into(),
        content: Some("tcp dport 22 accept".into()),
    });
    let err = f.apply(&desired, None).unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err:?}");
    let Rollback::Incomplete { differs } = &err.rollback else {
        panic!("{err:?}")
    };
    assert!(
        differs.contains("lost an object lvsh did not write"),
        "{differs}"
    );
}

/// A tiny deterministic generator: the property tests need many plans, not
/// randomness.
struct Gen(u64);

impl Gen {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn dests(&mut self) -> Vec<u8> {
        (1..=4).filter(|_| self.next(2) == 0).collect()
    }

    fn balancer(&mut self) -> Balancer {
        let mut b = Balancer::default();
        for last in 1..=4 {
            if self.next(3) > 0 {
                let sched = [Scheduler::Rr, Scheduler::Wlc][self.next(2) as usize];
                let mut s = service(key(last), sched, &self.dests());
                for d in s.dests.values_mut() {
                    d.weight = 1 + self.next(3) as u32;
                }
                b.services.insert(s.key, s);
            }
        }
        for n in 1..=3 {
            if self.next(2) == 0 {
                let dests = self.dests();
                b = with_mark(b, n, &dests);
            }
        }
        b
    }
}

/// After a kill: no service has fewer real servers than both the old and the new
/// state give it, and no fwmark service is without its mark.
fn assert_cut_safe(f: &mut Fakes, before: &Balancer, desired: &Balancer, what: &str) {
    let now = f.observe().balancer;
    for (k, s) in &now.services {
        let count = |b: &Balancer| b.services.get(k).map_or(0, |s| s.dests.len());
        let floor = count(before).min(count(desired));
        assert!(
            s.dests.len() >= floor,
            "{what}: {k} has {} real servers, both states give it at least {floor}",
            s.dests.len()
        );
        if let Some(mark) = fwmark_of(k) {
            let needed = before.marks.contains_key(&mark) || desired.marks.contains_key(&mark);
            assert!(
                !needed || now.marks.contains_key(&mark),
                "{what}: fwmark service {mark} without its mark"
            );
        }
    }
}

#[test]
fn property_every_fault_at_every_position_ends_as_before_or_recoverable() {
    let mut g = Gen(0x5eed_1234_abcd_0001);
    let mut cases = 0;
    for round in 0..24 {
        let before = g.balancer();
        let desired = g.balancer();
        let plan = diff(&desired, &before, Mode::Replace);
        if plan.is_empty() {
            continue;
        }
        let steps = Steps::from_plan(&plan, &before);
        let batch = 1 + round % 3;
        let batches = crate::backend::ipvs::batch::by_count(&steps.ipvs, batch).len();
        let fresh = || {
            let mut f = Fakes::with(&before);
            f.ipvs = FakeIpvs::with_state(&before).batch_ops(batch);
            f
        };

        // The apply fails and the kernel ends exactly as it was.
        let restored = |mut f: Fakes, what: String| {
            let initial = f.observe();
            let err = f.apply(&desired, None).unwrap_err();
            assert_eq!(err.rollback, Rollback::Restored, "{what}");
            assert!(f.observe().same_config(&initial), "{what}");
        };
        // A refusal at every request.
        for op in 1..=steps.ipvs.len() {
            let mut f = fresh();
            f.ipvs.fail_op(op, libc::EINVAL);
            restored(f, format!("round {round}, refusal at {op}"));
            cases += 1;
        }
        // A socket error after every batch: rolled back from what the kernel holds.
        for b in 1..=batches {
            let mut f = fresh();
            f.ipvs.fail_socket_after_batch(b);
            restored(f, format!("round {round}, socket at {b}"));
            cases += 1;
        }
        // An nft failure at each of its writes.
        for n in 0..2 {
            let mut f = fresh();
            f.nft.fail_replace(n, "Error: injected");
            let initial = f.observe();
            match f.apply(&desired, None) {
                Ok(_) => assert!(holds(&f.observe(), &desired)),
                Err(err) => {
                    assert_eq!(err.rollback, Rollback::Restored, "round {round}, nft {n}");
                    assert!(f.observe().same_config(&initial), "round {round}, nft {n}");
                }
            }
            cases += 1;
        }
        // A kill at every batch boundary: cut-safe, seen by the next run, and
        // `rollback` restores the state before exactly.
        for k in 0..=batches {
            let mut f = fresh();
            let dir = tempfile::tempdir().unwrap();
            let journal = Journal::at(dir.path().to_path_buf());
            f.ipvs.kill_after_batches(k);
            let initial = f.observe();
            let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = f.apply(&desired, Some(&journal));
            }));
            let payload = killed.expect_err("the fake kills the write");
            assert!(payload.is::<Killed>());
            let what = format!("round {round}, kill after {k} of {batches} batches");
            assert_cut_safe(&mut f, &before, &desired, &what);
            let open = journal.unfinished().unwrap();
            assert_eq!(open.len(), 1, "{what}: the journal shows the cut-off apply");
            let id = open[0].header.id;
            let snapshot = journal.snapshot(id).unwrap();
            assert_eq!(snapshot.before, initial.balancer, "{what}");
            // `lvsh rollback ID`
            let observed = f.observe();
            if let Some(prepared) = prepare(observed, &snapshot.before, Mode::Replace).unwrap() {
                let record = Record {
                    command: format!("rollback {id}"),
                    ..Record::default()
                };
                execute(
                    &mut f.kernel(),
                    prepared,
                    &snapshot.before,
                    Mode::Replace,
                    Some((&journal, record)),
                )
                .unwrap_or_else(|e| panic!("{what}: rollback failed: {e}"));
            } else {
                // Nothing had reached the kernel: `lvsh rollback` says so and settles.
                journal.settle("nothing to roll back").unwrap();
            }
            assert!(
                f.observe().same_config(&initial),
                "{what}: rollback did not restore"
            );
            assert!(
                journal.unfinished().unwrap().is_empty(),
                "{what}: still warns"
            );
            assert_eq!(
                journal.entry(id).unwrap().end.unwrap().outcome,
                Outcome::Interrupted
            );
            cases += 1;
        }
    }
    assert!(cases > 200, "only {cases} cases");
}

#[test]
fn touched_covers_every_service_a_request_changes() {
    use crate::backend::IpvsOp;
    let dest = Dest::new(DestKey {
        address: [10, 1, 0, 1].into(),
        port: 80,
    });
    let ops = vec![
        IpvsOp::AddService(Service::new(key(1))),
        IpvsOp::EditService(Service::new(key(2))),
        IpvsOp::DelService(key(3)),
        IpvsOp::AddDest(key(4), dest.clone()),
        IpvsOp::EditDest(key(5), dest.clone()),
        IpvsOp::DelDest(key(6), dest.key),
        IpvsOp::SetTimeouts(Default::default()),
    ];
    let want: BTreeSet<ServiceKey> = (1..=6).map(key).collect();
    assert_eq!(touched(&ops), want);
    let _ = FakeNft::new().read();
}

/// Drift in the owned table makes apply rewrite it even when no mark changes; the
/// rewritten table keeps the marks outside a scoped script's scope.
#[test]
fn a_table_rewritten_for_drift_keeps_marks_outside_the_scope() {
    let mut observed = Balancer::default();
    let mut rule = crate::model::MarkRule::new(50);
    rule.addresses.insert([10, 0, 0, 50].into());
    observed.marks.insert(50, rule);
    let foreign = crate::backend::nft::Foreign {
        kind: "rule".into(),
        name: "prerouting".into(),
        handle: Some(9),
        detail: "not written by lvsh".into(),
        content: None,
    };
    let desired = Balancer {
        scope: Some(crate::model::Scope::default()),
        ..Balancer::default()
    };
    let observed = Observed {
        balancer: observed,
        foreign: vec![foreign],
    };
    let prepared = prepare(observed.clone(), &desired, Mode::Replace)
        .unwrap()
        .unwrap();
    assert!(prepared.plan.is_empty());
    assert_eq!(prepared.steps.nft_after, Some(observed.balancer.marks));
}

/// A scoped model applied, then emptied: what lies outside its scope is exactly as
/// before, IPVS and nft, and the rest matches the model.
#[test]
fn a_scoped_apply_leaves_what_is_outside_as_it_was() {
    let others = with_mark(
        balancer(vec![service(
            ServiceKey::inet(Protocol::Tcp, [10, 0, 1, 1].into(), 80),
            Scheduler::Wlc,
            &[1],
        )]),
        50,
        &[1],
    );
    let mut before = with_mark(
        balancer(vec![service(key(1), Scheduler::Rr, &[1])]),
        5,
        &[1],
    );
    before.services.extend(others.services.clone());
    before.marks.extend(others.marks.clone());
    let mut scope = crate::model::Scope::default();
    scope.addresses.insert("10.0.0.0/24".parse().unwrap());
    scope.marks.insert("1-9".parse().unwrap());
    let mut desired = with_mark(
        balancer(vec![service(key(2), Scheduler::Rr, &[2])]),
        6,
        &[2],
    );
    desired.scope = Some(scope.clone());
    let mut f = Fakes::with(&before);
    let outside = |b: &Balancer| {
        let mut b = b.clone();
        b.services.retain(|k, _| others.services.contains_key(k));
        b.marks.retain(|m, _| others.marks.contains_key(m));
        b
    };
    for desired in [
        desired,
        Balancer {
            scope: Some(scope),
            ..Balancer::default()
        },
    ] {
        let was = f.observe().balancer;
        f.apply(&desired, None).unwrap();
        let after = f.observe().balancer;
        assert!(diff(&desired, &desired.managed(&after), Mode::Replace).is_empty());
        assert_eq!(outside(&after), outside(&was));
        assert_eq!(after.marks.len(), desired.marks.len() + 1);
        assert_eq!(after.services.len(), desired.services.len() + 2);
    }
}

mod addresses;
mod sysctls;
