use super::*;
use crate::model::{
    DestKey, Family, Forward, Netmask, Origin, PersistenceEngine, Protocol, SchedFlag, Scheduler,
    ServiceKey, TunnelChecksum, TunnelKind,
};
use crate::plan::{Action, Change, Mode, Object, Snapshot};
use std::sync::Arc;

fn key(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::inet(Protocol::Tcp, addr.parse().unwrap(), port)
}

fn dk(addr: &str, port: u16) -> DestKey {
    DestKey {
        address: addr.parse().unwrap(),
        port,
    }
}

fn service(k: ServiceKey, dests: &[DestKey]) -> Service {
    let mut s = Service::new(k);
    for d in dests {
        s.dests.insert(*d, Dest::new(*d));
    }
    s
}

fn balancer(services: impl IntoIterator<Item = Service>) -> Balancer {
    let mut b = Balancer::default();
    for s in services {
        b.services.insert(s.key, s);
    }
    b
}

fn mark(n: u32, addrs: &[&str], ports: &[&str]) -> MarkRule {
    let mut m = MarkRule::new(n);
    m.addresses = addrs.iter().map(|a| a.parse().unwrap()).collect();
    m.ports = ports.iter().map(|p| p.parse().unwrap()).collect();
    m
}

/// One short line per change, to assert kinds and order at a glance.
fn lines(plan: &Plan) -> Vec<String> {
    plan.changes.iter().map(line).collect()
}

fn line(c: &Change) -> String {
    let action = match c.action {
        Action::Add => "add",
        Action::Edit => "edit",
        Action::Delete => "delete",
    };
    let object = match &c.object {
        Object::Service(k) => format!("service {k}"),
        Object::Dest(k, d) => format!("dest {k} {d}"),
        Object::Mark(m) => format!("mark {m}"),
        Object::Timeouts => "timeouts".into(),
        Object::Daemon(s) => format!("daemon {s}"),
        Object::Sysctl(n) => format!("sysctl {n}"),
        Object::Address(a) => format!("address {a}"),
    };
    format!("{action} {object}")
}

/// A named change to one object, for table-driven tests.
type Edit<T> = fn(&mut T);

fn replace(d: &Balancer, o: &Balancer) -> Vec<String> {
    lines(&diff(d, o, Mode::Replace))
}

#[test]
fn equal_balancers_give_an_empty_plan() {
    let a = dk("10.0.0.1", 80);
    let b = balancer([service(key("192.168.10.120", 80), &[a])]);
    assert!(diff(&b, &b, Mode::Replace).is_empty());
    assert!(diff(&Balancer::default(), &Balancer::default(), Mode::Replace).is_empty());
}

#[test]
fn origins_stats_and_counters_are_ignored() {
    let k = key("192.168.10.120", 80);
    let a = dk("10.0.0.1", 80);
    let desired = balancer([service(k, &[a])]);
    let mut observed = desired.clone();
    let s = observed.services.get_mut(&k).unwrap();
    s.origin = Origin::at(Arc::from("site.rhai"), 3, 1);
    s.stats.conns = 12345;
    s.stats.inbytes = 1 << 40;
    let d = s.dests.get_mut(&a).unwrap();
    d.counters.active = 7;
    d.counters.persistent = 2;
    d.stats.inpkts = 99;
    assert!(diff(&desired, &observed, Mode::Replace).is_empty());
}

#[test]
fn a_new_service_and_its_dests_are_separate_adds() {
    let k = key("192.168.10.120", 80);
    let (a, b) = (dk("192.168.10.11", 80), dk("192.168.10.12", 80));
    let desired = balancer([service(k, &[b, a])]);
    let plan = diff(&desired, &Balancer::default(), Mode::Replace);
    assert_eq!(
        lines(&plan),
        [
            "add service tcp 192.168.10.120:80",
            "add dest tcp 192.168.10.120:80 192.168.10.11:80",
            "add dest tcp 192.168.10.120:80 192.168.10.12:80",
        ]
    );
    let c = &plan.changes[0];
    assert_eq!(c.before, None);
    let s = c.after.as_ref().unwrap().service().unwrap();
    assert!(s.dests.is_empty(), "a service snapshot carries no dests");
    assert_eq!(s.scheduler, Scheduler::Wlc);
    let d = plan.changes[1].after.as_ref().unwrap().dest().unwrap();
    assert_eq!(d, &Dest::new(a));
    assert_eq!(plan.counts(), (3, 0, 0));
}

