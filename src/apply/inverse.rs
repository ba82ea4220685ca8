//! The undo of each IPVS request, computed from the state before it ran.

use crate::{backend::IpvsOp, model::Balancer};

/// The requests that undo `op`, given the observed state `before` the transaction.
///
/// Each object is touched at most once per plan, so the state before the whole
/// transaction is the state before the op. Deleting a service deletes its real
/// servers with it, so its undo re-creates them too.
pub fn inverse(op: &IpvsOp, before: &Balancer) -> Vec<IpvsOp> {
    match op {
        IpvsOp::AddService(s) => vec![IpvsOp::DelService(s.key)],
        IpvsOp::EditService(s) => before
            .services
            .get(&s.key)
            .map(|old| vec![IpvsOp::EditService(settings_only(old))])
            .unwrap_or_default(),
        IpvsOp::DelService(key) => before
            .services
            .get(key)
            .map(|old| {
                let mut undo = vec![IpvsOp::AddService(settings_only(old))];
                undo.extend(old.dests.values().map(|d| IpvsOp::AddDest(*key, d.clone())));
                undo
            })
            .unwrap_or_default(),
        IpvsOp::AddDest(svc, d) => vec![IpvsOp::DelDest(*svc, d.key)],
        IpvsOp::EditDest(svc, d) => old_dest(before, svc, &d.key)
            .map(|old| vec![IpvsOp::EditDest(*svc, old)])
            .unwrap_or_default(),
        IpvsOp::DelDest(svc, key) => old_dest(before, svc, key)
            .map(|old| vec![IpvsOp::AddDest(*svc, old)])
            .unwrap_or_default(),
        IpvsOp::SetTimeouts(_) => vec![IpvsOp::SetTimeouts(before.timeouts)],
        IpvsOp::AddDaemon(d) => vec![IpvsOp::DelDaemon(d.state)],
        IpvsOp::DelDaemon(state) => before
            .daemons
            .get(state)
            .map(|old| vec![IpvsOp::AddDaemon(old.clone())])
            .unwrap_or_default(),
    }
}

fn settings_only(s: &crate::model::Service) -> crate::model::Service {
    let mut s = s.clone();
    s.dests.clear();
    s
}

fn old_dest(
    before: &Balancer,
    svc: &crate::model::ServiceKey,
    key: &crate::model::DestKey,
) -> Option<crate::model::Dest> {
    before.services.get(svc)?.dests.get(key).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dest, DestKey, Protocol, Scheduler, Service, ServiceKey};

    fn observed() -> (Balancer, ServiceKey, DestKey) {
        let key = ServiceKey::inet(Protocol::Tcp, "10.0.0.1".parse().unwrap(), 80);
        let dk = DestKey {
            address: "10.0.0.2".parse().unwrap(),
            port: 80,
        };
        let mut s = Service::new(key);
        s.scheduler = Scheduler::Rr;
        let mut d = Dest::new(dk);
        d.weight = 7;
        s.dests.insert(dk, d);
        let mut b = Balancer::default();
        b.services.insert(key, s);
        b.timeouts.tcp = Some(900);
        (b, key, dk)
    }

    #[test]
    fn deleting_a_service_is_undone_with_its_real_servers() {
        let (b, key, dk) = observed();
        let undo = inverse(&IpvsOp::DelService(key), &b);
        assert_eq!(undo.len(), 2);
        assert!(
            matches!(&undo[0], IpvsOp::AddService(s) if s.dests.is_empty() && s.scheduler == Scheduler::Rr)
        );
        assert!(
            matches!(&undo[1], IpvsOp::AddDest(k, d) if *k == key && d.key == dk && d.weight == 7)
        );
    }

    #[test]
    fn edits_are_undone_with_the_old_values() {
        let (b, key, dk) = observed();
        let mut d = Dest::new(dk);
        d.weight = 1;
        let undo = inverse(&IpvsOp::EditDest(key, d), &b);
        assert!(matches!(&undo[..], [IpvsOp::EditDest(_, old)] if old.weight == 7));
        let mut s = Service::new(key);
        s.scheduler = Scheduler::Wlc;
        let undo = inverse(&IpvsOp::EditService(s), &b);
        assert!(matches!(&undo[..], [IpvsOp::EditService(old)] if old.scheduler == Scheduler::Rr));
        let undo = inverse(&IpvsOp::SetTimeouts(Default::default()), &b);
        assert!(matches!(&undo[..], [IpvsOp::SetTimeouts(t)] if t.tcp == Some(900)));
    }

    #[test]
    fn adds_are_undone_by_deletes() {
        let (b, key, dk) = observed();
        assert_eq!(
            inverse(&IpvsOp::AddDest(key, Dest::new(dk)), &b),
            vec![IpvsOp::DelDest(key, dk)]
        );
        assert_eq!(
            inverse(&IpvsOp::AddService(Service::new(key)), &b),
            vec![IpvsOp::DelService(key)]
        );
    }
}
