//! `lvsh drain` and `lvsh undrain`: take a real server out of rotation while its
//! connections finish, and give it back. The drain is recorded in the namespace's
//! run-time state before the kernel's weight goes to 0, so `apply`, `plan` and
//! `watch` keep it; `lvsh watch` moves it on to `drained` (and removes the server
//! with `--remove`). Both write the kernel through the apply transaction, journalled
//! like any apply, and only the weights they name.

use super::{CliError, Context, live::Live};
use crate::{
    apply::{self, ApplyLock, Prepared, Record, Steps, format_time, journal_now},
    model::{
        Balancer, Dest, DestKey, Drain, DrainState, Family, Protocol, Runtime, ServiceKey,
        is_probe_service,
    },
    plan::{self, Mode},
    state::Observed,
    suggest,
    watch::{Store, drain::reweighed},
};
use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

/// How long `drain`/`undrain` wait for a running apply to finish.
const PATIENCE: Duration = Duration::from_secs(10);

/// `ADDR` (every port) or `ADDR:PORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub address: IpAddr,
    pub port: Option<u16>,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.port, self.address) {
            (Some(p), IpAddr::V6(a)) => write!(f, "[{a}]:{p}"),
            (Some(p), a) => write!(f, "{a}:{p}"),
            (None, a) => write!(f, "{a}"),
        }
    }
}

impl Target {
    fn matches(&self, d: &DestKey) -> bool {
        d.address == self.address && self.port.is_none_or(|p| p == d.port)
    }
}

/// `192.168.10.12`, `192.168.10.12:80`, `2001:db8::12`, `[2001:db8::12]:80`.
pub fn parse_target(s: &str) -> Result<Target, String> {
    if let Ok(address) = s.parse::<IpAddr>() {
        return Ok(Target {
            address,
            port: None,
        });
    }
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(Target {
            address: a.ip(),
            port: Some(a.port()),
        });
    }
    if let Some(address) = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|a| a.parse::<IpAddr>().ok())
    {
        return Ok(Target {
            address,
            port: None,
        });
    }
    Err(format!(
        "`{s}` is not a real server's address; e.g. `192.168.10.12` (every port), \
         `192.168.10.12:80`, `[2001:db8::12]:80`"
    ))
}

/// A service as `plan` prints it (`tcp 192.168.10.120:80`, `fwmark 10`,
/// `fwmark 10 ipv6`), with a `:` instead of the space (`udp:192.168.10.120:53`,
/// `fwmark:10`), or a bare `ADDR:PORT`, which is TCP.
pub fn parse_service(s: &str) -> Result<ServiceKey, String> {
    let bad = || {
        format!(
            "`{s}` is not a service; e.g. `tcp 192.168.10.120:80`, `192.168.10.120:80` (tcp), \
             `udp:192.168.10.120:53`, `fwmark 10`, `fwmark 10 ipv6`"
        )
    };
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    match split(&lower) {
        Some(("fwmark" | "mark", rest)) => {
            let mut words = rest.split_whitespace();
            let mark = words
                .next()
                .and_then(|m| m.parse::<u32>().ok())
                .filter(|&m| m > 0)
                .ok_or_else(bad)?;
            let family = match words.next() {
                None | Some("ipv4" | "inet") => Family::Inet,
                Some("ipv6" | "inet6") => Family::Inet6,
                Some(_) => return Err(bad()),
            };
            if words.next().is_some() {
                return Err(bad());
            }
            Ok(ServiceKey::fwmark(family, mark))
        }
        Some((word, rest)) => {
            let protocol: Protocol = word.parse().map_err(|_| bad())?;
            let a: SocketAddr = rest.parse().map_err(|_| bad())?;
            Ok(ServiceKey::inet(protocol, a.ip(), a.port()))
        }
        None => {
            let a: SocketAddr = t.parse().map_err(|_| bad())?;
            Ok(ServiceKey::inet(Protocol::Tcp, a.ip(), a.port()))
        }
    }
}