#[test]
fn deleting_a_service_takes_its_dests_along() {
    let k = key("10.0.0.1", 53);
    let (a, b) = (dk("10.0.1.1", 53), dk("10.0.1.2", 53));
    let mut observed = balancer([service(k, &[a, b])]);
    observed.services.get_mut(&k).unwrap().stats.conns = 5;
    observed
        .services
        .get_mut(&k)
        .unwrap()
        .dests
        .get_mut(&a)
        .unwrap()
        .counters
        .active = 3;
    let plan = diff(&Balancer::default(), &observed, Mode::Replace);
    assert_eq!(lines(&plan), ["delete service tcp 10.0.0.1:53"]);
    let c = &plan.changes[0];
    assert_eq!(c.after, None);
    let before = c.before.as_ref().unwrap().service().unwrap();
    assert_eq!(before.dests.keys().copied().collect::<Vec<_>>(), [a, b]);
    assert!(before.stats.is_zero(), "no counters in a plan");
    assert_eq!(before.dests[&a].counters.active, 0);
    // Counted as their addition would be: the service and each real server.
    assert_eq!(plan.counts(), (0, 0, 3));
}

#[test]
fn every_service_setting_is_an_edit_in_place() {
    let k = key("192.168.10.120", 443);
    let a = dk("10.0.0.1", 443);
    let observed = balancer([service(k, &[a])]);
    let edits: [(&str, Edit<Service>); 6] = [
        ("scheduler", |s| s.scheduler = Scheduler::Rr),
        ("flags", |s| s.flags.insert(SchedFlag::Flag2)),
        ("persistence", |s| s.persistence = Some(300)),
        ("netmask", |s| {
            s.set_netmask(Netmask::V4("255.255.255.0".parse().unwrap()))
        }),
        ("pe", |s| s.pe = Some(PersistenceEngine::Sip)),
        ("one-packet", |s| s.one_packet = true),
    ];
    for (what, edit) in edits {
        let mut desired = observed.clone();
        edit(desired.services.get_mut(&k).unwrap());
        let plan = diff(&desired, &observed, Mode::Replace);
        assert_eq!(
            lines(&plan),
            ["edit service tcp 192.168.10.120:443"],
            "{what}"
        );
        let c = &plan.changes[0];
        let (b, a) = (
            c.before.as_ref().unwrap().service().unwrap(),
            c.after.as_ref().unwrap().service().unwrap(),
        );
        assert!(b.same_settings(&observed.services[&k]), "{what}");
        assert!(a.same_settings(&desired.services[&k]), "{what}");
        assert!(b.dests.is_empty() && a.dests.is_empty(), "{what}");
        // And back again.
        let back = diff(&observed, &desired, Mode::Replace);
        assert_eq!(
            lines(&back),
            ["edit service tcp 192.168.10.120:443"],
            "{what}"
        );
    }
}

#[test]
fn every_dest_setting_is_an_edit_in_place() {
    let k = key("192.168.10.120", 80);
    let a = dk("10.0.0.1", 80);
    let observed = balancer([service(k, &[a])]);
    let edits: [(&str, Edit<Dest>); 5] = [
        ("nat", |d| d.forward = Forward::Masq),
        ("tun", |d| {
            d.forward = Forward::Tunnel {
                kind: TunnelKind::Ipip,
                port: 0,
                checksum: TunnelChecksum::None,
            }
        }),
        ("weight", |d| d.weight = 0),
        ("upper threshold", |d| d.upper_threshold = 100),
        ("lower threshold", |d| {
            d.upper_threshold = 100;
            d.lower_threshold = 50;
        }),
    ];
    for (what, edit) in edits {
        let mut desired = observed.clone();
        edit(
            desired
                .services
                .get_mut(&k)
                .unwrap()
                .dests
                .get_mut(&a)
                .unwrap(),
        );
        let plan = diff(&desired, &observed, Mode::Replace);
        assert_eq!(
            lines(&plan),
            ["edit dest tcp 192.168.10.120:80 10.0.0.1:80"],
            "{what}"
        );
        let c = &plan.changes[0];
        assert_eq!(c.before, Some(Snapshot::from(Dest::new(a))), "{what}");
        let after = c.after.as_ref().unwrap().dest().unwrap();
        assert_eq!(after, &desired.services[&k].dests[&a], "{what}");
    }
}

