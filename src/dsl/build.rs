//! From the objects a script registered to a [`Balancer`], with every problem the
//! model alone cannot see (duplicates, flag names, mark settings), then validation.

use super::real_server::RealServerDraft;
use super::service::{Kind, NetmaskSpec, ServiceDraft};
use super::state::{At, Mode, Registry};
use crate::model::validate::CheckField;
use crate::model::{
    Balancer, Dest, DestChecks, DestKey, Family, Field, Forward, MarkRule, Netmask, OnDown, Origin,
    Place, Problem, Protocol, Service, ServiceChecks, ServiceKey, Severity, Subject, validate,
};
use std::{
    collections::{BTreeSet, HashMap, HashSet, btree_map::Entry},
    net::Ipv4Addr,
};

/// The balancer and everything wrong with it, errors first by script position.
pub(crate) struct Built {
    pub balancer: Balancer,
    /// Problems with their places resolved to the calls that caused them.
    pub problems: Vec<Problem>,
}

fn problem(message: impl Into<String>, help: impl Into<String>) -> Problem {
    Problem {
        severity: Severity::Error,
        message: message.into(),
        help: Some(help.into()),
        places: Vec::new(),
    }
}

/// A place a problem points at: a model origin, or a call that may have run
/// inside an imported module.
trait Where {
    /// The place in the top-level script, and the module line it came through.
    fn split(&self) -> (Origin, Option<Origin>);
}

impl Where for Origin {
    fn split(&self) -> (Origin, Option<Origin>) {
        (self.clone(), None)
    }
}

impl Where for At {
    fn split(&self) -> (Origin, Option<Origin>) {
        let inner = self.module_call().map(|_| self.here().clone());
        (self.primary().clone(), inner)
    }
}

fn place(mut p: Problem, at: &impl Where, label: impl Into<String>) -> Problem {
    let (origin, inner) = at.split();
    let label = label.into();
    if let Some(o) = inner {
        p.places.push(Place {
            subject: None,
            origin,
            label: label.clone(),
        });
        p.places.push(Place {
            subject: None,
            origin: o,
            label: inside(&label),
        });
    } else {
        p.places.push(Place {
            subject: None,
            origin,
            label,
        });
    }
    p
}

/// The note on the module lines behind a call in the top-level script.
pub(crate) const INSIDE: &str = "from this line of the imported module";

/// The label of a place on a module line: [`INSIDE`], then the label of the call.
fn inside(label: &str) -> String {
    format!("{INSIDE}\n{label}")
}

/// The label of the call behind a place on a module line, for the place's label.
pub(crate) fn inside_label(label: &str) -> Option<&str> {
    label.strip_prefix(INSIDE)?.strip_prefix('\n')
}

