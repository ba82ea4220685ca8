//! Model → a readable Rhai script in lvsh's DSL that re-creates exactly that model.
//!
//! Used by `lvsh import` (ipvsadm rules → script) and `lvsh save` (live state →
//! script that re-applies as a no-op). Only settings that differ from the DSL's
//! defaults are written (tcp, scheduler `wlc`, weight 1, direct routing, no
//! persistence, host netmask), so the script reads like a hand-written one.
//! A VIP used by several services gets a `let`.

use crate::model::{
    Balancer, Check, CheckKind, DEFAULT_PERSIST_TIMEOUT, Dest, Family, Forward, HttpCheck,
    MarkRule, Netmask, OnDown, Protocol, Scheduler, Service, ServiceChecks, ServiceKey, SyncDaemon,
    Timeouts, TunnelChecksum, TunnelKind,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::IpAddr;

/// Writes `b` as a script; `header` becomes comment lines at the top.
pub fn to_script(b: &Balancer, header: &str) -> String {
    let mut sections: Vec<Vec<String>> = Vec::new();
    let head: Vec<String> = header.lines().map(comment_line).collect();
    if !head.is_empty() {
        sections.push(head);
    }

    // Fwmark services, each with the vips of its mark's nft rule it declares (those
    // of its family, and those of a family the mark has no service of).
    let mut marks_used = BTreeSet::new();
    let mut fwmarks: Vec<(&Service, Option<Declared>)> = Vec::new();
    for s in b.services.values() {
        if let ServiceKey::Fwmark { fwmark, .. } = s.key {
            let vips = b.mark_vips(s.key);
            let rule = b
                .marks
                .get(&fwmark)
                .filter(|_| !vips.is_empty())
                .map(|rule| Declared { rule, vips });
            if rule.is_some() {
                marks_used.insert(fwmark);
            }
            fwmarks.push((s, rule));
        }
    }
    fwmarks.sort_by_key(|(s, _)| match s.key {
        ServiceKey::Fwmark { family, fwmark } => (fwmark, family),
        ServiceKey::Inet { .. } => unreachable!("fwmark services only"),
    });
    let mut inet: Vec<&Service> = b
        .services
        .values()
        .filter(|s| matches!(s.key, ServiceKey::Inet { .. }))
        .collect();
    inet.sort_by_key(|s| match s.key {
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => (address, port, protocol),
        ServiceKey::Fwmark { .. } => unreachable!("filtered"),
    });

    let vips = Vips::new(&inet, &fwmarks);
    if !vips.names.is_empty() {
        sections.push(
            vips.order
                .iter()
                .map(|a| format!("let {} = {};", vips.names[a], quote(&a.to_string())))
                .collect(),
        );
    }

    let mut globals = Vec::new();
    if !b.timeouts.is_empty() {
        globals.push(timeouts(&b.timeouts));
    }
    for (name, v) in b.sysctls.iter() {
        globals.push(format!("sysctl({}, {v});", quote(name)));
    }
    for a in b.addresses.iter() {
        globals.push(format!(
            "address({}, {});",
            quote(&format!("{}/{}", a.address, a.prefix)),
            quote(&a.interface)
        ));
    }
    for d in b.daemons.values() {
        globals.push(daemon(d));
    }
    if !globals.is_empty() {
        sections.push(globals);
    }

    // One block per VIP and per fwmark service; one-line blocks stay together.
    let mut blocks: Vec<Vec<String>> = Vec::new();
    let mut group_addr = None;
    for s in &inet {
        let ServiceKey::Inet { address, .. } = s.key else {
            unreachable!("filtered")
        };
        if group_addr != Some(address) {
            blocks.push(Vec::new());
        }
        group_addr = Some(address);
        blocks.last_mut().expect("pushed").extend(service_statement(
            s,
            &vips,
            b.checks.service(&s.key),
        ));
    }
    for (s, rule) in &fwmarks {
        blocks.push(mark_statement(
            s,
            rule.as_ref(),
            &vips,
            b.checks.service(&s.key),
        ));
    }
    let mut body: Vec<String> = Vec::new();
    let mut previous_len = 0;
    for block in blocks {
        if !body.is_empty() && (previous_len > 1 || block.len() > 1) {
            body.push(String::new());
        }
        previous_len = block.len();
        body.extend(block);
    }
    if !body.is_empty() {
        sections.push(body);
    }

    let orphans: Vec<String> = b
        .marks
        .values()
        .filter(|m| !marks_used.contains(&m.mark))
        .map(|m| {
            format!(
                "// mark {}: an nft rule without a matching fwmark service cannot be written; {} is left out",
                m.mark,
                describe_rule(m)
            )
        })
        .collect();
    if !orphans.is_empty() {
        sections.push(orphans);
    }

    let mut out = String::new();
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for line in section {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A mark's nft rule as one fwmark service's statement declares it.
struct Declared<'a> {
    rule: &'a MarkRule,
    /// Not empty.
    vips: Vec<IpAddr>,
}

/// Variables for addresses that more than one statement names.
struct Vips {
    names: BTreeMap<IpAddr, String>,
    order: Vec<IpAddr>,
}

impl Vips {
    fn new(inet: &[&Service], fwmarks: &[(&Service, Option<Declared>)]) -> Self {
        let mut seen: Vec<IpAddr> = Vec::new();
        let mut count: BTreeMap<IpAddr, usize> = BTreeMap::new();
        let inet_addrs = inet.iter().filter_map(|s| match s.key {
            ServiceKey::Inet { address, .. } => Some(address),
            ServiceKey::Fwmark { .. } => None,
        });
        let mark_addrs = fwmarks
            .iter()
            .filter_map(|(_, r)| r.as_ref())
            .flat_map(|r| r.vips.iter().copied());
        for a in inet_addrs.chain(mark_addrs) {
            let n = count.entry(a).or_default();
            if *n == 0 {
                seen.push(a);
            }
            *n += 1;
        }
        let order: Vec<IpAddr> = seen.into_iter().filter(|a| count[a] > 1).collect();
        let names = order
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let name = if order.len() == 1 {
                    "vip".to_owned()
                } else {
                    format!("vip{}", i + 1)
                };
                (*a, name)
            })
            .collect();
        Vips { names, order }
    }

    /// The variable for `a`, or `a` as a string literal.
    fn expr(&self, a: &IpAddr) -> String {
        self.names
            .get(a)
            .cloned()
            .unwrap_or_else(|| quote(&a.to_string()))
    }
}