#[test]
fn tunnel_options_are_edits_too() {
    let k = key("192.168.10.120", 80);
    let a = dk("10.0.0.1", 80);
    let tun = |kind, port, checksum| {
        let mut b = balancer([service(k, &[a])]);
        b.services
            .get_mut(&k)
            .unwrap()
            .dests
            .get_mut(&a)
            .unwrap()
            .forward = Forward::Tunnel {
            kind,
            port,
            checksum,
        };
        b
    };
    let ipip = tun(TunnelKind::Ipip, 0, TunnelChecksum::None);
    let gue = tun(TunnelKind::Gue, 6080, TunnelChecksum::None);
    let gue_port = tun(TunnelKind::Gue, 6081, TunnelChecksum::None);
    let gue_csum = tun(TunnelKind::Gue, 6080, TunnelChecksum::Csum);
    let edit = ["edit dest tcp 192.168.10.120:80 10.0.0.1:80"];
    assert_eq!(replace(&gue, &ipip), edit);
    assert_eq!(replace(&gue_port, &gue), edit);
    assert_eq!(replace(&gue_csum, &gue), edit);
    assert!(replace(&gue, &gue).is_empty());
}

#[test]
fn a_different_key_is_another_object() {
    let old = balancer([service(key("192.168.10.120", 80), &[dk("10.0.0.1", 80)])]);
    // Another port for the service: the new one comes, then the old one goes with its
    // dest.
    let new = balancer([service(key("192.168.10.120", 8080), &[dk("10.0.0.1", 80)])]);
    assert_eq!(
        replace(&new, &old),
        [
            "add service tcp 192.168.10.120:8080",
            "add dest tcp 192.168.10.120:8080 10.0.0.1:80",
            "delete service tcp 192.168.10.120:80",
        ]
    );
    // Another port, or family, for a destination.
    let k = key("192.168.10.120", 80);
    let moved = balancer([service(k, &[dk("10.0.0.1", 8080), dk("2001:db8::1", 80)])]);
    assert_eq!(
        replace(&moved, &old),
        [
            "add dest tcp 192.168.10.120:80 10.0.0.1:8080",
            "add dest tcp 192.168.10.120:80 [2001:db8::1]:80",
            "delete dest tcp 192.168.10.120:80 10.0.0.1:80",
        ]
    );
    // UDP instead of TCP, and an IPv6 fwmark service instead of an IPv4 one.
    let udp = balancer([service(
        ServiceKey::inet(Protocol::Udp, "192.168.10.120".parse().unwrap(), 80),
        &[],
    )]);
    assert_eq!(
        replace(&udp, &balancer([service(k, &[])])),
        [
            "add service udp 192.168.10.120:80",
            "delete service tcp 192.168.10.120:80",
        ]
    );
    let v4 = balancer([service(ServiceKey::fwmark(Family::Inet, 10), &[])]);
    let v6 = balancer([service(ServiceKey::fwmark(Family::Inet6, 10), &[])]);
    assert_eq!(
        replace(&v6, &v4),
        ["add service fwmark 10 ipv6", "delete service fwmark 10"]
    );
}

#[test]
fn dests_change_under_an_unchanged_service() {
    let k = key("192.168.10.120", 443);
    let (a, b, c) = (
        dk("192.168.10.11", 443),
        dk("192.168.10.12", 443),
        dk("192.168.10.13", 443),
    );
    let observed = balancer([service(k, &[a, b])]);
    let mut desired = balancer([service(k, &[b, c])]);
    desired
        .services
        .get_mut(&k)
        .unwrap()
        .dests
        .get_mut(&b)
        .unwrap()
        .weight = 5;
    assert_eq!(
        replace(&desired, &observed),
        [
            "edit dest tcp 192.168.10.120:443 192.168.10.12:443",
            "add dest tcp 192.168.10.120:443 192.168.10.13:443",
            "delete dest tcp 192.168.10.120:443 192.168.10.11:443",
        ]
    );
}