/// The word before the first space or `:`, when it is a name and not an address.
fn split(text: &str) -> Option<(&str, &str)> {
    let at = text.find([' ', ':'])?;
    let (word, rest) = (&text[..at], text[at + 1..].trim_start());
    word.chars()
        .all(|c| c.is_ascii_alphabetic())
        .then_some((word, rest))
}

/// `90s`, `10m`, `1h 30m`.
pub fn parse_deadline(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); e.g. `90s`, `10m`, `1h 30m`"))
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DrainError {
    #[error("no real server {what} in the kernel{suggestion}")]
    #[diagnostic(help("{known}"))]
    NoMatch {
        what: String,
        suggestion: String,
        known: String,
    },
    #[error("no service `{service}` in the kernel{suggestion}")]
    #[diagnostic(help("{known}"))]
    NoService {
        service: ServiceKey,
        suggestion: String,
        known: String,
    },
    #[error("{what} is drained already (since {since}); nothing was changed")]
    #[diagnostic(help("`lvsh undrain {target}` gives it its weight back"))]
    AlreadyDrained {
        what: String,
        since: String,
        target: Target,
    },
    #[error("`{service}` steers the probes of a `via_vip()` check; it is not drained")]
    #[diagnostic(help(
        "`lvsh watch` makes it from the script's checks; drain the real server in its own service"
    ))]
    ProbeService { service: ServiceKey },
    #[error("{what} is not drained; nothing was changed")]
    #[diagnostic(help("`lvsh status` shows the drains there are"))]
    NotDrained { what: String },
}

/// `rs 192.168.10.12:80 of tcp 192.168.10.120:80`.
fn server(service: &ServiceKey, dest: &DestKey) -> String {
    format!("rs {dest} of {service}")
}

/// `1 connection`, `3 connections`.
fn count(n: u32, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The real servers of the kernel `target` (and `service`) names, in key order.
/// The fwmark services that steer `via_vip()` probes are not the operator's: a
/// drain of one would fail its check, so they are never named.
fn resolve<'a>(
    observed: &'a Balancer,
    target: &Target,
    service: Option<&ServiceKey>,
) -> Result<Vec<(ServiceKey, &'a Dest)>, DrainError> {
    if let Some(key) = service.filter(|k| is_probe_service(k)) {
        return Err(DrainError::ProbeService { service: *key });
    }
    let services = || {
        observed
            .services
            .values()
            .filter(|s| !is_probe_service(&s.key))
    };
    if let Some(key) = service
        && !observed.services.contains_key(key)
    {
        let names: Vec<String> = services().map(|s| s.key.to_string()).collect();
        return Err(DrainError::NoService {
            service: *key,
            suggestion: suggest::did_you_mean(&key.to_string(), names.iter().map(String::as_str)),
            known: listing("services", &names),
        });
    }
    let found: Vec<(ServiceKey, &Dest)> = services()
        .filter(|s| service.is_none_or(|k| *k == s.key))
        .flat_map(|s| s.dests.values().map(move |d| (s.key, d)))
        .filter(|(_, d)| target.matches(&d.key))
        .collect();
    if !found.is_empty() {
        return Ok(found);
    }
    let candidates: Vec<(ServiceKey, DestKey)> = services()
        .filter(|s| service.is_none_or(|k| *k == s.key))
        .flat_map(|s| s.dests.keys().map(move |d| (s.key, *d)))
        .collect();
    let typed = target.to_string();
    let words: Vec<String> = candidates
        .iter()
        .map(|(_, d)| match target.port {
            Some(_) => d.to_string(),
            None => d.address.to_string(),
        })
        .collect();
    let known: Vec<String> = candidates
        .iter()
        .map(|(s, d)| format!("{d} ({s})"))
        .collect();
    Err(DrainError::NoMatch {
        what: match service {
            Some(s) => format!("`{typed}` of `{s}`"),
            None => format!("`{typed}`"),
        },
        suggestion: suggest::did_you_mean(&typed, words.iter().map(String::as_str)),
        known: listing(
            match service {
                Some(_) => "real servers of the service",
                None => "real servers",
            },
            &known,
        ),
    })
}