fn service_statement(s: &Service, vips: &Vips, checks: Option<&ServiceChecks>) -> Vec<String> {
    let ServiceKey::Inet {
        protocol,
        address,
        port,
    } = s.key
    else {
        unreachable!("address services only")
    };
    let mut head = format!("service({}, {port})", vips.expr(&address));
    match protocol {
        Protocol::Tcp => {}
        Protocol::Udp => head.push_str(".udp()"),
        Protocol::Sctp => head.push_str(".sctp()"),
    }
    settings(&mut head, s);
    statement(head, s, checks)
}

fn mark_statement(
    s: &Service,
    declared: Option<&Declared>,
    vips: &Vips,
    checks: Option<&ServiceChecks>,
) -> Vec<String> {
    let ServiceKey::Fwmark { family, fwmark } = s.key else {
        unreachable!("fwmark services only")
    };
    let mut head = format!("mark({fwmark})");
    // The vips decide the family unless some are of the other one (or there are none).
    let implied = match declared {
        Some(d) => d.vips.iter().all(|a| Family::of(a) == family),
        None => family == Family::Inet,
    };
    if !implied {
        let _ = write!(head, ".{family}()");
    }
    if let Some(Declared { rule: r, vips: own }) = declared {
        let addrs: Vec<String> = own.iter().map(|a| vips.expr(a)).collect();
        if addrs.len() == 1 {
            let _ = write!(head, ".vip({})", addrs[0]);
        } else {
            let _ = write!(head, ".vip([{}])", addrs.join(", "));
        }
        let protos: Vec<Protocol> = r.protocols.iter().copied().collect();
        match protos.as_slice() {
            [Protocol::Tcp] => {}
            [Protocol::Udp] => head.push_str(".udp()"),
            [Protocol::Sctp] => head.push_str(".sctp()"),
            _ => {
                let names: Vec<String> = protos.iter().map(|p| quote(p.name())).collect();
                let _ = write!(head, ".protocols([{}])", names.join(", "));
            }
        }
        let ports: Vec<String> = r
            .ports
            .iter()
            .map(|p| {
                if p.first == p.last {
                    p.first.to_string()
                } else {
                    quote(&p.to_string())
                }
            })
            .collect();
        match ports.as_slice() {
            [] => {}
            [one] if !one.starts_with('"') => {
                let _ = write!(head, ".port({one})");
            }
            _ => {
                let _ = write!(head, ".ports([{}])", ports.join(", "));
            }
        }
        if let Some(c) = &r.comment {
            let _ = write!(head, ".comment({})", quote(c));
        }
    }
    settings(&mut head, s);
    statement(head, s, checks)
}