#[test]
fn merge_never_deletes() {
    let k = key("192.168.10.120", 80);
    let (a, b) = (dk("10.0.0.1", 80), dk("10.0.0.2", 80));
    let mut observed = balancer([service(k, &[a, b]), service(key("10.9.9.9", 25), &[a])]);
    observed.marks.insert(7, mark(7, &["10.9.9.9"], &[]));
    observed.daemons.insert(
        DaemonState::Backup,
        SyncDaemon::new(DaemonState::Backup, "eth1"),
    );
    let mut desired = balancer([service(k, &[a])]);
    desired.services.get_mut(&k).unwrap().scheduler = Scheduler::Rr;
    desired
        .marks
        .insert(8, mark(8, &["192.168.10.120"], &["80"]));

    let merge = diff(&desired, &observed, Mode::Merge);
    assert_eq!(
        lines(&merge),
        ["add mark 8", "edit service tcp 192.168.10.120:80"]
    );
    assert!(merge.changes.iter().all(|c| c.action != Action::Delete));

    let all = replace(&desired, &observed);
    assert_eq!(
        all,
        [
            "add mark 8",
            "delete daemon backup",
            "edit service tcp 192.168.10.120:80",
            "delete dest tcp 192.168.10.120:80 10.0.0.2:80",
            "delete service tcp 10.9.9.9:25",
            "delete mark 7",
        ]
    );
}

#[test]
fn the_order_is_the_apply_order() {
    let (a, c) = (key("10.0.0.1", 80), key("10.0.0.3", 80));
    let gone = key("10.0.0.2", 80);
    let (d1, d2, d3) = (dk("10.1.0.1", 80), dk("10.1.0.2", 80), dk("10.1.0.3", 80));

    let mut observed = balancer([service(a, &[d1, d2]), service(gone, &[d1, d2])]);
    observed.marks.insert(1, mark(1, &["10.0.0.9"], &[]));
    observed
        .marks
        .insert(2, mark(2, &["10.0.0.1", "10.0.0.2"], &[]));
    observed.marks.insert(4, mark(4, &["10.0.0.1"], &["80"]));
    observed.timeouts = Timeouts::KERNEL_DEFAULT;
    observed.daemons.insert(
        DaemonState::Master,
        SyncDaemon::new(DaemonState::Master, "eth0"),
    );
    observed.daemons.insert(
        DaemonState::Backup,
        SyncDaemon::new(DaemonState::Backup, "eth0"),
    );

    let mut desired = balancer([service(a, &[d2, d3]), service(c, &[d1])]);
    let sa = desired.services.get_mut(&a).unwrap();
    sa.persistence = Some(60);
    sa.dests.get_mut(&d2).unwrap().weight = 3;
    desired.marks.insert(2, mark(2, &["10.0.0.1"], &[]));
    desired.marks.insert(3, mark(3, &["10.0.0.3"], &[]));
    desired
        .marks
        .insert(4, mark(4, &["10.0.0.1"], &["80", "443"]));
    desired.timeouts.udp = Some(60);
    desired.daemons.insert(
        DaemonState::Master,
        SyncDaemon::new(DaemonState::Master, "eth1"),
    );

    assert_eq!(
        replace(&desired, &observed),
        [
            // 1. traffic is marked for what will exist
            "add mark 3",
            "edit mark 4",
            // 2. daemons go, 3. timeouts
            "delete daemon master",
            "delete daemon backup",
            "edit timeouts",
            // 4. each service with its destinations
            "edit service tcp 10.0.0.1:80",
            "edit dest tcp 10.0.0.1:80 10.1.0.2:80",
            "add dest tcp 10.0.0.1:80 10.1.0.3:80",
            "add service tcp 10.0.0.3:80",
            "add dest tcp 10.0.0.3:80 10.1.0.1:80",
            // 5. dests, 6. services go, 7. daemons come
            "delete dest tcp 10.0.0.1:80 10.1.0.1:80",
            "delete service tcp 10.0.0.2:80",
            "add daemon master",
            // 8. then marks narrow or go
            "delete mark 1",
            "edit mark 2",
        ]
    );
}