pub(crate) fn build(reg: &Registry, mode: Mode) -> Built {
    let mut b = Balancer::default();
    let mut problems = Vec::new();
    // The service that declared each mark's rule first.
    let mut rule_of: HashMap<u32, ServiceKey> = HashMap::new();
    for h in &reg.services {
        let d = h.lock();
        if d.removed {
            continue;
        }
        let key = d.key();
        let svc = service(&d, key, &mut problems);
        if let Kind::Mark(m) = d.kind {
            if let Some(rule) = mark_rule(&d, m, &mut problems) {
                match b.marks.get_mut(&m) {
                    // The other family's fwmark service: one rule set for both.
                    Some(first)
                        if rule_of.get(&m) != Some(&key)
                            && (&first.protocols, &first.ports, &first.comment)
                                == (&rule.protocols, &rule.ports, &rule.comment) =>
                    {
                        first.addresses.extend(rule.addresses);
                    }
                    Some(first) if rule_of.get(&m) != Some(&key) => problems.push(place(
                        place(
                            problem(
                                format!("the nft rules of mark {m} differ between its ipv4 and ipv6 declarations"),
                                "one mark's rules match the same protocols, ports and comment in both families: make them equal, or use another number",
                            ),
                            &d.origin,
                            "declared again here",
                        ),
                        &first.origin,
                        "first declared here",
                    )),
                    // The same fwmark service twice: reported once, as a duplicate service.
                    Some(_) => {}
                    None => {
                        rule_of.insert(m, key);
                        b.marks.insert(m, rule);
                    }
                }
            }
        }
        match b.services.entry(key) {
            Entry::Occupied(first) => {
                let first = first.get();
                let what = match key {
                    ServiceKey::Fwmark { fwmark, .. } => format!("mark {fwmark}"),
                    _ => format!("service {key}"),
                };
                let help = if mode == Mode::Repl && first.origin.is_none() {
                    "it is already in the starting state; `service(addr, port, \"udp\")` or `mark(n)` re-opens it"
                } else if matches!(key, ServiceKey::Fwmark { .. }) {
                    "one mark number feeds one fwmark service of each family: declare it once and keep the handle (`let web = mark(n);`), or use another number"
                } else {
                    "declare it once and keep the handle: `let web = service(..);`"
                };
                problems.push(place(
                    place(
                        problem(format!("{what} is declared twice"), help),
                        &d.origin,
                        "declared again here",
                    ),
                    &first.origin,
                    "first declared here",
                ));
            }
            Entry::Vacant(slot) => {
                if let Some(checks) = service_checks(&d, &svc, &mut problems) {
                    b.checks.services.insert(key, checks);
                }
                slot.insert(svc);
            }
        }
    }
    for h in &reg.daemons {
        let d = h.lock();
        if d.removed {
            continue;
        }
        match b.daemons.get(&d.state) {
            Some(first) => problems.push(place(
                place(
                    problem(
                        format!("two sync daemons with the role {}", d.state),
                        "the kernel runs at most one master and one backup",
                    ),
                    &d.origin,
                    "second one here",
                ),
                &first.origin,
                "first one here",
            )),
            None => {
                b.daemons.insert(d.state, d.to_model());
            }
        }
    }
    b.timeouts = reg.timeouts.to_model();
    for (i, d) in reg.sysctls.iter().enumerate() {
        match reg.sysctls[..i].iter().find(|f| f.name == d.name) {
            Some(first) => problems.push(place(
                place(
                    problem(
                        format!("sysctl `{}` is set twice", d.name),
                        "set each sysctl once",
                    ),
                    &d.at,
                    "set again here",
                ),
                &first.at,
                "first set here",
            )),
            None => b.sysctls.set(&d.name, d.value.clone()),
        }
    }
    for (i, d) in reg.addresses.iter().enumerate() {
        match reg.addresses[..i].iter().find(|f| f.address == d.address) {
            Some(first) => problems.push(place(
                place(
                    problem(
                        format!("address {} is declared twice", d.address),
                        "declare each address once",
                    ),
                    &d.at,
                    "again here",
                ),
                &first.at,
                "first here",
            )),
            None => {
                b.addresses
                    .insert(d.address.clone(), d.at.primary().clone());
            }
        }
    }
    b.scope = reg.scope.clone();
    problems.extend(validate(&b));
    if !problems.is_empty() {
        locate(&mut problems, reg);
        distinct(&mut problems);
    }
    Built {
        balancer: b,
        problems,
    }
}

fn service(d: &ServiceDraft, key: ServiceKey, problems: &mut Vec<Problem>) -> Service {
    let mut s = Service::new(key);
    s.origin = d.origin.primary().clone();
    s.scheduler = d.scheduler.value;
    s.persistence = d.persistence.value;
    s.pe = d.pe.value;
    s.one_packet = d.one_packet.value;
    for f in &d.flags {
        if let Some(tie) = f.tie {
            if tie != s.scheduler {
                problems.push(place(
                    place(
                        problem(
                            format!("scheduler flag `{}` needs the `{tie}` scheduler, but {key} uses `{}`", f.name, s.scheduler),
                            format!("add `.scheduler(\"{tie}\")`, or use the generic `{}`", f.flag.name_for(crate::model::Scheduler::Rr)),
                        ),
                        &f.at,
                        "flag set here",
                    ),
                    d.scheduler.origin(&d.origin),
                    if d.scheduler.at.is_none() {
                        format!("default scheduler `{}`", s.scheduler)
                    } else {
                        "scheduler set here".to_string()
                    },
                ));
            }
        }
        s.flags.insert(f.flag);
    }
    if let Some(spec) = d.netmask.value {
        let at = d.netmask.origin(&d.origin);
        let mask = match (spec, key.family()) {
            (NetmaskSpec::Dotted(m), _) => Some(Netmask::V4(m)),
            (NetmaskSpec::Prefix(p), Family::Inet6) => Some(Netmask::V6(p)),
            (NetmaskSpec::Prefix(p), Family::Inet) if p <= 32 => Some(Netmask::V4(Ipv4Addr::from(
                u32::MAX.checked_shl(32 - p as u32).unwrap_or(0),
            ))),
            (NetmaskSpec::Prefix(p), Family::Inet) => {
                problems.push(place(
                    problem(
                        format!("netmask prefix {p} is out of range 0..32 for the IPv4 service {key}"),
                        "IPv4 prefixes are 0..32, e.g. `.netmask(24)` or `.netmask(\"255.255.255.0\")`",
                    ),
                    at,
                    "netmask set here",
                ));
                None
            }
        };
        if let Some(m) = mask {
            s.set_netmask(m);
            // A host mask is the default and is stored as none; keep the intent visible
            // to validation only when it means something.
        }
    }
    let port = d.dest_port();
    for (i, a) in d.dests.iter().enumerate() {
        let r = a.rs.lock();
        let (address, p) = r.key(port);
        let dk = DestKey { address, port: p };
        if s.dests.contains_key(&dk) {
            let first = d.dests[..i]
                .iter()
                .find(|x| x.rs.same(&a.rs) || x.rs.lock().key(port) == (address, p))
                .map(|x| x.at.clone())
                .unwrap_or_default();
            problems.push(place(
                place(
                    problem(
                        format!("real server {dk} is added twice to {key}"),
                        "a service holds each address and port once",
                    ),
                    &a.at,
                    "added again here",
                ),
                &first,
                "first added here",
            ));
            continue;
        }
        let dest = dest_of(&r, dk, problems);
        s.dests.insert(dk, dest);
    }
    s
}

