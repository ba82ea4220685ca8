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
        params: vec![("port".into(), "8080".into())],
        ..Options::default()
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
    assert_eq!(e.output, ["port 8080"]);
    // A misspelt `--set prot=..` is an error: see params.rs.
}

/// A generated script: `n` services with 4 NAT real servers each.
fn generated(n: usize) -> String {
    let mut s = String::with_capacity(n * 200);
    for i in 0..n {
        let (a, b) = (i / 250, i % 250 + 1);
        s.push_str(&format!(
            "service(\"10.{a}.{b}.1\", 80).scheduler(\"wrr\").persist(300)"
        ));
        for j in 1..=4 {
            s.push_str(&format!(
                "\n    .rs(rs(\"172.{}.{b}.{j}\", 8080).nat().weight({j}))",
                16 + a
            ));
        }
        s.push_str(";\n");
    }
    s
}

#[test]
fn a_generated_script_evaluates() {
    let b = ok(&generated(50));
    assert_eq!((b.services.len(), b.dest_count()), (50, 200));
}

/// The budget is checked in release builds:
/// `cargo test --release --lib speed -- --nocapture`.
#[test]
fn speed_2000_services_4_dests() {
    let runs = if cfg!(debug_assertions) { 1 } else { 5 };
    let src = generated(2000);
    let mut best = std::time::Duration::MAX;
    for _ in 0..runs {
        let t = std::time::Instant::now();
        let e = eval(&src).unwrap();
        best = best.min(t.elapsed());
        assert_eq!(e.balancer.dest_count(), 8000);
    }
    println!(
        "evaluate + validate, 2000 services x 4 real servers ({} KiB): {best:?}",
        src.len() / 1024
    );
    // With an import, rhai keeps a call stack (for module origins): a bit slower.
    let with_import = format!("import \"dr_pool\" as dr;\n{src}");
    let mut best_import = std::time::Duration::MAX;
    for _ in 0..runs {
        let t = std::time::Instant::now();
        eval(&with_import).unwrap();
        best_import = best_import.min(t.elapsed());
    }
    println!("the same with an import (call stack kept): {best_import:?}");
    if !cfg!(debug_assertions) {
        assert!(best < std::time::Duration::from_millis(200), "{best:?}");
        assert!(
            best_import < std::time::Duration::from_millis(200),
            "{best_import:?}"
        );
    }
}

