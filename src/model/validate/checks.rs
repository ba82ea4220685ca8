//! Health checks: what `lvsh watch` could not probe, or would probe to no effect.
//! All of these are lvsh's own rules (the kernel never sees a check).

use super::{CheckField, Field, Problem, Subject, dest};
use crate::model::{
    Balancer, Check, CheckKind, Dest, DestKey, Family, Forward, OnDown, Origin, Service,
    ServiceChecks, ServiceKey,
};

/// Probing faster than ten times a second costs the servers more than it gains.
pub const MIN_EVERY_MS: u32 = 100;
/// An hour: a check that runs less often is not watching anything.
pub const MAX_EVERY_MS: u32 = 3_600_000;
/// Rise and fall are counts of probes in a row; beyond this they only delay.
pub const MAX_RISE_FALL: u32 = 100;
/// An hour of ramp, in seconds.
pub const MAX_SLOW_START: u32 = 3600;

/// `2 s`, `1.5 s`, `0.25 s`.
pub(crate) fn seconds(ms: u32) -> String {
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        let text = format!("{}.{:03}", ms / 1000, ms % 1000);
        format!("{} s", text.trim_end_matches('0'))
    }
}

pub(super) fn checks(b: &Balancer, has_daemon: bool, out: &mut Vec<Problem>) {
    for sc in b.checks.services.values() {
        // Settings of services the balancer does not hold cannot come from a script.
        let Some(svc) = b.services.get(&sc.service) else {
            continue;
        };
        service(b, svc, sc, has_daemon, out);
    }
}

fn service(
    b: &Balancer,
    svc: &Service,
    sc: &ServiceChecks,
    has_daemon: bool,
    out: &mut Vec<Problem>,
) {
    let key = svc.key;
    if let Some(c) = &sc.check {
        settings(b, c, Subject::Service(key), out);
    }
    for (dk, dc) in &sc.dests {
        if !svc.dests.contains_key(dk) {
            continue;
        }
        if let Some(c) = &dc.check {
            settings(b, c, Subject::Dest(key, *dk), out);
        }
        if let Some(s) = dc.slow_start {
            slow_start(sc, key, *dk, s, out);
        }
    }
    for d in svc.dests.values() {
        let Some(c) = sc.check_of(&d.key) else {
            continue;
        };
        // Where the check in effect was set: on the server, or on the service.
        let owner = match sc.dests.get(&d.key).and_then(|x| x.check.as_ref()) {
            Some(_) => Subject::Dest(key, d.key),
            None => Subject::Service(key),
        };
        if c.via_vip && !matches!(d.forward, Forward::Route | Forward::Tunnel { .. }) {
            out.push(
                Problem::error(format!(
                    "`.via_vip()` cannot check real server {}: it is reached by {}",
                    d.key,
                    d.forward.name()
                ))
                .help(
                    "via_vip proves that a server takes packets sent to the VIP (the VIP on its \
                     `lo`), and only dr and tun servers get such packets; a nat server gets its \
                     own address, which a check without `.via_vip()` already tests",
                )
                .at(
                    owner.clone(),
                    Field::Check(CheckField::ViaVip),
                    &svc.origin,
                    "`.via_vip()`",
                )
                .at(
                    Subject::Dest(key, d.key),
                    Field::Forward,
                    &d.origin,
                    format!("forwarding is {}", d.forward.name()),
                ),
            );
        }
        let socket = !matches!(c.kind, CheckKind::Exec { .. });
        if socket && c.probe_port(b, &key, &d.key).is_none() {
            let help = match key {
                ServiceKey::Fwmark { fwmark, .. } => format!(
                    "a real server of fwmark service {fwmark} without a port is probed on the \
                     lowest port of the mark's `.ports()`, and there are none: give the check \
                     one with `.port(p)`"
                ),
                ServiceKey::Inet { .. } => format!(
                    "{key} balances every port, so its real servers have none of their own: \
                     give the check one with `.port(p)`"
                ),
            };
            out.push(
                Problem::error(format!(
                    "the {} check of real server {} has no port to probe",
                    c.kind.name(),
                    d.key
                ))
                .help(help)
                .at(
                    owner,
                    Field::Check(CheckField::Object),
                    &svc.origin,
                    "this check",
                )
                .at(
                    Subject::Dest(key, d.key),
                    Field::Object,
                    &d.origin,
                    "no port",
                ),
            );
        }
    }
    let any_check = sc.check.is_some() || sc.dests.values().any(|d| d.check.is_some());
    if let Some(sorry) = &sc.sorry {
        sorry_server(svc, sc, sorry, any_check, has_daemon, out);
    }
    if sc.on_down == OnDown::Remove && !any_check {
        out.push(
            Problem::warning(format!(
                "`.on_down(\"remove\")` on {key} does nothing: no check decides the health of \
                 its real servers; add `.check(..)`"
            ))
            .at(
                Subject::Service(key),
                Field::OnDown,
                &svc.origin,
                "on_down set here",
            ),
        );
    }
}

