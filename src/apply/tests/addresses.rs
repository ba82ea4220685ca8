//! Addresses in the transaction: added before IPVS, deleted after it, only lvsh's
//! ever deleted, an unmarked one left alone, rolled back from a re-read.

use super::*;
use crate::model::{HostAddress, Origin};

fn addr(cidr: &str, dev: &str) -> HostAddress {
    HostAddress::parse(cidr, dev).unwrap()
}

fn with_addresses(mut b: Balancer, list: &[&HostAddress]) -> Balancer {
    for a in list {
        b.addresses.insert((*a).clone(), Origin::NONE);
    }
    b
}

#[test]
fn addresses_are_added_first_deleted_last_and_only_lvsh_s() {
    let vip = addr("10.0.0.1/32", "eth0");
    let old = addr("10.0.0.9/32", "lo");
    let theirs = addr("10.0.0.2/32", "eth0");
    let before = with_addresses(
        balancer(vec![service(key(9), Scheduler::Rr, &[1])]),
        &[&old],
    );
    let mut f = Fakes::with(&before);
    f.addr.add_unmarked(theirs.clone());
    // The script wants its VIP and keepalived's: the second is left alone.
    let desired = with_addresses(
        balancer(vec![service(key(1), Scheduler::Rr, &[1])]),
        &[&vip, &theirs],
    );
    let plan = diff(&desired, &f.observe().balancer, Mode::Replace);
    assert_eq!(
        plan.render(false),
        "+ address 10.0.0.1/32 on eth0\n\
         - address 10.0.0.9/32 on lo\n\
         + service tcp 10.0.0.1:80      rr\n\
         +   rs 10.1.0.1:8080           nat weight 1\n\
         - service tcp 10.0.0.9:80      rr (and its real server)\n\
         -   rs 10.1.0.1:8080           nat weight 1\n\
         Plan: 3 to add, 0 to change, 3 to delete.\n"
    );
    f.apply(&desired, None).unwrap();
    assert_eq!(f.addr.log, ["+ 10.0.0.1/32 on eth0", "- 10.0.0.9/32 on lo"]);
    assert_eq!(f.addr.all().get(&theirs), Some(&false), "still theirs");
    assert_eq!(f.addr.all().get(&vip), Some(&true));
    assert!(!f.addr.all().contains_key(&old));
    // Planned again: nothing to do, keepalived's address included.
    assert!(diff(&desired, &f.observe().balancer, Mode::Replace).is_empty());
    // Gone from the script: only lvsh's goes.
    let none = balancer(vec![service(key(1), Scheduler::Rr, &[1])]);
    f.apply(&none, None).unwrap();
    assert_eq!(f.addr.all().len(), 1);
    assert_eq!(f.addr.all().get(&theirs), Some(&false));
}

#[test]
fn a_later_refusal_takes_the_new_addresses_back_and_puts_the_old_ones_back() {
    let vip = addr("10.0.0.1/32", "eth0");
    let old = addr("2001:db8::1/128", "lo");
    let before = with_addresses(balancer(vec![]), &[&old]);
    let desired = with_addresses(
        balancer(vec![service(key(2), Scheduler::Twos, &[1])]),
        &[&vip],
    );
    let mut f = Fakes::with(&before);
    f.ipvs = FakeIpvs::new().without_scheduler(Scheduler::Twos);
    let initial = f.observe();
    let err = f.apply(&desired, None).unwrap_err();
    assert_eq!(err.rollback, Rollback::Restored, "{err:?}");
    // Added, then taken back; the old one was never deleted (IPVS failed first).
    assert_eq!(
        f.addr.log,
        ["+ 10.0.0.1/32 on eth0", "- 10.0.0.1/32 on eth0"]
    );
    assert!(f.observe().same_config(&initial));
    assert_eq!(f.addr.all().get(&old), Some(&true));
}

#[test]
fn a_refused_address_names_it_and_a_missing_interface_is_refused_first() {
    let vip = addr("10.0.0.1/32", "eth0");
    let desired = with_addresses(
        balancer(vec![service(key(1), Scheduler::Rr, &[1])]),
        &[&vip],
    );
    let mut f = Fakes::with(&balancer(vec![]));
    f.addr.fail_change(1, libc::EPERM);
    let err = f.apply(&desired, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the kernel refused to add address 10.0.0.1/32 on eth0: not permitted (lvsh needs \
         root, CAP_NET_ADMIN) (errno 1)"
    );
    assert_eq!(err.rollback, Rollback::Restored);
    assert_eq!(f.ipvs.executed(), 0);

    let mut nowhere = Balancer::default();
    nowhere.addresses.insert(
        addr("10.0.0.1/32", "eth9"),
        Origin::at(std::sync::Arc::from("site.rhai"), 3, 1),
    );
    let err = prepare(f.observe(), &nowhere, Mode::Replace).unwrap_err();
    assert_eq!(
        err.to_string(),
        "address 10.0.0.1/32 on eth9: there is no interface `eth9` in this network namespace \
         (site.rhai:3:1)"
    );
}
