//! The daemon's decisions, without I/O: which probes run, what their answers do to
//! each real server's health, and the table the kernel should hold for it. The
//! daemon feeds it answers and kernel reads and writes what it returns.

use super::health::{Tracker, Transition};
use crate::model::{
    Balancer, Check, DestKey, Health, HealthState, ProbeResult, Runtime, ServiceKey, effective,
};
use std::{collections::BTreeMap, net::SocketAddr};

/// One probe: the same check of the same address and port is run once, however
/// many services share the server.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProbeKey {
    pub check: Check,
    /// Where the probe goes.
    pub connect: SocketAddr,
}

/// A probe, its health and the real servers it decides.
#[derive(Debug, Clone)]
pub struct Slot {
    pub tracker: Tracker,
    pub users: Vec<(ServiceKey, DestKey)>,
}

/// A real server whose health changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub service: ServiceKey,
    pub dest: DestKey,
    pub transition: Transition,
    pub result: ProbeResult,
}

/// A checked real server the daemon cannot probe, and why (said once per load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unprobed {
    pub service: ServiceKey,
    pub dest: DestKey,
    pub why: String,
}

#[derive(Debug, Default)]
pub struct Engine {
    /// The script's model (canonical).
    pub desired: Balancer,
    pub runtime: Runtime,
    slots: BTreeMap<ProbeKey, Slot>,
}

impl Engine {
    /// Loads `desired` against the kernel's `observed` state and the persisted
    /// `runtime`. Checked servers with a persisted health resume from it; those
    /// the kernel already serves with a weight are adopted (kept until the first
    /// rise or fall decides); any other is new: unknown, held at 0 until it rises.
    pub fn load(
        desired: Balancer,
        mut runtime: Runtime,
        observed: &Balancer,
        now: u64,
    ) -> (Engine, Vec<Unprobed>) {
        let mut slots: BTreeMap<ProbeKey, Slot> = BTreeMap::new();
        let mut unprobed = Vec::new();
        for (skey, service) in &desired.services {
            for dest in service.dests.values() {
                let (dkey, weight) = (dest.key, dest.weight);
                runtime.entry(*skey, dkey).script_weight = Some(weight);
                let Some(check) = desired.checks.check_of(skey, &dkey) else {
                    runtime.entry(*skey, dkey).health = None;
                    continue;
                };
                let connect = match probe_address(&desired, skey, &dkey, check) {
                    Ok(a) => a,
                    Err(why) => {
                        unprobed.push(Unprobed {
                            service: *skey,
                            dest: dkey,
                            why,
                        });
                        continue;
                    }
                };
                let key = ProbeKey {
                    check: check.clone(),
                    connect,
                };
                slots
                    .entry(key)
                    .or_insert_with(|| Slot {
                        tracker: Tracker::resume(None),
                        users: vec![],
                    })
                    .users
                    .push((*skey, dkey));
            }
        }
        // Forget what belongs to servers no longer in the script (drains stay while
        // the kernel still holds the server).
        runtime.servers.retain(|(s, d), r| {
            let in_script = desired
                .services
                .get(s)
                .is_some_and(|svc| svc.dests.contains_key(d));
            if !in_script {
                r.script_weight = None;
                r.health = None;
            }
            let in_kernel = observed
                .services
                .get(s)
                .is_some_and(|svc| svc.dests.contains_key(d));
            if !in_kernel && !in_script {
                r.drain = None;
            }
            true
        });
        for slot in slots.values_mut() {
            // One health per probe: the first decided record of its servers wins.
            let resumed = slot
                .users
                .iter()
                .filter_map(|(s, d)| runtime.health(s, d).map(|h| h.state))
                .find(|s| *s != HealthState::Unknown);
            slot.tracker = Tracker::resume(resumed);
            let since = slot
                .users
                .iter()
                .filter_map(|(s, d)| runtime.health(s, d).map(|h| h.since))
                .max()
                .unwrap_or(now);
            for (s, d) in &slot.users {
                let serving = observed
                    .services
                    .get(s)
                    .and_then(|svc| svc.dests.get(d))
                    .is_some_and(|k| k.weight > 0);
                let record = runtime.entry(*s, *d);
                let last = record.health.as_ref().and_then(|h| h.last.clone());
                record.health = match resumed {
                    Some(state) => Some(Health { state, since, last }),
                    // Undecided: adopted when the kernel serves it with no record
                    // saying otherwise, else held.
                    None if serving && record.health.is_none() => None,
                    None => Some(Health {
                        state: HealthState::Unknown,
                        since: record.health.as_ref().map_or(now, |h| h.since),
                        last,
                    }),
                };
            }
        }
        runtime.prune();
        (
            Engine {
                desired,
                runtime,
                slots,
            },
            unprobed,
        )
    }

