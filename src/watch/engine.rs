//! The daemon's decisions, without I/O: which probes run, what their answers do to
//! each real server's health, and the table the kernel should hold for it. The
//! daemon feeds it answers and kernel reads and writes what it returns.

use super::health::{Tracker, Transition};
use crate::model::{
    Balancer, Check, CheckKind, Dest, DestKey, Family, Forward, Health, HealthState, PROBE_MARKS,
    ProbeResult, Runtime, Scheduler, Service, ServiceKey, effective, is_probe_service,
};
use sha2::{Digest, Sha256};
use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    sync::Arc,
};

/// One probe: the same check of the same address and port is run once, however
/// many services share the server.
///
/// Ordered by address first: the schedule and the engine look probes up on every
/// answer, and comparing two whole checks costs more than the probe's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProbeKey {
    /// Where the probe goes.
    pub connect: SocketAddr,
    /// `via_vip()`: the real server it is steered to, and the mark of the fwmark
    /// service that steers it (`SO_MARK` on the probe's socket).
    pub via: Option<Via>,
    pub check: Check,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Via {
    pub server: DestKey,
    pub mark: u32,
}

/// A probe's place in the engine, valid until the next load or reload: the daemon
/// schedules and answers by it (no search by key a thousand times a second), and
/// finds a probe that was under way across a reload again by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProbeId(u32);

impl ProbeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }

    #[cfg(test)]
    pub fn at(index: u32) -> Self {
        ProbeId(index)
    }
}

/// A probe, its health and the real servers it decides.
#[derive(Debug, Clone)]
pub struct Slot {
    /// Shared with the probes under way, which the prober takes by value.
    pub key: Arc<ProbeKey>,
    pub tracker: Tracker,
    pub users: Vec<(ServiceKey, DestKey)>,
    /// The probe's last answer, which is each user's last result: kept once here, so
    /// that the common answer (no change of health) touches no user's record.
    pub last: Option<ProbeResult>,
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

#[derive(Debug, Default, Clone)]
pub struct Engine {
    /// The script's model (canonical).
    pub desired: Balancer,
    pub runtime: Runtime,
    /// By key (the ids are positions): found by a binary search after a reload.
    slots: Vec<Slot>,
    /// The fwmark services that steer `via_vip()` probes, each with its one server.
    probe_services: BTreeMap<ServiceKey, Service>,
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
        let mut slots: BTreeMap<ProbeKey, Vec<(ServiceKey, DestKey)>> = BTreeMap::new();
        let mut unprobed = Vec::new();
        for (skey, service) in &desired.services {
            for dest in service.dests.values() {
                let (dkey, weight) = (dest.key, dest.weight);
                runtime.entry(*skey, dkey).script_weight = Some(weight);
                let Some(check) = desired.checks.check_of(skey, &dkey) else {
                    runtime.entry(*skey, dkey).health = None;
                    continue;
                };
                let connect = match probe_address(&desired, skey, dest, check) {
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
                    // The mark is given below, once every probe is known.
                    via: check.via_vip.then_some(Via {
                        server: dkey,
                        mark: 0,
                    }),
                };
                slots.entry(key).or_default().push((*skey, dkey));
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
        let (mut slots, probe_services) = steer(slots, &desired);
        for slot in &mut slots {
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
            slot.last = slot
                .users
                .iter()
                .find_map(|(s, d)| runtime.health(s, d)?.last.clone());
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
                probe_services,
            },
            unprobed,
        )
    }

    /// A new script: probes whose check and address are unchanged keep their
    /// health (keepalived's rule), the rest start as [`Engine::load`] says.
    pub fn reload(&mut self, desired: Balancer, observed: &Balancer, now: u64) -> Vec<Unprobed> {
        let (mut next, unprobed) =
            Engine::load(desired, std::mem::take(&mut self.runtime), observed, now);
        for slot in &mut next.slots {
            if let Some(old) = self.find(&slot.key) {
                let old = &self.slots[old.index()];
                slot.tracker = old.tracker.clone();
                slot.last.clone_from(&old.last);
            }
        }
        *self = next;
        unprobed
    }

