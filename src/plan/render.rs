//! The plan as text for people, one object per line:
//!
//! ```text
//! + service tcp 192.168.10.120:80   rr persist 120
//! +   rs 192.168.10.11:80           dr weight 1
//! ~ service tcp 192.168.10.120:443  scheduler wlc → rr, persist 300 → 1200
//! Plan: 2 to add, 1 to change, 0 to delete.
//! ```
//!
//! Display order is not apply order: each service is followed by its real servers
//! (under an unsigned context line when only they change), then come marks, timeouts
//! and sync daemons. A deleted service lists the real servers that go with it.

use super::{Action, Change, Object, Plan, Snapshot};
use crate::model::{
    DaemonState, Dest, DestKey, Family, MarkRule, Service, ServiceKey, SyncDaemon, Timeouts,
};
use std::fmt::{Display, Write};

const EMPTY: &str = "No changes. The kernel matches the script.\n";

/// Labels longer than this do not widen the column for every other line.
const MAX_LABEL: usize = 44;

impl Plan {
    /// Human-readable text; every line, the closing summary included, ends in `\n`.
    /// `color` adds ANSI colors: green additions, yellow edits, red deletions.
    pub fn render(&self, color: bool) -> String {
        if self.is_empty() {
            return EMPTY.to_string();
        }
        let mut lines = Vec::with_capacity(self.changes.len() + 8);
        services(&self.changes, &mut lines);
        marks(&self.changes, &mut lines);
        for c in &self.changes {
            if let (Object::Timeouts, Some(Snapshot::Timeouts(b)), Some(Snapshot::Timeouts(a))) =
                (&c.object, &c.before, &c.after)
            {
                lines.push(Line::new(
                    Sign::Edit,
                    "timeouts".into(),
                    timeouts_edit(b, a),
                ));
            }
        }
        daemons(&self.changes, &mut lines);

        let width = lines
            .iter()
            .map(|l| l.label.chars().count())
            .filter(|&n| n <= MAX_LABEL)
            .max()
            .unwrap_or(0);
        let mut out = String::with_capacity(lines.len() * 64);
        for l in &lines {
            l.write(&mut out, width, color);
        }
        let (add, change, delete) = self.counts();
        let head = if color {
            "\x1b[1mPlan:\x1b[0m"
        } else {
            "Plan:"
        };
        let _ = writeln!(
            out,
            "{head} {add} to add, {change} to change, {delete} to delete."
        );
        out
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sign {
    Add,
    Edit,
    Delete,
    /// An unchanged object shown so that the lines under it have a home.
    Context,
}

impl Sign {
    fn of(action: Action) -> Self {
        match action {
            Action::Add => Sign::Add,
            Action::Edit => Sign::Edit,
            Action::Delete => Sign::Delete,
        }
    }
}

struct Line {
    sign: Sign,
    label: String,
    detail: String,
}

impl Line {
    fn new(sign: Sign, label: String, detail: String) -> Self {
        Line {
            sign,
            label,
            detail,
        }
    }

    fn write(&self, out: &mut String, width: usize, color: bool) {
        let (mark, code) = match self.sign {
            Sign::Add => ('+', "32"),
            Sign::Edit => ('~', "33"),
            Sign::Delete => ('-', "31"),
            Sign::Context => (' ', ""),
        };
        let color = color && !code.is_empty();
        if color {
            let _ = write!(out, "\x1b[{code}m");
        }
        out.push(mark);
        out.push(' ');
        out.push_str(&self.label);
        if !self.detail.is_empty() {
            let pad = width.saturating_sub(self.label.chars().count()) + 2;
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&self.detail);
        }
        if color {
            out.push_str("\x1b[0m");
        }
        out.push('\n');
    }
}

// ---- services and real servers ----

fn services(changes: &[Change], lines: &mut Vec<Line>) {
    let mut rows: Vec<(&ServiceKey, Option<&DestKey>, &Change)> = changes
        .iter()
        .filter_map(|c| match &c.object {
            Object::Service(k) => Some((k, None, c)),
            Object::Dest(k, d) => Some((k, Some(d), c)),
            _ => None,
        })
        .collect();
    rows.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

    let mut current: Option<&ServiceKey> = None;
    for (svc, dest, c) in rows {
        if current != Some(svc) {
            current = Some(svc);
            if dest.is_some() {
                lines.push(Line::new(Sign::Context, service_label(svc), String::new()));
            }
        }
        let sign = Sign::of(c.action);
        match (dest, &c.before, &c.after) {
            (None, _, Some(Snapshot::Service(a))) => {
                let detail = match &c.before {
                    Some(Snapshot::Service(b)) => service_edit(b, a),
                    _ => service_desc(a),
                };
                lines.push(Line::new(sign, service_label(svc), detail));
            }
            (None, Some(Snapshot::Service(b)), None) => {
                let mut detail = service_desc(b);
                match b.dests.len() {
                    0 => {}
                    1 => detail.push_str(" (and its real server)"),
                    n => {
                        let _ = write!(detail, " (and its {n} real servers)");
                    }
                }
                lines.push(Line::new(sign, service_label(svc), detail));
                for d in b.dests.values() {
                    lines.push(Line::new(sign, dest_label(&d.key), dest_desc(d)));
                }
            }
            (Some(dk), Some(Snapshot::Dest(b)), Some(Snapshot::Dest(a))) => {
                lines.push(Line::new(sign, dest_label(dk), dest_edit(b, a)));
            }
            (Some(dk), _, Some(Snapshot::Dest(d))) | (Some(dk), Some(Snapshot::Dest(d)), _) => {
                lines.push(Line::new(sign, dest_label(dk), dest_desc(d)));
            }
            _ => lines.push(Line::new(sign, service_label(svc), String::new())),
        }
    }
}

fn service_label(key: &ServiceKey) -> String {
    format!("service {key}")
}

fn dest_label(key: &DestKey) -> String {
    format!("  rs {key}")
}

/// `rr flags sh-port persist 120 netmask 255.255.255.0 pe sip ops`.
fn service_desc(s: &Service) -> String {
    let mut out = s.scheduler.name().to_string();
    if !s.flags.is_empty() {
        let _ = write!(out, " flags {}", flags(s));
    }
    if let Some(p) = s.persistence {
        let _ = write!(out, " persist {p}");
    }
    if let Some(m) = s.netmask {
        let _ = write!(out, " netmask {m}");
    }
    if let Some(pe) = s.pe {
        let _ = write!(out, " pe {}", pe.name());
    }
    if s.one_packet {
        out.push_str(" ops");
    }
    out
}

fn flags(s: &Service) -> String {
    if s.flags.is_empty() {
        "none".into()
    } else {
        s.flags.names(s.scheduler).join(",")
    }
}

fn service_edit(b: &Service, a: &Service) -> String {
    let mut e = Edits::default();
    e.field("scheduler", &b.scheduler, &a.scheduler);
    if b.flags != a.flags {
        e.push("flags", flags(b), flags(a));
    }
    e.field("persist", &or_off(b.persistence), &or_off(a.persistence));
    e.field("netmask", &b.effective_netmask(), &a.effective_netmask());
    e.field(
        "pe",
        &b.pe.map_or("none", |p| p.name()),
        &a.pe.map_or("none", |p| p.name()),
    );
    e.field("ops", &on_off(b.one_packet), &on_off(a.one_packet));
    e.finish()
}

/// `dr weight 1`, `tun gue port 6080 csum weight 5 u_threshold 100`.
fn dest_desc(d: &Dest) -> String {
    let mut out = format!("{} weight {}", d.forward, d.weight);
    if d.upper_threshold != 0 {
        let _ = write!(out, " u_threshold {}", d.upper_threshold);
    }
    if d.lower_threshold != 0 {
        let _ = write!(out, " l_threshold {}", d.lower_threshold);
    }
    out
}

fn dest_edit(b: &Dest, a: &Dest) -> String {
    let mut e = Edits::default();
    e.field("forward", &b.forward, &a.forward);
    if b.weight != a.weight {
        let new = if a.weight == 0 {
            "0 (no new connections)".to_string()
        } else {
            a.weight.to_string()
        };
        e.push("weight", b.weight.to_string(), new);
    }
    e.field("u_threshold", &b.upper_threshold, &a.upper_threshold);
    e.field("l_threshold", &b.lower_threshold, &a.lower_threshold);
    e.finish()
}

// ---- marks ----

fn marks(changes: &[Change], lines: &mut Vec<Line>) {
    let mut rows: Vec<(u32, &Change)> = changes
        .iter()
        .filter_map(|c| match c.object {
            Object::Mark(m) => Some((m, c)),
            _ => None,
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    for (mark, c) in rows {
        let detail = match (&c.before, &c.after) {
            (Some(Snapshot::Mark(b)), Some(Snapshot::Mark(a))) => mark_edit(b, a),
            (_, Some(Snapshot::Mark(m))) | (Some(Snapshot::Mark(m)), _) => mark_desc(m),
            _ => String::new(),
        };
        lines.push(Line::new(
            Sign::of(c.action),
            format!("mark {mark}"),
            detail,
        ));
    }
}

/// The rule in nft's words: `ip daddr 192.168.10.120 tcp dport {80, 443} → fwmark 10`.
fn mark_desc(m: &MarkRule) -> String {
    let families = m.families();
    let daddr = match families.iter().next() {
        Some(Family::Inet) if families.len() == 1 => "ip daddr",
        Some(Family::Inet6) if families.len() == 1 => "ip6 daddr",
        _ => "daddr",
    };
    let mut out = format!("{daddr} {}", set(&m.addresses));
    if !m.ports.is_empty() {
        if m.protocols.len() == 1 {
            let _ = write!(out, " {} dport {}", set(&m.protocols), set(&m.ports));
        } else {
            let _ = write!(
                out,
                " meta l4proto {} th dport {}",
                set(&m.protocols),
                set(&m.ports)
            );
        }
    }
    if let Some(c) = &m.comment {
        let _ = write!(out, " comment {c:?}");
    }
    let _ = write!(out, " → fwmark {}", m.mark);
    out
}

fn mark_edit(b: &MarkRule, a: &MarkRule) -> String {
    let ports = |m: &MarkRule| {
        if m.ports.is_empty() {
            "any".to_string()
        } else {
            set(&m.ports)
        }
    };
    let mut e = Edits::default();
    e.push("daddr", set(&b.addresses), set(&a.addresses));
    if !(b.ports.is_empty() && a.ports.is_empty()) {
        e.push("protocols", set(&b.protocols), set(&a.protocols));
    }
    e.push("dport", ports(b), ports(a));
    let comment = |m: &MarkRule| {
        m.comment
            .as_ref()
            .map_or("none".into(), |c| format!("{c:?}"))
    };
    e.push("comment", comment(b), comment(a));
    e.finish()
}

/// `80`, or `{80, 443}` for several items, as nft writes sets.
fn set<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    match items.as_slice() {
        [one] => one.clone(),
        _ => format!("{{{}}}", items.join(", ")),
    }
}

// ---- timeouts and daemons ----

fn timeouts_edit(b: &Timeouts, a: &Timeouts) -> String {
    let show = |v: Option<u32>| v.map_or("unknown".into(), |v| v.to_string());
    let mut e = Edits::default();
    e.push("tcp", show(b.tcp), show(a.tcp));
    e.push("tcpfin", show(b.tcp_fin), show(a.tcp_fin));
    e.push("udp", show(b.udp), show(a.udp));
    e.finish()
}

fn daemons(changes: &[Change], lines: &mut Vec<Line>) {
    let mut rows: Vec<(DaemonState, &Change)> = changes
        .iter()
        .filter_map(|c| match c.object {
            Object::Daemon(s) => Some((s, c)),
            _ => None,
        })
        .collect();
    // A restart reads top-down: the old daemon stops, then the new one starts.
    rows.sort_by_key(|(s, c)| (*s, c.action != Action::Delete));
    let restarted = |s: DaemonState| rows.iter().filter(|(r, _)| *r == s).count() == 2;
    let old = |s: DaemonState| {
        rows.iter().find_map(|(r, c)| match &c.before {
            Some(Snapshot::Daemon(d)) if *r == s => Some(d),
            _ => None,
        })
    };
    for (state, c) in &rows {
        let label = format!("sync daemon {state}");
        let detail = match (&c.before, &c.after) {
            (_, Some(Snapshot::Daemon(new))) => {
                let mut detail = daemon_desc(new);
                if let Some(old) = old(*state).filter(|_| restarted(*state)) {
                    let _ = write!(detail, " (restart: {})", daemon_edit(old, new));
                }
                detail
            }
            (Some(Snapshot::Daemon(d)), None) => {
                let mut detail = daemon_desc(d);
                if restarted(*state) {
                    detail.push_str(
                        " (stopped and started again: a running daemon cannot be changed)",
                    );
                }
                detail
            }
            _ => String::new(),
        };
        lines.push(Line::new(Sign::of(c.action), label, detail));
    }
}

/// `on eth0 syncid 1 maxlen 1472 group 224.0.0.81 port 8848 ttl 1`, unset fields left out.
fn daemon_desc(d: &SyncDaemon) -> String {
    let mut out = format!("on {} syncid {}", d.interface, d.syncid);
    if let Some(v) = d.maxlen {
        let _ = write!(out, " maxlen {v}");
    }
    if let Some(v) = d.group {
        let _ = write!(out, " group {v}");
    }
    if let Some(v) = d.port {
        let _ = write!(out, " port {v}");
    }
    if let Some(v) = d.ttl {
        let _ = write!(out, " ttl {v}");
    }
    out
}

/// What a restart changes: the fields the new daemon sets differently.
fn daemon_edit(old: &SyncDaemon, new: &SyncDaemon) -> String {
    fn opt<T: Display + PartialEq>(e: &mut Edits, name: &str, old: &Option<T>, new: &Option<T>) {
        if let Some(n) = new {
            let o = old.as_ref().map_or("default".into(), |o| o.to_string());
            e.push(name, o, n.to_string());
        }
    }
    let mut e = Edits::default();
    e.field("interface", &old.interface, &new.interface);
    e.field("syncid", &old.syncid, &new.syncid);
    opt(&mut e, "maxlen", &old.maxlen, &new.maxlen);
    opt(&mut e, "group", &old.group, &new.group);
    opt(&mut e, "port", &old.port, &new.port);
    opt(&mut e, "ttl", &old.ttl, &new.ttl);
    e.finish()
}

// ---- helpers ----

/// `name old → new` for each field that differs, comma-separated.
#[derive(Default)]
struct Edits(Vec<String>);

impl Edits {
    fn push(&mut self, name: &str, old: String, new: String) {
        if old != new {
            self.0.push(format!("{name} {old} → {new}"));
        }
    }

    fn field<T: Display + PartialEq + ?Sized>(&mut self, name: &str, old: &T, new: &T) {
        if old != new {
            self.0.push(format!("{name} {old} → {new}"));
        }
    }

    fn finish(self) -> String {
        self.0.join(", ")
    }
}

fn or_off(v: Option<u32>) -> String {
    v.map_or("off".into(), |v| v.to_string())
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

#[cfg(test)]
mod tests;