/// The destination a real server becomes at `dk`.
fn dest_of(r: &RealServerDraft, dk: DestKey, problems: &mut Vec<Problem>) -> Dest {
    let mut forward = r.forward.value;
    if let Some(sum) = r.checksum.value {
        match &mut forward {
            Forward::Tunnel { checksum, .. } => *checksum = sum,
            _ => problems.push(place(
                problem(
                    format!(
                        "`.{}()` only applies to tunnels, but real server {dk} uses {}",
                        sum.name(),
                        forward.name()
                    ),
                    "add `.tun(\"gre\")` or `.tun(\"gue\", port)`, or drop the checksum option",
                ),
                r.checksum.origin(&r.origin),
                "checksum option",
            )),
        }
    }
    let mut dest = Dest::new(dk);
    dest.forward = forward;
    dest.weight = r.weight.value;
    dest.upper_threshold = r.upper.value;
    dest.lower_threshold = r.lower.value;
    dest.origin = r.origin.primary().clone();
    dest
}

/// The run-time settings of service `s`, if it has any: its check, `on_down`, sorry
/// server, and each real server's own check and slow start.
fn service_checks(
    d: &ServiceDraft,
    s: &Service,
    problems: &mut Vec<Problem>,
) -> Option<ServiceChecks> {
    let port = d.dest_port();
    let mut sc = ServiceChecks::new(s.key);
    sc.check = d.check.value.as_ref().map(|c| c.check.clone());
    sc.on_down = d.on_down.value;
    if let Some(h) = &d.sorry.value {
        let r = h.lock();
        let (address, p) = r.key(port);
        let dk = DestKey { address, port: p };
        sc.sorry = Some(dest_of(&r, dk, problems));
        // Only the real servers are checked; the sorry server is what is left.
        for (set, at, what) in [
            (
                r.check.value.is_some(),
                &r.check.at,
                "`.check()`: it is never checked",
            ),
            (
                r.slow_start.value.is_some(),
                &r.slow_start.at,
                "`.slow_start()`: it comes in at its full weight",
            ),
        ] {
            if set {
                problems.push(place(
                    Problem {
                        severity: Severity::Warning,
                        message: format!("the sorry server {dk} of {} ignores its {what}", s.key),
                        help: None,
                        places: Vec::new(),
                    },
                    at,
                    "ignored",
                ));
            }
        }
    }
    for a in &d.dests {
        let r = a.rs.lock();
        if r.check.value.is_none() && r.slow_start.value.is_none() {
            continue;
        }
        let (address, p) = r.key(port);
        let dk = DestKey { address, port: p };
        sc.dests.entry(dk).or_insert_with(|| DestChecks {
            dest: dk,
            check: r.check.value.as_ref().map(|c| c.check.clone()),
            slow_start: r.slow_start.value,
        });
    }
    let empty = sc.check.is_none()
        && sc.sorry.is_none()
        && sc.on_down == OnDown::default()
        && sc.dests.is_empty();
    (!empty).then_some(sc)
}

