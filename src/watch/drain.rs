//! How a drain moves on: from `draining` to `drained` once the real server's
//! connections (and, for a persistent service, its persistence templates) are gone,
//! or its deadline has passed. Pure: `lvsh watch` applies it every tick and writes
//! the record; `lvsh status` shows what it would do without writing. Without a
//! watch a drain stays `draining` (at weight 0) for ever.

use crate::model::{Balancer, DestCounters, DestKey, Drain, DrainState, ServiceKey};

/// The drain's next record when it ends at `now`; `None` while it goes on (or has
/// ended already). `persistent`: the service keeps persistence templates, which
/// send their clients back to this server until they expire, so they count too.
pub fn progress(
    drain: &Drain,
    counters: &DestCounters,
    persistent: bool,
    now: u64,
) -> Option<Drain> {
    if drain.state != DrainState::Draining {
        return None;
    }
    let left = remaining(counters, persistent);
    let outcome = if left == 0 {
        "connections ended".to_string()
    } else if drain.deadline.is_some_and(|d| now >= d) {
        format!(
            "deadline passed with {left} connection{}",
            if left == 1 { "" } else { "s" }
        )
    } else {
        return None;
    };
    Some(ended(drain, now, outcome))
}

/// The drain's record when its real server left the kernel before it ended (a
/// script or `ipvsadm` removed it): nothing is left to wait for.
pub fn gone(drain: &Drain, now: u64) -> Option<Drain> {
    (drain.state == DrainState::Draining)
        .then(|| ended(drain, now, "the real server left the kernel".to_string()))
}

/// Whether the destination is to be deleted now: drained, and asked to go.
/// [`crate::model::effective`] leaves such a server out, so the next diff deletes it.
pub fn removes(drain: &Drain) -> bool {
    drain.state == DrainState::Drained && drain.remove
}

/// The connections a drain waits for.
pub fn remaining(counters: &DestCounters, persistent: bool) -> u64 {
    let templates = if persistent { counters.persistent } else { 0 };
    u64::from(counters.active) + u64::from(counters.inactive) + u64::from(templates)
}

fn ended(drain: &Drain, now: u64, outcome: String) -> Drain {
    Drain {
        state: DrainState::Drained,
        ended: Some(now),
        outcome: Some(outcome),
        ..drain.clone()
    }
}

/// `observed` with the weights of `weights` set, and nothing else changed: the
/// desired model of `lvsh drain` and `undrain`, applied in merge mode.
pub fn reweighed(observed: &Balancer, weights: &[(ServiceKey, DestKey, u32)]) -> Balancer {
    let mut desired = observed.clone();
    for (service, dest, weight) in weights {
        if let Some(d) = desired
            .services
            .get_mut(service)
            .and_then(|s| s.dests.get_mut(dest))
        {
            d.weight = *weight;
        }
    }
    desired
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dest, Protocol, Service};
    use crate::plan::{Mode, diff};

    fn draining(deadline: Option<u64>) -> Drain {
        Drain {
            state: DrainState::Draining,
            started: 100,
            deadline,
            prior_weight: 10,
            remove: false,
            ended: None,
            outcome: None,
        }
    }

    fn counters(active: u32, inactive: u32, persistent: u32) -> DestCounters {
        DestCounters {
            active,
            inactive,
            persistent,
        }
    }

    #[test]
    fn a_drain_ends_when_its_connections_do() {
        let d = draining(None);
        assert_eq!(progress(&d, &counters(1, 0, 0), false, 200), None);
        assert_eq!(progress(&d, &counters(0, 2, 0), false, 200), None);
        let done = progress(&d, &counters(0, 0, 0), false, 200).unwrap();
        assert_eq!(done.state, DrainState::Drained);
        assert_eq!(done.ended, Some(200));
        assert_eq!(done.outcome.as_deref(), Some("connections ended"));
        assert_eq!((done.started, done.prior_weight), (100, 10));
        // An ended drain does not end again.
        assert_eq!(progress(&done, &counters(0, 0, 0), false, 300), None);
    }

    #[test]
    fn templates_count_only_for_a_persistent_service() {
        let d = draining(None);
        assert!(progress(&d, &counters(0, 0, 3), false, 200).is_some());
        assert_eq!(progress(&d, &counters(0, 0, 3), true, 200), None);
        assert_eq!(remaining(&counters(1, 2, 3), true), 6);
        assert_eq!(remaining(&counters(1, 2, 3), false), 3);
    }

    #[test]
    fn the_deadline_ends_a_drain_and_says_what_was_left() {
        let d = draining(Some(160));
        assert_eq!(progress(&d, &counters(3, 0, 0), false, 159), None);
        let done = progress(&d, &counters(3, 0, 0), false, 160).unwrap();
        assert_eq!(
            done.outcome.as_deref(),
            Some("deadline passed with 3 connections")
        );
        let one = progress(&d, &counters(0, 0, 1), true, 999).unwrap();
        assert_eq!(
            one.outcome.as_deref(),
            Some("deadline passed with 1 connection")
        );
    }

    #[test]
    fn a_drained_server_with_remove_goes_and_a_vanished_one_ends_its_drain() {
        let mut d = draining(None);
        d.remove = true;
        assert!(!removes(&d));
        let done = progress(&d, &counters(0, 0, 0), false, 5).unwrap();
        assert!(removes(&done));
        let left = gone(&draining(None), 7).unwrap();
        assert_eq!(
            left.outcome.as_deref(),
            Some("the real server left the kernel")
        );
        assert_eq!(gone(&left, 8), None);
    }

    #[test]
    fn reweighing_changes_only_the_weights_named() {
        let key = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80);
        let mut s = Service::new(key);
        for last in [1, 2] {
            let dk = DestKey {
                address: format!("10.0.0.{last}").parse().unwrap(),
                port: 80,
            };
            let mut d = Dest::new(dk);
            d.weight = 5;
            s.dests.insert(dk, d);
        }
        let mut observed = Balancer::default();
        observed.services.insert(key, s);
        let two = DestKey {
            address: "10.0.0.2".parse().unwrap(),
            port: 80,
        };
        let desired = reweighed(&observed, &[(key, two, 0)]);
        let plan = diff(&desired, &observed, Mode::Merge);
        assert_eq!(plan.counts(), (0, 1, 0));
        let text = plan.render(false);
        assert!(text.contains("weight 5 → 0 (no new connections)"), "{text}");
    }
}