/// `the kernel's real servers: a, b, c and 7 more`, or that there are none.
fn listing(what: &str, names: &[String]) -> String {
    const SHOWN: usize = 8;
    match names.len() {
        0 => format!("the kernel has no {what}"),
        n if n <= SHOWN => format!("the kernel's {what}: {}", names.join(", ")),
        n => format!(
            "the kernel's {what}: {} and {} more",
            names[..SHOWN].join(", "),
            n - SHOWN
        ),
    }
}

/// Sets the weights named, in merge mode and nothing else; `Ok(false)` when the
/// kernel held them already. The caller holds the apply lock.
fn set_weights(
    live: &mut Live,
    observed: Observed,
    weights: &[(ServiceKey, DestKey, u32)],
    record: Record,
) -> Result<bool, CliError> {
    // Only IPVS weights change, so what table `inet lvsh` holds besides lvsh's marks
    // is no concern here (an apply would refuse to merge next to it).
    let observed = Observed {
        balancer: observed.balancer,
        foreign: vec![],
    };
    let desired = reweighed(&observed.balancer, weights);
    let plan = plan::diff(&desired, &observed.balancer, Mode::Merge);
    if plan.is_empty() {
        return Ok(false);
    }
    let steps = Steps::from_plan(&plan, &observed.balancer);
    let prepared = Prepared {
        observed,
        plan,
        steps,
    };
    let journal = live.journal();
    apply::execute(
        &mut live.kernel(),
        prepared,
        &desired,
        Mode::Merge,
        Some((&journal, record)),
    )?;
    Ok(true)
}

/// Puts the drain records of `keys` back as `before` had them, after a failed write.
fn restore_records(store: &Store, before: &Runtime, keys: &[(ServiceKey, DestKey)]) {
    if let Err(e) = write_drains(store, before, keys) {
        eprintln!(
            "warning: the kernel is as before, but the run-time state could not be put back: {e}"
        );
    }
}

/// Writes the drain records of `keys` as `from` has them; `lvsh watch` may have
/// written the file since it was read, so only these records change.
fn write_drains(
    store: &Store,
    from: &Runtime,
    keys: &[(ServiceKey, DestKey)],
) -> Result<(), crate::watch::StoreError> {
    store.update(|now| {
        for (s, d) in keys {
            now.entry(*s, *d).drain = from.drain(s, d).cloned();
        }
        now.prune();
    })
}

fn record(command: &str, target: &Target, service: Option<&ServiceKey>) -> Record {
    Record {
        command: match service {
            Some(s) => format!("{command} {target} --service '{s}'"),
            None => format!("{command} {target}"),
        },
        ..Record::default()
    }
}

