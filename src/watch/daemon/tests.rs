//! The daemon against the fake kernel and a fake prober: what it writes, when, and
//! what it leaves alone.

use super::*;
use crate::{
    backend::{addr::FakeAddrs, ipvs::FakeIpvs, nft::FakeNft, sysctl::FakeSysctl},
    model::{Check, CheckKind, Dest, DestKey, HealthState, Protocol, Service, ServiceKey},
};
use std::{collections::BTreeSet, net::IpAddr, sync::Mutex};

fn svc() -> ServiceKey {
    ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80)
}

fn dk(last: u8) -> DestKey {
    DestKey {
        address: format!("10.0.0.{last}").parse().unwrap(),
        port: 80,
    }
}

fn script(extra_service: bool) -> Balancer {
    let mut b = Balancer::default();
    let mut s = Service::new(svc());
    for i in 1..=2 {
        let mut d = Dest::new(dk(i));
        d.weight = 10;
        s.dests.insert(d.key, d);
    }
    b.services.insert(svc(), s);
    let check = Check {
        every_ms: 10,
        timeout_ms: 5,
        ..Check::new(CheckKind::Tcp)
    };
    b.checks.service_mut(svc()).check = Some(check);
    if extra_service {
        let key = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 443);
        b.services.insert(key, Service::new(key));
    }
    b
}

/// Answers every probe at once: down for the addresses in the set.
fn prober(down: Arc<Mutex<BTreeSet<IpAddr>>>) -> Prober {
    Arc::new(move |key: Arc<ProbeKey>| {
        let ok = !down.lock().unwrap().contains(&key.connect.ip());
        Box::pin(async move {
            ProbeResult {
                ok,
                at: journal_now(),
                latency_ms: 0,
                reason: if ok {
                    "connected"
                } else {
                    "connection refused"
                }
                .into(),
            }
        })
    })
}

struct World {
    ipvs: FakeIpvs,
    nft: FakeNft,
    sysctl: FakeSysctl,
    addr: FakeAddrs,
    dir: tempfile::TempDir,
    log: Arc<Mutex<Vec<String>>>,
    /// What systemd was told, one line per state.
    notified: Arc<Mutex<Vec<String>>>,
}

impl World {
    fn new(kernel: &Balancer) -> World {
        World {
            ipvs: FakeIpvs::with_state(kernel),
            nft: FakeNft::with_marks(kernel.marks.clone()),
            sysctl: FakeSysctl::default(),
            addr: FakeAddrs::default(),
            dir: tempfile::tempdir().unwrap(),
            log: Arc::default(),
            notified: Arc::default(),
        }
    }

    fn store(&self) -> Store {
        Store::at(self.dir.path().join("runtime.json"))
    }