    /// A new script: probes whose check and address are unchanged keep their
    /// health (keepalived's rule), the rest start as [`Engine::load`] says.
    pub fn reload(&mut self, desired: Balancer, observed: &Balancer, now: u64) -> Vec<Unprobed> {
        let (mut next, unprobed) =
            Engine::load(desired, std::mem::take(&mut self.runtime), observed, now);
        for (key, slot) in next.slots.iter_mut() {
            if let Some(old) = self.slots.get(key) {
                slot.tracker = old.tracker.clone();
            }
        }
        *self = next;
        unprobed
    }

    /// The probes to run, each with the check that says how.
    pub fn probes(&self) -> impl Iterator<Item = &ProbeKey> {
        self.slots.keys()
    }

    pub fn slot(&self, key: &ProbeKey) -> Option<&Slot> {
        self.slots.get(key)
    }

    /// Counts one probe's answer; the servers whose health it changed. Every
    /// server of the probe records the answer as its last result.
    pub fn observe(&mut self, key: &ProbeKey, result: ProbeResult, now: u64) -> Vec<Event> {
        let Some(slot) = self.slots.get_mut(key) else {
            // A probe of a script that has since been reloaded.
            return vec![];
        };
        let transition = slot
            .tracker
            .observe(result.ok, key.check.rise, key.check.fall);
        let mut events = vec![];
        for (s, d) in &slot.users {
            let record = self.runtime.entry(*s, *d);
            match (&mut record.health, transition) {
                (health, Some(t)) => {
                    *health = Some(Health {
                        state: t.to,
                        since: now,
                        last: Some(result.clone()),
                    });
                    events.push(Event {
                        service: *s,
                        dest: *d,
                        transition: t,
                        result: result.clone(),
                    });
                }
                (Some(h), None) => h.last = Some(result.clone()),
                (None, None) => {}
            }
        }
        events
    }

    /// The table the kernel should hold: `observed` with each of the script's real
    /// servers (and sorry servers) at its effective weight, present or absent as the
    /// run-time side decides. Nothing else of `observed` changes, so a tick never
    /// undoes what another writer did elsewhere.
    pub fn target(&self, observed: &Balancer, now: u64) -> Balancer {
        let (eff, _) = effective(&self.desired, &self.runtime, now);
        let mut target = observed.clone();
        for (skey, script) in &self.desired.services {
            let (Some(out), Some(want)) = (target.services.get_mut(skey), eff.services.get(skey))
            else {
                continue;
            };
            let sorry = self
                .desired
                .checks
                .service(skey)
                .and_then(|c| c.sorry.as_ref())
                .map(|d| d.key);
            for dkey in script.dests.keys().copied().chain(sorry) {
                match (want.dests.get(&dkey), out.dests.get_mut(&dkey)) {
                    (Some(w), Some(have)) => have.weight = w.weight,
                    (Some(w), None) => {
                        out.dests.insert(dkey, w.clone());
                    }
                    (None, Some(_)) => {
                        out.dests.remove(&dkey);
                    }
                    (None, None) => {}
                }
            }
        }
        target
    }

    /// The whole desired table with every hold applied: what a load or reload
    /// applies.
    pub fn effective(&self, now: u64) -> Balancer {
        effective(&self.desired, &self.runtime, now).0
    }

