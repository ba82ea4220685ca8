//! Sysctls in the transaction: written first, verified, journalled, and rolled back
//! from a re-read like everything else.

use super::*;
use crate::model::SysctlValue;

fn with_sysctls(mut b: Balancer, set: &[(&str, i64)]) -> Balancer {
    for (name, v) in set {
        b.sysctls.set(name, SysctlValue::Int(*v));
    }
    b
}

fn value(f: &Fakes, name: &str) -> Option<i64> {
    f.sysctl.values().int(name)
}

#[test]
fn sysctls_are_written_before_anything_else_and_verified() {
    let before = balancer(vec![service(key(1), Scheduler::Rr, &[1, 2])]);
    // The real server goes while expire_nodest_conn is already 1.
    let desired = with_sysctls(
        balancer(vec![service(key(1), Scheduler::Rr, &[1])]),
        &[("expire_nodest_conn", 1), ("conntrack", 1)],
    );
    let mut f = Fakes::with(&before);
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::at(dir.path().to_path_buf());
    let applied = f.apply(&desired, Some(&journal)).unwrap();
    assert_eq!(
        applied.to_string(),
        "Applied: 0 added, 2 changed, 1 deleted."
    );
    assert_eq!(value(&f, "expire_nodest_conn"), Some(1));
    assert_eq!(value(&f, "conntrack"), Some(1));
    // Both before the one IPVS request.
    assert_eq!(f.sysctl.log.len(), 2);
    assert_eq!(f.ipvs.executed(), 1);
    let now = f.observe();
    assert!(diff(&desired, &now.balancer, Mode::Replace).is_empty());
    // Only what the script sets is managed: every other sysctl is as it was.
    assert_eq!(now.balancer.sysctls.len(), FakeSysctl::new().values().len());
    assert_eq!(value(&f, "sloppy_tcp"), Some(0));
    // The journal holds the values before, for `lvsh rollback`.
    let snap = journal.snapshot(1).unwrap().before;
    assert_eq!(snap.sysctls.int("expire_nodest_conn"), Some(0));
    let back = prepare(f.observe(), &snap, Mode::Replace).unwrap().unwrap();
    assert_eq!(back.steps.sysctls.len(), 2);
    execute(&mut f.kernel(), back, &snap, Mode::Replace, None).unwrap();
    assert_eq!(value(&f, "expire_nodest_conn"), Some(0));
    assert_eq!(value(&f, "conntrack"), Some(0));
}

#[test]
fn a_refused_sysctl_write_names_it_and_rolls_back_the_ones_before() {
    let before = balancer(vec![service(key(1), Scheduler::Rr, &[1])]);
    let desired = with_sysctls(
        balancer(vec![service(key(1), Scheduler::Wrr, &[1])]),
        &[("conntrack", 1), ("sloppy_tcp", 1)],
    );
    let mut f = Fakes::with(&before);
    f.sysctl.refuse("sloppy_tcp", libc::EPERM);
    let initial = f.observe();
    let err = f.apply(&desired, None).unwrap_err();
    match &err.cause {
        Cause::Refused { change, error, .. } => {
            assert_eq!(change, "set sysctl `net.ipv4.vs.sloppy_tcp` to 1");
            assert_eq!(error.errno, libc::EPERM);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.rollback, Rollback::Restored);
    assert_eq!(err.exit_code(), 1);
    assert_eq!(
        err.to_string(),
        "the kernel refused to set sysctl `net.ipv4.vs.sloppy_tcp` to 1: not permitted (not \
         root, or a sysctl that is read-only in a namespace of another user namespace) (errno 1)"
    );
    // conntrack was written, then set back; IPVS was never touched.
    assert_eq!(
        f.sysctl.log,
        [
            ("conntrack".to_string(), SysctlValue::Int(1)),
            ("sloppy_tcp".to_string(), SysctlValue::Int(1)),
            ("conntrack".to_string(), SysctlValue::Int(0)),
        ]
    );
    assert_eq!(f.ipvs.executed(), 0);
    assert!(f.observe().same_config(&initial));
}

#[test]
fn an_ipvs_refusal_after_the_sysctls_restores_them() {
    let before = with_sysctls(balancer(vec![]), &[("expire_quiescent_template", 0)]);
    let desired = with_sysctls(
        balancer(vec![service(key(2), Scheduler::Twos, &[1])]),
        &[("expire_quiescent_template", 1), ("drop_entry", 3)],
    );
    let mut f = Fakes::with(&before);
    f.ipvs = FakeIpvs::new().without_scheduler(Scheduler::Twos);
    let initial = f.observe();
    let err = f.apply(&desired, None).unwrap_err();
    assert!(matches!(err.cause, Cause::Refused { .. }), "{err:?}");
    assert_eq!(err.rollback, Rollback::Restored);
    assert_eq!(value(&f, "expire_quiescent_template"), Some(0));
    assert_eq!(value(&f, "drop_entry"), Some(0));
    assert!(f.observe().same_config(&initial));
}

#[test]
fn a_rollback_that_cannot_write_a_sysctl_says_so() {
    let desired = with_sysctls(
        balancer(vec![service(key(2), Scheduler::Twos, &[1])]),
        &[("conntrack", 1)],
    );
    let mut f = Fakes::with(&balancer(vec![]));
    f.ipvs = FakeIpvs::new().without_scheduler(Scheduler::Twos);
    // Writable for the apply, not for the way back.
    f.sysctl.fail_write(2, libc::EPERM);
    let err = f.apply(&desired, None).unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err:?}");
    let Rollback::Incomplete { differs } = &err.rollback else {
        panic!("{err:?}")
    };
    assert!(differs.contains("~ sysctl conntrack"), "{differs}");
    assert!(
        differs.contains("could not set sysctl `net.ipv4.vs.conntrack` to 0: not permitted"),
        "{differs}"
    );
}