#[test]
fn marks_add_delete_and_edit() {
    let mut observed = Balancer::default();
    observed
        .marks
        .insert(10, mark(10, &["192.168.10.120"], &["80"]));
    let mut desired = Balancer::default();
    desired
        .marks
        .insert(10, mark(10, &["192.168.10.120"], &["80", "443"]));
    let plan = diff(&desired, &observed, Mode::Replace);
    assert_eq!(lines(&plan), ["edit mark 10"]);
    assert_eq!(
        plan.changes[0].before,
        Some(Snapshot::from(observed.marks[&10].clone()))
    );
    assert_eq!(
        plan.changes[0].after,
        Some(Snapshot::from(desired.marks[&10].clone()))
    );
    assert_eq!(replace(&Balancer::default(), &observed), ["delete mark 10"]);
    assert_eq!(replace(&desired, &Balancer::default()), ["add mark 10"]);
}

#[test]
fn mark_edits_that_only_narrow_come_last() {
    let narrowing = [
        // fewer addresses
        (
            mark(1, &["10.0.0.1", "10.0.0.2"], &[]),
            mark(1, &["10.0.0.1"], &[]),
        ),
        // ports where there were none
        (mark(1, &["10.0.0.1"], &[]), mark(1, &["10.0.0.1"], &["80"])),
        // fewer ports, also inside a range
        (
            mark(1, &["10.0.0.1"], &["80", "443"]),
            mark(1, &["10.0.0.1"], &["443"]),
        ),
        (
            mark(1, &["10.0.0.1"], &["8000-8100"]),
            mark(1, &["10.0.0.1"], &["8050"]),
        ),
        // a range covered by two adjacent ones
        (
            mark(1, &["10.0.0.1"], &["8000-8049", "8050-8100"]),
            mark(1, &["10.0.0.1"], &["8040-8060"]),
        ),
    ];
    for (old, new) in narrowing {
        assert!(narrows(&old, &new), "{old:?} → {new:?}");
        let (mut o, mut d) = (Balancer::default(), Balancer::default());
        o.marks.insert(1, old);
        d.marks.insert(1, new);
        // A service deletion before it shows that it is in the last group.
        o.services
            .insert(key("10.0.0.5", 1), service(key("10.0.0.5", 1), &[]));
        assert_eq!(
            replace(&d, &o),
            ["delete service tcp 10.0.0.5:1", "edit mark 1"]
        );
    }

    let mut udp = mark(1, &["10.0.0.1"], &["80"]);
    udp.protocols.insert(Protocol::Udp);
    let mut commented = mark(1, &["10.0.0.1"], &["80"]);
    commented.comment = Some("web".into());
    let other = [
        // more, or other, traffic
        (
            mark(1, &["10.0.0.1"], &[]),
            mark(1, &["10.0.0.1", "10.0.0.2"], &[]),
        ),
        (mark(1, &["10.0.0.1"], &["80"]), mark(1, &["10.0.0.1"], &[])),
        (
            mark(1, &["10.0.0.1"], &["80"]),
            mark(1, &["10.0.0.2"], &["80"]),
        ),
        (
            mark(1, &["10.0.0.1"], &["8000-8049", "8051-8100"]),
            mark(1, &["10.0.0.1"], &["8040-8060"]),
        ),
        (mark(1, &["10.0.0.1"], &["80"]), udp),
        // the same traffic
        (mark(1, &["10.0.0.1"], &["80"]), commented),
    ];
    for (old, new) in other {
        assert!(!narrows(&old, &new), "{old:?} → {new:?}");
        let (mut o, mut d) = (Balancer::default(), Balancer::default());
        o.marks.insert(1, old);
        d.marks.insert(1, new);
        o.services
            .insert(key("10.0.0.5", 1), service(key("10.0.0.5", 1), &[]));
        assert_eq!(
            replace(&d, &o),
            ["edit mark 1", "delete service tcp 10.0.0.5:1"]
        );
    }
}

