use crate::model::{
    Balancer, DaemonState, Dest, DestKey, Family, Forward, MarkRule, Netmask, PersistenceEngine,
    Protocol, SchedFlag, Scheduler, Service, ServiceKey, SyncDaemon, Timeouts, TunnelChecksum,
    TunnelKind,
};
use crate::plan::{Mode, Plan, diff};

fn key(proto: Protocol, addr: &str, port: u16) -> ServiceKey {
    ServiceKey::inet(proto, addr.parse().unwrap(), port)
}

fn dest(addr: &str, port: u16, forward: Forward, weight: u32) -> Dest {
    let mut d = Dest::new(DestKey {
        address: addr.parse().unwrap(),
        port,
    });
    d.forward = forward;
    d.weight = weight;
    d
}

fn service(
    k: ServiceKey,
    sched: Scheduler,
    persist: Option<u32>,
    dests: impl IntoIterator<Item = Dest>,
) -> Service {
    let mut s = Service::new(k);
    s.scheduler = sched;
    s.persistence = persist;
    s.dests = dests.into_iter().map(|d| (d.key, d)).collect();
    s
}

fn add(b: &mut Balancer, s: Service) {
    b.services.insert(s.key, s);
}

/// The example of the persistence article, against a kernel holding an older setup.
fn article() -> (Balancer, Balancer) {
    use Forward::{Masq as Nat, Route as Dr};
    use Protocol::{Tcp, Udp};
    let vip = "192.168.10.120";
    let mut desired = Balancer::default();
    add(
        &mut desired,
        service(
            key(Tcp, vip, 80),
            Scheduler::Rr,
            Some(120),
            [dest("192.168.10.11", 80, Dr, 1)],
        ),
    );
    add(
        &mut desired,
        service(
            key(Tcp, vip, 443),
            Scheduler::Rr,
            Some(1200),
            [dest("192.168.10.12", 443, Dr, 5)],
        ),
    );
    let mut m = MarkRule::new(10);
    m.addresses.insert(vip.parse().unwrap());
    m.ports = ["80".parse().unwrap(), "443".parse().unwrap()].into();
    desired.marks.insert(10, m);
    desired.timeouts.tcp = Some(600);

    let mut observed = Balancer::default();
    add(
        &mut observed,
        service(
            key(Tcp, vip, 443),
            Scheduler::Wlc,
            Some(300),
            [
                dest("192.168.10.12", 443, Dr, 1),
                dest("192.168.10.13", 443, Nat, 1),
            ],
        ),
    );
    add(
        &mut observed,
        service(
            key(Udp, "10.0.0.1", 53),
            Scheduler::Wrr,
            None,
            [dest("10.0.0.5", 53, Nat, 1), dest("10.0.0.6", 53, Nat, 2)],
        ),
    );
    observed.timeouts = Timeouts::KERNEL_DEFAULT;
    (desired, observed)
}

#[test]
fn the_article_example() {
    let (desired, observed) = article();
    let plan = diff(&desired, &observed, Mode::Replace);
    assert_eq!(
        plan.render(false),
        "\
+ service tcp 192.168.10.120:80   rr persist 120
+   rs 192.168.10.11:80           dr weight 1
~ service tcp 192.168.10.120:443  scheduler wlc → rr, persist 300 → 1200
~   rs 192.168.10.12:443          weight 1 → 5
-   rs 192.168.10.13:443          nat weight 1
- service udp 10.0.0.1:53         wrr (and its 2 real servers)
-   rs 10.0.0.5:53                nat weight 1
-   rs 10.0.0.6:53                nat weight 2
+ mark 10                         ip daddr 192.168.10.120 tcp dport {80, 443} → fwmark 10
~ timeouts                        tcp 900 → 600
Plan: 3 to add, 3 to change, 4 to delete.
"
    );
}

/// The summary counts what the lines show: each `+`, `~` and `-` line is one, the
/// real servers deleted with their service included (as added ones are).
#[test]
fn the_summary_counts_every_signed_line() {
    let (desired, observed) = article();
    for (desired, observed) in [(&desired, &observed), (&observed, &desired)] {
        let text = diff(desired, observed, Mode::Replace).render(false);
        let count = |sign: char| text.lines().filter(|l| l.starts_with(sign)).count();
        let summary = format!(
            "Plan: {} to add, {} to change, {} to delete.",
            count('+'),
            count('~'),
            count('-')
        );
        assert_eq!(text.lines().last(), Some(summary.as_str()), "{text}");
    }
}