    /// Runs the daemon until `until` says stop (checked every 10 ms), feeding it
    /// `scripts` in turn on each reload.
    fn run(
        &mut self,
        scripts: Vec<Result<Balancer, String>>,
        down: Arc<Mutex<BTreeSet<IpAddr>>>,
        mut until: impl FnMut(&mut FakeIpvs, usize) -> Option<Request>,
    ) -> Result<(), WatchError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let store = self.store();
        let journal = Journal::at(self.dir.path().join("journal"));
        let lock_dir = self.dir.path().join("lock");
        let log = self.log.clone();
        let notified = self.notified.clone();
        let mut scripts = scripts.into_iter();
        let ipvs_state: *mut FakeIpvs = &mut self.ipvs;
        let io = Io {
            kernel: Kernel {
                ipvs: &mut self.ipvs,
                nft: &mut self.nft,
                sysctl: &mut self.sysctl,
                addr: &mut self.addr,
            },
            journal,
            store,
            lock_dir,
            netns: None,
            script: "test.rhai".into(),
            evaluate: Box::new(move || scripts.next().unwrap_or_else(|| Err("no more".into()))),
            inputs: Box::new(|| 0),
            prober: prober(down),
            log: Box::new(move |l| log.lock().unwrap().push(l.to_string())),
            notify: Box::new(move |states| {
                notified
                    .lock()
                    .unwrap()
                    .extend(states.iter().map(|s| s.to_string()));
            }),
            allow_mass_delete: false,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async move {
            let daemon = run(io, rx, None);
            tokio::pin!(daemon);
            let mut rounds = 0;
            loop {
                tokio::select! {
                    r = &mut daemon => return r,
                    _ = tokio::time::sleep(Duration::from_millis(10)) => {
                        rounds += 1;
                        // SAFETY: the daemon runs on this thread and is parked at an
                        // await point, holding no reference into the fake, while this
                        // looks at (and may change) the fake's state.
                        let fake = unsafe { &mut *ipvs_state };
                        if let Some(req) = until(fake, rounds) {
                            let _ = tx.send(req);
                        }
                    }
                }
            }
        })
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn weight(b: &Balancer, dest: u8) -> Option<u32> {
    b.services
        .get(&svc())
        .and_then(|s| s.dests.get(&dk(dest)))
        .map(|d| d.weight)
}

#[test]
fn a_failing_server_goes_to_zero_and_comes_back_when_it_rises() {
    let b = script(false);
    let mut w = World::new(&b);
    let down = Arc::new(Mutex::new(BTreeSet::from([dk(1).address])));
    let flag = down.clone();
    let mut phase = 0;
    w.run(vec![Ok(b.clone())], down, |fake, rounds| {
        let state = fake.state();
        match phase {
            0 if weight(state, 1) == Some(0) => {
                assert_eq!(weight(state, 2), Some(10));
                flag.lock().unwrap().clear();
                phase = 1;
            }
            1 if weight(state, 1) == Some(10) => return Some(Request::Stop),
            _ => assert!(rounds < 300, "stuck in phase {phase}"),
        }
        None
    })
    .unwrap();
    let lines = w.lines();
    assert!(
        lines
            .iter()
            .any(|l| l == "the kernel holds what the script says; nothing written"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "rs 10.0.0.1:80 of tcp 192.0.2.1:80: unknown -> down (connection refused"
        )),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("down -> up (connected")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "wrote: rs 10.0.0.1:80 of tcp 192.0.2.1:80: weight 10 -> 0"),
        "{lines:#?}"
    );
    let rt = w.store().load().unwrap();
    assert_eq!(rt.health(&svc(), &dk(1)).unwrap().state, HealthState::Up);
    // Every weight change went through the journal.
    let journal = Journal::at(w.dir.path().join("journal"));
    let entries = journal.entries().unwrap();
    assert_eq!(entries.len(), 2, "down, then up");
    assert!(entries.iter().all(|e| e.header.command == "watch"));
}

#[test]
fn starting_and_stopping_write_nothing() {
    let b = script(false);
    let mut w = World::new(&b);
    let store = w.store();
    let down = Arc::new(Mutex::new(BTreeSet::new()));
    // Until both servers have risen (and that is on disk).
    w.run(vec![Ok(b.clone())], down.clone(), |_, rounds| {
        assert!(rounds < 300, "the servers never rose");
        let rt = store.load().unwrap();
        let up = |d| {
            rt.health(&svc(), &dk(d))
                .is_some_and(|h| h.state == HealthState::Up)
        };
        (up(1) && up(2)).then_some(Request::Stop)
    })
    .unwrap();
    w.run(vec![Ok(b.clone())], down, |_, rounds| {
        (rounds == 10).then_some(Request::Stop)
    })
    .unwrap();
    assert_eq!(w.ipvs.executed(), 0, "no request was sent");
    assert_eq!(w.ipvs.state().services, b.services);
    // systemd hears it is ready once the kernel holds the script, and that it stops.
    let told = w.notified.lock().unwrap().clone();
    assert_eq!(
        told,
        [
            "READY=1",
            "STATUS=2 adopted",
            "STOPPING=1",
            "READY=1",
            "STATUS=2 up",
            "STOPPING=1"
        ],
    );
}

#[test]
fn a_restart_resumes_a_down_server_without_writing() {
    let b = script(false);
    let mut w = World::new(&b);
    let down = Arc::new(Mutex::new(BTreeSet::from([dk(2).address])));
    w.run(vec![Ok(b.clone())], down.clone(), |fake, _| {
        (weight(fake.state(), 2) == Some(0)).then_some(Request::Stop)
    })
    .unwrap();
    let sent = w.ipvs.executed();
    // Restarted while the server is still down: it stays at 0, nothing is written.
    w.run(vec![Ok(b.clone())], down, |fake, rounds| {
        assert_eq!(weight(fake.state(), 2), Some(0));
        (rounds == 20).then_some(Request::Stop)
    })
    .unwrap();
    assert_eq!(w.ipvs.executed(), sent);
}

