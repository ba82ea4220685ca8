//! What the kernel or ipvsadm would refuse, found before either sees it.
//!
//! Pure: takes a [`Balancer`] and returns every problem at once, each naming the
//! object (and the setting) it is about, so a front end can point at the script.
//! Rules that come from the kernel or ipvsadm say so in their doc line; the rest are
//! lvsh's own, for settings the kernel takes but silently ignores.

use super::{
    Balancer, DaemonState, Dest, DestKey, Family, Forward, MarkRule, Netmask, Origin,
    PersistenceEngine, Protocol, Scheduler, Scope, Service, ServiceKey, SyncDaemon, TunnelChecksum,
    TunnelKind,
};
use std::net::IpAddr;

mod checks;
pub use checks::{MAX_EVERY_MS, MAX_RISE_FALL, MAX_SLOW_START, MIN_EVERY_MS};
pub(crate) use checks::{name_problem, path_problem, seconds};
mod sysctls;

/// ipvsadm's `MAX_TIMEOUT`: the longest persistence and connection timeout it takes.
pub const MAX_TIMEOUT: u32 = 86400 * 31;
/// ipvsadm's weight range is `0..=65535` (the kernel takes any non-negative int).
pub const MAX_WEIGHT: u32 = 65535;
/// Thresholds are `0..=INT_MAX` in ipvsadm and, since the kernel checks them, there too.
pub const MAX_THRESHOLD: u32 = i32::MAX as u32;
/// `IP_VS_IFNAME_MAXLEN` (16) less the NUL.
pub const MAX_IFNAME: usize = 15;
/// ipvsadm's largest `--sync-maxlen`: 65535 less the IPv4 and UDP headers.
pub const MAX_SYNC_MAXLEN: u16 = 65535 - 20 - 8;

/// How bad a problem is: errors stop evaluation, warnings are only reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// The object a problem is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Service(ServiceKey),
    Dest(ServiceKey, DestKey),
    Mark(u32),
    Daemon(DaemonState),
    Timeouts,
    /// The sorry server of a service.
    Sorry(ServiceKey),
    /// A `net.ipv4.vs.*` sysctl, by name.
    Sysctl(String),
}

/// The setting of the subject that is wrong, so a front end can point at the call
/// that set it rather than at the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The object as a whole (its creating call).
    Object,
    Protocol,
    Scheduler,
    Flags,
    Persistence,
    Netmask,
    Pe,
    OnePacket,
    Forward,
    Weight,
    UpperThreshold,
    LowerThreshold,
    Vips,
    Ports,
    Protocols,
    Family,
    Interface,
    Group,
    McastPort,
    Ttl,
    MaxLen,
    TimeoutTcp,
    TimeoutTcpFin,
    TimeoutUdp,
    /// A setting of the health check a service or real server holds.
    Check(CheckField),
    OnDown,
    Sorry,
    SlowStart,
}

/// The setting of a health check a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckField {
    /// The check as a whole (its constructor).
    Object,
    Every,
    Timeout,
    Rise,
    Fall,
    Port,
    ViaVip,
    /// What its kind alone takes: path, status codes, TLS options, payload, program.
    Kind,
}

/// One place a problem points at.
#[derive(Debug, Clone)]
pub struct Place {
    /// What the place is about; `None` for places a front end adds itself.
    pub subject: Option<(Subject, Field)>,
    /// The object's own origin, as the model knows it.
    pub origin: Origin,
    pub label: String,
}

/// One thing wrong with a balancer. The first place is the primary one.
#[derive(Debug, Clone)]
pub struct Problem {
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub places: Vec<Place>,
}