    /// Whether a weight is ramping (slow start), so the daemon re-plans each second.
    pub fn ramping(&self, now: u64) -> bool {
        effective(&self.desired, &self.runtime, now)
            .1
            .iter()
            .any(|h| matches!(h.reason, crate::model::HoldReason::SlowStart { .. }))
    }
}

/// Where a check of `dest` of `service` connects: the server's address and the
/// check's port, else the server's, else (a fwmark server without a port) the
/// first port of the service's mark rule.
fn probe_address(
    desired: &Balancer,
    service: &ServiceKey,
    dest: &DestKey,
    check: &Check,
) -> Result<SocketAddr, String> {
    let port = check
        .port
        .or((dest.port != 0).then_some(dest.port))
        .or(match service {
            ServiceKey::Inet { port, .. } if *port != 0 => Some(*port),
            ServiceKey::Fwmark { fwmark, .. } => desired
                .marks
                .get(fwmark)
                .and_then(|m| m.ports.iter().next().map(|r| r.first)),
            _ => None,
        });
    let needs_port = !matches!(check.kind, crate::model::CheckKind::Exec { .. });
    match port {
        Some(p) => Ok(SocketAddr::new(dest.address, p)),
        None if !needs_port => Ok(SocketAddr::new(dest.address, 0)),
        None => Err("no port to probe: give the check one with `.port(N)`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CheckKind, Dest, Protocol, Service};

    fn svc(port: u16) -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), port)
    }

    fn dk(last: u8) -> DestKey {
        DestKey {
            address: format!("10.0.0.{last}").parse().unwrap(),
            port: 80,
        }
    }

    /// Services on `ports`, each with servers 1 and 2 at weight 10, checked by tcp.
    fn script(ports: &[u16]) -> Balancer {
        let mut b = Balancer::default();
        for &p in ports {
            let mut s = Service::new(svc(p));
            for i in 1..=2 {
                let mut d = Dest::new(dk(i));
                d.weight = 10;
                s.dests.insert(d.key, d);
            }
            b.services.insert(svc(p), s);
            b.checks.service_mut(svc(p)).check = Some(Check::new(CheckKind::Tcp));
        }
        b
    }

    fn result(ok: bool) -> ProbeResult {
        ProbeResult {
            ok,
            at: 0,
            latency_ms: 1,
            reason: if ok {
                "connected"
            } else {
                "connection refused"
            }
            .into(),
        }
    }

    fn weight(b: &Balancer, port: u16, dest: u8) -> Option<u32> {
        b.services[&svc(port)]
            .dests
            .get(&dk(dest))
            .map(|d| d.weight)
    }

    #[test]
    fn servers_in_the_kernel_are_adopted_new_ones_held_until_they_rise() {
        let mut kernel = script(&[80]);
        kernel
            .services
            .get_mut(&svc(80))
            .unwrap()
            .dests
            .remove(&dk(2));
        let (mut e, unprobed) = Engine::load(script(&[80]), Runtime::default(), &kernel, 100);
        assert!(unprobed.is_empty());
        assert!(e.runtime.health(&svc(80), &dk(1)).is_none(), "adopted");
        assert_eq!(
            e.runtime.health(&svc(80), &dk(2)).unwrap().state,
            HealthState::Unknown
        );
        let target = e.target(&kernel, 100);
        assert_eq!(weight(&target, 80, 1), Some(10));
        assert_eq!(weight(&target, 80, 2), Some(0), "added, held at 0");

        let key = e
            .probes()
            .find(|k| k.connect.ip() == dk(2).address)
            .unwrap()
            .clone();
        assert!(e.observe(&key, result(true), 101).is_empty());
        let events = e.observe(&key, result(true), 102);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].transition.to, HealthState::Up);
        assert_eq!(weight(&e.target(&kernel, 102), 80, 2), Some(10));
    }

    #[test]
    fn one_probe_serves_every_service_of_a_server() {
        let b = script(&[80, 81, 82]);
        let (mut e, _) = Engine::load(b.clone(), Runtime::default(), &b, 0);
        assert_eq!(e.probes().count(), 2, "two servers, one probe each");
        let key = e
            .probes()
            .find(|k| k.connect.ip() == dk(1).address)
            .unwrap()
            .clone();
        let events: Vec<_> = (0..3)
            .flat_map(|t| e.observe(&key, result(false), t))
            .collect();
        assert_eq!(events.len(), 3, "one event per service");
        let target = e.target(&b, 3);
        for port in [80, 81, 82] {
            assert_eq!(weight(&target, port, 1), Some(0));
            assert_eq!(weight(&target, port, 2), Some(10));
        }
    }

    #[test]
    fn a_restart_resumes_and_a_reload_keeps_unchanged_probes() {
        let b = script(&[80]);
        let (mut e, _) = Engine::load(b.clone(), Runtime::default(), &b, 0);
        let key = e.probes().next().unwrap().clone();
        for t in 0..3 {
            e.observe(&key, result(false), t);
        }
        // A restart from the saved state: still down, held at 0.
        let (e2, _) = Engine::load(b.clone(), e.runtime.clone(), &b, 10);
        assert_eq!(e2.slot(&key).unwrap().tracker.state(), HealthState::Down);
        assert_eq!(weight(&e2.target(&b, 10), 80, 1), Some(0));

        // A reload with another check on the service starts fresh ...
        let mut other = b.clone();
        other.checks.service_mut(svc(80)).check = Some(Check {
            port: Some(8080),
            ..Check::new(CheckKind::Tcp)
        });
        let mut e3 = Engine::load(b.clone(), e.runtime.clone(), &b, 10).0;
        e3.reload(other, &b, 11);
        assert!(e3.slot(&key).is_none());
        // ... and the same check keeps its health and its counts.
        e.reload(b.clone(), &b, 11);
        assert_eq!(e.slot(&key).unwrap().tracker.state(), HealthState::Down);
    }

    #[test]
    fn a_tick_changes_only_the_scripts_servers() {
        let b = script(&[80]);
        let mut kernel = b.clone();
        let foreign = svc(9999);
        kernel.services.insert(foreign, Service::new(foreign));
        kernel
            .services
            .get_mut(&svc(80))
            .unwrap()
            .dests
            .get_mut(&dk(1))
            .unwrap()
            .upper_threshold = 50;
        let mut rt = Runtime::default();
        rt.entry(svc(80), dk(1)).health = Some(Health {
            state: HealthState::Down,
            since: 1,
            last: None,
        });
        let (e, _) = Engine::load(b, rt, &kernel, 5);
        let target = e.target(&kernel, 5);
        assert!(target.services.contains_key(&foreign));
        let d1 = &target.services[&svc(80)].dests.get(&dk(1)).unwrap();
        assert_eq!((d1.weight, d1.upper_threshold), (0, 50));
    }

    #[test]
    fn a_fwmark_server_without_port_is_probed_on_the_marks_first_port() {
        use crate::model::{Family, MarkRule, PortRange};
        let key = ServiceKey::fwmark(Family::Inet, 10);
        let mut b = Balancer::default();
        let mut s = Service::new(key);
        let d = Dest::new(DestKey {
            address: "10.0.0.1".parse().unwrap(),
            port: 0,
        });
        s.dests.insert(d.key, d);
        b.services.insert(key, s);
        b.checks.service_mut(key).check = Some(Check::new(CheckKind::Tcp));
        let (e, unprobed) = Engine::load(b.clone(), Runtime::default(), &b, 0);
        assert_eq!(unprobed.len(), 1);
        assert!(unprobed[0].why.contains("`.port(N)`"), "{:?}", unprobed[0]);
        assert_eq!(e.probes().count(), 0);

        let mut rule: MarkRule =
            serde_json::from_str(r#"{"mark": 10, "addresses": ["192.0.2.1"]}"#).unwrap();
        rule.ports.insert(PortRange {
            first: 443,
            last: 443,
        });
        b.marks.insert(10, rule);
        let (e, unprobed) = Engine::load(b.clone(), Runtime::default(), &b, 0);
        assert!(unprobed.is_empty());
        assert_eq!(e.probes().next().unwrap().connect.port(), 443);
    }
}
