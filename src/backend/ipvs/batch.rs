//! Where a list of requests may be cut into `sendmsg` batches.
//!
//! The kernel handles one `sendmsg` as a whole before the syscall returns, so a kill
//! can only fall between batches. A new service and the destinations added to it
//! right after form one unit, never split (unless the unit alone exceeds what one
//! batch may hold): a process killed mid-apply never leaves a new service in the
//! kernel without its real servers.

use crate::backend::IpvsOp;
use crate::model::ServiceKey;

/// Follows a list of requests and tells where a new batch may start.
#[derive(Debug, Default)]
pub struct Units {
    /// The service added last, while only its destinations follow.
    open: Option<ServiceKey>,
}

impl Units {
    /// Takes the next request; true when a batch may start with it.
    pub fn starts_unit(&mut self, op: &IpvsOp) -> bool {
        match op {
            IpvsOp::AddDest(svc, _) if self.open == Some(*svc) => false,
            IpvsOp::AddService(s) => {
                self.open = Some(s.key);
                true
            }
            _ => {
                self.open = None;
                true
            }
        }
    }
}

/// The batches of `ops` when a batch holds at most `max` requests: whole units, each
/// batch as full as the units allow. A unit longer than `max` is cut.
pub fn by_count(ops: &[IpvsOp], max: usize) -> Vec<std::ops::Range<usize>> {
    let max = max.max(1);
    let mut units = Units::default();
    let mut batches = vec![];
    let mut first = 0;
    // The last place the current batch may end.
    let mut cut = 0;
    for (i, op) in ops.iter().enumerate() {
        if units.starts_unit(op) {
            cut = i;
        }
        if i - first == max {
            let end = if cut > first { cut } else { i };
            batches.push(first..end);
            first = end;
        }
    }
    if first < ops.len() {
        batches.push(first..ops.len());
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dest, DestKey, Protocol, Service};

    fn key(n: u8) -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, [10, 0, 0, n].into(), 80)
    }

    fn dest(svc: u8, n: u8) -> IpvsOp {
        IpvsOp::AddDest(
            key(svc),
            Dest::new(DestKey {
                address: [10, 1, 0, n].into(),
                port: 80,
            }),
        )
    }

    fn add(n: u8) -> IpvsOp {
        IpvsOp::AddService(Service::new(key(n)))
    }

    #[test]
    fn a_new_service_and_its_destinations_stay_in_one_batch() {
        let ops = vec![
            add(1),
            dest(1, 1),
            dest(1, 2),
            add(2),
            dest(2, 1),
            dest(2, 2),
        ];
        // Four per batch: the second service does not start in the first batch's tail.
        assert_eq!(by_count(&ops, 4), vec![0..3, 3..6]);
        assert_eq!(by_count(&ops, 6), vec![0..6]);
    }

    #[test]
    fn destinations_of_an_existing_service_may_be_cut_anywhere() {
        let ops = vec![dest(1, 1), dest(1, 2), dest(1, 3)];
        assert_eq!(by_count(&ops, 2), vec![0..2, 2..3]);
    }

    #[test]
    fn a_unit_longer_than_a_batch_is_cut() {
        let ops = vec![add(1), dest(1, 1), dest(1, 2), dest(1, 3), add(2)];
        assert_eq!(by_count(&ops, 2), vec![0..2, 2..4, 4..5]);
    }

    #[test]
    fn another_service_closes_the_unit() {
        let mut units = Units::default();
        assert!(units.starts_unit(&add(1)));
        assert!(!units.starts_unit(&dest(1, 1)));
        assert!(units.starts_unit(&dest(2, 1)));
        assert!(units.starts_unit(&dest(1, 2)));
    }
}