/// Drops repeats: a check shared by several services is one mistake, in one place.
fn distinct(problems: &mut Vec<Problem>) {
    let mut seen = HashSet::new();
    problems.retain(|p| {
        let places: Vec<(Option<_>, &str)> = p
            .places
            .iter()
            .map(|pl| (pl.origin.pos().cloned(), pl.label.as_str()))
            .collect();
        seen.insert((p.message.clone(), format!("{places:?}")))
    });
}

/// The nft rule of a mark, when it has vips; mark-only settings that would be
/// silently ignored are problems.
fn mark_rule(d: &ServiceDraft, m: u32, problems: &mut Vec<Problem>) -> Option<MarkRule> {
    // Set when mixed vips leave the family open (reported here).
    let mut unsure = false;
    if let Some((first, first_at)) = d.vips.first() {
        let fam = Family::of(first);
        let other = d.vips.iter().find(|(a, _)| Family::of(a) != fam);
        if let (Some((other, at)), None) = (other, d.family.value) {
            unsure = true;
            problems.push(place(
                place(
                    problem(
                        format!(
                            "mark {m} mixes {fam} and {} vips ({first} and {other})",
                            Family::of(other)
                        ),
                        format!("a fwmark service has one family: declare `mark({m})` once per family with that family's vips, or name its family with `.ipv4()` or `.ipv6()`"),
                    ),
                    at,
                    format!("{} vip", Family::of(other)),
                ),
                first_at,
                format!("{fam} vip"),
            ));
        }
    } else {
        if let Some((_, at)) = d.ports.first() {
            problems.push(place(
                problem(
                    format!("mark {m} matches ports but has no `.vip()`"),
                    "add `.vip(addr)`: lvsh never marks traffic to addresses you did not name",
                ),
                at,
                "`.ports()` without `.vip()`",
            ));
            return None;
        }
        if d.comment.value.is_some() {
            problems.push(place(
                problem(
                    format!("mark {m} has a comment but no `.vip()`"),
                    "the comment is kept on the nft rule, and without vips there is none",
                ),
                d.comment.origin(&d.origin),
                "comment here",
            ));
        }
    }
    if !d.mark_protocols.at.is_none() && d.ports.is_empty() {
        problems.push(place(
            problem(
                format!("the protocol of mark {m} only matters with `.ports()`"),
                "without ports the rule marks every protocol to the vips; add `.ports([..])` or drop the protocol",
            ),
            &d.mark_protocols.at,
            "protocol set here",
        ));
    }
    if d.vips.is_empty() {
        return None;
    }
    let mut rule = MarkRule::new(m);
    // Mixed families without a named one were reported above; keep the first family
    // so validation does not report the same mistake again as a missing service.
    let fam = d.family();
    rule.addresses = d
        .vips
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| !unsure || Family::of(a) == fam)
        .collect();
    rule.ports = d.ports.iter().map(|(p, _)| *p).collect();
    rule.protocols = d
        .mark_protocols
        .value
        .clone()
        .unwrap_or_else(|| BTreeSet::from([Protocol::Tcp]));
    rule.comment = d.comment.value.clone();
    rule.origin = d.origin.primary().clone();
    Some(rule)
}

/// Points each problem place at the call that set the offending setting, and sorts
/// problems by their first place.
fn locate(problems: &mut [Problem], reg: &Registry) {
    let mut by_key: HashMap<ServiceKey, usize> = HashMap::new();
    let mut by_mark: HashMap<u32, usize> = HashMap::new();
    for (i, h) in reg.services.iter().enumerate() {
        let d = h.lock();
        if d.removed {
            continue;
        }
        by_key.entry(d.key()).or_insert(i);
        if let Kind::Mark(m) = d.kind {
            if !d.vips.is_empty() || !d.ports.is_empty() {
                by_mark.entry(m).or_insert(i);
            }
        }
    }
    for p in problems.iter_mut() {
        let mut inner = Vec::new();
        for pl in &mut p.places {
            let Some((subject, field)) = &pl.subject else {
                continue;
            };
            if let Some(at) = field_origin(reg, &by_key, &by_mark, subject, *field) {
                if !at.is_none() {
                    let (origin, module) = at.split();
                    pl.origin = origin;
                    inner.extend(module.map(|o| (o, inside(&pl.label))));
                }
            }
        }
        for (origin, label) in inner {
            p.places.push(Place {
                subject: None,
                origin,
                label,
            });
        }
    }
    problems.sort_by_key(|p| {
        let pos = p.places.iter().find_map(|pl| pl.origin.pos().cloned());
        (
            !p.is_error(),
            pos.is_none(),
            pos.map(|x| (x.source.to_string(), x.line, x.column)),
        )
    });
}