/// The service's own settings that differ from the defaults.
fn settings(head: &mut String, s: &Service) {
    if s.scheduler != Scheduler::default() {
        let _ = write!(head, ".scheduler({})", quote(s.scheduler.name()));
    }
    let flags: Vec<String> = s.flags.names(s.scheduler).into_iter().map(quote).collect();
    match flags.as_slice() {
        [] => {}
        [one] => {
            let _ = write!(head, ".flag({one})");
        }
        _ => {
            let _ = write!(head, ".flags([{}])", flags.join(", "));
        }
    }
    match s.persistence {
        None => {}
        Some(DEFAULT_PERSIST_TIMEOUT) => head.push_str(".persist()"),
        Some(t) => {
            let _ = write!(head, ".persist({t})");
        }
    }
    match s.netmask {
        None => {}
        Some(Netmask::V4(m)) => {
            let _ = write!(head, ".netmask({})", quote(&m.to_string()));
        }
        Some(Netmask::V6(p)) => {
            let _ = write!(head, ".netmask({p})");
        }
    }
    if let Some(pe) = s.pe {
        let _ = write!(head, ".pe({})", quote(pe.name()));
    }
    if s.one_packet {
        head.push_str(".ops()");
    }
}

/// Real servers a statement attaches with a `.rs()` call each; more go in one
/// `.rs([..])`. rhai counts each call of a chain as a level of nesting and refuses
/// a chain of about 57 calls ("Expression exceeds maximum complexity"), so a
/// statement per call would not read back for a pool of 60 servers.
const RS_CALLS_MAX: usize = 32;

/// `head`, the service's check and `on_down` lines, one indented `.rs(...)` line per
/// real server (or one list of them, see [`RS_CALLS_MAX`]) and the sorry server's
/// line, ending with `;`.
fn statement(head: String, s: &Service, checks: Option<&ServiceChecks>) -> Vec<String> {
    let mut lines = vec![head];
    if let Some(c) = checks {
        if let Some(check) = &c.check {
            lines.push(format!("    .check({})", check_expr(check)));
        }
        if c.on_down != OnDown::default() {
            lines.push(format!("    .on_down({})", quote(c.on_down.name())));
        }
    }
    let servers = s.dests.values().map(|d| {
        let mut rs = real_server(d, s.key.port());
        if let Some(own) = checks.and_then(|c| c.dests.get(&d.key)) {
            if let Some(check) = &own.check {
                let _ = write!(rs, ".check({})", check_expr(check));
            }
            if let Some(secs) = own.slow_start {
                let _ = write!(rs, ".slow_start({secs})");
            }
        }
        rs
    });
    if s.dests.len() <= RS_CALLS_MAX {
        lines.extend(servers.map(|rs| format!("    .rs({rs})")));
    } else {
        lines.push("    .rs([".to_owned());
        lines.extend(servers.map(|rs| format!("        {rs},")));
        if let Some(last) = lines.last_mut() {
            last.pop();
        }
        lines.push("    ])".to_owned());
    }
    if let Some(sorry) = checks.and_then(|c| c.sorry.as_ref()) {
        lines.push(format!("    .sorry({})", real_server(sorry, s.key.port())));
    }
    if let Some(last) = lines.last_mut() {
        last.push(';');
    }
    lines
}

/// A check as the expression that builds it, with the settings that differ from
/// the defaults: `http("/healthz").expect(200).every(5)`.
fn check_expr(c: &Check) -> String {
    let mut out = match &c.kind {
        CheckKind::Tcp => "tcp()".to_owned(),
        CheckKind::Http(h) => {
            format!("{}({})", c.kind.name(), quote(&h.path))
        }
        CheckKind::Udp { payload, .. } => format!("udp({})", bytes(payload)),
        CheckKind::Exec { program, args } if args.is_empty() => {
            format!("exec({})", quote(program))
        }
        CheckKind::Exec { program, args } => {
            let args: Vec<String> = args.iter().map(|a| quote(a)).collect();
            format!("exec({}, [{}])", quote(program), args.join(", "))
        }
    };
    match &c.kind {
        CheckKind::Http(h) => {
            if h.expect != HttpCheck::new("/", false).expect {
                let code = |r: &crate::model::StatusRange| {
                    if r.0 == r.1 {
                        r.0.to_string()
                    } else {
                        quote(&r.to_string())
                    }
                };
                match h.expect.as_slice() {
                    [one] => {
                        let _ = write!(out, ".expect({})", code(one));
                    }
                    many => {
                        let codes: Vec<String> = many.iter().map(code).collect();
                        let _ = write!(out, ".expect([{}])", codes.join(", "));
                    }
                }
            }
            if let Some(host) = &h.host {
                let _ = write!(out, ".host({})", quote(host));
            }
            if let Some(text) = &h.contains {
                let _ = write!(out, ".contains({})", quote(text));
            }
            if h.insecure {
                out.push_str(".insecure()");
            }
            if let Some(sni) = &h.sni {
                let _ = write!(out, ".sni({})", quote(sni));
            }
        }
        CheckKind::Udp {
            expect: Some(reply),
            ..
        } => {
            let _ = write!(out, ".expect_reply({})", bytes(reply));
        }
        _ => {}
    }
    if let Some(p) = c.port {
        let _ = write!(out, ".port({p})");
    }
    if c.via_vip {
        out.push_str(".via_vip()");
    }
    let default = Check::new(CheckKind::Tcp);
    if c.every_ms != default.every_ms {
        let _ = write!(out, ".every({})", seconds(c.every_ms));
    }
    if c.timeout_ms != default.timeout_ms {
        let _ = write!(out, ".timeout({})", seconds(c.timeout_ms));
    }
    if c.rise != default.rise {
        let _ = write!(out, ".rise({})", c.rise);
    }
    if c.fall != default.fall {
        let _ = write!(out, ".fall({})", c.fall);
    }
    out
}

