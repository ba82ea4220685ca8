//! `lvsh status`: every real server of the live kernel with its weights, health and
//! drain, as text or as JSON (the format is described on [`to_json`]).

use super::{CliError, Context, live::Live};
use crate::{
    apply::{ApplyLock, format_time, journal_now},
    model::{DestCounters, DestKey, Drain, HealthState, ProbeResult, ServiceKey},
    watch::{ServerStatus, Status, Store, drain, status},
};
use serde::Serialize;
use std::fmt::Write as _;

pub fn run(ctx: &Context, json: bool) -> Result<i32, CliError> {
    let mut live = Live::open(ctx)?;
    let observed = live.read()?;
    let runtime = Store::for_netns(ctx.netns.as_deref()).load()?;
    let watch = ApplyLock::watch_running(ctx.netns.as_deref());
    let st = status::status(&observed.balancer, &runtime, watch, journal_now());
    ctx.out(&if json { to_json(&st) } else { to_text(&st) })?;
    Ok(0)
}

/// The status for people: whether watch runs, then each service of the kernel
/// with one line per real server, then the recorded servers the kernel lacks.
///
/// ```text
/// lvsh watch is running in this namespace.
/// service tcp 192.168.10.120:80
///   rs 192.168.10.11:80  weight 10 (script 10), up since 2026-12-03 10:42:07 UTC (status 200, 2 ms)
///   rs 192.168.10.12:80  weight 0 (script 10), unchecked, draining since 2026-12-03 10:50:00 UTC: 1 active / 0 inactive connections (1 left), no deadline
/// ```
pub fn to_text(st: &Status) -> String {
    let mut out = String::new();
    out.push_str(if st.watch_running {
        "lvsh watch is running in this namespace.\n"
    } else {
        "lvsh watch is not running in this namespace: health is as it last saw it, and drains \
         do not move on.\n"
    });
    if st.services.is_empty() {
        out.push_str("The kernel has no services.\n");
    }
    let width = st
        .services
        .iter()
        .flat_map(|s| &s.servers)
        .map(|r| r.dest.to_string().len())
        .max()
        .unwrap_or(0);
    for s in &st.services {
        let persist = if s.persistent { " (persistent)" } else { "" };
        let _ = writeln!(out, "service {}{persist}", s.service);
        for r in &s.servers {
            let label = format!("rs {:width$}", r.dest.to_string());
            let _ = writeln!(out, "  {label}  {}", server_text(r, s.persistent));
        }
    }
    if !st.gone.is_empty() {
        out.push_str("Recorded, but no longer in the kernel:\n");
        for r in &st.gone {
            let _ = writeln!(
                out,
                "  rs {} of {}: {}",
                r.dest,
                r.service,
                server_text(r, false)
            );
        }
    }
    out
}

/// `weight 0 (script 10), down since ... (status 503, 12 ms), draining since ...`.
fn server_text(r: &ServerStatus, persistent: bool) -> String {
    let script = r.script_weight.map_or("-".into(), |w| w.to_string());
    let mut parts = vec![];
    match (r.weight, r.script_weight) {
        (Some(w), _) => parts.push(format!("weight {w} (script {script})")),
        (None, Some(s)) => parts.push(format!("script weight {s}")),
        (None, None) => {}
    }
    parts.push(match &r.health {
        None => "unchecked".into(),
        Some(h) => {
            let last = h
                .last
                .as_ref()
                .map(|p| format!(" ({}, {} ms)", p.reason, p.latency_ms))
                .unwrap_or_default();
            format!("{} since {}{last}", h.state.name(), format_time(h.since))
        }
    });
    if let Some(d) = &r.drain {
        parts.push(drain_text(d, r.connections.as_ref(), persistent));
        if let Some(end) = &r.drain_ends {
            let why = end.outcome.as_deref().unwrap_or("");
            parts.push(format!("ends now: {why} (`lvsh watch` records it)"));
        }
    }
    parts.join(", ")
}