fn start_model() -> Balancer {
    ok(r#"
service("10.0.0.1", 80).scheduler("wlc").rs(rs("10.0.1.1").nat()).rs(rs("10.0.1.2").nat());
service("10.0.0.1", 53, "udp").rs(rs("10.0.1.1"));
mark(10).vip("10.0.0.9").ports([80, 443]).persist(1200).rs(rs("10.0.1.3"));
timeouts(900, 120, 300);
"#)
}

#[test]
fn session_reopens_the_start_model() {
    let start = start_model();
    let mut s = Session::new(Options::default(), start.clone());
    assert_eq!(
        s.balancer().unwrap(),
        start,
        "an untouched session is the start model"
    );
    let shown = s
        .eval("<1>", "service(\"10.0.0.1\", 80).scheduler(\"rr\")")
        .unwrap();
    assert_eq!(
        shown.as_deref(),
        Some("service tcp 10.0.0.1:80 rr, 2 real servers")
    );
    s.eval(
        "<2>",
        "service(\"10.0.0.1\", 80).server(\"10.0.1.1\").weight(0);",
    )
    .unwrap();
    s.eval(
        "<3>",
        "service(\"10.0.0.1\", 53, \"udp\").rs(rs(\"10.0.1.1\").weight(7));",
    )
    .unwrap();
    s.eval("<4>", "mark(10).scheduler(\"sh\");").unwrap();
    let b = s.balancer().unwrap();
    assert_eq!(b.services.len(), 3);
    let web = &b.services[&key("10.0.0.1", 80)];
    assert_eq!(web.scheduler.name(), "rr");
    assert_eq!(
        web.dests.values().map(|d| d.weight).collect::<Vec<_>>(),
        [0, 1]
    );
    let dns = &b.services[&ServiceKey::inet(Protocol::Udp, "10.0.0.1".parse().unwrap(), 53)];
    assert_eq!(
        dns.dests.len(),
        1,
        "a real server with the same key replaces the old one"
    );
    assert_eq!(dns.dests.values().next().unwrap().weight, 7);
    assert_eq!(
        b.marks[&10], start.marks[&10],
        "re-opening a mark keeps its rule"
    );
    assert_eq!(b.timeouts, start.timeouts);
}

#[test]
fn undo_brings_back_an_edited_object_and_goes_back_a_bounded_number_of_entries() {
    use crate::dsl::UNDO_DEPTH;
    let mut s = Session::new(Options::default(), Balancer::default());
    s.eval(
        "<1>",
        "let r = rs(\"10.0.2.1\").weight(2); service(\"10.0.0.5\", 80).rs(r);",
    )
    .unwrap();
    let first = s.balancer().unwrap();
    // The entry edits a draft the state before it shares: undo must see the old one.
    s.eval("<2>", "r.weight(7);").unwrap();
    assert_ne!(s.balancer().unwrap(), first);
    assert!(s.undo());
    assert_eq!(s.balancer().unwrap(), first);
    for i in 0..UNDO_DEPTH + 5 {
        s.eval("<n>", &format!("r.weight({});", i % 50 + 1))
            .unwrap();
    }
    let undone = std::iter::from_fn(|| s.undo().then_some(())).count();
    assert_eq!(undone, UNDO_DEPTH);
}

#[test]
fn a_failing_entry_changes_nothing() {
    let mut s = Session::new(Options::default(), start_model());
    s.eval(
        "<1>",
        "let r = rs(\"10.0.2.1\"); service(\"10.0.0.5\", 80).rs(r);",
    )
    .unwrap();
    let before = s.balancer().unwrap();
    let e = s
        .eval(
            "<2>",
            "r.weight(9);\nlet x = service(\"10.0.0.6\", 80);\nx.scheduler(\"bad\");",
        )
        .unwrap_err();
    assert_eq!(e.location().unwrap().to_string(), "<2>:3:3");
    assert_eq!(s.balancer().unwrap(), before);
    let e = s.eval("<3>", "x").unwrap_err();
    assert!(
        e.message().contains("unknown variable `x`"),
        "{}",
        e.message()
    );
    assert_eq!(
        s.eval("<4>", "r.weight(3); r").unwrap().unwrap(),
        "rs 10.0.2.1 dr weight 3"
    );
}

#[test]
fn functions_and_imports_live_across_entries() {
    let mut s = Session::new(Options::default(), Balancer::default());
    s.eval("<1>", "fn add(svc, ip) { svc.rs(rs(ip).nat()) }")
        .unwrap();
    s.eval("<2>", "import \"nat_farm\" as nat;").unwrap();
    s.eval(
        "<3>",
        "let web = nat::farm(\"10.0.0.1\", 80, [\"10.0.1.1\"]);",
    )
    .unwrap();
    s.eval("<4>", "add(web, \"10.0.1.2\");").unwrap();
    assert_eq!(s.balancer().unwrap().dest_count(), 2);
    assert!(s.undo());
    assert_eq!(s.balancer().unwrap().dest_count(), 1);
    s.reset();
    assert!(s.balancer().unwrap().is_empty());
    assert!(!s.undo());
    assert!(s.eval("<5>", "web").is_err(), "reset empties the scope");
}

#[test]
fn the_pending_model_is_validated_only_on_request() {
    let mut s = Session::new(Options::default(), Balancer::default());
    s.eval("<1>", "let all = service(\"10.0.0.1\", 0);")
        .unwrap();
    let e = s.balancer().unwrap_err();
    assert!(e.message().contains("port 0"), "{}", e.message());
    assert_eq!(e.location().unwrap().to_string(), "<1>:1:11");
    s.eval("<2>", "all.persist();").unwrap();
    assert!(s.balancer().is_ok());
    s.eval("<3>", "print(all);").unwrap();
    assert_eq!(
        s.take_output(),
        ["service tcp 10.0.0.1:0 wlc persist 360, 0 real servers"]
    );
}

#[test]
fn the_function_table_matches_the_engine() {
    let ctx = state::Ctx::new(Mode::Script, vec![]);
    let e = engine::build(&ctx, engine::resolver(&ctx, &[], None, None));
    let sigs = e.gen_fn_signatures(false);
    for d in Session::functions() {
        assert!(
            sigs.iter().any(|s| s.starts_with(&format!("{}(", d.name))),
            "documented but not registered: {}",
            d.signature
        );
    }
    let ours = [
        "service",
        "mark",
        "rs",
        "timeouts",
        "sync_daemon",
        "param",
        "owns",
        "owns_marks",
        "tcp",
        "udp",
        "sctp",
        "protocols",
        "scheduler",
        "persist",
        "netmask",
        "pe",
        "ops",
        "flag",
        "flags",
        "vip",
        "ports",
        "port",
        "ipv6",
        "comment",
        "remove",
        "remove_rs",
        "server",
        "dr",
        "nat",
        "tun",
        "csum",
        "remcsum",
        "weight",
        "u_threshold",
        "l_threshold",
        "syncid",
        "maxlen",
        "group",
        "ttl",
        "http",
        "https",
        "exec",
        "check",
        "on_down",
        "sorry",
        "slow_start",
        "every",
        "timeout",
        "rise",
        "fall",
        "via_vip",
        "expect",
        "host",
        "contains",
        "insecure",
        "sni",
        "expect_reply",
    ];
    for name in ours {
        assert!(
            Session::functions().iter().any(|d| d.name == name),
            "registered but not documented: {name}"
        );
    }
}

/// Every ```rhai block of docs/DSL.md evaluates (blocks importing site files aside).
#[test]
fn the_language_reference_examples_run() {
    let doc = include_str!("../../docs/DSL.md");
    let opts = Options {
        lib_dirs: vec![],
        params: vec![("vip".into(), "10.0.0.1".into())],
        ..Options::default()
    };
    let mut n = 0;
    for (i, block) in doc.split("```rhai\n").skip(1).enumerate() {
        let code = block.split("```").next().unwrap();
        if code.contains("import \"site/") {
            continue;
        }
        n += 1;
        let opts = if code.contains("param(") {
            opts.clone()
        } else {
            Options::default()
        };
        match evaluate_source(&format!("DSL.md block {i}"), code, None, &opts) {
            Ok(e) if i == 0 => {
                let warnings: Vec<_> = e
                    .output
                    .iter()
                    .filter(|l| l.starts_with("warning"))
                    .collect();
                assert_eq!(warnings.len(), 1, "{warnings:?}");
                assert!(warnings[0].contains("shadowed by mark 10"), "{warnings:?}");
            }
            Ok(_) => {}
            Err(e) => panic!("block {i}:\n{code}\n{}", e.render_plain()),
        }
    }
    assert!(n >= 7, "{n} blocks");
}

#[test]
fn stdlib_options() {
    let b = ok(r#"
import "dr_pool" as dr;
import "fwmark_pool" as fw;
import "nat_farm" as nat;
dr::pool("10.0.0.1", 53, ["10.0.1.1"], #{ protocol: "udp", persist: true, netmask: 24, weight: 5 }).ops();
fw::pool(20, ["10.0.0.2", "10.0.0.3"], [25, "465-587"], [#{ addr: "10.0.1.2", weight: 2 }],
         #{ persist: false, forward: "tun", protocol: "sctp", comment: "mail" });
nat::farm("10.0.0.4", 443, ["10.0.1.3:8443"], #{ scheduler: "wlc", persist: 600, u_threshold: 500, l_threshold: 100 });
"#);
    let dns = &b.services[&ServiceKey::inet(Protocol::Udp, "10.0.0.1".parse().unwrap(), 53)];
    assert_eq!(dns.persistence, Some(360));
    assert!(dns.one_packet && dns.netmask.is_some());
    assert_eq!(dns.dests.values().next().unwrap().weight, 5);
    let mail = &b.services[&ServiceKey::fwmark(Family::Inet, 20)];
    assert_eq!(mail.persistence, None);
    assert!(
        mail.dests
            .values()
            .all(|d| d.forward.is_tunnel() && d.weight == 2)
    );
    let rule = &b.marks[&20];
    assert_eq!((rule.addresses.len(), rule.ports.len()), (2, 2));
    assert_eq!(rule.comment.as_deref(), Some("mail"));
    assert!(rule.protocols.contains(&Protocol::Sctp));
    let web = &b.services[&key("10.0.0.4", 443)];
    let d = web.dests.values().next().unwrap();
    assert_eq!(
        (d.key.port, d.upper_threshold, d.lower_threshold),
        (8443, 500, 100)
    );
    let e = err("import \"fw_pool\" as fw;");
    assert!(e.message().contains("module `fw_pool` not found"));
    let e = err("import \"dr_pool\" as dr;\ndr::pool(\"10.0.0.1\", 80, [true]);");
    assert!(
        e.message().contains("a server is an address"),
        "{}",
        e.message()
    );
    assert_eq!(e.location().unwrap().to_string(), "test.rhai:2:5");
}

#[test]
fn script_errors_can_cross_threads() {
    fn check<T: Send + Sync + 'static + miette::Diagnostic>() {}
    check::<ScriptError>();
}

#[test]
fn problems_of_the_start_model_say_so() {
    let mut start = Balancer::default();
    let k = key("10.0.0.1", 0);
    start.services.insert(k, crate::model::Service::new(k));
    let mut s = Session::new(Options::default(), start);
    let e = s.balancer().unwrap_err();
    assert!(
        e.message().ends_with("(in the starting state)"),
        "{}",
        e.message()
    );
    assert!(e.location().is_none());
    s.eval("<1>", "service(\"10.0.0.1\", 0).persist(60);")
        .unwrap();
    assert!(s.balancer().is_ok());
}

#[test]
fn scheduler_none_is_the_kernel_s_no_scheduler() {
    let e = eval(
        r#"service("10.0.0.1", 80).scheduler("none").persist(60).rs(rs("10.0.1.1"));
service("10.0.0.1", 81).scheduler("none").flags(["flag-1", "flag-3"]);"#,
    )
    .unwrap();
    let s = &e.balancer.services[&key("10.0.0.1", 80)];
    assert_eq!(s.scheduler, crate::model::Scheduler::None);
    assert_eq!(s.persistence, Some(60));
    // The kernel keeps flags under `none`; nothing reads them.
    assert_eq!(e.output.len(), 1, "{:?}", e.output);
    assert!(
        e.output[0].contains("scheduler flags on tcp 10.0.0.1:81 have no effect"),
        "{:?}",
        e.output
    );
    // Flags named for sh or mh still need their scheduler.
    let e = err(r#"service("10.0.0.1", 80).scheduler("none").flag("sh-port");"#);
    assert!(
        e.message().contains(
            "scheduler flag `sh-port` needs the `sh` scheduler, but tcp 10.0.0.1:80 uses `none`"
        ),
        "{}",
        e.message()
    );
    let e = err(r#"service("10.0.0.1", 80).scheduler("nne");"#);
    assert!(
        e.message().contains("did you mean `none`?"),
        "{}",
        e.message()
    );
}

#[test]
fn one_mark_number_for_both_families() {
    let fw4 = ServiceKey::fwmark(Family::Inet, 10);
    let fw6 = ServiceKey::fwmark(Family::Inet6, 10);
    // Declared once per family: one rule set, two fwmark services.
    let e = eval(
        r#"mark(10).vip("10.0.0.1").protocols(["tcp", "udp"]).port(53).rs(rs("10.1.0.11"));
mark(10).vip("2001:db8::1").protocols(["tcp", "udp"]).port(53).rs(rs("2001:db8:1::11"));"#,
    )
    .unwrap();
    assert!(e.output.is_empty(), "{:?}", e.output);
    let b = e.balancer;
    assert_eq!(b.services.keys().copied().collect::<Vec<_>>(), [fw4, fw6]);
    assert_eq!(b.marks.len(), 1);
    assert_eq!(b.marks[&10].addresses.len(), 2);
    assert_eq!(
        b.marks[&10].protocols,
        [Protocol::Tcp, Protocol::Udp].into()
    );

    // All vips on one declaration that names its family.
    let e = eval(r#"mark(10).ipv4().vip(["10.0.0.1", "2001:db8::1"]).port(53); mark(10).ipv6();"#)
        .unwrap();
    assert!(e.output.is_empty(), "{:?}", e.output);
    assert_eq!(e.balancer.marks[&10].addresses.len(), 2);
    assert_eq!(e.balancer.services.len(), 2);

    // A rule for a family without its fwmark service: the kernel holds it, so a
    // warning, not an error.
    let e = eval(r#"mark(10).ipv6().vip("10.0.0.1").port(80);"#).unwrap();
    assert_eq!(
        e.balancer.services.keys().copied().collect::<Vec<_>>(),
        [fw6]
    );
    assert_eq!(
        e.balancer.marks[&10].addresses,
        ["10.0.0.1".parse().unwrap()].into()
    );
    assert_eq!(e.output.len(), 1, "{:?}", e.output);
    assert!(
        e.output[0].contains("mark 10 marks ipv4 traffic, but there is no ipv4 fwmark service 10"),
        "{:?}",
        e.output
    );

    // Mixed vips with no named family: which service is meant is unclear.
    let e = err(r#"mark(10).vip(["10.0.0.1", "2001:db8::1"]);"#);
    assert!(
        e.message().contains("mark 10 mixes ipv4 and ipv6 vips"),
        "{}",
        e.message()
    );
    // Rules of the two families that match different ports cannot be one rule set.
    let e = err(r#"mark(10).vip("10.0.0.1").port(80); mark(10).vip("2001:db8::1").port(443);"#);
    assert!(
        e.message()
            .contains("the nft rules of mark 10 differ between its ipv4 and ipv6 declarations"),
        "{}",
        e.message()
    );
}

#[test]
fn the_repl_starts_from_marks_of_either_family_unchanged() {
    use crate::model::{MarkRule, Service};
    let fw4 = ServiceKey::fwmark(Family::Inet, 10);
    let fw6 = ServiceKey::fwmark(Family::Inet6, 10);
    let mut m = MarkRule::new(10);
    m.addresses = ["10.0.0.1".parse().unwrap(), "2001:db8::1".parse().unwrap()].into();
    m.ports.insert(crate::model::PortRange::single(80));
    for keys in [vec![fw4, fw6], vec![fw6], vec![fw4]] {
        let mut start = Balancer::default();
        start.marks.insert(10, m.clone());
        for k in keys {
            start.services.insert(k, Service::new(k));
        }
        let s = Session::new(Options::default(), start.clone());
        assert_eq!(s.balancer().unwrap(), start);
    }
}

/// The language of issue 12, as its example writes it.
const HEALTH: &str = r#"
let vip = "192.168.10.120";
service(vip, 80).scheduler("rr").persist(120)
    .check(http("/healthz").expect(200).every(2).timeout(1).rise(2).fall(3))
    .rs(rs("192.168.10.11").dr())
    .rs(rs("192.168.10.12").dr().check(tcp().port(8080)))
    .sorry(rs("192.168.10.99").dr());

mark(10).vip(vip).ports([80, 443]).persist(1200)
    .check(tcp().via_vip())
    .on_down("remove")
    .rs(rs("192.168.10.11").dr().slow_start(30));
"#;

#[test]
fn health_checks_fill_the_model() {
    use crate::model::{CheckKind, DestKey, OnDown, StatusRange};
    let b = ok(HEALTH);
    let web = key("192.168.10.120", 80);
    let sc = b.checks.service(&web).unwrap();
    let check = sc.check.as_ref().unwrap();
    let CheckKind::Http(h) = &check.kind else {
        panic!("{check:?}")
    };
    assert_eq!((h.path.as_str(), h.tls), ("/healthz", false));
    assert_eq!(h.expect, [StatusRange(200, 200)]);
    assert_eq!(
        (check.every_ms, check.timeout_ms, check.rise, check.fall),
        (2000, 1000, 2, 3)
    );
    let rs12 = DestKey {
        address: "192.168.10.12".parse().unwrap(),
        port: 80,
    };
    let own = b.checks.check_of(&web, &rs12).unwrap();
    assert_eq!((own.kind.name(), own.port), ("tcp", Some(8080)));
    assert_eq!(
        sc.sorry.as_ref().unwrap().key.to_string(),
        "192.168.10.99:80"
    );
    assert_eq!(sc.on_down, OnDown::Quiesce);
    let fw = ServiceKey::fwmark(Family::Inet, 10);
    let sc = b.checks.service(&fw).unwrap();
    assert!(sc.check.as_ref().unwrap().via_vip);
    assert_eq!(sc.on_down, OnDown::Remove);
    let rs11 = DestKey {
        address: "192.168.10.11".parse().unwrap(),
        port: 0,
    };
    assert_eq!(sc.slow_start_of(&rs11), Some(30));
    // The kernel's part is the same with or without the checks.
    let plain = ok(r#"
let vip = "192.168.10.120";
service(vip, 80).scheduler("rr").persist(120)
    .rs(rs("192.168.10.11").dr()).rs(rs("192.168.10.12").dr());
mark(10).vip(vip).ports([80, 443]).persist(1200).rs(rs("192.168.10.11").dr());
"#);
    assert_eq!(b, plain);
    assert!(plain.checks.is_empty());
}

#[test]
fn checks_are_values_that_methods_copy() {
    let b = ok(r#"
let c = http("/").every(5);
let fast = c.every(1).timeout(0.5);
c.rise(7);
service("10.0.0.1", 80).check(c).rs(rs("10.0.1.1").check(fast));
service("10.0.0.2", 80).check(c.port(8080)).rs(rs("10.0.1.1"));
"#);
    let one = b.checks.service(&key("10.0.0.1", 80)).unwrap();
    let c = one.check.as_ref().unwrap();
    assert_eq!(
        (c.every_ms, c.rise, c.port),
        (5000, 2, None),
        "unchanged by its copies"
    );
    let fast = one.dests.values().next().unwrap().check.as_ref().unwrap();
    assert_eq!((fast.every_ms, fast.timeout_ms), (1000, 500));
    let two = b.checks.service(&key("10.0.0.2", 80)).unwrap();
    assert_eq!(two.check.as_ref().unwrap().port, Some(8080));
}

#[test]
fn check_arguments_are_refused_at_the_call() {
    let cases = [
        ("tcp().rise(0);", "check rise 0 is out of range 1..100"),
        (
            "tcp().every(0.05);",
            "check interval 0.05 s is out of range 0.1..3600 s",
        ),
        (
            "tcp().timeout(0);",
            "check timeout 0 s is out of range 0.001..3600 s",
        ),
        (
            "http(\"healthz\");",
            "http path `healthz` does not start with `/`",
        ),
        (
            "http(\"/\").expect(\"399-200\");",
            "status range 399-200 is reversed",
        ),
        (
            "http(\"/\").expect([200, 600]);",
            "status code 600 is out of range 100..599",
        ),
        (
            "http(\"/\").insecure();",
            "`.insecure()` on a plain http check: it has no TLS",
        ),
        (
            "tcp().expect(200);",
            "`.expect()` is for http and https checks, not tcp",
        ),
        ("udp(\"\");", "the udp payload is empty"),
        ("udp([1, 256]);", "byte 256 is out of range 0..255"),
        (
            "exec(\"true\");",
            "exec program `true` is not an absolute path",
        ),
        (
            "exec(\"/bin/true\").via_vip();",
            "`.via_vip()` on an exec check",
        ),
        (
            "rs(\"10.0.0.1\").slow_start(0);",
            "slow start 0 s is out of range 1..3600",
        ),
        (
            "service(\"10.0.0.1\", 80).on_down(\"quiese\");",
            "unknown on_down action `quiese`, did you mean `quiesce`?",
        ),
    ];
    for (src, msg) in cases {
        let e = err(src);
        assert!(e.message().starts_with(msg), "{src}: {}", e.message());
        assert_eq!(e.location().unwrap().line, 1, "{src}");
    }
}

#[test]
fn a_shared_check_is_reported_once_where_it_was_made() {
    let e = err(r#"let c = tcp().every(1)
    .timeout(1);
service("10.0.0.1", 80).check(c).rs(rs("10.0.1.1"));
service("10.0.0.2", 80).check(c).rs(rs("10.0.1.1"));
"#);
    assert_eq!(e.reports().count(), 1, "{}", e.render_plain());
    assert_eq!(
        e.message(),
        "check timeout 1 s is not shorter than its interval 1 s"
    );
    assert_eq!(e.location().unwrap().to_string(), "test.rhai:2:6");
    assert!(e.render_plain().contains("interval"));
}

#[test]
fn via_vip_points_at_the_check_and_the_forwarding() {
    let e = err(r#"service("10.0.0.1", 80)
    .check(tcp().via_vip())
    .rs(rs("10.0.1.1").dr())
    .rs(rs("10.0.1.2").nat());
"#);
    assert_eq!(
        e.message(),
        "`.via_vip()` cannot check real server 10.0.1.2:80: it is reached by nat"
    );
    assert_eq!(e.location().unwrap().to_string(), "test.rhai:2:18");
    let text = e.render_plain();
    assert!(text.contains("forwarding is nat"), "{text}");
}

#[test]
fn a_session_starts_from_a_model_with_checks() {
    let start = ok(HEALTH);
    let mut s = Session::new(Options::default(), start.clone());
    let b = s.balancer().unwrap();
    assert_eq!(b.checks, start.checks);
    let shown = s
        .eval(
            "<1>",
            "service(\"192.168.10.120\", 80).check(tcp().every(5))",
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        shown,
        "service tcp 192.168.10.120:80 rr persist 120 check tcp sorry 192.168.10.99, 2 real servers"
    );
    assert_eq!(
        s.eval("<2>", "https(\"/\").expect([200, \"301-302\"]).port(8443)")
            .unwrap()
            .unwrap(),
        "https check / expect 200,301-302 port 8443, every 2 s, timeout 1 s, rise 2, fall 3"
    );
    let every = s.balancer().unwrap().checks.services[&key("192.168.10.120", 80)]
        .check
        .as_ref()
        .unwrap()
        .every_ms;
    assert_eq!(every, 5000);
}

#[test]
fn a_check_of_every_port_needs_its_own() {
    let e = err(r#"service("10.0.0.1", 0).persist().check(tcp()).rs(rs("10.0.1.1"));"#);
    assert_eq!(
        e.message(),
        "the tcp check of real server 10.0.1.1:0 has no port to probe"
    );
    assert!(e.help_text().unwrap().contains("balances every port"));
    ok(r#"service("10.0.0.1", 0).persist().check(tcp().port(22)).rs(rs("10.0.1.1"));"#);
    ok(r#"service("10.0.0.1", 0).persist().check(exec("/bin/true")).rs(rs("10.0.1.1"));"#);
}
