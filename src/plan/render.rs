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
//! Real servers whose weight the run-time side holds come first, under a heading of
//! their own (`holds.rs`).
//! Sysctls come first, as apply sets them first: `~ sysctl conntrack  0 → 1`, or
//! `+ sysctl conntrack  1` when the state compared with does not hold it. Then the
//! addresses on interfaces: `+ address 192.168.10.120/32 on eth0`.

mod holds;
mod words;

use super::{Action, Against, Change, Object, Plan, Snapshot};
use crate::model::{DaemonState, DestKey, ServiceKey};
use std::{
    fmt::{Display, Write as _},
    io,
};
use words::{
    DaemonDesc, DaemonEdit, DestDesc, DestEdit, MarkDesc, MarkEdit, ServiceDesc, ServiceEdit,
    TimeoutsEdit,
};

/// Labels longer than this do not widen the column for every other line.
const MAX_LABEL: usize = 44;

impl Plan {
    /// Human-readable text of a plan against the kernel; every line, the closing
    /// summary included, ends in `\n`. `color` adds ANSI colors: green additions,
    /// yellow edits, red deletions.
    pub fn render(&self, color: bool) -> String {
        self.render_against(color, &Against::Kernel)
    }

    /// [`Plan::render`] of a plan against `against`, which an empty plan names.
    pub fn render_against(&self, color: bool, against: &Against) -> String {
        let mut out = Vec::with_capacity(self.changes.len() * 64 + 64);
        self.write_text_against(color, against, &mut out)
            .expect("writing to memory does not fail");
        String::from_utf8(out).expect("the plan is written as text")
    }

    /// [`Plan::render`]'s text, written to `w` line by line instead of returned: a
    /// plan of 50,000 changes is megabytes of text.
    pub fn write_text(&self, color: bool, w: &mut dyn io::Write) -> io::Result<()> {
        self.write_text_against(color, &Against::Kernel, w)
    }

    /// Only the holds, under their heading; nothing when there are none.
    pub fn write_holds(&self, color: bool, w: &mut dyn io::Write) -> io::Result<()> {
        holds::write(&self.holds, color, w)
    }