/// What one check alone may hold, reported about `owner`, the service or real server
/// whose `.check()` it is.
fn settings(b: &Balancer, c: &Check, owner: Subject, out: &mut Vec<Problem>) {
    let o = &Origin::NONE;
    let at =
        |p: Problem, f: CheckField, label: &str| p.at(owner.clone(), Field::Check(f), o, label);
    if !(MIN_EVERY_MS..=MAX_EVERY_MS).contains(&c.every_ms) {
        out.push(at(
            Problem::error(format!(
                "check interval {} is out of range {}..{}",
                seconds(c.every_ms),
                seconds(MIN_EVERY_MS).trim_end_matches(" s"),
                seconds(MAX_EVERY_MS)
            ))
            .help(
                "`.every(secs)` takes 0.1 to 3600 seconds; a failure is noticed after fall × every",
            ),
            CheckField::Every,
            "interval set here",
        ));
    }
    if c.timeout_ms == 0 {
        out.push(at(
            Problem::error("check timeout 0 s is not a timeout").help(
                "a probe needs at least 1 ms to get an answer: `.timeout(secs)` takes more than 0",
            ),
            CheckField::Timeout,
            "timeout set here",
        ));
    } else if c.timeout_ms >= c.every_ms {
        out.push(at(
            at(
                Problem::error(format!(
                    "check timeout {} is not shorter than its interval {}",
                    seconds(c.timeout_ms),
                    seconds(c.every_ms)
                ))
                .help(
                    "a probe must end before the next one starts: make `.timeout()` shorter \
                     than `.every()` (by default 1 s and 2 s)",
                ),
                CheckField::Timeout,
                "timeout",
            ),
            CheckField::Every,
            "interval",
        ));
    }
    for (n, what, field) in [
        (c.rise, "rise", CheckField::Rise),
        (c.fall, "fall", CheckField::Fall),
    ] {
        if !(1..=MAX_RISE_FALL).contains(&n) {
            out.push(at(
                Problem::error(format!("check {what} {n} is out of range 1..{MAX_RISE_FALL}"))
                    .help("rise counts the passed probes in a row that bring a server up, fall the failed ones that take it down"),
                field,
                &format!("{what} set here"),
            ));
        }
    }
    if c.port == Some(0) {
        out.push(at(
            Problem::error("check port 0 is out of range 1..65535"),
            CheckField::Port,
            "port set here",
        ));
    }
    match &c.kind {
        CheckKind::Tcp => {}
        CheckKind::Http(h) => {
            if let Some(why) = path_problem(&h.path) {
                out.push(at(
                    Problem::error(format!("http path `{}` {why}", h.path))
                        .help("write the path of the URL, from its `/`: `http(\"/healthz\")`"),
                    CheckField::Kind,
                    "path",
                ));
            }
            if h.expect.is_empty() {
                out.push(at(
                    Problem::error("the http check accepts no status code")
                        .help("`.expect(200)`, `.expect([200, 204])` or `.expect(\"200-399\")`"),
                    CheckField::Kind,
                    "status codes",
                ));
            }
            for r in &h.expect {
                let why = if r.0 > r.1 {
                    Some(format!("status range {}-{} is reversed", r.0, r.1))
                } else {
                    [r.0, r.1]
                        .into_iter()
                        .find(|c| !(100..=599).contains(c))
                        .map(|c| format!("status code {c} is out of range 100..599"))
                };
                if let Some(why) = why {
                    out.push(at(
                        Problem::error(why)
                            .help("HTTP status codes are 100..599; a range is \"low-high\""),
                        CheckField::Kind,
                        "status codes",
                    ));
                }
            }
            if !h.tls {
                for (set, name) in [(h.insecure, "insecure"), (h.sni.is_some(), "sni")] {
                    if set {
                        out.push(at(
                            Problem::error(format!(
                                "`.{name}()` on a plain http check: it has no TLS"
                            ))
                            .help(format!("use `https(path)`, or drop `.{name}()`")),
                            CheckField::Kind,
                            &format!("`.{name}()`"),
                        ));
                    }
                }
            }
            for (v, what) in [(&h.host, "host"), (&h.sni, "sni")] {
                if v.as_deref().is_some_and(|n| name_problem(n).is_some()) {
                    out.push(at(
                        Problem::error(format!(
                            "{what} `{}` {}",
                            v.as_deref().unwrap_or_default(),
                            name_problem(v.as_deref().unwrap_or_default()).unwrap_or_default()
                        ))
                        .help("a host name, like `www.example.com`"),
                        CheckField::Kind,
                        what,
                    ));
                }
            }
        }
        CheckKind::Udp { payload, expect } => {
            if payload.is_empty() {
                out.push(at(
                    Problem::error("the udp check sends an empty payload").help(
                        "a service answers a request, not an empty datagram: `udp(\"ping\")`",
                    ),
                    CheckField::Kind,
                    "payload",
                ));
            }
            if expect.as_ref().is_some_and(Vec::is_empty) {
                out.push(at(
                    Problem::error("an empty expected reply matches every reply")
                        .help("drop `.expect_reply()` to accept any reply"),
                    CheckField::Kind,
                    "expected reply",
                ));
            }
        }
        CheckKind::Exec { program, .. } => {
            if !program.starts_with('/') {
                out.push(at(
                    Problem::error(format!("exec program `{program}` is not an absolute path"))
                        .help("`lvsh watch` runs it without a shell and without searching PATH: write `/usr/local/bin/check-db`"),
                    CheckField::Kind,
                    "program",
                ));
            }
            if c.via_vip {
                out.push(at(
                    Problem::error("`.via_vip()` on an exec check: a program's packets cannot be steered")
                        .help("via_vip sends a tcp, http or udp probe to the VIP, marked for one real server; an exec check runs a program that sends its own"),
                    CheckField::ViaVip,
                    "`.via_vip()`",
                ));
            }
            if c.port.is_some() {
                out.push(at(
                    Problem::error("`.port()` on an exec check: it probes nothing itself")
                        .help("pass the port to the program in its arguments"),
                    CheckField::Port,
                    "port set here",
                ));
            }
        }
    }
    if let (true, Subject::Service(key) | Subject::Dest(key, _)) = (c.via_vip, &owner) {
        if let ServiceKey::Fwmark { fwmark, family } = *key {
            if !b.mark_vips(*key).iter().any(|a| Family::of(a) == family) {
                out.push(at(
                    Problem::error(format!(
                        "`.via_vip()` on fwmark service {fwmark}: it has no {family} vip to send the probe to"
                    ))
                    .help(format!(
                        "declare the vips the mark's rule matches, `mark({fwmark}).vip(addr)`; marks set elsewhere have no address lvsh knows"
                    )),
                    CheckField::ViaVip,
                    "`.via_vip()`",
                ));
            }
        }
    }
}