    /// The probes to run, each with the check that says how.
    pub fn probes(&self) -> impl Iterator<Item = &ProbeKey> {
        self.slots.iter().map(|s| &*s.key)
    }

    pub fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter()
    }

    /// The probes with their ids, in the order of their keys.
    pub fn ids(&self) -> impl Iterator<Item = (ProbeId, &Arc<ProbeKey>)> {
        (0..).map(ProbeId).zip(self.slots.iter().map(|s| &s.key))
    }

    pub fn find(&self, key: &ProbeKey) -> Option<ProbeId> {
        let at = self.slots.binary_search_by(|s| (*s.key).cmp(key)).ok()?;
        Some(ProbeId(u32::try_from(at).ok()?))
    }

    /// The id of a probe started as `id` with `key`, which a reload since may have
    /// moved or dropped.
    pub fn resolve(&self, id: ProbeId, key: &Arc<ProbeKey>) -> Option<ProbeId> {
        match self.slots.get(id.index()) {
            Some(slot) if Arc::ptr_eq(&slot.key, key) => Some(id),
            _ => self.find(key),
        }
    }

    pub fn slot(&self, key: &ProbeKey) -> Option<&Slot> {
        self.slots.get(self.find(key)?.index())
    }

    /// Every checked server's last result, for `lvsh status`.
    pub fn last_results(&self) -> impl Iterator<Item = (ServiceKey, DestKey, &ProbeResult)> {
        self.slots.iter().flat_map(|slot| {
            let last = slot.last.as_ref();
            slot.users
                .iter()
                .filter_map(move |(s, d)| Some((*s, *d, last?)))
        })
    }