#[test]
fn protocols_without_ports_do_not_count() {
    let a = mark(5, &["10.0.0.1"], &[]);
    let mut b = a.clone();
    b.protocols = [Protocol::Udp].into();
    let (mut o, mut d) = (Balancer::default(), Balancer::default());
    o.marks.insert(5, a.clone());
    d.marks.insert(5, b.clone());
    assert!(replace(&d, &o).is_empty());
    // With ports they do.
    o.marks
        .get_mut(&5)
        .unwrap()
        .ports
        .insert(PortRange::single(53));
    d.marks
        .get_mut(&5)
        .unwrap()
        .ports
        .insert(PortRange::single(53));
    assert_eq!(replace(&d, &o), ["edit mark 5"]);
}

#[test]
fn timeouts_change_only_what_the_script_sets() {
    let observed = Balancer {
        timeouts: Timeouts::KERNEL_DEFAULT,
        ..Balancer::default()
    };
    // Nothing set: nothing to do.
    assert!(replace(&Balancer::default(), &observed).is_empty());
    // Set to what the kernel has: nothing to do.
    let mut desired = Balancer::default();
    desired.timeouts.tcp = Some(900);
    assert!(replace(&desired, &observed).is_empty());
    // One differs: an edit; the others stay as they are.
    desired.timeouts.udp = Some(60);
    let plan = diff(&desired, &observed, Mode::Replace);
    assert_eq!(lines(&plan), ["edit timeouts"]);
    assert_eq!(
        plan.changes[0].before,
        Some(Snapshot::from(Timeouts::KERNEL_DEFAULT))
    );
    assert_eq!(
        plan.changes[0].after,
        Some(Snapshot::from(Timeouts {
            tcp: Some(900),
            tcp_fin: Some(120),
            udp: Some(60),
        }))
    );
    // Also in merge mode.
    assert_eq!(
        lines(&diff(&desired, &observed, Mode::Merge)),
        ["edit timeouts"]
    );
    // Against an unknown kernel (`--empty`): the set values are edits.
    let plan = diff(&desired, &Balancer::default(), Mode::Replace);
    assert_eq!(
        plan.changes[0].after,
        Some(Snapshot::from(Timeouts {
            tcp: Some(900),
            tcp_fin: None,
            udp: Some(60),
        }))
    );
}

#[test]
fn daemons_are_added_deleted_and_restarted() {
    let master = |ifname: &str| SyncDaemon::new(DaemonState::Master, ifname);
    let mut observed = Balancer::default();
    let mut running = master("eth0");
    // The kernel reports every field filled in.
    running.maxlen = Some(1472);
    running.group = Some("224.0.0.81".parse().unwrap());
    running.port = Some(8848);
    running.ttl = Some(1);
    observed
        .daemons
        .insert(DaemonState::Master, running.clone());

    // Unset fields match the kernel's defaults.
    let mut desired = Balancer::default();
    desired.daemons.insert(DaemonState::Master, master("eth0"));
    assert!(replace(&desired, &observed).is_empty());

    // Another setting: stop it and start it again.
    desired.daemons.get_mut(&DaemonState::Master).unwrap().ttl = Some(2);
    let plan = diff(&desired, &observed, Mode::Replace);
    assert_eq!(lines(&plan), ["delete daemon master", "add daemon master"]);
    assert_eq!(
        plan.changes[0].before,
        Some(Snapshot::from(running.clone()))
    );
    assert_eq!(
        plan.changes[1].after,
        Some(Snapshot::from(
            desired.daemons[&DaemonState::Master].clone()
        ))
    );
    // The script names the daemon, so merge restarts it too.
    assert_eq!(
        lines(&diff(&desired, &observed, Mode::Merge)),
        ["delete daemon master", "add daemon master"]
    );

    // Not in the script: deleted, except in merge mode.
    assert_eq!(
        replace(&Balancer::default(), &observed),
        ["delete daemon master"]
    );
    assert!(diff(&Balancer::default(), &observed, Mode::Merge).is_empty());
    // New.
    assert_eq!(
        replace(&desired, &Balancer::default()),
        ["add daemon master"]
    );
}