/// Milliseconds as the seconds a script writes: `2`, `1.5`.
fn seconds(ms: u32) -> String {
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        (f64::from(ms) / 1000.0).to_string()
    }
}

/// A payload as a string literal, or as an array of bytes when it is not text.
fn bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(text) => quote(text),
        Err(_) => {
            let list: Vec<String> = b.iter().map(u8::to_string).collect();
            format!("[{}]", list.join(", "))
        }
    }
}

fn real_server(d: &Dest, service_port: u16) -> String {
    let target = if d.key.port == service_port {
        d.key.address.to_string()
    } else {
        d.key.to_string()
    };
    let mut out = format!("rs({})", quote(&target));
    match d.forward {
        Forward::Route | Forward::Local => {}
        Forward::Masq => out.push_str(".nat()"),
        Forward::Tunnel {
            kind,
            port,
            checksum,
        } => {
            match kind {
                TunnelKind::Ipip => out.push_str(".tun()"),
                TunnelKind::Gre => out.push_str(".tun(\"gre\")"),
                TunnelKind::Gue => {
                    let _ = write!(out, ".tun(\"gue\", {port})");
                }
            }
            match checksum {
                TunnelChecksum::None => {}
                TunnelChecksum::Csum => out.push_str(".csum()"),
                TunnelChecksum::Remcsum => out.push_str(".remcsum()"),
            }
        }
    }
    // The weight a new real server gets (ipvsadm's default, 1).
    if d.weight != Dest::new(d.key).weight {
        let _ = write!(out, ".weight({})", d.weight);
    }
    if d.upper_threshold != 0 {
        let _ = write!(out, ".u_threshold({})", d.upper_threshold);
    }
    if d.lower_threshold != 0 {
        let _ = write!(out, ".l_threshold({})", d.lower_threshold);
    }
    out
}

fn timeouts(t: &Timeouts) -> String {
    match (t.tcp, t.tcp_fin, t.udp) {
        (Some(tcp), Some(fin), Some(udp)) => format!("timeouts({tcp}, {fin}, {udp});"),
        _ => {
            let parts: Vec<String> = [("tcp", t.tcp), ("tcpfin", t.tcp_fin), ("udp", t.udp)]
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| format!("{k}: {v}")))
                .collect();
            format!("timeouts(#{{{}}});", parts.join(", "))
        }
    }
}

fn daemon(d: &SyncDaemon) -> String {
    let mut out = format!(
        "sync_daemon({}, {})",
        quote(d.state.name()),
        quote(&d.interface)
    );
    if d.syncid != 0 {
        let _ = write!(out, ".syncid({})", d.syncid);
    }
    if let Some(m) = d.maxlen {
        let _ = write!(out, ".maxlen({m})");
    }
    if let Some(g) = d.group {
        let _ = write!(out, ".group({})", quote(&g.to_string()));
    }
    if let Some(p) = d.port {
        let _ = write!(out, ".port({p})");
    }
    if let Some(t) = d.ttl {
        let _ = write!(out, ".ttl({t})");
    }
    out.push(';');
    out
}

fn describe_rule(m: &MarkRule) -> String {
    let addrs: Vec<String> = m.addresses.iter().map(|a| a.to_string()).collect();
    let ports: Vec<String> = m.ports.iter().map(|p| p.to_string()).collect();
    let mut s = format!("daddr {{{}}}", addrs.join(", "));
    if !ports.is_empty() {
        let _ = write!(s, " dport {{{}}}", ports.join(", "));
    }
    s
}

fn comment_line(line: &str) -> String {
    if line.starts_with("//") {
        line.to_owned()
    } else if line.trim().is_empty() {
        "//".to_owned()
    } else {
        format!("// {line}")
    }
}