fn field_origin(
    reg: &Registry,
    by_key: &HashMap<ServiceKey, usize>,
    by_mark: &HashMap<u32, usize>,
    subject: &Subject,
    field: Field,
) -> Option<At> {
    match subject {
        Subject::Service(key) => {
            let d = reg.services[*by_key.get(key)?].lock();
            Some(service_field(&d, field))
        }
        Subject::Mark(m) => {
            let d = reg.services[*by_mark.get(m)?].lock();
            Some(service_field(&d, field))
        }
        Subject::Dest(key, dk) => {
            let d = reg.services[*by_key.get(key)?].lock();
            let port = d.dest_port();
            let a = d
                .dests
                .iter()
                .find(|a| a.rs.lock().key(port) == (dk.address, dk.port))?;
            let r = a.rs.lock();
            Some(server_field(&r, field))
        }
        Subject::Sorry(key) => {
            let d = reg.services[*by_key.get(key)?].lock();
            let h = d.sorry.value.clone()?;
            drop(d);
            let r = h.lock();
            Some(server_field(&r, field))
        }
        Subject::Daemon(state) => {
            let h = reg.daemons.iter().find(|h| {
                let d = h.lock();
                d.state == *state && !d.removed
            })?;
            let d = h.lock();
            Some(
                match field {
                    Field::Group => d.group.origin(&d.origin),
                    Field::McastPort => d.port.origin(&d.origin),
                    Field::Ttl => d.ttl.origin(&d.origin),
                    Field::MaxLen => d.maxlen.origin(&d.origin),
                    _ => &d.origin,
                }
                .clone(),
            )
        }
        Subject::Sysctl(name) => reg
            .sysctls
            .iter()
            .find(|d| d.name == *name)
            .map(|d| d.at.clone()),
        Subject::Timeouts => Some(
            match field {
                Field::TimeoutTcp => &reg.timeouts.tcp.at,
                Field::TimeoutTcpFin => &reg.timeouts.tcp_fin.at,
                _ => &reg.timeouts.udp.at,
            }
            .clone(),
        ),
    }
}

/// Where a setting of a real server (or sorry server) was set.
fn server_field(r: &RealServerDraft, field: Field) -> At {
    let o = &r.origin;
    match field {
        Field::Forward => r.forward.origin(o),
        Field::Weight => r.weight.origin(o),
        Field::UpperThreshold => r.upper.origin(o),
        Field::LowerThreshold => r.lower.origin(o),
        Field::SlowStart => r.slow_start.origin(o),
        Field::Check(f) => return check_field(r.check.value.as_deref(), r.check.origin(o), f),
        _ => o,
    }
    .clone()
}

/// Where a setting of the check held by `.check()` was set: the method, else the
/// check's constructor; the `.check()` call for the check as a whole.
/// The place of a check's field: the check's own, else where it was set.
fn check_field(check: Option<&super::check::CheckDraft>, set_at: &At, f: CheckField) -> At {
    match check {
        Some(c) if f != CheckField::Object => c.at(f).clone(),
        _ => set_at.clone(),
    }
}

fn service_field(d: &ServiceDraft, field: Field) -> At {
    let o = &d.origin;
    match field {
        Field::Check(f) => return check_field(d.check.value.as_deref(), d.check.origin(o), f),
        Field::OnDown => d.on_down.origin(o),
        Field::Sorry => d.sorry.origin(o),
        Field::Protocol => d.protocol.origin(o),
        Field::Protocols => d.mark_protocols.origin(o),
        Field::Scheduler => d.scheduler.origin(o),
        Field::Flags => d.flags.first().map(|f| &f.at).unwrap_or(o),
        Field::Persistence => d.persistence.origin(o),
        Field::Netmask => d.netmask.origin(o),
        Field::Pe => d.pe.origin(o),
        Field::OnePacket => d.one_packet.origin(o),
        Field::Vips => d.vips.first().map(|v| &v.1).unwrap_or(o),
        Field::Ports => d.ports.first().map(|v| &v.1).unwrap_or(o),
        _ => o,
    }
    .clone()
}
