//! What `lvsh status` shows: every real server of the kernel with what the run-time
//! side knows of it (script weight, health, drain), and the records of servers the
//! kernel no longer has. Pure: the command reads the kernel and the store.

use super::drain;
use crate::model::{
    Balancer, DestCounters, DestKey, Drain, Health, Runtime, ServerRuntime, ServiceKey,
    is_probe_service,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// A `lvsh watch` holds the watch lock of the namespace.
    pub watch_running: bool,
    /// The kernel's services, in key order.
    pub services: Vec<ServiceStatus>,
    /// Records of real servers the kernel does not have (removed when drained,
    /// or taken out by a script or by hand).
    pub gone: Vec<ServerStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceStatus {
    pub service: ServiceKey,
    /// Persistence templates count for its drains.
    pub persistent: bool,
    pub servers: Vec<ServerStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerStatus {
    pub service: ServiceKey,
    pub dest: DestKey,
    /// The kernel's (effective) weight; `None` when the kernel lacks the server.
    pub weight: Option<u32>,
    /// The script's weight as `watch` last loaded it.
    pub script_weight: Option<u32>,
    /// `None` when the kernel lacks the server.
    pub connections: Option<DestCounters>,
    /// `None`: not checked (or never seen by a watch).
    pub health: Option<Health>,
    pub drain: Option<Drain>,
    /// What a watch would record for the drain now, when it would end it.
    pub drain_ends: Option<Drain>,
}

/// The status of `observed` (read with its counters) and `runtime` at `now`. The
/// fwmark services that steer `via_vip()` probes are left out: they hold no real
/// server of the operator's, only copies the checks go through.
pub fn status(observed: &Balancer, runtime: &Runtime, watch_running: bool, now: u64) -> Status {
    let record = |service: &ServiceKey, dest: &DestKey| runtime.get(service, dest);
    let services = observed
        .services
        .values()
        .filter(|s| !is_probe_service(&s.key))
        .map(|s| {
            let persistent = s.persistence.is_some();
            let servers = s
                .dests
                .values()
                .map(|d| {
                    let r = record(&s.key, &d.key);
                    let drain = r.and_then(|r| r.drain.clone());
                    let drain_ends = drain
                        .as_ref()
                        .and_then(|dr| drain::progress(dr, &d.counters, persistent, now));
                    ServerStatus {
                        service: s.key,
                        dest: d.key,
                        weight: Some(d.weight),
                        script_weight: r.and_then(|r| r.script_weight),
                        connections: Some(d.counters),
                        health: r.and_then(|r| r.health.clone()),
                        drain,
                        drain_ends,
                    }
                })
                .collect();
            ServiceStatus {
                service: s.key,
                persistent,
                servers,
            }
        })
        .collect();
    let in_kernel = |r: &ServerRuntime| {
        observed
            .services
            .get(&r.service)
            .is_some_and(|s| s.dests.contains_key(&r.dest))
    };
    let gone = runtime
        .servers
        .values()
        .filter(|r| !in_kernel(r))
        .map(|r| ServerStatus {
            service: r.service,
            dest: r.dest,
            weight: None,
            script_weight: r.script_weight,
            connections: None,
            health: r.health.clone(),
            drain: r.drain.clone(),
            drain_ends: r.drain.as_ref().and_then(|d| drain::gone(d, now)),
        })
        .collect();
    Status {
        watch_running,
        services,
        gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dest, DrainState, HealthState, Protocol, Service};

    fn dk(last: u8) -> DestKey {
        DestKey {
            address: format!("10.0.0.{last}").parse().unwrap(),
            port: 80,
        }
    }

    #[test]
    fn kernel_servers_carry_their_records_and_the_others_are_apart() {
        let key = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80);
        let mut s = Service::new(key);
        s.persistence = Some(60);
        for last in [1, 2] {
            let mut d = Dest::new(dk(last));
            d.weight = if last == 2 { 0 } else { 5 };
            d.counters.persistent = 1;
            s.dests.insert(d.key, d);
        }
        let mut observed = Balancer::default();
        observed.services.insert(key, s);
        let mut rt = Runtime::default();
        rt.entry(key, dk(1)).script_weight = Some(5);
        rt.entry(key, dk(1)).health = Some(Health {
            state: HealthState::Up,
            since: 3,
            last: None,
        });
        let drain = Drain {
            state: DrainState::Draining,
            started: 10,
            deadline: Some(100),
            prior_weight: 5,
            remove: false,
            ended: None,
            outcome: None,
        };
        rt.entry(key, dk(2)).drain = Some(drain.clone());
        rt.entry(key, dk(3)).drain = Some(drain);

        let st = status(&observed, &rt, false, 50);
        let servers = &st.services[0].servers;
        assert!(st.services[0].persistent);
        assert_eq!(servers[0].script_weight, Some(5));
        assert_eq!(servers[0].health.as_ref().unwrap().state, HealthState::Up);
        assert_eq!(servers[1].weight, Some(0));
        // One persistence template keeps the drain going...
        assert_eq!(servers[1].drain_ends, None);
        // ...until the deadline.
        let later = status(&observed, &rt, false, 100);
        let ends = later.services[0].servers[1].drain_ends.as_ref().unwrap();
        assert_eq!(
            ends.outcome.as_deref(),
            Some("deadline passed with 1 connection")
        );
        assert_eq!(st.gone.len(), 1);
        // The service that steers a `via_vip()` probe is not shown.
        let mark = ServiceKey::fwmark(crate::model::Family::Inet, 0x4c56_0001);
        let mut steer = Service::new(mark);
        steer.dests.insert(dk(1), Dest::new(dk(1)));
        observed.services.insert(mark, steer);
        let with_probe = status(&observed, &rt, false, 50);
        assert_eq!(with_probe.services, st.services);
        assert_eq!((st.gone[0].dest, st.gone[0].weight), (dk(3), None));
        assert_eq!(
            st.gone[0].drain_ends.as_ref().unwrap().outcome.as_deref(),
            Some("the real server left the kernel")
        );
    }
}
