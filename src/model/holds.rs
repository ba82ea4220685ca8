//! Effective weights: the script's model with what the run-time side holds applied.
//! `plan`, `apply` and `watch` all diff this against the kernel, so none of them
//! ever undoes a drain or a failed health check.

use super::{
    Balancer, DestKey, HealthState, OnDown, Runtime, ServiceKey,
    runtime::{DrainState, Health},
};

/// Why a real server's weight is not the script's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    Down {
        since: u64,
    },
    /// Added by watch and not yet risen.
    Unknown {
        since: u64,
    },
    Draining {
        since: u64,
    },
    Drained {
        since: u64,
    },
    /// Risen `since`, ramping up over `over` seconds.
    SlowStart {
        since: u64,
        over: u32,
    },
    /// The sorry server, in while no real server is up.
    Sorry,
}

/// One held real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub service: ServiceKey,
    pub dest: DestKey,
    pub reason: HoldReason,
    /// The script's weight (`None` for the sorry server, which the script holds apart).
    pub script: Option<u32>,
    /// The weight it gets; `None` = the destination is left out.
    pub held: Option<u32>,
}

/// `desired` with every hold of `runtime` applied at unix time `now`.
pub fn effective(desired: &Balancer, runtime: &Runtime, now: u64) -> (Balancer, Vec<Hold>) {
    let mut out = desired.clone();
    let mut holds = Vec::new();
    for (key, service) in out.services.iter_mut() {
        let checks = desired.checks.service(key);
        let mut remove = Vec::new();
        for dest in service.dests.values_mut() {
            let dkey = &dest.key;
            let checked = checks.and_then(|c| c.check_of(dkey)).is_some();
            let on_down = checks.map(|c| c.on_down).unwrap_or_default();
            let Some((reason, weight)) = held(
                runtime,
                key,
                dkey,
                checked,
                on_down,
                dest.weight,
                checks.and_then(|c| c.slow_start_of(dkey)),
                now,
            ) else {
                continue;
            };
            holds.push(Hold {
                service: *key,
                dest: dest.key,
                reason,
                script: Some(dest.weight),
                held: weight,
            });
            match weight {
                Some(w) => dest.weight = w,
                None => remove.push(dest.key),
            }
        }
        for d in remove {
            service.dests.remove(&d);
        }
        let sorry = checks.and_then(|c| c.sorry.as_ref());
        if let Some(sorry) = sorry
            && !service.dests.values().any(|d| d.weight > 0)
            && !service.dests.contains_key(&sorry.key)
        {
            holds.push(Hold {
                service: *key,
                dest: sorry.key,
                reason: HoldReason::Sorry,
                script: None,
                held: Some(sorry.weight),
            });
            service.dests.insert(sorry.key, sorry.clone());
        }
    }
    (out, holds)
}