/// Why `path` is not the path of a URL, if it is not.
pub(crate) fn path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        Some("does not start with `/`")
    } else if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("holds a blank or control character (write a space as `%20`)")
    } else {
        None
    }
}

/// Why `name` is not a host name for `Host:` or SNI, if it is not.
pub(crate) fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        Some("is not a host name")
    } else {
        None
    }
}

fn slow_start(sc: &ServiceChecks, key: ServiceKey, dk: DestKey, secs: u32, out: &mut Vec<Problem>) {
    let sub = || Subject::Dest(key, dk);
    let o = &Origin::NONE;
    if !(1..=MAX_SLOW_START).contains(&secs) {
        out.push(
            Problem::error(format!(
                "slow start {secs} s is out of range 1..{MAX_SLOW_START}"
            ))
            .help("the seconds over which a risen server's weight climbs back to the script's")
            .at(sub(), Field::SlowStart, o, "slow start set here"),
        );
    }
    if sc.check_of(&dk).is_none() {
        out.push(
            Problem::warning(format!(
                "slow start of real server {dk} does nothing: no check decides its health, so it \
                 never rises; add `.check(..)` to it or to {key}"
            ))
            .at(sub(), Field::SlowStart, o, "slow start set here"),
        );
    }
}

fn sorry_server(
    svc: &Service,
    sc: &ServiceChecks,
    sorry: &Dest,
    any_check: bool,
    has_daemon: bool,
    out: &mut Vec<Problem>,
) {
    let key = svc.key;
    let here =
        |p: Problem, label: &str| p.at(Subject::Service(key), Field::Sorry, &svc.origin, label);
    if let Some(d) = svc.dests.get(&sorry.key) {
        out.push(
            here(
                Problem::error(format!(
                    "sorry server {} is also a real server of {key}",
                    sorry.key
                ))
                .help("the sorry server stands in while every real server is down: use another server, or another port"),
                "sorry server",
            )
            .at(Subject::Dest(key, d.key), Field::Object, &d.origin, "the real server"),
        );
    }
    dest(svc, sorry, Subject::Sorry(key), has_daemon, out);
    if svc.dests.is_empty() {
        return;
    }
    if !any_check {
        out.push(here(
            Problem::warning(format!(
                "the sorry server of {key} is never used: no check decides the health of its \
                 real servers; add `.check(..)`"
            )),
            "sorry server",
        ));
    } else if let Some(d) = svc.dests.keys().find(|d| sc.check_of(d).is_none()) {
        out.push(here(
            Problem::warning(format!(
                "the sorry server of {key} is used only while every real server is down, and \
                 real server {d} has no check, so it never is; give the service a check for all"
            )),
            "sorry server",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Severity, validate};
    use super::*;
    use crate::model::{DestChecks, HttpCheck, MarkRule, PortRange, Protocol, StatusRange};

    fn key() -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), 80)
    }

    fn dk(last: u8) -> DestKey {
        DestKey {
            address: format!("192.168.10.{last}").parse().unwrap(),
            port: 80,
        }
    }

    /// A service with real servers .11 and .12 and `check` on the service.
    fn with(check: Check) -> Balancer {
        let mut b = Balancer::default();
        let mut s = Service::new(key());
        for n in [11, 12] {
            s.dests.insert(dk(n), Dest::new(dk(n)));
        }
        b.services.insert(key(), s);
        b.checks.service_mut(key()).check = Some(check);
        b
    }

    fn messages(b: &Balancer) -> Vec<String> {
        validate(b).into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn defaults_are_valid() {
        for kind in [
            CheckKind::Tcp,
            CheckKind::Http(HttpCheck::new("/healthz", true)),
            CheckKind::Udp {
                payload: b"ping".to_vec(),
                expect: Some(b"pong".to_vec()),
            },
            CheckKind::Exec {
                program: "/bin/true".into(),
                args: vec![],
            },
        ] {
            let b = with(Check::new(kind));
            assert!(validate(&b).is_empty(), "{:?}", messages(&b));
        }
    }

    #[test]
    fn timing_ranges_and_order() {
        let mut c = Check::new(CheckKind::Tcp);
        c.every_ms = 50;
        c.timeout_ms = 0;
        c.rise = 0;
        c.fall = 101;
        c.port = Some(0);
        assert_eq!(
            messages(&with(c)),
            [
                "check interval 0.05 s is out of range 0.1..3600 s",
                "check timeout 0 s is not a timeout",
                "check rise 0 is out of range 1..100",
                "check fall 101 is out of range 1..100",
                "check port 0 is out of range 1..65535",
            ]
        );
        let mut c = Check::new(CheckKind::Tcp);
        c.every_ms = 1500;
        c.timeout_ms = 1500;
        let p = validate(&with(c));
        assert_eq!(
            p[0].message,
            "check timeout 1.5 s is not shorter than its interval 1.5 s"
        );
        assert_eq!(p[0].places.len(), 2, "timeout and interval");
    }

    #[test]
    fn http_paths_codes_and_tls_options() {
        let mut h = HttpCheck::new("healthz", false);
        h.expect = vec![
            StatusRange(399, 200),
            StatusRange(200, 600),
            StatusRange(99, 99),
        ];
        h.insecure = true;
        h.sni = Some("a b".into());
        h.host = Some(String::new());
        assert_eq!(
            messages(&with(Check::new(CheckKind::Http(h)))),
            [
                "http path `healthz` does not start with `/`",
                "status range 399-200 is reversed",
                "status code 600 is out of range 100..599",
                "status code 99 is out of range 100..599",
                "`.insecure()` on a plain http check: it has no TLS",
                "`.sni()` on a plain http check: it has no TLS",
                "host `` is empty",
                "sni `a b` is not a host name",
            ]
        );
        let mut h = HttpCheck::new("/a b", true);
        h.expect.clear();
        assert_eq!(
            messages(&with(Check::new(CheckKind::Http(h)))),
            [
                "http path `/a b` holds a blank or control character (write a space as `%20`)",
                "the http check accepts no status code",
            ]
        );
    }

    #[test]
    fn udp_and_exec_rules() {
        let udp = CheckKind::Udp {
            payload: vec![],
            expect: Some(vec![]),
        };
        assert_eq!(
            messages(&with(Check::new(udp))),
            [
                "the udp check sends an empty payload",
                "an empty expected reply matches every reply"
            ]
        );
        let mut c = Check::new(CheckKind::Exec {
            program: "check-db".into(),
            args: vec![],
        });
        c.via_vip = true;
        c.port = Some(5432);
        assert_eq!(
            messages(&with(c)),
            [
                "exec program `check-db` is not an absolute path",
                "`.via_vip()` on an exec check: a program's packets cannot be steered",
                "`.port()` on an exec check: it probes nothing itself",
            ]
        );
    }

    #[test]
    fn via_vip_needs_dr_or_tun_and_a_vip() {
        let mut c = Check::new(CheckKind::Tcp);
        c.via_vip = true;
        let mut b = with(c.clone());
        assert!(validate(&b).is_empty());
        let s = b.services.get_mut(&key()).unwrap();
        s.dests.get_mut(&dk(12)).unwrap().forward = Forward::Masq;
        assert_eq!(
            messages(&b),
            ["`.via_vip()` cannot check real server 192.168.10.12:80: it is reached by nat"]
        );
        // A server's own check without via_vip overrides the service's.
        b.checks.service_mut(key()).dests.insert(
            dk(12),
            DestChecks {
                dest: dk(12),
                check: Some(Check::new(CheckKind::Tcp)),
                slow_start: None,
            },
        );
        assert!(validate(&b).is_empty(), "{:?}", messages(&b));

        // A fwmark service probes its mark's vip, on the mark's lowest port.
        let fw = ServiceKey::fwmark(Family::Inet, 10);
        let mut b = Balancer::default();
        let mut s = Service::new(fw);
        let port_less = DestKey {
            address: "192.168.10.11".parse().unwrap(),
            port: 0,
        };
        s.dests.insert(port_less, Dest::new(port_less));
        b.services.insert(fw, s);
        b.checks.service_mut(fw).check = Some(c.clone());
        assert_eq!(
            messages(&b),
            [
                "`.via_vip()` on fwmark service 10: it has no ipv4 vip to send the probe to",
                "the tcp check of real server 192.168.10.11:0 has no port to probe",
            ]
        );
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        m.ports.insert(PortRange::single(443));
        m.ports.insert(PortRange::single(80));
        b.marks.insert(10, m);
        assert!(validate(&b).is_empty(), "{:?}", messages(&b));
        assert_eq!(c.probe_port(&b, &fw, &port_less), Some(80));
        assert_eq!(
            c.probe_address(&b, &fw, &port_less),
            Some("192.168.10.120".parse().unwrap())
        );
    }

    #[test]
    fn sorry_server_is_not_a_real_server_and_follows_the_dest_rules() {
        let mut b = with(Check::new(CheckKind::Tcp));
        b.checks.service_mut(key()).sorry = Some(Dest::new(dk(11)));
        assert_eq!(
            messages(&b),
            ["sorry server 192.168.10.11:80 is also a real server of tcp 192.168.10.120:80"]
        );
        let mut sorry = Dest::new(DestKey {
            address: "192.168.10.99".parse().unwrap(),
            port: 8080,
        });
        b.checks.service_mut(key()).sorry = Some(sorry.clone());
        let p = validate(&b);
        assert_eq!(p.len(), 1);
        assert!(
            p[0].message
                .contains("direct routing cannot change the port")
        );
        assert!(matches!(
            p[0].places[0].subject,
            Some((Subject::Sorry(_), _))
        ));
        sorry.forward = Forward::Masq;
        b.checks.service_mut(key()).sorry = Some(sorry);
        assert!(validate(&b).is_empty(), "{:?}", messages(&b));
    }

    #[test]
    fn settings_without_a_check_in_effect_warn() {
        let mut b = with(Check::new(CheckKind::Tcp));
        let sc = b.checks.service_mut(key());
        sc.check = None;
        sc.on_down = OnDown::Remove;
        sc.sorry = Some(Dest::new(DestKey {
            address: "192.168.10.99".parse().unwrap(),
            port: 80,
        }));
        sc.dests.insert(
            dk(11),
            DestChecks {
                dest: dk(11),
                check: None,
                slow_start: Some(30),
            },
        );
        let p = validate(&b);
        assert!(p.iter().all(|p| p.severity == Severity::Warning));
        assert_eq!(
            p.iter().map(|p| p.message.as_str()).collect::<Vec<_>>(),
            [
                "slow start of real server 192.168.10.11:80 does nothing: no check decides its \
                 health, so it never rises; add `.check(..)` to it or to tcp 192.168.10.120:80",
                "the sorry server of tcp 192.168.10.120:80 is never used: no check decides the \
                 health of its real servers; add `.check(..)`",
                "`.on_down(\"remove\")` on tcp 192.168.10.120:80 does nothing: no check decides \
                 the health of its real servers; add `.check(..)`",
            ]
        );
        // One server checked, the other not: the sorry server never comes in.
        let sc = b.checks.service_mut(key());
        sc.dests.get_mut(&dk(11)).unwrap().check = Some(Check::new(CheckKind::Tcp));
        assert_eq!(
            messages(&b),
            [
                "the sorry server of tcp 192.168.10.120:80 is used only while every real server \
                 is down, and real server 192.168.10.12:80 has no check, so it never is; give \
                 the service a check for all",
                // Now a check is in effect, `on_down("remove")` does something.
                "service tcp 192.168.10.120:80 removes failed servers, but `expire_nodest_conn` \
                 is not 1: their connections hang until their IPVS timeout (by default 900 s for TCP, 300 s for UDP); add \
                 `sysctl(\"expire_nodest_conn\", 1)`"
            ]
        );
        b.checks
            .service_mut(key())
            .dests
            .get_mut(&dk(11))
            .unwrap()
            .slow_start = Some(0);
        assert!(messages(&b).contains(&"slow start 0 s is out of range 1..3600".to_string()));
    }

    #[test]
    fn durations_read_as_seconds() {
        assert_eq!(seconds(2000), "2 s");
        assert_eq!(seconds(1500), "1.5 s");
        assert_eq!(seconds(250), "0.25 s");
        assert_eq!(seconds(1), "0.001 s");
    }
}
