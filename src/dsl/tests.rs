//! Whole-script tests through the public API.

use super::*;
use crate::model::{DaemonState, Family, Forward, Protocol, ServiceKey, TunnelKind};

fn eval(src: &str) -> Result<Evaluated, ScriptError> {
    evaluate_source("test.rhai", src, None, &Options::default())
}

fn ok(src: &str) -> Balancer {
    match eval(src) {
        Ok(e) => e.balancer,
        Err(e) => panic!("{}", e.render_plain()),
    }
}

fn err(src: &str) -> ScriptError {
    match eval(src) {
        Ok(e) => panic!("expected an error, got {:?}", e.balancer),
        Err(e) => e,
    }
}

fn key(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::inet(Protocol::Tcp, addr.parse().unwrap(), port)
}

#[test]
fn the_persistence_article_example() {
    let b = ok(r#"
let vip = "192.168.10.120";
service(vip, 80).scheduler("rr").persist(120)
    .rs(rs("192.168.10.11").dr())
    .rs(rs("192.168.10.12").dr());
service(vip, 0).scheduler("rr").persist(600).rs(rs("192.168.10.11").dr());
mark(10).vip(vip).ports([80, 443]).scheduler("rr").persist(1200)
    .rs(rs("192.168.10.11").dr())
    .rs(rs("192.168.10.12").dr());
"#);
    assert_eq!(b.services.len(), 3);
    let s80 = &b.services[&key("192.168.10.120", 80)];
    assert_eq!(s80.persistence, Some(120));
    assert_eq!(s80.dests.len(), 2);
    assert!(s80.dests.keys().all(|k| k.port == 80));
    let m = &b.marks[&10];
    assert_eq!(m.ports.len(), 2);
    let fw = &b.services[&ServiceKey::fwmark(Family::Inet, 10)];
    assert_eq!(fw.persistence, Some(1200));
    assert!(fw.dests.keys().all(|k| k.port == 0));
}

#[test]
fn handles_are_shared() {
    let b = ok(r#"
let web = service("10.0.0.1", 80).scheduler("wlc");
for ip in ["10.0.1.1", "10.0.1.2"] { web.rs(rs(ip).nat()); }
let both = rs("10.0.2.1").nat();
web.rs(both);
service("10.0.0.2", 80).rs(both);
both.weight(5);
"#);
    let web = &b.services[&key("10.0.0.1", 80)];
    assert_eq!(web.dests.len(), 3);
    assert!(web.dests.values().all(|d| d.forward == Forward::Masq));
    for k in [key("10.0.0.1", 80), key("10.0.0.2", 80)] {
        let d = b.services[&k]
            .dests
            .values()
            .find(|d| d.key.address.to_string() == "10.0.2.1")
            .unwrap();
        assert_eq!(d.weight, 5, "the final value reaches every service");
    }
}

#[test]
fn defaults_and_persist_without_value() {
    let b = ok(r#"service("10.0.0.1", 0).persist().rs(rs("10.0.1.1"));"#);
    let s = &b.services[&key("10.0.0.1", 0)];
    assert_eq!(s.persistence, Some(crate::model::DEFAULT_PERSIST_TIMEOUT));
    assert_eq!(s.scheduler.name(), "wlc");
    let d = s.dests.values().next().unwrap();
    assert_eq!((d.forward, d.weight, d.key.port), (Forward::Route, 1, 0));
}

#[test]
fn everything_else_the_kernel_holds() {
    let b = ok(r#"
service("2001:db8::1", 53).udp().scheduler("sh").flags(["sh-port", "sh-fallback"]).ops()
    .rs(rs("[2001:db8::10]:53").nat().weight(3).u_threshold(100).l_threshold(50))
    .rs(rs("10.0.0.5").tun("gue", 6080).remcsum());
service("10.0.0.1", 5060, "udp").persist(60).pe("sip").netmask(24);
mark(7).ipv6();
timeouts(900, 0, 300);
"#);
    let s = &b.services[&ServiceKey::inet(Protocol::Udp, "2001:db8::1".parse().unwrap(), 53)];
    assert!(s.one_packet && s.flags.flag1 && s.flags.flag2);
    let tun = s.dests.values().find(|d| d.forward.is_tunnel()).unwrap();
    assert_eq!(tun.key.port, 53);
    assert!(matches!(
        tun.forward,
        Forward::Tunnel {
            kind: TunnelKind::Gue,
            port: 6080,
            ..
        }
    ));
    let sip = &b.services[&ServiceKey::inet(Protocol::Udp, "10.0.0.1".parse().unwrap(), 5060)];
    assert_eq!(sip.netmask.unwrap().to_string(), "255.255.255.0");
    assert!(
        b.services
            .contains_key(&ServiceKey::fwmark(Family::Inet6, 7))
    );
    assert_eq!(
        (b.timeouts.tcp, b.timeouts.tcp_fin, b.timeouts.udp),
        (Some(900), None, Some(300))
    );
    let b = ok(
        r#"sync_daemon("master", "eth0").syncid(3).group("224.0.0.81").port(8848).ttl(2).maxlen(1400);"#,
    );
    assert_eq!(b.daemons[&DaemonState::Master].syncid, 3);
}

#[test]
fn argument_errors_point_at_the_call() {
    let e = err("let s = service(\"10.0.0.1\", 80);\ns.scheduler(\"rrr\");");
    assert_eq!(e.message(), "unknown scheduler `rrr`, did you mean `rr`?");
    assert_eq!(e.location().unwrap().to_string(), "test.rhai:2:3");
    let text = e.render_plain();
    assert!(text.contains("────┬────"), "{text}");
    let e = err("rs(\"10.0.0.1\").weight(70000);");
    assert_eq!(e.message(), "weight 70000 is out of range 0..65535");
}

#[test]
fn validation_reports_every_problem_at_the_right_call() {
    let e = err("service(\"10.0.0.1\", 0);\nservice(\"10.0.0.1\", 53)\n  .ops();");
    let msgs: Vec<&str> = e.reports().map(|r| r.message()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("port 0"));
    assert_eq!(e.location().unwrap().line, 1);
    let second = e.reports().nth(1).unwrap();
    assert_eq!(second.location().unwrap().to_string(), "test.rhai:3:4");
}

#[test]
fn duplicates_name_both_places() {
    let e = err("service(\"10.0.0.1\", 80);\nservice(\"10.0.0.1\", 80);");
    assert!(e.message().contains("declared twice"));
    assert_eq!(e.location().unwrap().line, 2);
    let text = e.render_plain();
    assert!(text.contains("first declared here"), "{text}");
}

#[test]
fn stdlib_recipes() {
    let b = ok(r#"
import "dr_pool" as dr;
import "fwmark_pool" as fw;
import "nat_farm" as nat;
dr::pool("192.168.10.120", 80, ["192.168.10.11", #{ addr: "192.168.10.12", weight: 3 }], #{ scheduler: "wrr", persist: 300 });
fw::web(10, "192.168.10.121", ["192.168.10.11", "192.168.10.12"]);
nat::farm("203.0.113.10", 80, #{ "10.0.1.1": 3, "10.0.1.2:8080": 1 });
"#);
    let dr = &b.services[&key("192.168.10.120", 80)];
    assert_eq!(dr.persistence, Some(300));
    assert_eq!(dr.dests.values().map(|d| d.weight).sum::<u32>(), 4);
    assert_eq!(b.marks[&10].ports.len(), 2);
    assert_eq!(
        b.services[&ServiceKey::fwmark(Family::Inet, 10)].persistence,
        Some(1200)
    );
    let farm = &b.services[&key("203.0.113.10", 80)];
    assert!(farm.dests.values().all(|d| d.forward == Forward::Masq));
    assert!(farm.dests.keys().any(|k| k.port == 8080));
}

#[test]
fn params_and_output() {
    let opts = Options {
        lib_dirs: vec![],
        params: vec![("port".into(), "8080".into()), ("prot".into(), "x".into())],
    };
    let e = evaluate_source(
        "p.rhai",
        "let p = param(\"port\", 80); print(`port ${p}`); service(\"10.0.0.1\", p).nat;",
        None,
        &opts,
    );
    assert!(e.is_err(), "a property access on a handle is an error");
    let e = evaluate_source(
        "p.rhai",
        "let p = param(\"port\", 80); print(`port ${p}`); service(\"10.0.0.1\", p);",
        None,
        &opts,
    )
    .unwrap();
    assert!(e.balancer.services.contains_key(&key("10.0.0.1", 8080)));
    assert_eq!(e.output[0], "port 8080");
    assert!(
        e.output
            .iter()
            .any(|l| l.contains("`prot` is not read") && l.contains("did you mean `port`")),
        "{:?}",
        e.output
    );
}