/// What holds one real server, and the weight it gets (`None` = left out).
#[allow(clippy::too_many_arguments)]
fn held(
    runtime: &Runtime,
    service: &ServiceKey,
    dest: &DestKey,
    checked: bool,
    on_down: OnDown,
    weight: u32,
    slow_start: Option<u32>,
    now: u64,
) -> Option<(HoldReason, Option<u32>)> {
    let record = runtime.get(service, dest)?;
    if let Some(drain) = &record.drain {
        return Some(match drain.state {
            DrainState::Draining => (
                HoldReason::Draining {
                    since: drain.started,
                },
                Some(0),
            ),
            DrainState::Drained => (
                HoldReason::Drained {
                    since: drain.ended.unwrap_or(drain.started),
                },
                (!drain.remove).then_some(0),
            ),
        });
    }
    // Health counts only for servers the script checks: a check taken out of the
    // script releases the hold.
    let Health { state, since, .. } = record.health.as_ref().filter(|_| checked)?;
    match state {
        HealthState::Down => Some((
            HoldReason::Down { since: *since },
            (on_down == OnDown::Quiesce).then_some(0),
        )),
        HealthState::Unknown => Some((HoldReason::Unknown { since: *since }, Some(0))),
        HealthState::Up => {
            let over = slow_start.filter(|&s| s > 0)?;
            let elapsed = now.saturating_sub(*since);
            if elapsed >= u64::from(over) || weight == 0 {
                return None;
            }
            let ramped = (u64::from(weight) * elapsed / u64::from(over)).max(1) as u32;
            Some((
                HoldReason::SlowStart {
                    since: *since,
                    over,
                },
                Some(ramped),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Check, CheckKind, Dest, DestChecks, Protocol, Service,
        runtime::{Drain, Health},
    };

    fn svc() -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80)
    }

    fn dk(last: u8) -> DestKey {
        DestKey {
            address: format!("10.0.0.{last}").parse().unwrap(),
            port: 80,
        }
    }

    fn balancer(checked: bool) -> Balancer {
        let mut b = Balancer::default();
        let mut s = Service::new(svc());
        for i in 1..=2 {
            let mut d = Dest::new(dk(i));
            d.weight = 10;
            s.dests.insert(d.key, d);
        }
        b.services.insert(svc(), s);
        if checked {
            b.checks.service_mut(svc()).check = Some(Check::new(CheckKind::Tcp));
        }
        b
    }

    fn health(state: HealthState, since: u64) -> Option<Health> {
        Some(Health {
            state,
            since,
            last: None,
        })
    }

    fn weights(b: &Balancer) -> Vec<(DestKey, u32)> {
        b.services[&svc()]
            .dests
            .values()
            .map(|d| (d.key, d.weight))
            .collect()
    }

    #[test]
    fn down_servers_are_held_at_zero_or_left_out() {
        let mut rt = Runtime::default();
        rt.entry(svc(), dk(1)).health = health(HealthState::Down, 7);
        let (b, holds) = effective(&balancer(true), &rt, 100);
        assert_eq!(weights(&b), vec![(dk(1), 0), (dk(2), 10)]);
        assert_eq!(holds[0].reason, HoldReason::Down { since: 7 });
        assert_eq!((holds[0].script, holds[0].held), (Some(10), Some(0)));

        let mut remove = balancer(true);
        remove.checks.service_mut(svc()).on_down = OnDown::Remove;
        let (b, holds) = effective(&remove, &rt, 100);
        assert_eq!(weights(&b), vec![(dk(2), 10)]);
        assert_eq!(holds[0].held, None);
    }

    #[test]
    fn health_of_an_unchecked_server_holds_nothing_but_a_drain_does() {
        let mut rt = Runtime::default();
        rt.entry(svc(), dk(1)).health = health(HealthState::Down, 7);
        let (b, holds) = effective(&balancer(false), &rt, 100);
        assert!(holds.is_empty());
        assert_eq!(weights(&b), vec![(dk(1), 10), (dk(2), 10)]);

        rt.entry(svc(), dk(2)).drain = Some(Drain {
            state: DrainState::Drained,
            started: 1,
            deadline: None,
            prior_weight: 10,
            remove: true,
            ended: Some(3),
            outcome: None,
        });
        let (b, holds) = effective(&balancer(false), &rt, 100);
        assert_eq!(weights(&b), vec![(dk(1), 10)]);
        assert_eq!(holds[0].reason, HoldReason::Drained { since: 3 });
    }

    #[test]
    fn slow_start_ramps_linearly_from_at_least_one() {
        let mut b = balancer(true);
        b.checks.service_mut(svc()).dests.insert(
            dk(1),
            DestChecks {
                dest: dk(1),
                check: None,
                slow_start: Some(30),
            },
        );
        let mut rt = Runtime::default();
        rt.entry(svc(), dk(1)).health = health(HealthState::Up, 100);
        let at = |now| weights(&effective(&b, &rt, now).0)[0].1;
        assert_eq!([at(100), at(115), at(129), at(130)], [1, 5, 9, 10]);
    }

    #[test]
    fn the_sorry_server_comes_in_only_while_no_server_is_up() {
        let mut b = balancer(true);
        let mut sorry = Dest::new(dk(99));
        sorry.weight = 1;
        b.checks.service_mut(svc()).sorry = Some(sorry);
        let mut rt = Runtime::default();
        rt.entry(svc(), dk(1)).health = health(HealthState::Down, 7);
        assert_eq!(effective(&b, &rt, 9).0.services[&svc()].dests.len(), 2);
        rt.entry(svc(), dk(2)).health = health(HealthState::Unknown, 8);
        let (out, holds) = effective(&b, &rt, 9);
        assert_eq!(weights(&out), vec![(dk(1), 0), (dk(2), 0), (dk(99), 1)]);
        assert_eq!(holds.last().unwrap().reason, HoldReason::Sorry);
    }
}