fn drain_text(d: &Drain, counters: Option<&DestCounters>, persistent: bool) -> String {
    match d.ended {
        Some(ended) => {
            let why = d
                .outcome
                .as_deref()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default();
            let then = match (d.remove, counters) {
                (false, _) => "",
                (true, Some(_)) => ", to be removed",
                (true, None) => ", removed",
            };
            format!("drained since {}{why}{then}", format_time(ended))
        }
        None => {
            let mut text = format!("draining since {}", format_time(d.started));
            if let Some(c) = counters {
                let _ = write!(
                    text,
                    ": {} active / {} inactive connections",
                    c.active, c.inactive
                );
                if persistent {
                    let _ = write!(text, ", {} persistence templates", c.persistent);
                }
                let _ = write!(text, " ({} left)", drain::remaining(c, persistent));
            }
            match d.deadline {
                Some(t) => {
                    let _ = write!(text, ", deadline {}", format_time(t));
                }
                None => text.push_str(", no deadline"),
            }
            if d.remove {
                text.push_str(", removed once drained");
            }
            text
        }
    }
}

/// The status as JSON. Every field is always there (`null` when unknown), and fields
/// are only ever added:
///
/// ```json
/// {
///   "watch_running": false,
///   "services": [
///     {
///       "service": {"protocol": "tcp", "address": "192.168.10.120", "port": 80},
///       "persistent": false,
///       "servers": [
///         {
///           "dest": {"address": "192.168.10.12", "port": 80},
///           "weight": 0,
///           "script_weight": 10,
///           "connections": {"active": 1, "inactive": 0, "persistent": 0},
///           "health": {"state": "down", "since": 1796300000,
///                      "last": {"ok": false, "at": 1796300010, "latency_ms": 12, "reason": "status 503"}},
///           "drain": {"state": "draining", "started": 1796300100, "deadline": null,
///                     "prior_weight": 10, "remove": false, "ended": null, "outcome": null,
///                     "ends_now": null}
///         }
///       ]
///     }
///   ],
///   "gone": []
/// }
/// ```
///
/// `weight`: the kernel's weight. `script_weight`: the script's, as `lvsh watch`
/// last loaded it. `health` is `null` for a server no check has decided, `last`
/// `null` before the first probe. `drain` is `null` without a drain; `ends_now` is
/// the outcome `lvsh watch` would record now (`"connections ended"`, `"deadline
/// passed with 3 connections"`), or `null` while the drain goes on. `gone` lists
/// recorded servers the kernel does not have, as `servers` does plus a `service`
/// field, with `weight` and `connections` `null`.
pub fn to_json(st: &Status) -> String {
    let doc = StatusDoc {
        watch_running: st.watch_running,
        services: st
            .services
            .iter()
            .map(|s| ServiceDoc {
                service: &s.service,
                persistent: s.persistent,
                servers: s.servers.iter().map(|r| ServerDoc::new(r, false)).collect(),
            })
            .collect(),
        gone: st.gone.iter().map(|r| ServerDoc::new(r, true)).collect(),
    };
    serde_json::to_string_pretty(&doc).expect("the status serializes") + "\n"
}

#[derive(Serialize)]
struct StatusDoc<'a> {
    watch_running: bool,
    services: Vec<ServiceDoc<'a>>,
    gone: Vec<ServerDoc<'a>>,
}

#[derive(Serialize)]
struct ServiceDoc<'a> {
    service: &'a ServiceKey,
    persistent: bool,
    servers: Vec<ServerDoc<'a>>,
}

#[derive(Serialize)]
struct ServerDoc<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<&'a ServiceKey>,
    dest: &'a DestKey,
    weight: Option<u32>,
    script_weight: Option<u32>,
    connections: Option<&'a DestCounters>,
    health: Option<HealthDoc<'a>>,
    drain: Option<DrainDoc<'a>>,
}