#[test]
fn empty_plan() {
    assert_eq!(
        Plan::default().render(false),
        "No changes. The kernel matches the script.\n"
    );
    assert_eq!(
        Plan::default().render(true),
        "No changes. The kernel matches the script.\n"
    );
}

#[test]
fn color_only_when_asked() {
    let (desired, observed) = article();
    let plan = diff(&desired, &observed, Mode::Replace);
    let plain = plan.render(false);
    assert!(!plain.contains('\x1b'));
    let colored = plan.render(true);
    let lines: Vec<&str> = colored.lines().collect();
    assert_eq!(
        lines[0],
        "\x1b[32m+ service tcp 192.168.10.120:80   rr persist 120\x1b[0m"
    );
    assert!(lines[2].starts_with("\x1b[33m~ service") && lines[2].ends_with("\x1b[0m"));
    assert!(lines[4].starts_with("\x1b[31m-   rs") && lines[4].ends_with("\x1b[0m"));
    assert_eq!(
        lines.last().unwrap(),
        &"\x1b[1mPlan:\x1b[0m 3 to add, 3 to change, 4 to delete."
    );
    // Stripped of its escapes, the colored text is the plain text.
    let stripped = colored
        .replace("\x1b[32m", "")
        .replace("\x1b[33m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[1m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, plain);
}

#[test]
fn unchanged_services_head_their_changed_servers() {
    let k = key(Protocol::Tcp, "2001:db8::10", 443);
    let mut observed = Balancer::default();
    add(
        &mut observed,
        service(
            k,
            Scheduler::Wlc,
            None,
            [dest("2001:db8::11", 443, Forward::Route, 1)],
        ),
    );
    let mut desired = observed.clone();
    let s = desired.services.get_mut(&k).unwrap();
    s.dests.values_mut().next().unwrap().weight = 0;
    let d = dest("2001:db8::12", 443, Forward::Masq, 3);
    s.dests.insert(d.key, d);
    assert_eq!(
        diff(&desired, &observed, Mode::Replace).render(false),
        "  service tcp [2001:db8::10]:443
~   rs [2001:db8::11]:443         weight 1 → 0 (no new connections)
+   rs [2001:db8::12]:443         nat weight 3
Plan: 1 to add, 1 to change, 0 to delete.
"
    );
}

#[test]
fn every_service_and_dest_setting_reads_out() {
    let fw = ServiceKey::fwmark(Family::Inet6, 7);
    let mut s = service(
        fw,
        Scheduler::Sh,
        Some(360),
        [Dest {
            upper_threshold: 100,
            lower_threshold: 50,
            ..dest(
                "2001:db8::5",
                0,
                Forward::Tunnel {
                    kind: TunnelKind::Gue,
                    port: 6080,
                    checksum: TunnelChecksum::Remcsum,
                },
                2,
            )
        }],
    );
    s.flags.insert(SchedFlag::Flag1);
    s.flags.insert(SchedFlag::Flag2);
    s.set_netmask(Netmask::V6(64));
    s.pe = Some(PersistenceEngine::Sip);
    let u = key(Protocol::Udp, "10.0.0.1", 53);
    let mut ops = service(u, Scheduler::Rr, None, []);
    ops.one_packet = true;
    let mut desired = Balancer::default();
    add(&mut desired, s.clone());
    add(&mut desired, ops.clone());
    let added = diff(&desired, &Balancer::default(), Mode::Replace).render(false);
    assert_eq!(
        added,
        "\
+ service udp 10.0.0.1:53  rr ops
+ service fwmark 7 ipv6    sh flags sh-fallback,sh-port persist 360 netmask 64 pe sip
+   rs [2001:db8::5]:0     tun gue port 6080 remcsum weight 2 u_threshold 100 l_threshold 50
Plan: 3 to add, 0 to change, 0 to delete.
"
    );

    // Now undo every setting.
    let mut plain = Balancer::default();
    let mut bare = service(
        fw,
        Scheduler::Rr,
        None,
        [dest("2001:db8::5", 0, Forward::Route, 1)],
    );
    bare.flags = Default::default();
    add(&mut plain, bare);
    add(&mut plain, service(u, Scheduler::Rr, None, []));
    assert_eq!(
        diff(&plain, &desired, Mode::Replace).render(false),
        "\
~ service udp 10.0.0.1:53  ops on → off
~ service fwmark 7 ipv6    scheduler sh → rr, flags sh-fallback,sh-port → none, persist 360 → off, netmask 64 → 128, pe sip → none
~   rs [2001:db8::5]:0     forward tun gue port 6080 remcsum → dr, weight 2 → 1, u_threshold 100 → 0, l_threshold 50 → 0
Plan: 0 to add, 3 to change, 0 to delete.
"
    );
}

#[test]
fn marks_read_like_nft() {
    let mut observed = Balancer::default();
    let mut desired = Balancer::default();
    let mut web = MarkRule::new(10);
    web.addresses.insert("192.168.10.120".parse().unwrap());
    web.ports = ["80".parse().unwrap()].into();
    observed.marks.insert(10, web.clone());
    web.addresses.insert("192.168.10.121".parse().unwrap());
    web.ports.insert("8000-8100".parse().unwrap());
    web.protocols.insert(Protocol::Udp);
    web.comment = Some("web \"farm\"".into());
    desired.marks.insert(10, web.clone());

    let mut v6 = MarkRule::new(11);
    v6.addresses.insert("2001:db8::1".parse().unwrap());
    desired.marks.insert(11, v6);

    let mut old = MarkRule::new(3);
    old.addresses.insert("10.0.0.1".parse().unwrap());
    old.addresses.insert("10.0.0.2".parse().unwrap());
    old.ports = ["53".parse().unwrap()].into();
    old.protocols = [Protocol::Udp].into();
    observed.marks.insert(3, old);

    assert_eq!(
        diff(&desired, &observed, Mode::Replace).render(false),
        "\
- mark 3   ip daddr {10.0.0.1, 10.0.0.2} udp dport 53 → fwmark 3
~ mark 10  daddr 192.168.10.120 → {192.168.10.120, 192.168.10.121}, protocols tcp → {tcp, udp}, dport 80 → {80, 8000-8100}, comment none → \"web \\\"farm\\\"\"
+ mark 11  ip6 daddr 2001:db8::1 → fwmark 11
Plan: 1 to add, 1 to change, 1 to delete.
"
    );
    // Back: the rule marks all ports again.
    let mut narrowed = desired.clone();
    let m = narrowed.marks.get_mut(&10).unwrap();
    m.ports.clear();
    m.comment = None;
    assert_eq!(
        diff(&narrowed, &desired, Mode::Merge).render(false),
        "~ mark 10  dport {80, 8000-8100} → any, comment \"web \\\"farm\\\"\" → none
Plan: 0 to add, 1 to change, 0 to delete.
"
    );
}

#[test]
fn daemon_restarts_say_why() {
    let mut observed = Balancer::default();
    let mut running = SyncDaemon::new(DaemonState::Master, "eth0");
    running.syncid = 1;
    running.maxlen = Some(1472);
    running.group = Some("224.0.0.81".parse().unwrap());
    running.port = Some(8848);
    running.ttl = Some(1);
    observed.daemons.insert(DaemonState::Master, running);
    observed.daemons.insert(
        DaemonState::Backup,
        SyncDaemon::new(DaemonState::Backup, "eth2"),
    );
    let mut desired = Balancer::default();
    let mut master = SyncDaemon::new(DaemonState::Master, "eth1");
    master.syncid = 1;
    master.ttl = Some(2);
    desired.daemons.insert(DaemonState::Master, master);
    desired.timeouts = Timeouts {
        tcp: None,
        tcp_fin: Some(60),
        udp: Some(30),
    };
    assert_eq!(
        diff(&desired, &observed, Mode::Replace).render(false),
        "\
~ timeouts            tcpfin unknown → 60, udp unknown → 30
- sync daemon master  on eth0 syncid 1 maxlen 1472 group 224.0.0.81 port 8848 ttl 1 (stopped and started again: a running daemon cannot be changed)
+ sync daemon master  on eth1 syncid 1 ttl 2 (restart: interface eth0 → eth1, ttl 1 → 2)
- sync daemon backup  on eth2 syncid 0
Plan: 1 to add, 1 to change, 2 to delete.
"
    );
}

#[test]
fn long_labels_do_not_widen_every_line() {
    let long = key(
        Protocol::Sctp,
        "2001:db8:1234:5678:9abc:def0:1234:5678",
        65535,
    );
    let mut desired = Balancer::default();
    add(&mut desired, service(long, Scheduler::Rr, None, []));
    add(
        &mut desired,
        service(key(Protocol::Tcp, "10.0.0.1", 80), Scheduler::Rr, None, []),
    );
    assert_eq!(
        diff(&desired, &Balancer::default(), Mode::Replace).render(false),
        "\
+ service tcp 10.0.0.1:80  rr
+ service sctp [2001:db8:1234:5678:9abc:def0:1234:5678]:65535  rr
Plan: 2 to add, 0 to change, 0 to delete.
"
    );
}

#[test]
fn deleted_services_count_their_real_servers() {
    let mut observed = Balancer::default();
    add(
        &mut observed,
        service(
            key(Protocol::Tcp, "10.0.0.1", 80),
            Scheduler::Rr,
            None,
            [dest("10.0.1.1", 80, Forward::Route, 1)],
        ),
    );
    add(
        &mut observed,
        service(key(Protocol::Tcp, "10.0.0.2", 80), Scheduler::Lc, None, []),
    );
    assert_eq!(
        diff(&Balancer::default(), &observed, Mode::Replace).render(false),
        "\
- service tcp 10.0.0.1:80  rr (and its real server)
-   rs 10.0.1.1:80         dr weight 1
- service tcp 10.0.0.2:80  lc
Plan: 0 to add, 0 to change, 3 to delete.
"
    );
    assert_eq!(
        diff(&Balancer::default(), &observed, Mode::Merge).render(false),
        "No changes. The kernel matches the script.\n"
    );
}

/// Held real servers come first, under their heading, one line each with the
/// reason, the time and both weights; they are not counted as changes.
#[test]
fn holds_say_why_a_weight_is_not_the_scripts() {
    use crate::model::{
        Check, CheckKind, DestChecks, Drain, DrainState, Health, HealthState, OnDown, Runtime,
        effective,
    };
    let vip = "192.168.10.120";
    let t0 = 1_796_300_000; // 2026-12-03 12:13:20 UTC
    let rs = |last: u8| dest(&format!("192.168.10.{last}"), 80, Forward::Route, 10);
    let mut desired = Balancer::default();
    let web = key(Protocol::Tcp, vip, 80);
    add(
        &mut desired,
        service(web, Scheduler::Rr, None, [rs(11), rs(12), rs(13)]),
    );
    let api = key(Protocol::Tcp, vip, 8080);
    let api_rs = dest("192.168.10.21", 8080, Forward::Route, 5);
    add(
        &mut desired,
        service(api, Scheduler::Rr, None, [api_rs.clone()]),
    );
    let checks = desired.checks.service_mut(web);
    checks.check = Some(Check::new(CheckKind::Tcp));
    checks.dests.insert(
        rs(13).key,
        DestChecks {
            dest: rs(13).key,
            check: None,
            slow_start: Some(30),
        },
    );
    let api_checks = desired.checks.service_mut(api);
    api_checks.check = Some(Check::new(CheckKind::Tcp));
    api_checks.on_down = OnDown::Remove;
    api_checks.sorry = Some(dest("192.168.10.99", 8080, Forward::Route, 1));

    let health = |state, since| {
        Some(Health {
            state,
            since,
            last: None,
        })
    };
    let mut rt = Runtime::default();
    rt.entry(web, rs(11).key).health = health(HealthState::Down, t0);
    rt.entry(web, rs(12).key).drain = Some(Drain {
        state: DrainState::Draining,
        started: t0 + 60,
        deadline: None,
        prior_weight: 10,
        remove: false,
        ended: None,
        outcome: None,
    });
    rt.entry(web, rs(13).key).health = health(HealthState::Up, t0 + 100);
    rt.entry(api, api_rs.key).health = health(HealthState::Down, t0 + 5);

    // The kernel already holds the effective weights: only holds, no change.
    let (held, holds) = effective(&desired, &rt, t0 + 110);
    let plan = diff(&held, &held, Mode::Replace).with_holds(holds.clone());
    assert_eq!(
        plan.render(false),
        "Held by the run-time side (not changes):\n  \
         rs 192.168.10.11:80 of tcp 192.168.10.120:80: down since 2026-12-03 12:13:20 UTC, weight held at 0 (script: 10)\n  \
         rs 192.168.10.12:80 of tcp 192.168.10.120:80: draining since 2026-12-03 12:14:20 UTC, weight held at 0 (script: 10)\n  \
         rs 192.168.10.13:80 of tcp 192.168.10.120:80: ramping to 10 (risen 2026-12-03 12:15:00 UTC, 30 s), weight now 3\n  \
         rs 192.168.10.21:8080 of tcp 192.168.10.120:8080: down since 2026-12-03 12:13:25 UTC, left out of the kernel: on_down(\"remove\") (script: weight 5)\n  \
         rs 192.168.10.99:8080 of tcp 192.168.10.120:8080: sorry server in: no real server is up (weight 1)\n\
         No changes. The kernel matches the script with the weights held above.\n"
    );
    // Against the script's weights, the holds are changes to make, and say why.
    let plan = diff(&held, &desired, Mode::Replace).with_holds(holds);
    let text = plan.render(false);
    assert!(
        text.starts_with("Held by the run-time side (not changes):\n"),
        "{text}"
    );
    assert!(
        text.contains("~   rs 192.168.10.12:80            weight 10 → 0 (no new connections)\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Plan: 1 to add, 3 to change, 1 to delete.\n"),
        "{text}"
    );
    assert!(
        plan.render(true)
            .starts_with("\x1b[1mHeld by the run-time side (not changes):\x1b[0m\n")
    );
}

#[test]
fn unknown_and_drained_holds() {
    use crate::model::{Hold, HoldReason};
    let hold = |reason, held| Hold {
        service: key(Protocol::Udp, "192.168.10.120", 53),
        dest: DestKey {
            address: "192.168.10.11".parse().unwrap(),
            port: 53,
        },
        reason,
        script: Some(2),
        held,
    };
    let text = Plan::default()
        .with_holds(vec![
            hold(HoldReason::Unknown { since: 0 }, Some(0)),
            hold(HoldReason::Drained { since: 60 }, Some(0)),
            hold(HoldReason::Drained { since: 60 }, None),
        ])
        .render_against(false, &crate::plan::Against::Empty);
    assert_eq!(
        text,
        "Held by the run-time side (not changes):\n  \
         rs 192.168.10.11:53 of udp 192.168.10.120:53: health unknown since 1970-01-01 00:00:00 UTC (not risen yet), weight held at 0 (script: 2)\n  \
         rs 192.168.10.11:53 of udp 192.168.10.120:53: drained since 1970-01-01 00:01:00 UTC, weight held at 0 (script: 2)\n  \
         rs 192.168.10.11:53 of udp 192.168.10.120:53: drained since 1970-01-01 00:01:00 UTC, left out of the kernel: drained with --remove (script: weight 2)\n\
         No changes. The empty balancer matches the script with the weights held above.\n"
    );
}

#[test]
fn sysctls_render_first_with_their_before_value() {
    use crate::model::SysctlValue::{Int, Pair};
    let mut observed = Balancer::default();
    observed.sysctls.set("expire_nodest_conn", Int(0));
    observed.sysctls.set("sync_threshold", Pair(3, 50));
    let mut desired = Balancer::default();
    add(
        &mut desired,
        service(key(Protocol::Tcp, "10.0.0.1", 80), Scheduler::Rr, None, []),
    );
    desired.sysctls.set("expire_nodest_conn", Int(1));
    desired.sysctls.set("sync_threshold", Pair(10, 100));
    desired.sysctls.set("conntrack", Int(1));
    let text = diff(&desired, &observed, Mode::Replace).render(false);
    assert_eq!(
        text,
        "+ sysctl conntrack           1\n\
         ~ sysctl expire_nodest_conn  0 → 1\n\
         ~ sysctl sync_threshold      [3, 50] → [10, 100]\n\
         + service tcp 10.0.0.1:80    rr\n\
         Plan: 2 to add, 2 to change, 0 to delete.\n"
    );
}