/// `lvsh drain ADDR[:PORT] [--service KEY] [--deadline DUR] [--remove]`.
pub fn drain(
    ctx: &Context,
    target: &Target,
    service: Option<&ServiceKey>,
    deadline: Option<Duration>,
    remove: bool,
) -> Result<i32, CliError> {
    let mut live = Live::open(ctx)?;
    let _lock = ApplyLock::acquire_waiting(ctx.netns.as_deref(), PATIENCE)?;
    live.warn_interrupted(true);
    let observed = live.read()?;
    let found = resolve(&observed.balancer, target, service)?;
    let store = Store::for_netns(ctx.netns.as_deref());
    let before = store.load()?;
    let drained = |(s, d): &(ServiceKey, &Dest)| {
        before
            .drain(s, &d.key)
            .filter(|dr| dr.state == DrainState::Drained)
    };
    if let Some(dr) = drained(&found[0])
        && found.iter().all(|f| drained(f).is_some())
    {
        return Err(DrainError::AlreadyDrained {
            what: server(&found[0].0, &found[0].1.key),
            since: format_time(dr.ended.unwrap_or(dr.started)),
            target: *target,
        }
        .into());
    }
    let now = journal_now();
    let deadline = deadline.map(|d| now.saturating_add(d.as_secs()));
    let mut runtime = before.clone();
    let mut lines = String::new();
    let mut weights = vec![];
    let persistent = |s: &ServiceKey| {
        observed
            .balancer
            .services
            .get(s)
            .is_some_and(|svc| svc.persistence.is_some())
    };
    for (s, d) in &found {
        let what = server(s, &d.key);
        if let Some(old) = before.drain(s, &d.key) {
            let when = format_time(old.ended.unwrap_or(old.started));
            lines.push_str(&format!(
                "{what}: {} already, since {when}; nothing changed\n",
                old.state.name()
            ));
            continue;
        }
        runtime.entry(*s, d.key).drain = Some(Drain {
            state: DrainState::Draining,
            started: now,
            deadline,
            prior_weight: d.weight,
            remove,
            ended: None,
            outcome: None,
        });
        weights.push((*s, d.key, 0));
        let c = d.counters;
        let mut conns = format!(
            "{} active / {} inactive connection{}",
            c.active,
            c.inactive,
            if c.inactive == 1 { "" } else { "s" }
        );
        if persistent(s) {
            conns.push_str(&format!(
                ", {}",
                count(c.persistent, "persistence template")
            ));
        }
        let until = match deadline {
            Some(t) => format!("deadline {}", format_time(t)),
            None => "no deadline (it waits for its connections however long they last)".into(),
        };
        let then = if remove { ", removed once drained" } else { "" };
        lines.push_str(&format!(
            "draining {what}: weight {} -> 0, {conns}, {until}{then}\n",
            d.weight
        ));
    }
    if !weights.is_empty() {
        // Recorded first: a drain cut off here is still held by every later apply.
        let keys: Vec<_> = weights.iter().map(|(s, d, _)| (*s, *d)).collect();
        write_drains(&store, &runtime, &keys)?;
        if let Err(e) = set_weights(
            &mut live,
            observed.clone(),
            &weights,
            record("drain", target, service),
        ) {
            restore_records(&store, &before, &keys);
            return Err(e);
        }
    }
    ctx.out(&lines)?;
    if !weights.is_empty() && !ApplyLock::watch_running(ctx.netns.as_deref()) {
        let removal = if remove {
            " nor removes the server"
        } else {
            ""
        };
        ctx.note(&format!(
            "note: `lvsh watch` is not running in this namespace: the weight stays 0 and every \
             apply keeps it, but nothing marks the drain done{removal}; `lvsh status` shows the \
             connections left\n"
        ));
    }
    Ok(0)
}

