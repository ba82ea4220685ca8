//! From a plan to what the backends send: the sysctls, the addresses, IPVS requests in plan order,
//! and the nft table before (marks added or widened) and after (marks narrowed or
//! removed) the IPVS requests.

use super::Steps;
use crate::{
    backend::IpvsOp,
    model::{Balancer, MarkRule},
    plan::{Action, Change, Object, Plan},
};
use std::collections::BTreeMap;

impl Steps {
    /// The plan's changes as backend steps. Mark changes that come before every IPVS
    /// change (the plan puts additions first) form the table written before the IPVS
    /// requests; the others the table written after them. `observed` is the state the
    /// plan was made against.
    pub fn from_plan(plan: &Plan, observed: &Balancer) -> Steps {
        let mut marks = observed.marks.clone();
        // At most one request per change: no regrowing (and up to twice the room) when
        // 50,000 changes become 50,000 requests.
        let mut steps = Steps {
            ipvs: Vec::with_capacity(plan.changes.len()),
            ..Steps::default()
        };
        let mut seen_ipvs = false;
        let mut marks_before = false;
        let mut marks_after = false;
        for change in &plan.changes {
            if let Object::Sysctl(name) = &change.object {
                if let Some(v) = change.after.as_ref().and_then(|s| s.sysctl()) {
                    steps.sysctls.push((name.clone(), v.clone()));
                }
                continue;
            }
            if let Object::Address(a) = &change.object {
                match change.action {
                    Action::Delete => steps.addresses_deleted.push(a.clone()),
                    _ => steps.addresses_added.push(a.clone()),
                }
                continue;
            }
            if let Object::Mark(number) = change.object {
                apply_mark(&mut marks, number, change);
                if seen_ipvs {
                    marks_after = true;
                } else {
                    marks_before = true;
                }
                continue;
            }
            if let Some(op) = ipvs_op(change) {
                seen_ipvs = true;
                steps.ipvs.push(op);
            }
            // A plan's marks are a prefix and a suffix; snapshot the prefix's result.
            if marks_before && steps.nft_before.is_none() {
                steps.nft_before = Some(marks.clone());
            }
        }
        if marks_before && steps.nft_before.is_none() {
            steps.nft_before = Some(marks.clone());
        }
        if marks_after {
            steps.nft_after = Some(marks);
        }
        steps
    }

    /// Makes sure the owned table is written (it holds objects lvsh did not write, and
    /// any write replaces the whole table). `marks` is the table the plan ends with.
    pub fn rewrite_table(&mut self, marks: &BTreeMap<u32, MarkRule>) {
        if self.nft_before.is_none() && self.nft_after.is_none() {
            self.nft_after = Some(marks.clone());
        }
    }
}

fn apply_mark(marks: &mut BTreeMap<u32, MarkRule>, number: u32, change: &Change) {
    match (&change.action, change.after.as_ref().and_then(|s| s.mark())) {
        (Action::Delete, _) => {
            marks.remove(&number);
        }
        (_, Some(rule)) => {
            marks.insert(number, rule.clone());
        }
        (_, None) => {}
    }
}