impl Problem {
    fn error(message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            message: message.into(),
            help: None,
            places: Vec::new(),
        }
    }

    fn warning(message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(message)
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    fn at(
        mut self,
        subject: Subject,
        field: Field,
        origin: &Origin,
        label: impl Into<String>,
    ) -> Self {
        self.places.push(Place {
            subject: Some((subject, field)),
            origin: origin.clone(),
            label: label.into(),
        });
        self
    }

    /// A place that is a call of its own, not a setting of an object.
    fn at_call(mut self, origin: &Origin, label: impl Into<String>) -> Self {
        self.places.push(Place {
            subject: None,
            origin: origin.clone(),
            label: label.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Every problem of `b`, errors and warnings, in a stable order.
pub fn validate(b: &Balancer) -> Vec<Problem> {
    let mut out = Vec::new();
    let has_daemon = !b.daemons.is_empty();
    for svc in b.services.values() {
        service(svc, &mut out);
        for d in svc.dests.values() {
            dest(svc, d, Subject::Dest(svc.key, d.key), has_daemon, &mut out);
        }
        shadowed(svc, b, &mut out);
    }
    for m in b.marks.values() {
        mark(m, b, &mut out);
    }
    checks::checks(b, has_daemon, &mut out);
    timeouts(b, &mut out);
    sysctls::check(b, &mut out);
    for d in b.daemons.values() {
        daemon(d, &mut out);
    }
    if let Some(scope) = &b.scope {
        outside(scope, b, &mut out);
    }
    out
}

/// lvsh's own: a scoped script manages nothing outside its scope, so it may declare
/// nothing there (apply would create what the next plan leaves alone, or edit
/// another owner's objects).
fn outside(scope: &Scope, b: &Balancer, out: &mut Vec<Problem>) {
    let problem = |what: String, widen: String| {
        Problem::error(format!("{what} is outside the script's scope")).help(format!(
            "this script owns only {scope}; add {widen} to own it, or leave it to whoever does"
        ))
    };
    let declared = |p: Problem| match scope.origin.is_none() {
        true => p,
        false => p.at_call(&scope.origin, "scope declared here"),
    };
    for s in b.services.values().filter(|s| !scope.owns_service(&s.key)) {
        let (what, widen) = match s.key {
            ServiceKey::Inet { address, .. } => (
                format!("service {}", s.key),
                format!("`owns(\"{address}\")` or `--scope {address}`"),
            ),
            ServiceKey::Fwmark { fwmark, .. } => (
                format!("fwmark service {fwmark}"),
                format!("`owns_marks({fwmark})` or `--scope mark:{fwmark}`"),
            ),
        };
        let sub = Subject::Service(s.key);
        out.push(declared(problem(what, widen).at(
            sub,
            Field::Object,
            &s.origin,
            "outside the scope",
        )));
    }
    // A rule whose fwmark service is outside was reported with the service.
    let reported = |m: u32| {
        [Family::Inet, Family::Inet6]
            .iter()
            .any(|f| b.services.contains_key(&ServiceKey::fwmark(*f, m)))
    };
    for m in b.marks.values() {
        if !scope.owns_mark(m.mark) && !reported(m.mark) {
            let widen = format!("`owns_marks({0})` or `--scope mark:{0}`", m.mark);
            out.push(declared(problem(format!("mark {}", m.mark), widen).at(
                Subject::Mark(m.mark),
                Field::Object,
                &m.origin,
                "outside the scope",
            )));
        }
    }
}

fn service(s: &Service, out: &mut Vec<Problem>) {
    let key = s.key;
    let sub = || Subject::Service(key);
    let o = &s.origin;
    match key {
        // ipvsadm: "Zero port specified for non-persistent service".
        ServiceKey::Inet { port: 0, .. } if s.persistence.is_none() => out.push(
            Problem::error(format!("service {key} uses port 0 (every port) without persistence"))
                .help("ipvsadm and lvsh accept port 0 only for persistent services: add `.persist()` (360 s) or `.persist(secs)`")
                .at(sub(), Field::Object, o, "port 0 needs persistence"),
        ),
        // The kernel treats fwmark 0 as "no fwmark".
        ServiceKey::Fwmark { fwmark: 0, .. } => out.push(
            Problem::error("fwmark 0 is not a mark")
                .help("marks are 1..4294967295; the kernel reads 0 as \"no mark\"")
                .at(sub(), Field::Object, o, "mark 0"),
        ),
        ServiceKey::Fwmark { fwmark, .. } if super::PROBE_MARKS.contains(&fwmark) => {
            out.push(probe_mark(fwmark).at(sub(), Field::Object, o, "reserved mark"))
        }
        ServiceKey::Inet { address, .. } if !is_unicast(&address) => out.push(
            Problem::error(format!("service address {address} is not a unicast address"))
                .help("a virtual service needs the unicast address clients connect to")
                .at(sub(), Field::Object, o, "not a unicast address"),
        ),
        _ => {}
    }
    if let Some(p) = s.persistence {
        if p == 0 || p > MAX_TIMEOUT {
            out.push(
                Problem::error(format!(
                    "persistence timeout {p} is out of range 1..{MAX_TIMEOUT}"
                ))
                .help("ipvsadm takes 1 s to 31 days; drop `.persist()` for no persistence")
                .at(sub(), Field::Persistence, o, "persistence set here"),
            );
        }
    }
    // ipvsadm: "One-Packet Scheduling is only for UDP virtual services" (fwmark allowed).
    if s.one_packet && matches!(key, ServiceKey::Inet { protocol, .. } if protocol != Protocol::Udp)
    {
        out.push(
            Problem::error(format!(
                "one-packet scheduling on {key}: it is only for UDP services"
            ))
            .help("use `.udp()` on this service, or drop `.ops()`")
            .at(sub(), Field::OnePacket, o, "`.ops()` here")
            .at(
                sub(),
                Field::Protocol,
                o,
                format!("the service is {}", key.protocol()),
            ),
        );
    }
    // The kernel takes `none` with any flags, persistence, engine and ops (it binds
    // no scheduler); the flags are then read by nobody.
    if s.scheduler == Scheduler::None && !s.flags.is_empty() {
        out.push(
            Problem::warning(format!(
                "scheduler flags on {key} have no effect: scheduler `none` binds no scheduler to read them"
            ))
            .help("the kernel keeps them; drop `.flag()`/`.flags()`, or pick the scheduler they are for")
            .at(sub(), Field::Flags, o, "flags set here")
            .at(sub(), Field::Scheduler, o, "scheduler `none`"),
        );
    }
    if let Some(mask) = s.netmask {
        let fam = key.family();
        match mask {
            Netmask::V4(m) if fam == Family::Inet6 => out.push(
                Problem::error(format!("netmask {m} is an IPv4 mask, but {key} is IPv6"))
                    .help("IPv6 services take a prefix length: `.netmask(64)`")
                    .at(sub(), Field::Netmask, o, "IPv4 netmask"),
            ),
            Netmask::V6(p) if fam == Family::Inet => out.push(
                Problem::error(format!("netmask /{p} is an IPv6 prefix, but {key} is IPv4"))
                    .help("IPv4 services take a dotted mask (`.netmask(\"255.255.255.0\")`) or a prefix 0..32")
                    .at(sub(), Field::Netmask, o, "IPv6 prefix"),
            ),
            // Kernel: EINVAL unless 1..=128.
            Netmask::V6(p) if !(1..=128).contains(&p) => out.push(
                Problem::error(format!("IPv6 persistence prefix {p} is out of range 1..128"))
                    .at(sub(), Field::Netmask, o, "prefix set here"),
            ),
            _ => {}
        }
        if s.persistence.is_none() {
            out.push(
                Problem::warning(format!("netmask {mask} on {key} has no effect without persistence"))
                    .help("the netmask groups clients for persistence: add `.persist()` or drop `.netmask()`")
                    .at(sub(), Field::Netmask, o, "netmask set here"),
            );
        }
    }
    if let Some(pe) = s.pe {
        if s.persistence.is_none() {
            out.push(
                Problem::warning(format!(
                    "persistence engine `{}` on {key} has no effect without persistence",
                    pe.name()
                ))
                .help(
                    "the kernel only consults the engine for persistent services: add `.persist()`",
                )
                .at(sub(), Field::Pe, o, "engine set here"),
            );
        }
        // ip_vs_pe_sip reads the Call-ID from UDP payloads only.
        if pe == PersistenceEngine::Sip
            && matches!(key, ServiceKey::Inet { protocol, .. } if protocol != Protocol::Udp)
        {
            out.push(
                Problem::warning(format!(
                    "the `sip` persistence engine only reads UDP, but {key} is {}",
                    key.protocol()
                ))
                .help("use `.udp()`, or a fwmark service that carries SIP over UDP")
                .at(sub(), Field::Pe, o, "`sip` set here")
                .at(sub(), Field::Protocol, o, "protocol"),
            );
        }
    }
}

/// The rules of a destination of `s`, reported about `subject` (a real server, or
/// the sorry server that stands in for them).
fn dest(s: &Service, d: &Dest, subject: Subject, has_daemon: bool, out: &mut Vec<Problem>) {
    let key = s.key;
    let dk = d.key;
    let noun = match subject {
        Subject::Sorry(_) => "sorry server",
        _ => "real server",
    };
    let sub = || subject.clone();
    let o = &d.origin;
    if !is_unicast(&dk.address) {
        // Kernel: the address must be unicast (or local), else EINVAL.
        out.push(
            Problem::error(format!("{noun} {} is not a unicast address", dk.address))
                .help("the kernel only forwards to unicast (or local) addresses")
                .at(sub(), Field::Object, o, "not unicast"),
        );
    }
    if d.weight > MAX_WEIGHT {
        out.push(
            Problem::error(format!(
                "weight {} is out of range 0..{MAX_WEIGHT}",
                d.weight
            ))
            .at(sub(), Field::Weight, o, "weight set here"),
        );
    }
    for (v, field, what) in [
        (d.upper_threshold, Field::UpperThreshold, "upper"),
        (d.lower_threshold, Field::LowerThreshold, "lower"),
    ] {
        if v > MAX_THRESHOLD {
            out.push(
                Problem::error(format!(
                    "{what} threshold {v} is out of range 0..{MAX_THRESHOLD}"
                ))
                .at(sub(), field, o, "threshold set here"),
            );
        }
    }
    // Kernel: l_threshold > u_threshold is ERANGE, also when u is 0 (no limit).
    if d.lower_threshold > d.upper_threshold {
        let mut p = Problem::error(format!(
            "lower threshold {} is above upper threshold {} on {noun} {dk}",
            d.lower_threshold, d.upper_threshold
        ));
        p = if d.upper_threshold == 0 {
            p.help("a lower threshold needs an upper one at least as high: add `.u_threshold(n)`")
        } else {
            p.help("the server is taken out at the upper threshold and back in below the lower one")
        };
        out.push(p.at(sub(), Field::LowerThreshold, o, "lower threshold").at(
            sub(),
            Field::UpperThreshold,
            o,
            "upper threshold",
        ));
    }
    let dfam = Family::of(&dk.address);
    if dfam != key.family() {
        // Kernel and ipvsadm: "Different address family is allowed only for tunneling servers".
        if !d.forward.is_tunnel() {
            out.push(
                Problem::error(format!(
                    "{noun} {} is {dfam}, but {key} is {}: mixed families need tunnelling",
                    dk.address,
                    key.family()
                ))
                .help("only `.tun()` can carry one family inside the other")
                .at(
                    sub(),
                    Field::Forward,
                    o,
                    format!("forwarding is {}", d.forward.name()),
                ),
            );
        } else if has_daemon {
            // Kernel: the sync protocol cannot describe mixed-family connections.
            out.push(
                Problem::error(format!(
                    "{noun} {} of {key} mixes address families while a sync daemon runs",
                    dk.address
                ))
                .help("the kernel refuses mixed-family real servers while connection sync is on")
                .at(sub(), Field::Object, o, "mixed-family real server"),
            );
        }
    }
    // ipvsadm forces the service port for DR and tunnels on non-fwmark services: the
    // packet is forwarded unchanged, so the real server sees the service port anyway.
    if let ServiceKey::Inet { port, .. } = key {
        if matches!(d.forward, Forward::Route | Forward::Tunnel { .. }) && dk.port != port {
            out.push(
                Problem::error(format!(
                    "{noun} {dk} has port {}, but {} cannot change the port of {key}",
                    dk.port,
                    if d.forward == Forward::Route { "direct routing" } else { "tunnelling" },
                ))
                .help(format!(
                    "the packet reaches the {noun} unchanged, on port {port}: drop the port, or use `.nat()` to map ports"
                ))
                .at(sub(), Field::Object, o, format!("port {}", dk.port))
                .at(sub(), Field::Forward, o, d.forward.name().to_string()),
            );
        }
    }
    if let Forward::Tunnel {
        kind,
        port,
        checksum,
    } = d.forward
    {
        tunnel(kind, port, checksum, sub(), o, out);
    }
}

/// ipvsadm's tunnel option table: ipip takes no options, gue needs a port and takes
/// one checksum option, gre takes nocsum or csum. The kernel refuses gue without port.
fn tunnel(
    kind: TunnelKind,
    port: u16,
    sum: TunnelChecksum,
    sub: Subject,
    o: &Origin,
    out: &mut Vec<Problem>,
) {
    match kind {
        TunnelKind::Gue if port == 0 => out.push(
            Problem::error("a gue tunnel needs a port")
                .help("give the remote GUE port: `.tun(\"gue\", 6080)`")
                .at(sub.clone(), Field::Forward, o, "gue without port"),
        ),
        TunnelKind::Ipip | TunnelKind::Gre if port != 0 => out.push(
            Problem::error(format!("only gue tunnels take a port, not {}", kind.name())).at(
                sub.clone(),
                Field::Forward,
                o,
                format!("{} with port {port}", kind.name()),
            ),
        ),
        _ => {}
    }
    let bad = matches!(
        (kind, sum),
        (
            TunnelKind::Ipip,
            TunnelChecksum::Csum | TunnelChecksum::Remcsum
        ) | (TunnelKind::Gre, TunnelChecksum::Remcsum)
    );
    if bad {
        out.push(
            Problem::error(format!("{} tunnels do not support `{}`", kind.name(), sum.name()))
                .help("ipip takes no checksum option; gre takes `.csum()`; gue takes `.csum()` or `.remcsum()`")
                .at(sub, Field::Forward, o, "checksum option"),
        );
    }
}

/// Traffic an nft mark rule claims never reaches an inet service on the same address:
/// IPVS looks up fwmark services first. Legal, so only a warning.
fn shadowed(s: &Service, b: &Balancer, out: &mut Vec<Problem>) {
    let ServiceKey::Inet {
        protocol,
        address,
        port,
    } = s.key
    else {
        return;
    };
    for m in b.marks.values() {
        if !m.addresses.contains(&address) {
            continue;
        }
        let covered = m.ports.is_empty()
            || (port != 0
                && m.protocols.contains(&protocol)
                && m.ports.iter().any(|r| (r.first..=r.last).contains(&port)));
        if covered {
            out.push(
                Problem::warning(format!(
                    "service {} is shadowed by mark {}: IPVS looks up fwmark services first",
                    s.key, m.mark
                ))
                .at(
                    Subject::Service(s.key),
                    Field::Object,
                    &s.origin,
                    "this service",
                )
                .at(
                    Subject::Mark(m.mark),
                    Field::Vips,
                    &m.origin,
                    "marks the same traffic",
                ),
            );
        }
    }
}

/// Marks `lvsh watch` gives its `via_vip()` probe services.
fn probe_mark(mark: u32) -> Problem {
    Problem::error(format!(
        "mark {mark} is reserved for the probes of `lvsh watch`"
    ))
    .help(format!(
        "marks {}..={} steer `via_vip()` health checks; pick another",
        super::PROBE_MARKS.start(),
        super::PROBE_MARKS.end()
    ))
}

fn mark(m: &MarkRule, b: &Balancer, out: &mut Vec<Problem>) {
    let sub = || Subject::Mark(m.mark);
    let o = &m.origin;
    if super::PROBE_MARKS.contains(&m.mark)
        && !b.services.keys().any(|k| {
            *k == ServiceKey::fwmark(super::Family::Inet, m.mark)
                || *k == ServiceKey::fwmark(super::Family::Inet6, m.mark)
        })
    {
        out.push(probe_mark(m.mark).at(sub(), Field::Object, o, "reserved mark"));
    }
    if m.mark == 0 {
        out.push(
            Problem::error("fwmark 0 is not a mark")
                .help("marks are 1..4294967295; the kernel reads 0 as \"no mark\"")
                .at(sub(), Field::Object, o, "mark 0"),
        );
    }
    if m.addresses.is_empty() {
        if !m.ports.is_empty() {
            out.push(
                Problem::error(format!("mark {} matches ports but no address", m.mark))
                    .help(
                        "add `.vip(addr)`: lvsh never marks traffic to addresses you did not name",
                    )
                    .at(sub(), Field::Ports, o, "ports without `.vip()`"),
            );
        }
        return;
    }
    if !m.ports.is_empty() && m.protocols.is_empty() {
        out.push(
            Problem::error(format!("mark {} matches ports but no protocol", m.mark))
                .help("add `.tcp()`, `.udp()`, `.sctp()` or `.protocols([..])`")
                .at(sub(), Field::Protocols, o, "no protocol"),
        );
    }
    // `mark(10).vip(vip)` alone is easy to write and marks all traffic to the vip:
    // ssh, ICMP, everything, balanced by one fwmark service.
    if m.ports.is_empty() {
        let vips: Vec<String> = m.addresses.iter().map(ToString::to_string).collect();
        out.push(
            // Warnings print as one line: the hint is in the message.
            Problem::warning(format!(
                "mark {} marks every packet to {} (any protocol, any port); add \
                 `.ports([..])` to mark only those, or `.ports([\"1-65535\"])` to mean every port",
                m.mark,
                vips.join(", ")
            ))
            .help(
                "add `.ports([80, 443])` to mark only those ports; to balance every port on \
                 purpose, say so with `.ports([\"1-65535\"])` (and `.protocols([\"tcp\", \"udp\"])` \
                 for UDP too)",
            )
            .at(sub(), Field::Vips, o, "no `.ports()`"),
        );
    }
    // The kernel holds such a rule (one nft rule per family, each marking on its
    // own), but IPVS looks up a marked packet among the fwmark services of the
    // packet's family only.
    for fam in m.families() {
        if !b.services.contains_key(&ServiceKey::fwmark(fam, m.mark)) {
            out.push(
                Problem::warning(format!(
                    "mark {} marks {fam} traffic, but there is no {fam} fwmark service {}",
                    m.mark, m.mark
                ))
                .help(format!(
                    "IPVS looks up marked {fam} packets among {fam} fwmark services only: add `mark({}).{}()`, or drop the {fam} vips",
                    m.mark,
                    match fam {
                        Family::Inet => "ipv4",
                        Family::Inet6 => "ipv6",
                    }
                ))
                .at(sub(), Field::Vips, o, format!("{fam} vips")),
            );
        }
    }
}

fn timeouts(b: &Balancer, out: &mut Vec<Problem>) {
    let t = &b.timeouts;
    for (v, field, name) in [
        (t.tcp, Field::TimeoutTcp, "tcp"),
        (t.tcp_fin, Field::TimeoutTcpFin, "tcpfin"),
        (t.udp, Field::TimeoutUdp, "udp"),
    ] {
        match v {
            // The kernel reads 0 as "leave unchanged".
            Some(0) => out.push(
                Problem::error(format!("{name} timeout 0 is not a timeout"))
                    .help("the kernel reads 0 as \"unchanged\": leave the value out instead")
                    .at(
                        Subject::Timeouts,
                        field,
                        &Origin::default(),
                        "timeout set here",
                    ),
            ),
            Some(v) if v > MAX_TIMEOUT => out.push(
                Problem::error(format!(
                    "{name} timeout {v} is out of range 1..{MAX_TIMEOUT}"
                ))
                .help("ipvsadm takes at most 31 days")
                .at(
                    Subject::Timeouts,
                    field,
                    &Origin::default(),
                    "timeout set here",
                ),
            ),
            _ => {}
        }
    }
}

fn daemon(d: &SyncDaemon, out: &mut Vec<Problem>) {
    let sub = || Subject::Daemon(d.state);
    let o = &d.origin;
    let len = d.interface.len();
    if len == 0 || len > MAX_IFNAME {
        out.push(
            Problem::error(format!(
                "interface name `{}` is {len} bytes; the kernel takes 1..{MAX_IFNAME}",
                d.interface
            ))
            .at(sub(), Field::Interface, o, "interface"),
        );
    }
    if let Some(g) = d.group {
        // Kernel: EINVAL unless the group is multicast.
        if !g.is_multicast() {
            out.push(
                Problem::error(format!("sync group {g} is not a multicast address"))
                    .help("the default groups are 224.0.0.81 and ff02::81")
                    .at(sub(), Field::Group, o, "group set here"),
            );
        }
    }
    if d.port == Some(0) {
        out.push(Problem::error("sync port 0 is out of range 1..65535").at(
            sub(),
            Field::McastPort,
            o,
            "port set here",
        ));
    }
    if d.ttl == Some(0) {
        out.push(Problem::error("sync ttl 0 is out of range 1..255").at(
            sub(),
            Field::Ttl,
            o,
            "ttl set here",
        ));
    }
    if let Some(m) = d.maxlen {
        if m == 0 || m > MAX_SYNC_MAXLEN {
            out.push(
                Problem::error(format!(
                    "sync maxlen {m} is out of range 1..{MAX_SYNC_MAXLEN}"
                ))
                .at(sub(), Field::MaxLen, o, "maxlen set here"),
            );
        }
    }
}

/// Unicast as the kernel means it for services and destinations.
fn is_unicast(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => !(v.is_unspecified() || v.is_multicast() || v.is_broadcast()),
        IpAddr::V6(v) => !(v.is_unspecified() || v.is_multicast()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Protocol, Timeouts};

    fn inet(port: u16) -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), port)
    }

    fn with(s: Service) -> Balancer {
        let mut b = Balancer::default();
        b.services.insert(s.key, s);
        b
    }

    fn messages(b: &Balancer) -> Vec<String> {
        validate(b).into_iter().map(|p| p.message).collect()
    }

    fn dest(addr: &str, port: u16) -> Dest {
        Dest::new(DestKey {
            address: addr.parse().unwrap(),
            port,
        })
    }

    #[test]
    fn a_plain_service_is_fine() {
        let mut s = Service::new(inet(80));
        s.dests
            .insert(dest("192.168.10.11", 80).key, dest("192.168.10.11", 80));
        assert!(validate(&with(s)).is_empty());
    }

    #[test]
    fn scheduler_none_takes_everything_but_flags_warn() {
        // Accepted by the kernel (lab: lvsh_sched_none) with persistence, netmask,
        // engine and ops alike.
        let mut s = Service::new(ServiceKey::inet(
            Protocol::Udp,
            "10.0.0.1".parse().unwrap(),
            5060,
        ));
        s.scheduler = Scheduler::None;
        s.persistence = Some(60);
        s.set_netmask(Netmask::V4("255.255.255.0".parse().unwrap()));
        s.pe = Some(PersistenceEngine::Sip);
        s.one_packet = true;
        s.dests
            .insert(dest("10.0.0.11", 5060).key, dest("10.0.0.11", 5060));
        assert!(validate(&with(s.clone())).is_empty());
        s.flags.insert(crate::model::SchedFlag::Flag1);
        let p = validate(&with(s));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].severity, Severity::Warning);
        assert_eq!(
            p[0].message,
            "scheduler flags on udp 10.0.0.1:5060 have no effect: scheduler `none` binds no scheduler to read them"
        );
    }

    #[test]
    fn port_zero_needs_persistence() {
        let s = Service::new(inet(0));
        assert_eq!(messages(&with(s.clone())).len(), 1);
        let mut p = s;
        p.persistence = Some(600);
        assert!(messages(&with(p)).is_empty());
    }

    #[test]
    fn ops_only_on_udp_but_fwmark_is_allowed() {
        let mut s = Service::new(inet(53));
        s.one_packet = true;
        assert!(messages(&with(s))[0].contains("only for UDP"));
        let mut u = Service::new(ServiceKey::inet(
            Protocol::Udp,
            "10.0.0.1".parse().unwrap(),
            53,
        ));
        u.one_packet = true;
        assert!(messages(&with(u)).is_empty());
        let mut f = Service::new(ServiceKey::fwmark(Family::Inet, 3));
        f.one_packet = true;
        assert!(messages(&with(f)).is_empty());
    }

    #[test]
    fn thresholds_order_even_without_upper() {
        let mut s = Service::new(inet(80));
        let mut d = dest("10.0.0.2", 80);
        d.lower_threshold = 10;
        s.dests.insert(d.key, d);
        let p = validate(&with(s));
        assert_eq!(p.len(), 1);
        assert!(
            p[0].message
                .contains("lower threshold 10 is above upper threshold 0")
        );
        assert_eq!(p[0].places.len(), 2);
    }

    #[test]
    fn dr_cannot_change_ports_but_nat_can() {
        let mut s = Service::new(inet(80));
        s.dests
            .insert(dest("10.0.0.2", 8080).key, dest("10.0.0.2", 8080));
        assert!(messages(&with(s.clone()))[0].contains("direct routing cannot change the port"));
        let mut d = dest("10.0.0.2", 8080);
        d.forward = Forward::Masq;
        s.dests.clear();
        s.dests.insert(d.key, d);
        assert!(messages(&with(s)).is_empty());
    }

    #[test]
    fn mixed_families_need_a_tunnel_and_no_daemon() {
        let mut s = Service::new(inet(80));
        let d = dest("2001:db8::2", 80);
        s.dests.insert(d.key, d.clone());
        assert!(messages(&with(s.clone()))[0].contains("mixed families need tunnelling"));
        let mut t = d;
        t.forward = Forward::Tunnel {
            kind: TunnelKind::Ipip,
            port: 0,
            checksum: TunnelChecksum::None,
        };
        s.dests.clear();
        s.dests.insert(t.key, t);
        let mut b = with(s);
        assert!(messages(&b).is_empty());
        b.daemons.insert(
            DaemonState::Master,
            SyncDaemon::new(DaemonState::Master, "eth0"),
        );
        assert!(messages(&b)[0].contains("sync daemon"));
    }

    #[test]
    fn tunnel_options_follow_ipvsadm() {
        let mut out = Vec::new();
        let o = Origin::default();
        let sub = Subject::Timeouts;
        tunnel(
            TunnelKind::Gue,
            0,
            TunnelChecksum::None,
            sub.clone(),
            &o,
            &mut out,
        );
        tunnel(
            TunnelKind::Ipip,
            0,
            TunnelChecksum::Csum,
            sub.clone(),
            &o,
            &mut out,
        );
        tunnel(
            TunnelKind::Gre,
            0,
            TunnelChecksum::Remcsum,
            sub.clone(),
            &o,
            &mut out,
        );
        tunnel(
            TunnelKind::Gre,
            0,
            TunnelChecksum::Csum,
            sub.clone(),
            &o,
            &mut out,
        );
        tunnel(
            TunnelKind::Gue,
            6080,
            TunnelChecksum::Remcsum,
            sub,
            &o,
            &mut out,
        );
        let m: Vec<_> = out.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            m,
            [
                "a gue tunnel needs a port",
                "ipip tunnels do not support `csum`",
                "gre tunnels do not support `remcsum`"
            ]
        );
    }

    #[test]
    fn netmask_family_and_range() {
        let mut s = Service::new(inet(80));
        s.persistence = Some(300);
        s.netmask = Some(Netmask::V6(64));
        assert!(messages(&with(s.clone()))[0].contains("IPv6 prefix"));
        let mut v6 = Service::new(ServiceKey::inet(
            Protocol::Tcp,
            "2001:db8::1".parse().unwrap(),
            80,
        ));
        v6.persistence = Some(300);
        v6.netmask = Some(Netmask::V6(0));
        assert!(messages(&with(v6))[0].contains("out of range 1..128"));
        s.persistence = None;
        s.netmask = Some(Netmask::V4("255.255.255.0".parse().unwrap()));
        assert!(messages(&with(s))[0].contains("no effect without persistence"));
    }

    #[test]
    fn pe_needs_persistence_and_udp() {
        let mut s = Service::new(inet(5060));
        s.pe = Some(PersistenceEngine::Sip);
        let m = messages(&with(s));
        assert_eq!(m.len(), 2, "{m:?}");
    }

    #[test]
    fn marks_need_vips_and_warn_without_a_service_of_their_family() {
        let mut m = MarkRule::new(10);
        m.ports.insert(crate::model::PortRange::single(80));
        let mut b = Balancer::default();
        b.marks.insert(10, m.clone());
        assert!(messages(&b)[0].contains("no address"));
        // Both families in one rule, as the kernel can hold it: only the family
        // without a fwmark service is worth a warning.
        m.addresses.insert("10.0.0.1".parse().unwrap());
        m.addresses.insert("2001:db8::1".parse().unwrap());
        b.marks.insert(10, m);
        let fw6 = ServiceKey::fwmark(Family::Inet6, 10);
        b.services.insert(fw6, Service::new(fw6));
        let p = validate(&b);
        assert_eq!(p.len(), 1, "{:?}", messages(&b));
        assert_eq!(p[0].severity, Severity::Warning);
        assert_eq!(
            p[0].message,
            "mark 10 marks ipv4 traffic, but there is no ipv4 fwmark service 10"
        );
        let fw4 = ServiceKey::fwmark(Family::Inet, 10);
        b.services.insert(fw4, Service::new(fw4));
        assert!(validate(&b).is_empty());
    }

    #[test]
    fn a_mark_without_ports_warns_that_it_marks_everything_to_its_vips() {
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        let mut b = Balancer::default();
        b.marks.insert(10, m.clone());
        let fw = ServiceKey::fwmark(Family::Inet, 10);
        b.services.insert(fw, Service::new(fw));
        let p = validate(&b);
        assert_eq!(p.len(), 1, "{:?}", messages(&b));
        assert_eq!(p[0].severity, Severity::Warning);
        assert!(
            p[0].message.starts_with(
                "mark 10 marks every packet to 192.168.10.120 (any protocol, any port); add \
                 `.ports([..])`"
            ),
            "{}",
            p[0].message
        );
        // Every port, said on purpose: no warning.
        m.ports.insert("1-65535".parse().unwrap());
        b.marks.insert(10, m);
        assert!(validate(&b).is_empty(), "{:?}", messages(&b));
    }

    #[test]
    fn shadowed_services_are_warnings() {
        let mut b = with(Service::new(inet(80)));
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        m.ports.insert(crate::model::PortRange::single(80));
        b.marks.insert(10, m);
        let fw = Service::new(ServiceKey::fwmark(Family::Inet, 10));
        b.services.insert(fw.key, fw);
        let p = validate(&b);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].severity, Severity::Warning);
    }

    #[test]
    fn timeouts_and_daemons() {
        let mut b = Balancer {
            timeouts: Timeouts {
                tcp: Some(0),
                tcp_fin: None,
                udp: Some(MAX_TIMEOUT + 1),
            },
            ..Balancer::default()
        };
        let mut d = SyncDaemon::new(DaemonState::Backup, "a-very-long-interface");
        d.group = Some("10.0.0.1".parse().unwrap());
        d.ttl = Some(0);
        b.daemons.insert(d.state, d);
        assert_eq!(messages(&b).len(), 5, "{:?}", messages(&b));
    }

    #[test]
    fn non_unicast_addresses() {
        let s = Service::new(ServiceKey::inet(
            Protocol::Tcp,
            "0.0.0.0".parse().unwrap(),
            80,
        ));
        assert!(messages(&with(s))[0].contains("not a unicast"));
        let mut s = Service::new(inet(80));
        s.dests
            .insert(dest("224.0.0.1", 80).key, dest("224.0.0.1", 80));
        assert!(messages(&with(s))[0].contains("not a unicast"));
    }

    #[test]
    fn a_scoped_model_declares_nothing_outside_its_scope() {
        let persistent = |key: ServiceKey| {
            let mut s = Service::new(key);
            s.persistence = Some(60);
            s
        };
        let mut b = with(persistent(inet(80)));
        let v6 = ServiceKey::inet(Protocol::Tcp, "2001:db8::80".parse().unwrap(), 80);
        b.services.insert(v6, persistent(v6));
        for n in [10, 20] {
            let key = ServiceKey::fwmark(Family::Inet, n);
            b.services.insert(key, persistent(key));
            let mut m = MarkRule::new(n);
            m.addresses.insert("192.168.10.121".parse().unwrap());
            m.ports.insert(crate::model::PortRange::single(443));
            b.marks.insert(n, m);
        }
        assert!(validate(&b).is_empty(), "{:?}", messages(&b));
        let mut scope = Scope::default();
        scope.addresses.insert("192.168.10.0/24".parse().unwrap());
        scope.marks.insert("10".parse().unwrap());
        b.scope = Some(scope.clone());
        // The fwmark service 20 and its rule are one mistake, reported once.
        assert_eq!(
            messages(&b),
            [
                "service tcp [2001:db8::80]:80 is outside the script's scope",
                "fwmark service 20 is outside the script's scope",
            ]
        );
        let p = &validate(&b)[0];
        assert_eq!(
            p.help.as_deref(),
            Some(
                "this script owns only 192.168.10.0/24 and mark 10; add `owns(\"2001:db8::80\")` \
                 or `--scope 2001:db8::80` to own it, or leave it to whoever does"
            )
        );
        // No place for a scope that only the command line declared.
        assert_eq!(p.places.len(), 1);
        // A rule without its fwmark service is reported as a mark.
        b.services.remove(&ServiceKey::fwmark(Family::Inet, 20));
        assert!(messages(&b).contains(&"mark 20 is outside the script's scope".to_string()));
        scope.addresses.insert("2001:db8::/32".parse().unwrap());
        scope.marks.insert("20".parse().unwrap());
        b.services.insert(
            ServiceKey::fwmark(Family::Inet, 20),
            persistent(ServiceKey::fwmark(Family::Inet, 20)),
        );
        b.scope = Some(scope);
        assert!(validate(&b).is_empty(), "{:?}", messages(&b));
    }
}