/// A Rhai string literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DaemonState, DestKey, PersistenceEngine, PortRange, SchedFlag, SyncDaemon};

    fn svc(b: &mut Balancer, key: ServiceKey) -> &mut Service {
        b.services.entry(key).or_insert_with(|| Service::new(key))
    }

    fn tcp(addr: &str, port: u16) -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, addr.parse().unwrap(), port)
    }

    fn add_rs<'s>(s: &'s mut Service, addr: &str, port: u16) -> &'s mut Dest {
        let key = DestKey {
            address: addr.parse().unwrap(),
            port,
        };
        s.dests.get_or_insert_with(key, || Dest::new(key))
    }

    /// The persistence article of the brief, written the way the brief writes it.
    #[test]
    fn the_article_reads_like_the_brief() {
        let mut b = Balancer::default();
        let s = svc(&mut b, tcp("192.168.10.120", 80));
        s.scheduler = Scheduler::Rr;
        s.persistence = Some(120);
        add_rs(s, "192.168.10.11", 80);
        add_rs(s, "192.168.10.12", 80);
        let s = svc(&mut b, tcp("192.168.10.120", 0));
        s.scheduler = Scheduler::Rr;
        s.persistence = Some(600);
        add_rs(s, "192.168.10.11", 0);
        let s = svc(&mut b, ServiceKey::fwmark(Family::Inet, 10));
        s.scheduler = Scheduler::Rr;
        s.persistence = Some(1200);
        add_rs(s, "192.168.10.11", 0);
        add_rs(s, "192.168.10.12", 0);
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        m.ports.insert(PortRange::single(80));
        m.ports.insert(PortRange::single(443));
        b.marks.insert(10, m);
        let expected = r#"// the persistence article

let vip = "192.168.10.120";

service(vip, 0).scheduler("rr").persist(600)
    .rs(rs("192.168.10.11"));
service(vip, 80).scheduler("rr").persist(120)
    .rs(rs("192.168.10.11"))
    .rs(rs("192.168.10.12"));

mark(10).vip(vip).ports([80, 443]).scheduler("rr").persist(1200)
    .rs(rs("192.168.10.11"))
    .rs(rs("192.168.10.12"));
"#;
        assert_eq!(to_script(&b, "the persistence article"), expected);
    }

    #[test]
    fn every_service_and_server_setting() {
        let mut b = Balancer::default();
        let s = svc(
            &mut b,
            ServiceKey::inet(Protocol::Udp, "10.0.0.1".parse().unwrap(), 5060),
        );
        s.persistence = Some(DEFAULT_PERSIST_TIMEOUT);
        s.set_netmask(Netmask::V4("255.255.255.0".parse().unwrap()));
        s.pe = Some(PersistenceEngine::Sip);
        s.one_packet = true;
        let s = svc(
            &mut b,
            ServiceKey::inet(Protocol::Sctp, "10.0.0.2".parse().unwrap(), 9999),
        );
        s.scheduler = Scheduler::Sh;
        s.flags.insert(SchedFlag::Flag1);
        s.flags.insert(SchedFlag::Flag2);
        let d = add_rs(s, "10.0.1.1", 9999);
        d.forward = Forward::Tunnel {
            kind: TunnelKind::Gue,
            port: 6080,
            checksum: TunnelChecksum::Remcsum,
        };
        let d = add_rs(s, "10.0.1.2", 9999);
        d.forward = Forward::Tunnel {
            kind: TunnelKind::Gre,
            port: 0,
            checksum: TunnelChecksum::Csum,
        };
        let d = add_rs(s, "2001:db8::9", 9999);
        d.forward = Forward::Tunnel {
            kind: TunnelKind::Ipip,
            port: 0,
            checksum: TunnelChecksum::None,
        };
        let s = svc(&mut b, tcp("2001:db8::1", 443));
        s.scheduler = Scheduler::Mh;
        s.flags.insert(SchedFlag::Flag2);
        s.persistence = Some(300);
        s.set_netmask(Netmask::V6(64));
        let d = add_rs(s, "2001:db8::10", 8443);
        d.forward = Forward::Masq;
        d.weight = 0;
        d.upper_threshold = 100;
        d.lower_threshold = 50;
        add_rs(s, "2001:db8::11", 443).weight = 3;
        let expected = r#"service("10.0.0.1", 5060).udp().persist().netmask("255.255.255.0").pe("sip").ops();

service("10.0.0.2", 9999).sctp().scheduler("sh").flags(["sh-fallback", "sh-port"])
    .rs(rs("10.0.1.1").tun("gue", 6080).remcsum())
    .rs(rs("10.0.1.2").tun("gre").csum())
    .rs(rs("2001:db8::9").tun());

service("2001:db8::1", 443).scheduler("mh").flag("mh-port").persist(300).netmask(64)
    .rs(rs("[2001:db8::10]:8443").nat().weight(0).u_threshold(100).l_threshold(50))
    .rs(rs("2001:db8::11").weight(3));
"#;
        assert_eq!(to_script(&b, ""), expected);
    }

    #[test]
    fn marks_ipv6_globals_and_several_vips() {
        let mut b = Balancer::default();
        for port in [80, 443] {
            svc(&mut b, tcp("10.0.0.1", port));
            svc(&mut b, tcp("10.0.0.2", port));
        }
        let s = svc(&mut b, ServiceKey::fwmark(Family::Inet, 5));
        add_rs(s, "10.0.1.1", 0);
        add_rs(s, "10.0.1.2", 8080);
        let mut m = MarkRule::new(5);
        m.addresses.insert("10.0.0.1".parse().unwrap());
        m.addresses.insert("10.0.0.3".parse().unwrap());
        m.protocols = BTreeSet::from([Protocol::Tcp, Protocol::Udp]);
        m.ports.insert(PortRange::single(53));
        m.ports.insert("8000-8100".parse().unwrap());
        m.comment = Some("dns \"and\" web\n".into());
        b.marks.insert(5, m);
        svc(&mut b, ServiceKey::fwmark(Family::Inet6, 6)).scheduler = Scheduler::Rr;
        let mut m = MarkRule::new(7);
        m.addresses.insert("2001:db8::7".parse().unwrap());
        m.protocols = BTreeSet::from([Protocol::Udp]);
        m.ports.insert(PortRange::single(53));
        b.marks.insert(7, m);
        svc(&mut b, ServiceKey::fwmark(Family::Inet6, 7));
        let mut m = MarkRule::new(8);
        m.addresses.insert("10.9.9.9".parse().unwrap());
        b.marks.insert(8, m);
        b.timeouts = Timeouts {
            tcp: Some(900),
            tcp_fin: None,
            udp: Some(60),
        };
        let mut d = SyncDaemon::new(DaemonState::Master, "eth0");
        d.syncid = 5;
        d.group = Some("239.1.1.1".parse().unwrap());
        d.ttl = Some(2);
        b.daemons.insert(DaemonState::Master, d);
        b.daemons.insert(
            DaemonState::Backup,
            SyncDaemon::new(DaemonState::Backup, "eth1"),
        );
        let expected = r#"// saved from the kernel
//
// edit freely

let vip1 = "10.0.0.1";
let vip2 = "10.0.0.2";

timeouts(#{tcp: 900, udp: 60});
sync_daemon("master", "eth0").syncid(5).group("239.1.1.1").ttl(2);
sync_daemon("backup", "eth1");

service(vip1, 80);
service(vip1, 443);

service(vip2, 80);
service(vip2, 443);

mark(5).vip([vip1, "10.0.0.3"]).protocols(["tcp", "udp"]).ports([53, "8000-8100"]).comment("dns \"and\" web\n")
    .rs(rs("10.0.1.1"))
    .rs(rs("10.0.1.2:8080"));

mark(6).ipv6().scheduler("rr");
mark(7).vip("2001:db8::7").udp().port(53);

// mark 8: an nft rule without a matching fwmark service cannot be written; daddr {10.9.9.9} is left out
"#;
        assert_eq!(
            to_script(&b, "saved from the kernel\n\n// edit freely"),
            expected
        );
    }

    #[test]
    fn scheduler_none_is_written_by_name() {
        let mut b = Balancer::default();
        let s = svc(&mut b, tcp("10.1.0.100", 81));
        s.scheduler = Scheduler::None;
        s.flags.insert(SchedFlag::Flag1);
        s.flags.insert(SchedFlag::Flag3);
        let s = svc(&mut b, ServiceKey::fwmark(Family::Inet, 7));
        s.scheduler = Scheduler::None;
        s.persistence = Some(60);
        add_rs(s, "10.1.0.11", 0);
        let expected = r#"service("10.1.0.100", 81).scheduler("none").flags(["flag-1", "flag-3"]);

mark(7).scheduler("none").persist(60)
    .rs(rs("10.1.0.11"));
"#;
        assert_eq!(to_script(&b, ""), expected);
    }

    /// A mark's rule next to fwmark services of either family, the shapes the kernel
    /// can hold: `(rule addresses, families with a fwmark service)`.
    fn mark_shapes() -> Vec<Balancer> {
        let shapes: &[(&[&str], &[Family])] = &[
            (&["10.0.0.1"], &[Family::Inet]),
            (&["10.0.0.1"], &[Family::Inet, Family::Inet6]),
            (&["10.0.0.1"], &[Family::Inet6]),
            (&["2001:db8::1"], &[Family::Inet]),
            (&["10.0.0.1", "2001:db8::1"], &[Family::Inet, Family::Inet6]),
            (&["10.0.0.1", "10.0.0.2", "2001:db8::1"], &[Family::Inet6]),
            (&["10.0.0.1", "2001:db8::1"], &[Family::Inet]),
            (&[], &[Family::Inet6]),
        ];
        shapes
            .iter()
            .map(|(addrs, fams)| {
                let mut b = Balancer::default();
                for &f in *fams {
                    let s = svc(&mut b, ServiceKey::fwmark(f, 10));
                    s.scheduler = Scheduler::Rr;
                    add_rs(
                        s,
                        if f == Family::Inet {
                            "10.1.0.11"
                        } else {
                            "2001:db8:1::11"
                        },
                        0,
                    );
                }
                if !addrs.is_empty() {
                    let mut m = MarkRule::new(10);
                    m.addresses = addrs.iter().map(|a| a.parse().unwrap()).collect();
                    m.protocols = BTreeSet::from([Protocol::Tcp, Protocol::Udp]);
                    m.ports.insert(PortRange::single(53));
                    b.marks.insert(10, m);
                }
                b
            })
            .collect()
    }

    /// `save` is lossless: the script of every shape evaluates to the same model.
    #[test]
    fn marks_next_to_fwmark_services_of_either_family_round_trip() {
        for b in mark_shapes() {
            let text = to_script(&b, "");
            let back = crate::dsl::evaluate_source("saved.rhai", &text, None, &Default::default())
                .unwrap_or_else(|e| panic!("{}\n{text}", e.render_plain()));
            assert_eq!(back.balancer, b, "{text}");
        }
    }

    #[test]
    fn a_mark_of_both_families_is_declared_with_each_service() {
        let shapes = mark_shapes();
        assert_eq!(
            to_script(&shapes[4], ""),
            r#"mark(10).vip("10.0.0.1").protocols(["tcp", "udp"]).port(53).scheduler("rr")
    .rs(rs("10.1.0.11"));

mark(10).vip("2001:db8::1").protocols(["tcp", "udp"]).port(53).scheduler("rr")
    .rs(rs("2001:db8:1::11"));
"#
        );
        // An IPv4 rule next to the IPv6 service alone: the script names the family.
        assert_eq!(
            to_script(&shapes[2], ""),
            r#"mark(10).ipv6().vip("10.0.0.1").protocols(["tcp", "udp"]).port(53).scheduler("rr")
    .rs(rs("2001:db8:1::11"));
"#
        );
        assert!(to_script(&shapes[3], "").starts_with(r#"mark(10).ipv4().vip("2001:db8::1")"#));
    }

    #[test]
    fn empty_model_is_only_the_header() {
        assert_eq!(to_script(&Balancer::default(), "nothing"), "// nothing\n");
        assert_eq!(to_script(&Balancer::default(), ""), "");
        let t = Timeouts::KERNEL_DEFAULT;
        let b = Balancer {
            timeouts: t,
            ..Balancer::default()
        };
        assert_eq!(to_script(&b, ""), "timeouts(900, 120, 300);\n");
    }

    /// A model with a check of every kind and every setting, as a script.
    fn checked() -> (Balancer, &'static str) {
        use crate::model::{DestChecks, StatusRange};
        let mut b = Balancer::default();
        let web = tcp("192.168.10.120", 80);
        let s = svc(&mut b, web);
        s.scheduler = Scheduler::Rr;
        add_rs(s, "192.168.10.11", 80);
        add_rs(s, "192.168.10.12", 80);
        let mut http = HttpCheck::new("/healthz", true);
        http.expect = vec![StatusRange(200, 200), StatusRange(301, 302)];
        http.host = Some("www.example.com".into());
        http.contains = Some("ok \"all\"".into());
        http.insecure = true;
        http.sni = Some("sni.example.com".into());
        let mut check = Check::new(CheckKind::Http(http));
        check.every_ms = 1500;
        check.timeout_ms = 250;
        check.rise = 1;
        check.fall = 5;
        let sc = b.checks.service_mut(web);
        sc.check = Some(check);
        sc.on_down = OnDown::Remove;
        let mut sorry = Dest::new(crate::model::DestKey {
            address: "192.168.10.99".parse().unwrap(),
            port: 8080,
        });
        sorry.forward = Forward::Masq;
        sc.sorry = Some(sorry);
        let own = crate::model::DestKey {
            address: "192.168.10.12".parse().unwrap(),
            port: 80,
        };
        let mut tcp_check = Check::new(CheckKind::Tcp);
        tcp_check.port = Some(8080);
        sc.dests.insert(
            own,
            DestChecks {
                dest: own,
                check: Some(tcp_check),
                slow_start: Some(30),
            },
        );
        let dns = ServiceKey::inet(Protocol::Udp, "192.168.10.120".parse().unwrap(), 53);
        add_rs(svc(&mut b, dns), "192.168.10.11", 53);
        b.checks.service_mut(dns).check = Some(Check::new(CheckKind::Udp {
            payload: vec![0, 1, 0xff],
            expect: Some(b"ok".to_vec()),
        }));
        let fw = ServiceKey::fwmark(Family::Inet, 10);
        add_rs(svc(&mut b, fw), "192.168.10.11", 0);
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.121".parse().unwrap());
        m.ports.insert(PortRange::single(443));
        b.marks.insert(10, m);
        let mut via = Check::new(CheckKind::Tcp);
        via.via_vip = true;
        b.checks.service_mut(fw).check = Some(via);
        let db = tcp("192.168.10.122", 5432);
        add_rs(svc(&mut b, db), "192.168.10.13", 5432).forward = Forward::Masq;
        b.checks.service_mut(db).check = Some(Check::new(CheckKind::Exec {
            program: "/usr/local/bin/check-db".into(),
            args: vec!["--quick".into(), "a b".into()],
        }));
        let expected = r#"let vip = "192.168.10.120";

service(vip, 53).udp()
    .check(udp([0, 1, 255]).expect_reply("ok"))
    .rs(rs("192.168.10.11"));
service(vip, 80).scheduler("rr")
    .check(https("/healthz").expect([200, "301-302"]).host("www.example.com").contains("ok \"all\"").insecure().sni("sni.example.com").every(1.5).timeout(0.25).rise(1).fall(5))
    .on_down("remove")
    .rs(rs("192.168.10.11"))
    .rs(rs("192.168.10.12").check(tcp().port(8080)).slow_start(30))
    .sorry(rs("192.168.10.99:8080").nat());

service("192.168.10.122", 5432)
    .check(exec("/usr/local/bin/check-db", ["--quick", "a b"]))
    .rs(rs("192.168.10.13").nat());

mark(10).vip("192.168.10.121").port(443)
    .check(tcp().via_vip())
    .rs(rs("192.168.10.11"));
"#;
        (b, expected)
    }

    #[test]
    fn checks_are_written_back() {
        let (b, expected) = checked();
        assert_eq!(to_script(&b, ""), expected);
    }

    /// A model with checks round-trips through its script (`==` leaves checks out,
    /// so they are compared on their own).
    #[test]
    fn checks_round_trip() {
        let (b, _) = checked();
        let text = to_script(&b, "");
        let back = crate::dsl::evaluate_source("saved.rhai", &text, None, &Default::default())
            .unwrap_or_else(|e| panic!("{}\n{text}", e.render_plain()));
        assert_eq!(back.balancer, b, "{text}");
        assert_eq!(back.balancer.checks, b.checks, "{text}");
    }

    /// `save` of a kernel with changed sysctls: each is one statement that evaluates
    /// back to the same value.
    #[test]
    fn sysctls_round_trip() {
        use crate::model::SysctlValue;
        let mut b = Balancer::default();
        b.sysctls.set("expire_nodest_conn", SysctlValue::Int(1));
        b.sysctls.set("sync_threshold", SysctlValue::Pair(10, 100));
        b.sysctls
            .set("est_cpulist", SysctlValue::Cpus("0-1,4".into()));
        b.sysctls.set("est_nice", SysctlValue::Int(-5));
        let text = to_script(&b, "");
        assert_eq!(
            text,
            "sysctl(\"est_cpulist\", \"0-1,4\");\nsysctl(\"est_nice\", -5);\n\
             sysctl(\"expire_nodest_conn\", 1);\nsysctl(\"sync_threshold\", [10, 100]);\n"
        );
        let back = crate::dsl::evaluate_source("saved.rhai", &text, None, &Default::default())
            .unwrap_or_else(|e| panic!("{}\n{text}", e.render_plain()));
        assert_eq!(back.balancer, b);
    }

    /// A pool too large for one `.rs()` call per server is one list, and reads back.
    #[test]
    fn a_large_pool_is_one_list_that_reads_back() {
        for n in [RS_CALLS_MAX, RS_CALLS_MAX + 1, 300] {
            let mut b = Balancer::default();
            let s = svc(&mut b, tcp("10.0.0.1", 80));
            for i in 0..n {
                add_rs(s, &format!("10.1.{}.{}", i / 250, i % 250 + 1), 8080).forward =
                    Forward::Masq;
            }
            let text = to_script(&b, "");
            assert_eq!(text.contains(".rs(["), n > RS_CALLS_MAX, "{text}");
            assert_eq!(
                text.lines().count(),
                n + if n > RS_CALLS_MAX { 3 } else { 1 }
            );
            let back = crate::dsl::evaluate_source("saved.rhai", &text, None, &Default::default())
                .unwrap_or_else(|e| panic!("{}\n{text}", e.render_plain()));
            assert_eq!(back.balancer, b, "{text}");
        }
    }

    #[test]
    fn strings_are_escaped_for_rhai() {
        assert_eq!(quote("a\"b\\c\td\u{1b}"), r#""a\"b\\c\td\u001B""#);
    }
}