#[test]
fn ports_within_merges_adjacent_ranges() {
    let set = |ps: &[&str]| {
        ps.iter()
            .map(|p| p.parse().unwrap())
            .collect::<BTreeSet<_>>()
    };
    assert!(ports_within(&set(&["1-10"]), &set(&["1-5", "6-10"])));
    assert!(!ports_within(&set(&["1-10"]), &set(&["1-5", "7-10"])));
    assert!(ports_within(&set(&["65535"]), &set(&["65000-65535"])));
    assert!(ports_within(
        &set(&["0-65535"]),
        &set(&["0-100", "50-65535"])
    ));
    assert!(ports_within(&set(&[]), &set(&["80"])));
}

/// Only the sysctls the script sets take part; they come first, before even the
/// marks, so that `expire_nodest_conn` is in force when a real server goes.
#[test]
fn sysctls_the_script_sets_come_first_and_nothing_else_is_touched() {
    use crate::model::SysctlValue::{Int, Pair};
    let a = dk("10.0.0.1", 80);
    let mut observed = balancer([service(key("192.168.10.120", 80), &[a, dk("10.0.0.2", 80)])]);
    for (name, v) in [
        ("expire_nodest_conn", Int(0)),
        ("conntrack", Int(0)),
        ("sloppy_tcp", Int(1)),
        ("sync_threshold", Pair(3, 50)),
        ("drop_entry", Int(2)),
    ] {
        observed.sysctls.set(name, v);
    }
    let mut desired = balancer([service(key("192.168.10.120", 80), &[a])]);
    desired
        .marks
        .insert(7, mark(7, &["192.168.10.121"], &["80"]));
    desired.sysctls.set("expire_nodest_conn", Int(1));
    desired.sysctls.set("sync_threshold", Pair(3, 50));
    // The kernel switched the automatic defense to 2 itself: no change.
    desired.sysctls.set("drop_entry", Int(1));
    // Not in the observed state (a state file without it): set, before unknown.
    desired.sysctls.set("est_nice", Int(5));
    let plan = diff(&desired, &observed, Mode::Replace);
    assert_eq!(
        lines(&plan),
        [
            "add sysctl est_nice",
            "edit sysctl expire_nodest_conn",
            "add mark 7",
            "delete dest tcp 192.168.10.120:80 10.0.0.2:80",
        ]
    );
    let edit = &plan.changes[1];
    assert_eq!(
        edit.before.as_ref().and_then(Snapshot::sysctl),
        Some(&Int(0))
    );
    assert_eq!(
        edit.after.as_ref().and_then(Snapshot::sysctl),
        Some(&Int(1))
    );
    // sloppy_tcp 1 stays, also when the script replaces everything else.
    assert_eq!(
        lines(&diff(&Balancer::default(), &observed, Mode::Replace)).len(),
        1
    );
    assert_eq!(diff(&desired, &observed, Mode::Merge).changes.len(), 3);
}

/// Addresses: added when missing, left alone when there without lvsh's mark, deleted
/// (only lvsh's) in `Replace` and never in `Merge`.
#[test]
fn addresses_are_added_and_deleted_only_when_lvsh_s() {
    use crate::model::{HostAddress, Origin};
    let a = |cidr: &str| HostAddress::parse(cidr, "lo").unwrap();
    let mut desired = Balancer::default();
    desired.addresses.insert(a("10.0.0.1"), Origin::NONE);
    desired.addresses.insert(a("10.0.0.2"), Origin::NONE);
    let mut observed = Balancer::default();
    observed.addresses.others.insert(a("10.0.0.2"));
    observed.addresses.insert(a("10.0.0.3"), Origin::NONE);
    assert_eq!(
        replace(&desired, &observed),
        [
            "add address 10.0.0.1/32 on lo",
            "delete address 10.0.0.3/32 on lo"
        ]
    );
    assert_eq!(
        lines(&diff(&desired, &observed, Mode::Merge)),
        ["add address 10.0.0.1/32 on lo"]
    );
    let json = diff(&desired, &observed, Mode::Replace).to_json();
    assert!(json.contains(r#""type": "address""#), "{json}");
    assert!(json.contains(r#""interface": "lo""#), "{json}");
}