    /// Counts one probe's answer; the servers whose health it changed. Every
    /// server of the probe has the answer as its last result.
    pub fn observe(&mut self, id: ProbeId, result: ProbeResult, now: u64) -> Vec<Event> {
        let Some(slot) = self.slots.get_mut(id.index()) else {
            return vec![];
        };
        let check = &slot.key.check;
        let transition = slot.tracker.observe(result.ok, check.rise, check.fall);
        let mut events = vec![];
        if let Some(t) = transition {
            for (s, d) in &slot.users {
                self.runtime.entry(*s, *d).health = Some(Health {
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
        }
        // The common answer (no change of health), a thousand times a second at
        // 2,000 servers: no user's record is looked up.
        slot.last = Some(result);
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
            .services
            .retain(|k, _| !is_probe_service(k) || self.probe_services.contains_key(k));
        for (k, svc) in &self.probe_services {
            target.services.insert(*k, svc.clone());
        }
        target.owns_probes = true;
        target
    }

    /// The whole desired table with every hold applied: what a load or reload
    /// applies.
    pub fn effective(&self, now: u64) -> Balancer {
        let mut b = effective(&self.desired, &self.runtime, now).0;
        b.owns_probes = true;
        b.services
            .extend(self.probe_services.iter().map(|(k, s)| (*k, s.clone())));
        b
    }

    /// Takes the drain records of `disk` (`lvsh drain` and `undrain` write them) as
    /// the truth for every server; whether that changed any, so that the daemon
    /// writes what follows (an undrain of a removed server adds it back).
    pub fn adopt_drains(&mut self, disk: &Runtime) -> bool {
        let keys: BTreeSet<_> = disk
            .servers
            .keys()
            .chain(self.runtime.servers.keys())
            .copied()
            .collect();
        let mut changed = false;
        for (s, d) in keys {
            let drain = disk.drain(&s, &d).cloned();
            if drain.as_ref() != self.runtime.drain(&s, &d) {
                changed = true;
            }
            if drain.is_some() || self.runtime.get(&s, &d).is_some() {
                self.runtime.entry(s, d).drain = drain;
            }
        }
        self.runtime.prune();
        changed
    }

    /// Moves each drain on by the kernel's counters (take another writer's
    /// drains with [`Engine::adopt_drains`] first): the drains that ended now.
    pub fn progress_drains(
        &mut self,
        kernel: &Balancer,
        now: u64,
    ) -> Vec<(ServiceKey, DestKey, crate::model::Drain)> {
        let mut ended = vec![];
        for ((s, d), record) in self.runtime.servers.iter_mut() {
            let Some(drain) = &record.drain else { continue };
            let service = kernel.services.get(s);
            let next = match service.and_then(|svc| svc.dests.get(d)) {
                Some(dest) => super::drain::progress(
                    drain,
                    &dest.counters,
                    service.is_some_and(|svc| svc.persistence.is_some()),
                    now,
                ),
                None => super::drain::gone(drain, now),
            };
            if let Some(next) = next {
                ended.push((*s, *d, next.clone()));
                record.drain = Some(next);
            }
        }
        ended
    }

    /// Whether a weight is ramping (slow start), so the daemon re-plans each second.
    pub fn ramping(&self, now: u64) -> bool {
        // Each second: working out every weight copies the whole script, which
        // most scripts (no slow start at all) need not pay.
        let slow_start = self.desired.checks.services.values().any(|c| {
            c.dests
                .values()
                .any(|d| d.slow_start.is_some_and(|s| s > 0))
        });
        slow_start
            && effective(&self.desired, &self.runtime, now)
                .1
                .iter()
                .any(|h| matches!(h.reason, crate::model::HoldReason::SlowStart { .. }))
    }
}

/// Where a check of `dest` of `service` connects ([`Check::probe_address`] and
/// [`Check::probe_port`], which validation uses too). An exec check has no address:
/// its program is told the server's.
fn probe_address(
    desired: &Balancer,
    service: &ServiceKey,
    dest: &Dest,
    check: &Check,
) -> Result<SocketAddr, String> {
    if matches!(check.kind, CheckKind::Exec { .. }) {
        return Ok(SocketAddr::new(dest.key.address, dest.key.port));
    }
    if check.via_vip && !matches!(dest.forward, Forward::Route | Forward::Tunnel { .. }) {
        return Err("`via_vip()` needs a server that forwards by dr or tunnel".into());
    }
    let address = check
        .probe_address(desired, service, &dest.key)
        .ok_or("`via_vip()` needs a VIP: give the mark one with `.vip(...)`")?;
    let port = check
        .probe_port(desired, service, &dest.key)
        .ok_or("no port to probe: give the check one with `.port(N)`")?;
    Ok(SocketAddr::new(address, port))
}

/// Gives each `via_vip()` probe its mark and builds the fwmark services that steer
/// them. A mark comes from a hash of the probe's VIP and server, so restarts and
/// reloads find the same marks (and write nothing); a collision takes the next free
/// one, in a fixed order.
fn steer(
    slots: BTreeMap<ProbeKey, Vec<(ServiceKey, DestKey)>>,
    desired: &Balancer,
) -> (Vec<Slot>, BTreeMap<ServiceKey, Service>) {
    let size = PROBE_MARKS.end() - PROBE_MARKS.start() + 1;
    let mut used = BTreeSet::new();
    let mut out = BTreeMap::new();
    let mut services = BTreeMap::new();
    for (mut key, users) in slots {
        if let Some(via) = &mut key.via {
            let digest = Sha256::digest(format!("{} {}", key.connect, via.server));
            let mut n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % size;
            while !used.insert(n) {
                n = (n + 1) % size;
            }
            via.mark = PROBE_MARKS.start() + n;
            let (s, d) = users[0];
            let family = Family::of(&d.address);
            let svc_key = ServiceKey::fwmark(family, via.mark);
            let mut svc = Service::new(svc_key);
            svc.scheduler = Scheduler::Rr;
            if let Some(dest) = desired.services.get(&s).and_then(|x| x.dests.get(&d)) {
                let mut one = Dest::new(dest.key);
                one.forward = dest.forward;
                one.weight = 1;
                svc.dests.insert(one.key, one);
            }
            services.insert(svc_key, svc);
        }
        out.insert(key, users);
    }
    // A mark changes a key's order: the list is sorted after the marks are given.
    let slots = out
        .into_iter()
        .map(|(key, users)| Slot {
            key: Arc::new(key),
            tracker: Tracker::resume(None),
            users,
            last: None,
        })
        .collect();
    (slots, services)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dest, Protocol, Service};

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
        let id = e.find(&key).unwrap();
        assert!(e.observe(id, result(true), 101).is_empty());
        let events = e.observe(id, result(true), 102);
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
        let id = e.find(&key).unwrap();
        let events: Vec<_> = (0..3)
            .flat_map(|t| e.observe(id, result(false), t))
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
            e.observe(e.find(&key).unwrap(), result(false), t);
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
    fn a_weight_ramps_only_with_a_slow_start_and_only_while_it_lasts() {
        let mut rt = Runtime::default();
        rt.entry(svc(80), dk(1)).health = Some(Health {
            state: HealthState::Up,
            since: 100,
            last: None,
        });
        let plain = script(&[80]);
        let (e, _) = Engine::load(plain.clone(), rt.clone(), &plain, 110);
        assert!(!e.ramping(110), "no slow start in the script");
        let mut slow = plain;
        slow.checks.service_mut(svc(80)).dests.insert(
            dk(1),
            crate::model::DestChecks {
                dest: dk(1),
                check: None,
                slow_start: Some(30),
            },
        );
        let (e, _) = Engine::load(slow.clone(), rt, &slow, 110);
        assert!(e.ramping(110));
        assert_eq!(weight(&e.target(&slow, 110), 80, 1), Some(3));
        assert!(!e.ramping(130), "30 s after the rise");
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

    #[test]
    fn via_vip_probes_get_a_steering_service_that_plans_of_scripts_leave_alone() {
        let mut b = script(&[80]);
        b.checks.service_mut(svc(80)).check = Some(Check {
            via_vip: true,
            ..Check::new(CheckKind::Tcp)
        });
        let kernel = b.clone();
        let (e, unprobed) = Engine::load(b.clone(), Runtime::default(), &kernel, 0);
        assert!(unprobed.is_empty());
        let keys: Vec<_> = e.probes().cloned().collect();
        assert_eq!(keys.len(), 2);
        for k in &keys {
            assert_eq!(
                k.connect,
                "192.0.2.1:80".parse().unwrap(),
                "probes go to the VIP"
            );
            let via = k.via.as_ref().unwrap();
            assert!(PROBE_MARKS.contains(&via.mark));
            let steer = &e.effective(0).services[&ServiceKey::fwmark(Family::Inet, via.mark)];
            let only: Vec<_> = steer.dests.keys().copied().collect();
            assert_eq!(only, vec![via.server]);
        }
        assert_ne!(
            keys[0].via.as_ref().unwrap().mark,
            keys[1].via.as_ref().unwrap().mark
        );
        // The same marks after a restart: nothing to write.
        let (again, _) = Engine::load(b.clone(), e.runtime.clone(), &kernel, 5);
        assert_eq!(again.probes().cloned().collect::<Vec<_>>(), keys);
        let with_probes = e.target(&kernel, 0);
        assert_eq!(with_probes.services.len(), 3);
        // A probe service of an earlier script goes at the next tick.
        let mut stale = with_probes.clone();
        let old = ServiceKey::fwmark(Family::Inet, *PROBE_MARKS.start());
        stale.services.insert(old, Service::new(old));
        let target = e.target(&stale, 0);
        assert!(!target.services.contains_key(&old));
        let plan = crate::plan::diff(&target, &target.managed(&stale), crate::plan::Mode::Replace);
        assert_eq!(plan.changes.len(), 1, "{plan:?}");
        // A plan of the script alone does not see them.
        assert_eq!(b.managed(&with_probes).services.len(), 1);
        assert!(
            crate::plan::diff(&b, &b.managed(&with_probes), crate::plan::Mode::Replace).is_empty()
        );
    }

    #[test]
    fn via_vip_on_a_nat_server_is_not_probed() {
        let mut b = script(&[80]);
        for d in b.services.get_mut(&svc(80)).unwrap().dests.values_mut() {
            d.forward = Forward::Masq;
        }
        b.checks.service_mut(svc(80)).check = Some(Check {
            via_vip: true,
            ..Check::new(CheckKind::Tcp)
        });
        let (e, unprobed) = Engine::load(b.clone(), Runtime::default(), &b, 0);
        assert_eq!(unprobed.len(), 2);
        assert!(unprobed[0].why.contains("dr or tunnel"));
        assert_eq!(e.probes().count(), 0);
    }
}