#[test]
fn a_sysctl_the_kernel_lacks_is_refused_before_anything_is_written() {
    let desired = with_sysctls(
        balancer(vec![service(key(1), Scheduler::Rr, &[1])]),
        &[("conntrack", 1)],
    );
    let mut f = Fakes::with(&balancer(vec![]));
    f.sysctl = FakeSysctl::missing();
    let err = prepare(f.observe(), &desired, Mode::Replace).unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.to_string()
            .starts_with("the script sets `net.ipv4.vs.conntrack`, which the kernel does not have"),
        "{err}"
    );
    // Without sysctls in the script, a kernel without them is fine.
    let plain = balancer(vec![service(key(1), Scheduler::Rr, &[1])]);
    f.apply(&plain, None).unwrap();
    assert!(f.sysctl.log.is_empty());
}

#[test]
fn the_kernel_switching_an_automatic_defense_is_no_drift() {
    let desired = with_sysctls(balancer(vec![]), &[("drop_entry", 1)]);
    let mut f = Fakes::with(&balancer(vec![]));
    f.apply(&desired, None).unwrap();
    // Memory ran short: the kernel itself went from 1 to 2.
    f.sysctl.set("drop_entry", SysctlValue::Int(2));
    assert!(
        prepare(f.observe(), &desired, Mode::Replace)
            .unwrap()
            .is_none()
    );
    f.sysctl.set("drop_entry", SysctlValue::Int(0));
    assert!(
        prepare(f.observe(), &desired, Mode::Replace)
            .unwrap()
            .is_some()
    );
}

#[test]
fn another_writer_changing_a_sysctl_after_the_plan_stops_the_apply() {
    let desired = with_sysctls(balancer(vec![]), &[("conntrack", 1)]);
    let mut f = Fakes::with(&balancer(vec![]));
    let prepared = prepare(f.observe(), &desired, Mode::Replace)
        .unwrap()
        .unwrap();
    f.sysctl.set("sloppy_tcp", SysctlValue::Int(1));
    let err = execute(&mut f.kernel(), prepared, &desired, Mode::Replace, None).unwrap_err();
    assert!(matches!(err.cause, Cause::KernelChanged), "{err:?}");
    assert!(f.sysctl.log.is_empty());
}

/// The host sysctls a director needs go the same way: written first, rolled back
/// after a later refusal, and a missing interface is refused before any write.
#[test]
fn host_sysctls_are_written_and_rolled_back_like_the_ipvs_ones() {
    let desired = with_sysctls(
        balancer(vec![service(key(2), Scheduler::Twos, &[1])]),
        &[
            ("net.ipv4.ip_forward", 1),
            ("net.ipv4.conf.lo.arp_ignore", 1),
            ("net.ipv4.conf.all.arp_announce", 2),
        ],
    );
    let mut f = Fakes::with(&balancer(vec![]));
    f.ipvs = FakeIpvs::new().without_scheduler(Scheduler::Twos);
    let initial = f.observe();
    let err = f.apply(&desired, None).unwrap_err();
    assert_eq!(err.rollback, Rollback::Restored, "{err:?}");
    // Three written, three set back.
    assert_eq!(f.sysctl.log.len(), 6);
    assert_eq!(value(&f, "net.ipv4.ip_forward"), Some(0));
    assert_eq!(value(&f, "net.ipv4.conf.lo.arp_ignore"), Some(0));
    assert!(f.observe().same_config(&initial));

    let desired = with_sysctls(
        balancer(vec![service(key(1), Scheduler::Rr, &[1])]),
        &[
            ("net.ipv4.ip_forward", 1),
            ("net.ipv4.conf.lo.arp_ignore", 1),
        ],
    );
    f.ipvs = FakeIpvs::new();
    f.apply(&desired, None).unwrap();
    assert_eq!(value(&f, "net.ipv4.ip_forward"), Some(1));
    assert_eq!(value(&f, "net.ipv4.conf.lo.arp_ignore"), Some(1));
    // Only what the script names: eth0's stays.
    assert_eq!(value(&f, "net.ipv4.conf.eth0.arp_ignore"), Some(0));
    assert!(diff(&desired, &f.observe().balancer, Mode::Replace).is_empty());

    let absent = with_sysctls(balancer(vec![]), &[("net.ipv4.conf.eth9.arp_ignore", 1)]);
    let err = prepare(f.observe(), &absent, Mode::Replace).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the script sets `net.ipv4.conf.eth9.arp_ignore`, which the kernel does not have: \
         there is no interface `eth9` in this network namespace"
    );
}