impl<'a> ServerDoc<'a> {
    fn new(r: &'a ServerStatus, with_service: bool) -> Self {
        ServerDoc {
            service: with_service.then_some(&r.service),
            dest: &r.dest,
            weight: r.weight,
            script_weight: r.script_weight,
            connections: r.connections.as_ref(),
            health: r.health.as_ref().map(|h| HealthDoc {
                state: h.state,
                since: h.since,
                last: h.last.as_ref(),
            }),
            drain: r.drain.as_ref().map(|d| DrainDoc {
                state: d.state.name(),
                started: d.started,
                deadline: d.deadline,
                prior_weight: d.prior_weight,
                remove: d.remove,
                ended: d.ended,
                outcome: d.outcome.as_deref(),
                ends_now: r.drain_ends.as_ref().and_then(|e| e.outcome.as_deref()),
            }),
        }
    }
}

#[derive(Serialize)]
struct HealthDoc<'a> {
    state: HealthState,
    since: u64,
    last: Option<&'a ProbeResult>,
}

#[derive(Serialize)]
struct DrainDoc<'a> {
    state: &'static str,
    started: u64,
    deadline: Option<u64>,
    prior_weight: u32,
    remove: bool,
    ended: Option<u64>,
    outcome: Option<&'a str>,
    ends_now: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Balancer, Dest, DrainState, Health, Protocol, Runtime, Service};
    use std::path::PathBuf;

    /// A kernel with a checked, a drained and an unchecked server, and a record of
    /// one the kernel no longer has.
    fn example() -> Status {
        let t0 = 1_796_300_000;
        let key = ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), 80);
        let dk = |last: u8| DestKey {
            address: format!("192.168.10.{last}").parse().unwrap(),
            port: 80,
        };
        let mut s = Service::new(key);
        s.persistence = Some(120);
        for (last, weight, active) in [(11, 10, 4), (12, 0, 1), (13, 1, 0)] {
            let mut d = Dest::new(dk(last));
            d.weight = weight;
            d.counters.active = active;
            s.dests.insert(d.key, d);
        }
        let mut kernel = Balancer::default();
        kernel.services.insert(key, s);
        let mut rt = Runtime::default();
        let one = rt.entry(key, dk(11));
        one.script_weight = Some(10);
        one.health = Some(Health {
            state: HealthState::Up,
            since: t0,
            last: Some(ProbeResult {
                ok: true,
                at: t0 + 40,
                latency_ms: 2,
                reason: "status 200".into(),
            }),
        });
        rt.entry(key, dk(12)).drain = Some(Drain {
            state: DrainState::Draining,
            started: t0 + 60,
            deadline: Some(t0 + 660),
            prior_weight: 10,
            remove: true,
            ended: None,
            outcome: None,
        });
        rt.entry(key, dk(14)).drain = Some(Drain {
            state: DrainState::Drained,
            started: t0 - 600,
            deadline: None,
            prior_weight: 5,
            remove: true,
            ended: Some(t0 - 300),
            outcome: Some("connections ended".into()),
        });
        status::status(&kernel, &rt, false, t0 + 90)
    }

    fn golden(name: &str, actual: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/status")
            .join(name);
        if std::env::var_os("LVSH_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, actual).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; bless with LVSH_BLESS=1", path.display()));
        assert_eq!(actual, expected, "differs from {}", path.display());
    }

    #[test]
    fn status_text_and_json_are_as_documented() {
        let st = example();
        golden("status.txt", &to_text(&st));
        golden("status.json", &to_json(&st));
    }

    #[test]
    fn a_drain_that_would_end_says_so() {
        let mut st = example();
        st.watch_running = true;
        let r = &mut st.services[0].servers[1];
        r.connections = Some(DestCounters::default());
        r.drain_ends =
            drain::progress(r.drain.as_ref().unwrap(), &DestCounters::default(), true, 9);
        let text = to_text(&st);
        assert!(
            text.starts_with("lvsh watch is running in this namespace.\n"),
            "{text}"
        );
        assert!(
            text.contains("ends now: connections ended (`lvsh watch` records it)"),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&to_json(&st)).unwrap();
        assert_eq!(
            v["services"][0]["servers"][1]["drain"]["ends_now"],
            "connections ended"
        );
    }
}
