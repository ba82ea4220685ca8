//! One line per IPVS request, for progress output and error messages.

use crate::backend::IpvsOp;

pub fn describe(op: &IpvsOp) -> String {
    match op {
        IpvsOp::AddService(s) => format!("add service {} {}", s.key, s.scheduler),
        IpvsOp::EditService(s) => format!("edit service {} {}", s.key, s.scheduler),
        IpvsOp::DelService(k) => format!("delete service {k}"),
        IpvsOp::AddDest(k, d) => format!("add real server {} {} to {k}", d.key, d.forward),
        IpvsOp::EditDest(k, d) => format!("edit real server {} of {k}", d.key),
        IpvsOp::DelDest(k, d) => format!("delete real server {d} of {k}"),
        IpvsOp::SetTimeouts(_) => "set timeouts".to_string(),
        IpvsOp::AddDaemon(d) => format!("start sync daemon {} on {}", d.state, d.interface),
        IpvsOp::DelDaemon(s) => format!("stop sync daemon {s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Protocol, Scheduler, Service, ServiceKey};

    #[test]
    fn names_the_object_and_the_scheduler() {
        let mut s = Service::new(ServiceKey::inet(
            Protocol::Tcp,
            "192.168.10.120".parse().unwrap(),
            80,
        ));
        s.scheduler = Scheduler::Twos;
        assert_eq!(
            describe(&IpvsOp::AddService(s)),
            "add service tcp 192.168.10.120:80 twos"
        );
    }
}