fn ipvs_op(change: &Change) -> Option<IpvsOp> {
    let after = change.after.as_ref();
    Some(match (&change.object, &change.action) {
        (Object::Service(key), Action::Delete) => IpvsOp::DelService(*key),
        (Object::Service(_), action) => {
            let mut s = after?.service()?.clone();
            s.dests.clear();
            if *action == Action::Add {
                IpvsOp::AddService(s)
            } else {
                IpvsOp::EditService(s)
            }
        }
        (Object::Dest(svc, key), Action::Delete) => IpvsOp::DelDest(*svc, *key),
        (Object::Dest(svc, _), Action::Add) => IpvsOp::AddDest(*svc, after?.dest()?.clone()),
        (Object::Dest(svc, _), Action::Edit) => IpvsOp::EditDest(*svc, after?.dest()?.clone()),
        (Object::Timeouts, _) => IpvsOp::SetTimeouts(*after?.timeouts()?),
        (Object::Daemon(state), Action::Delete) => IpvsOp::DelDaemon(*state),
        (Object::Daemon(_), _) => IpvsOp::AddDaemon(after?.daemon()?.clone()),
        (Object::Mark(_) | Object::Sysctl(_) | Object::Address(_), _) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Dest, DestKey, Family, Protocol, Service, ServiceKey},
        plan::{Mode, diff},
    };

    fn mark(n: u32, addr: &str) -> MarkRule {
        let mut m = MarkRule::new(n);
        m.addresses.insert(addr.parse().unwrap());
        m
    }

    fn fwmark_service(n: u32) -> Service {
        let key = ServiceKey::fwmark(Family::Inet, n);
        let mut s = Service::new(key);
        s.persistence = Some(60);
        let dk = DestKey {
            address: "10.0.0.2".parse().unwrap(),
            port: 0,
        };
        s.dests.insert(dk, Dest::new(dk));
        s
    }

    #[test]
    fn new_mark_is_written_before_its_service() {
        let mut desired = Balancer::default();
        let s = fwmark_service(10);
        desired.services.insert(s.key, s);
        desired.marks.insert(10, mark(10, "10.0.0.1"));
        let steps = Steps::from_plan(
            &diff(&desired, &Balancer::default(), Mode::Replace),
            &Balancer::default(),
        );
        assert_eq!(steps.nft_before, Some(desired.marks.clone()));
        assert!(steps.nft_after.is_none());
        assert!(matches!(
            steps.ipvs[..],
            [IpvsOp::AddService(_), IpvsOp::AddDest(..)]
        ));
    }

    #[test]
    fn removed_mark_goes_after_its_service() {
        let mut observed = Balancer::default();
        let s = fwmark_service(10);
        observed.services.insert(s.key, s);
        observed.marks.insert(10, mark(10, "10.0.0.1"));
        let steps = Steps::from_plan(
            &diff(&Balancer::default(), &observed, Mode::Replace),
            &observed,
        );
        assert!(steps.nft_before.is_none());
        assert_eq!(steps.nft_after, Some(BTreeMap::new()));
        assert!(matches!(steps.ipvs[..], [IpvsOp::DelService(_)]));
    }

    #[test]
    fn swapping_marks_writes_the_table_twice() {
        let mut observed = Balancer::default();
        let old = fwmark_service(10);
        observed.services.insert(old.key, old);
        observed.marks.insert(10, mark(10, "10.0.0.1"));
        let mut desired = Balancer::default();
        let new = fwmark_service(11);
        desired.services.insert(new.key, new);
        desired.marks.insert(11, mark(11, "10.0.0.1"));
        let steps = Steps::from_plan(&diff(&desired, &observed, Mode::Replace), &observed);
        // Both marks while the services change: neither fwmark service is ever
        // without its mark.
        let mut both = observed.marks.clone();
        both.extend(desired.marks.clone());
        assert_eq!(steps.nft_before, Some(both));
        assert_eq!(steps.nft_after, Some(desired.marks.clone()));
    }

    #[test]
    fn edits_become_set_requests_with_the_new_settings() {
        let key = ServiceKey::inet(Protocol::Tcp, "10.0.0.1".parse().unwrap(), 80);
        let dk = DestKey {
            address: "10.0.0.2".parse().unwrap(),
            port: 80,
        };
        let mut observed = Balancer::default();
        let mut s = Service::new(key);
        s.dests.insert(dk, Dest::new(dk));
        observed.services.insert(key, s.clone());
        let mut desired = observed.clone();
        let ds = desired.services.get_mut(&key).unwrap();
        ds.persistence = Some(300);
        ds.dests.get_mut(&dk).unwrap().weight = 9;
        let steps = Steps::from_plan(&diff(&desired, &observed, Mode::Replace), &observed);
        assert!(steps.nft_before.is_none() && steps.nft_after.is_none());
        match &steps.ipvs[..] {
            [IpvsOp::EditService(s), IpvsOp::EditDest(_, d)] => {
                assert_eq!(s.persistence, Some(300));
                assert!(s.dests.is_empty());
                assert_eq!(d.weight, 9);
            }
            other => panic!("{other:?}"),
        }
    }

    /// A scoped script plans against the part of the kernel it owns, but every nft
    /// write replaces the whole table: it starts from every observed mark.
    #[test]
    fn marks_outside_a_scope_stay_in_the_rewritten_table() {
        let mut observed = Balancer::default();
        for n in [10, 50] {
            let s = fwmark_service(n);
            observed.services.insert(s.key, s);
            observed.marks.insert(n, mark(n, "10.0.0.1"));
        }
        let mut desired = Balancer::default();
        let s = fwmark_service(11);
        desired.services.insert(s.key, s);
        desired.marks.insert(11, mark(11, "10.0.0.1"));
        let mut scope = crate::model::Scope::default();
        scope.marks.insert("10-19".parse().unwrap());
        desired.scope = Some(scope);
        let plan = diff(&desired, &desired.managed(&observed), Mode::Replace);
        let steps = Steps::from_plan(&plan, &observed);
        let numbers = |m: &Option<BTreeMap<u32, MarkRule>>| {
            m.as_ref().map(|m| m.keys().copied().collect::<Vec<_>>())
        };
        assert_eq!(numbers(&steps.nft_before), Some(vec![10, 11, 50]));
        assert_eq!(numbers(&steps.nft_after), Some(vec![11, 50]));
        assert_eq!(steps.nft_after.unwrap()[&50], observed.marks[&50]);
        let fw = |n| ServiceKey::fwmark(Family::Inet, n);
        assert!(matches!(
            &steps.ipvs[..],
            [IpvsOp::AddService(s), IpvsOp::AddDest(..), IpvsOp::DelService(k)]
                if *k == fw(10) && s.key == fw(11)
        ));
    }
}