    /// [`Plan::write_text`] of a plan against `against`.
    pub fn write_text_against(
        &self,
        color: bool,
        against: &Against,
        w: &mut dyn io::Write,
    ) -> io::Result<()> {
        holds::write(&self.holds, color, w)?;
        if self.is_empty() {
            let line = if self.holds.is_empty() {
                against.no_changes()
            } else {
                against.no_changes_held()
            };
            return w.write_all(line.as_bytes());
        }
        let every_line = |lines: &mut Lines| {
            sysctls(&self.changes, lines);
            addresses(&self.changes, lines);
            services(&self.changes, lines);
            marks(&self.changes, lines);
            for c in &self.changes {
                if let (
                    Object::Timeouts,
                    Some(Snapshot::Timeouts(b)),
                    Some(Snapshot::Timeouts(a)),
                ) = (&c.object, &c.before, &c.after)
                {
                    lines.push(Sign::Edit, "timeouts", TimeoutsEdit(b, a));
                }
            }
            daemons(&self.changes, lines);
        };
        // Twice: the label column's width first, then each line straight to `w`.
        let mut measure = Lines::measuring();
        every_line(&mut measure);
        let mut lines = Lines::writing(measure.width, color, w);
        every_line(&mut lines);
        lines.result?;
        let (add, change, delete) = self.counts();
        let head = if color {
            "\x1b[1mPlan:\x1b[0m"
        } else {
            "Plan:"
        };
        writeln!(
            w,
            "{head} {add} to add, {change} to change, {delete} to delete."
        )
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

/// Where the renderers put their lines. They run twice: to measure the label
/// column (labels alone), then to write each line aligned straight to the output,
/// so that a plan of 50,000 changes (megabytes of text) is never held whole.
struct Lines<'w> {
    /// The widest label up to [`MAX_LABEL`]: measured, or the one to pad to.
    width: usize,
    /// Where lines go, and in color or not; `None` while measuring.
    out: Option<(&'w mut dyn io::Write, bool)>,
    label: String,
    detail: String,
    result: io::Result<()>,
}

impl<'w> Lines<'w> {
    fn measuring() -> Self {
        Lines {
            width: 0,
            out: None,
            label: String::new(),
            detail: String::new(),
            result: Ok(()),
        }
    }

    fn writing(width: usize, color: bool, w: &'w mut dyn io::Write) -> Self {
        Lines {
            width,
            out: Some((w, color)),
            ..Lines::measuring()
        }
    }

    fn push(&mut self, sign: Sign, label: impl Display, detail: impl Display) {
        const SPACES: &[u8] = &[b' '; MAX_LABEL + 2];
        self.label.clear();
        let _ = write!(self.label, "{label}");
        let label_width = if self.label.is_ascii() {
            self.label.len()
        } else {
            self.label.chars().count()
        };
        let Some((w, color)) = &mut self.out else {
            if label_width <= MAX_LABEL {
                self.width = self.width.max(label_width);
            }
            return;
        };
        if self.result.is_err() {
            return;
        }
        self.detail.clear();
        let _ = write!(self.detail, "{detail}");
        let (mark, code) = match sign {
            Sign::Add => ("+ ", "\x1b[32m"),
            Sign::Edit => ("~ ", "\x1b[33m"),
            Sign::Delete => ("- ", "\x1b[31m"),
            Sign::Context => ("  ", ""),
        };
        let color = *color && !code.is_empty();
        self.result = (|| {
            if color {
                w.write_all(code.as_bytes())?;
            }
            w.write_all(mark.as_bytes())?;
            w.write_all(self.label.as_bytes())?;
            if !self.detail.is_empty() {
                let pad = self.width.saturating_sub(label_width) + 2;
                w.write_all(&SPACES[..pad])?;
                w.write_all(self.detail.as_bytes())?;
            }
            if color {
                w.write_all(b"\x1b[0m")?;
            }
            w.write_all(b"\n")
        })();
    }
}

/// `sysctl NAME` with `before → after`, or the value alone when there is no before.
fn sysctls(changes: &[Change], lines: &mut Lines) {
    for c in changes {
        let Object::Sysctl(name) = &c.object else {
            continue;
        };
        let before = c.before.as_ref().and_then(Snapshot::sysctl);
        let Some(after) = c.after.as_ref().and_then(Snapshot::sysctl) else {
            continue;
        };
        let label = format!("sysctl {name}");
        match before {
            Some(b) => lines.push(Sign::Edit, label, format!("{b} → {after}")),
            None => lines.push(Sign::of(c.action), label, after),
        }
    }
}

/// `+ address 192.168.10.120/32 on eth0`, in apply order.
fn addresses(changes: &[Change], lines: &mut Lines) {
    for c in changes {
        if let Object::Address(a) = &c.object {
            lines.push(Sign::of(c.action), format_args!("address {a}"), "");
        }
    }
}

/// Services in key order, each followed by its real servers.
fn services(changes: &[Change], lines: &mut Lines) {
    fn keys(c: &Change) -> Option<(&ServiceKey, Option<&DestKey>)> {
        match &c.object {
            Object::Service(k) => Some((k, None)),
            Object::Dest(k, d) => Some((k, Some(d))),
            _ => None,
        }
    }
    let mut rows: Vec<&Change> = changes.iter().filter(|c| keys(c).is_some()).collect();
    // Stable sort: it merges the key-ordered runs a plan from `diff` has in linear time.
    rows.sort_by(|a, b| keys(a).cmp(&keys(b)));

    let mut current = None;
    for c in rows {
        let Some((svc, dest)) = keys(c) else {
            continue;
        };
        if current != Some(svc) {
            current = Some(svc);
            if dest.is_some() {
                lines.push(Sign::Context, format_args!("service {svc}"), "");
            }
        }
        let sign = Sign::of(c.action);
        match (dest, &c.before, &c.after) {
            (None, Some(Snapshot::Service(b)), Some(Snapshot::Service(a))) => {
                lines.push(sign, format_args!("service {svc}"), ServiceEdit(b, a));
            }
            (None, None, Some(Snapshot::Service(a))) => {
                lines.push(sign, format_args!("service {svc}"), ServiceDesc(a));
            }
            (None, Some(Snapshot::Service(b)), None) => {
                let gone = match b.dests.len() {
                    0 => String::new(),
                    1 => " (and its real server)".into(),
                    n => format!(" (and its {n} real servers)"),
                };
                let detail = format_args!("{}{gone}", ServiceDesc(b));
                lines.push(sign, format_args!("service {svc}"), detail);
                for d in b.dests.values() {
                    lines.push(sign, format_args!("  rs {}", d.key), DestDesc(d));
                }
            }
            (Some(dk), Some(Snapshot::Dest(b)), Some(Snapshot::Dest(a))) => {
                lines.push(sign, format_args!("  rs {dk}"), DestEdit(b, a));
            }
            (Some(dk), None, Some(Snapshot::Dest(d)))
            | (Some(dk), Some(Snapshot::Dest(d)), None) => {
                lines.push(sign, format_args!("  rs {dk}"), DestDesc(d));
            }
            // A change whose snapshots do not fit its object: show at least the object.
            (None, ..) => lines.push(sign, format_args!("service {svc}"), ""),
            (Some(dk), ..) => lines.push(sign, format_args!("  rs {dk}"), ""),
        }
    }
}

fn marks(changes: &[Change], lines: &mut Lines) {
    let mut rows: Vec<(u32, &Change)> = changes
        .iter()
        .filter_map(|c| match c.object {
            Object::Mark(m) => Some((m, c)),
            _ => None,
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    for (mark, c) in rows {
        let label = format_args!("mark {mark}");
        let sign = Sign::of(c.action);
        match (&c.before, &c.after) {
            (Some(Snapshot::Mark(b)), Some(Snapshot::Mark(a))) => {
                lines.push(sign, label, MarkEdit(b, a))
            }
            (None, Some(Snapshot::Mark(m))) | (Some(Snapshot::Mark(m)), None) => {
                lines.push(sign, label, MarkDesc(m))
            }
            _ => lines.push(sign, label, ""),
        }
    }
}

/// Daemons by role; a restart reads top-down: the old one stops, the new one starts.
fn daemons(changes: &[Change], lines: &mut Lines) {
    let mut rows: Vec<(DaemonState, &Change)> = changes
        .iter()
        .filter_map(|c| match c.object {
            Object::Daemon(s) => Some((s, c)),
            _ => None,
        })
        .collect();
    rows.sort_by_key(|(s, c)| (*s, c.action != Action::Delete));
    let stopped = |state: DaemonState| {
        rows.iter().find_map(|(s, c)| match (&c.action, &c.before) {
            (Action::Delete, Some(Snapshot::Daemon(d))) if *s == state => Some(d),
            _ => None,
        })
    };
    let started = |state: DaemonState| {
        rows.iter()
            .any(|(s, c)| *s == state && c.action == Action::Add)
    };
    for (state, c) in &rows {
        let label = format_args!("sync daemon {state}");
        let sign = Sign::of(c.action);
        match (&c.before, &c.after) {
            (None, Some(Snapshot::Daemon(new))) => match stopped(*state) {
                Some(old) => {
                    let detail =
                        format_args!("{} (restart: {})", DaemonDesc(new), DaemonEdit(old, new));
                    lines.push(sign, label, detail)
                }
                None => lines.push(sign, label, DaemonDesc(new)),
            },
            (Some(Snapshot::Daemon(old)), None) if started(*state) => {
                let why = "stopped and started again: a running daemon cannot be changed";
                lines.push(sign, label, format_args!("{} ({why})", DaemonDesc(old)))
            }
            (Some(Snapshot::Daemon(old)), None) => lines.push(sign, label, DaemonDesc(old)),
            _ => lines.push(sign, label, ""),
        }
    }
}

#[cfg(test)]
mod tests;