#[test]
fn a_reload_with_an_error_keeps_the_running_configuration() {
    let b = script(false);
    let mut w = World::new(&b);
    let down = Arc::new(Mutex::new(BTreeSet::new()));
    let scripts = vec![
        Ok(b.clone()),
        Err("test.rhai:3:1: unknown function".into()),
        Ok(script(true)),
    ];
    let mut sent = 0;
    w.run(scripts, down, |fake, rounds| {
        let state = fake.state();
        sent += 1;
        match sent {
            2 | 4 => Some(Request::Reload),
            _ if state.services.len() == 2 => Some(Request::Stop),
            _ => {
                assert!(rounds < 300);
                None
            }
        }
    })
    .unwrap();
    let lines = w.lines();
    assert!(
        lines.iter().any(
            |l| l.starts_with("reload failed; the running configuration stays:\ntest.rhai:3:1")
        ),
        "{lines:#?}"
    );
    assert_eq!(
        w.ipvs.state().services.len(),
        2,
        "the second reload applied"
    );
}

#[test]
fn a_script_that_does_not_evaluate_stops_the_start() {
    let mut w = World::new(&Balancer::default());
    let err = w
        .run(vec![Err("boom".into())], Arc::default(), |_, _| None)
        .unwrap_err();
    assert!(
        matches!(err, WatchError::Script(ref s) if s == "boom"),
        "{err:?}"
    );
    assert_eq!(w.lines(), ["the script does not evaluate:\nboom"]);
}

#[test]
fn a_drain_recorded_meanwhile_is_kept_and_ends_when_the_connections_do() {
    use crate::model::{Drain, DrainState};
    let b = script(false);
    let mut w = World::new(&b);
    // Server 2 has a connection when `lvsh drain` sets it to 0 and records it.
    let store = w.store();
    let down = Arc::new(Mutex::new(BTreeSet::new()));
    let mut phase = 0;
    w.run(vec![Ok(b.clone())], down, |fake, rounds| {
        assert!(rounds < 600, "stuck in phase {phase}");
        let dest = |fake: &mut FakeIpvs| {
            fake.state_mut()
                .services
                .get_mut(&svc())
                .unwrap()
                .dests
                .get_mut(&dk(2))
                .map(|d| d as *mut Dest)
        };
        match phase {
            0 if rounds == 5 => {
                let d = unsafe { &mut *dest(fake).unwrap() };
                d.weight = 0;
                d.counters.active = 1;
                store
                    .update(|rt| {
                        rt.entry(svc(), dk(2)).drain = Some(Drain {
                            state: DrainState::Draining,
                            started: journal_now(),
                            deadline: None,
                            prior_weight: 10,
                            remove: true,
                            ended: None,
                            outcome: None,
                        })
                    })
                    .unwrap();
                phase = 1;
            }
            1 if rounds == 40 => {
                // Ticks ran meanwhile (the drain keeps them going): still held.
                assert_eq!(weight(fake.state(), 2), Some(0));
                unsafe { &mut *dest(fake).unwrap() }.counters.active = 0;
                phase = 2;
            }
            2 if weight(fake.state(), 2).is_none() => {
                let rt = store.load().unwrap();
                assert_eq!(rt.drain(&svc(), &dk(2)).unwrap().state, DrainState::Drained);
                // `lvsh undrain` of the removed server: only the record goes.
                store
                    .update(|rt| rt.entry(svc(), dk(2)).drain = None)
                    .unwrap();
                phase = 3;
            }
            // Watch notices and adds it back at the script's weight.
            3 if weight(fake.state(), 2) == Some(10) => return Some(Request::Stop),
            _ => {}
        }
        None
    })
    .unwrap();
    let lines = w.lines();
    assert!(
        lines.iter().any(|l| l
            == "rs 10.0.0.2:80 of tcp 192.0.2.1:80: draining -> drained (connections ended); removing it"),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "wrote: rs 10.0.0.2:80 of tcp 192.0.2.1:80: added at weight 10"),
        "{lines:#?}"
    );
    assert_eq!(w.store().load().unwrap().drain(&svc(), &dk(2)), None);
}