/// `lvsh undrain ADDR[:PORT] [--service KEY]`.
pub fn undrain(
    ctx: &Context,
    target: &Target,
    service: Option<&ServiceKey>,
) -> Result<i32, CliError> {
    let mut live = Live::open(ctx)?;
    let _lock = ApplyLock::acquire_waiting(ctx.netns.as_deref(), PATIENCE)?;
    live.warn_interrupted(true);
    let observed = live.read()?;
    let store = Store::for_netns(ctx.netns.as_deref());
    let before = store.load()?;
    // Drains of servers the kernel no longer has (removed once drained) are undone
    // in the record only.
    let gone: Vec<(ServiceKey, DestKey)> = before
        .servers
        .values()
        .filter(|r| r.drain.is_some() && target.matches(&r.dest))
        .filter(|r| service.is_none_or(|k| *k == r.service))
        .filter(|r| {
            observed
                .balancer
                .services
                .get(&r.service)
                .is_none_or(|s| !s.dests.contains_key(&r.dest))
        })
        .map(|r| (r.service, r.dest))
        .collect();
    let found = match resolve(&observed.balancer, target, service) {
        Ok(found) => found,
        Err(_) if !gone.is_empty() => vec![],
        Err(e) => return Err(e.into()),
    };
    let drained: Vec<(ServiceKey, &Dest, &Drain)> = found
        .iter()
        .filter_map(|(s, d)| Some((*s, *d, before.drain(s, &d.key)?)))
        .collect();
    if drained.is_empty() && gone.is_empty() {
        let (s, d) = found[0];
        let what = match found.len() {
            1 => server(&s, &d.key),
            n => format!("none of the {n} real servers `{target}` names"),
        };
        return Err(DrainError::NotDrained { what }.into());
    }
    let mut runtime = before.clone();
    let mut lines = String::new();
    let mut weights = vec![];
    for (s, d, dr) in &drained {
        runtime.entry(*s, d.key).drain = None;
        weights.push((*s, d.key, dr.prior_weight));
        let when = format_time(dr.ended.unwrap_or(dr.started));
        lines.push_str(&format!(
            "undraining {}: weight {} -> {} ({} since {when})\n",
            server(s, &d.key),
            d.weight,
            dr.prior_weight,
            dr.state.name()
        ));
    }
    for (s, d) in &gone {
        runtime.entry(*s, *d).drain = None;
        lines.push_str(&format!(
            "undraining {}: only its record, the kernel no longer has it; an apply of a \
             script that names it adds it again\n",
            server(s, d)
        ));
    }
    runtime.prune();
    // Released first: a cut-off undrain leaves a weight the next apply sets right.
    let mut keys: Vec<_> = weights.iter().map(|(s, d, _)| (*s, *d)).collect();
    keys.extend(gone.iter().copied());
    write_drains(&store, &runtime, &keys)?;
    if let Err(e) = set_weights(
        &mut live,
        observed.clone(),
        &weights,
        record("undrain", target, service),
    ) {
        restore_records(&store, &before, &keys);
        return Err(e);
    }
    ctx.out(&lines)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    #[test]
    fn targets_are_addresses_with_or_without_a_port() {
        let t = parse_target("192.168.10.12").unwrap();
        assert_eq!(
            (t.address.to_string(), t.port),
            ("192.168.10.12".into(), None)
        );
        assert_eq!(parse_target("192.168.10.12:80").unwrap().port, Some(80));
        assert_eq!(parse_target("[2001:db8::12]:80").unwrap().port, Some(80));
        assert_eq!(parse_target("2001:db8::12").unwrap().port, None);
        assert_eq!(parse_target("[2001:db8::12]").unwrap().port, None);
        assert_eq!(
            parse_target("[2001:db8::12]:80").unwrap().to_string(),
            "[2001:db8::12]:80"
        );
        for bad in ["rs2", "192.168.10.300", "192.168.10.12:x", ""] {
            let e = parse_target(bad).unwrap_err();
            assert!(e.contains("is not a real server's address"), "{bad}: {e}");
        }
    }

    #[test]
    fn services_are_read_as_plan_prints_them_and_as_operators_type_them() {
        let tcp80 = ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), 80);
        for s in [
            "tcp 192.168.10.120:80",
            "TCP 192.168.10.120:80",
            "tcp:192.168.10.120:80",
            "192.168.10.120:80",
            " tcp  192.168.10.120:80 ",
        ] {
            assert_eq!(parse_service(s).unwrap(), tcp80, "{s}");
        }
        let udp = ServiceKey::inet(Protocol::Udp, "2001:db8::1".parse().unwrap(), 53);
        assert_eq!(parse_service("udp [2001:db8::1]:53").unwrap(), udp);
        assert_eq!(parse_service("udp:[2001:db8::1]:53").unwrap(), udp);
        let mark = ServiceKey::fwmark(Family::Inet, 10);
        for s in ["fwmark 10", "fwmark:10", "mark:10", "fwmark 10 ipv4"] {
            assert_eq!(parse_service(s).unwrap(), mark, "{s}");
        }
        assert_eq!(
            parse_service("fwmark 10 ipv6").unwrap(),
            ServiceKey::fwmark(Family::Inet6, 10)
        );
        // What plan prints reads back.
        for key in [tcp80, udp, mark, ServiceKey::fwmark(Family::Inet6, 7)] {
            assert_eq!(parse_service(&key.to_string()).unwrap(), key);
        }
        for bad in [
            "http 192.168.10.120:80",
            "192.168.10.120",
            "fwmark 0",
            "fwmark ten",
            "fwmark 10 ipv7",
            "",
        ] {
            let e = parse_service(bad).unwrap_err();
            assert!(e.contains("is not a service; e.g."), "{bad}: {e}");
        }
    }

    #[test]
    fn deadlines_are_human_durations() {
        assert_eq!(parse_deadline("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_deadline("1h 30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_deadline("10").unwrap_err().contains("e.g. `90s`"));
    }

    fn kernel() -> Balancer {
        let mut b = Balancer::default();
        for (proto, port) in [(Protocol::Tcp, 80), (Protocol::Tcp, 443)] {
            let key = ServiceKey::inet(proto, "192.168.10.120".parse().unwrap(), port);
            let mut s = Service::new(key);
            for last in [11, 12] {
                let d = Dest::new(DestKey {
                    address: format!("192.168.10.{last}").parse().unwrap(),
                    port,
                });
                s.dests.insert(d.key, d);
            }
            b.services.insert(key, s);
        }
        b
    }

    #[test]
    fn an_address_names_every_port_and_a_service_narrows_it() {
        let b = kernel();
        let rs2 = parse_target("192.168.10.12").unwrap();
        let found = resolve(&b, &rs2, None).unwrap();
        let names: Vec<String> = found.iter().map(|(s, d)| server(s, &d.key)).collect();
        assert_eq!(
            names,
            [
                "rs 192.168.10.12:80 of tcp 192.168.10.120:80",
                "rs 192.168.10.12:443 of tcp 192.168.10.120:443"
            ]
        );
        let https = parse_service("192.168.10.120:443").unwrap();
        assert_eq!(resolve(&b, &rs2, Some(&https)).unwrap().len(), 1);
        let port = parse_target("192.168.10.12:443").unwrap();
        assert_eq!(resolve(&b, &port, None).unwrap().len(), 1);
    }

    #[test]
    fn the_probe_services_of_watch_are_never_drained() {
        let mut b = kernel();
        let mark = ServiceKey::fwmark(Family::Inet, *crate::model::PROBE_MARKS.start());
        let mut steer = Service::new(mark);
        let rs2 = DestKey {
            address: "192.168.10.12".parse().unwrap(),
            port: 80,
        };
        steer.dests.insert(rs2, Dest::new(rs2));
        b.services.insert(mark, steer);
        let found = resolve(&b, &parse_target("192.168.10.12:80").unwrap(), None).unwrap();
        let names: Vec<String> = found.iter().map(|(s, d)| server(s, &d.key)).collect();
        assert_eq!(names, ["rs 192.168.10.12:80 of tcp 192.168.10.120:80"]);
        let e = resolve(&b, &parse_target("192.168.10.12").unwrap(), Some(&mark)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`fwmark 1280704512` steers the probes of a `via_vip()` check; it is not drained"
        );
        let e = resolve(&b, &parse_target("192.168.10.13").unwrap(), None).unwrap_err();
        let DrainError::NoMatch { known, .. } = e else {
            panic!("{e:?}")
        };
        assert!(!known.contains("fwmark"), "{known}");
    }

    #[test]
    fn nothing_matched_lists_what_there_is_with_a_suggestion() {
        let b = kernel();
        let e = resolve(&b, &parse_target("192.168.1.12").unwrap(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no real server `192.168.1.12` in the kernel, did you mean `192.168.10.12`?"
        );
        let DrainError::NoMatch { known, .. } = e else {
            panic!("{e:?}")
        };
        assert!(
            known.starts_with(
                "the kernel's real servers: 192.168.10.11:80 (tcp 192.168.10.120:80), "
            ),
            "{known}"
        );
        let other = parse_service("tcp 192.168.10.121:80").unwrap();
        let e = resolve(&b, &parse_target("192.168.10.12").unwrap(), Some(&other)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no service `tcp 192.168.10.121:80` in the kernel, did you mean \
             `tcp 192.168.10.120:80`?"
        );
        let e = resolve(
            &Balancer::default(),
            &parse_target("10.0.0.1").unwrap(),
            None,
        )
        .unwrap_err();
        let DrainError::NoMatch { known, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(known, "the kernel has no real servers");
    }
}
