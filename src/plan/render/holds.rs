//! The holds of a plan as text: why a real server's weight is not the script's,
//! shown instead of a change that would undo a drain or a failed health check.
//!
//! ```text
//! Held by the run-time side (not changes):
//!   rs 192.168.10.12:80 of tcp 192.168.10.120:80: draining since 2026-12-03 10:42:07 UTC, weight held at 0 (script: 10)
//! ```

use crate::{
    apply::format_time,
    model::{Hold, HoldReason},
};
use std::io;

/// The heading and one line per hold; nothing when there are none.
pub(super) fn write(holds: &[Hold], color: bool, w: &mut dyn io::Write) -> io::Result<()> {
    if holds.is_empty() {
        return Ok(());
    }
    let head = "Held by the run-time side (not changes):";
    if color {
        writeln!(w, "\x1b[1m{head}\x1b[0m")?;
    } else {
        writeln!(w, "{head}")?;
    }
    for h in holds {
        writeln!(w, "  rs {} of {}: {}", h.dest, h.service, detail(h))?;
    }
    Ok(())
}

/// `down since 2026-12-03 10:42:07 UTC, weight held at 0 (script: 10)`.
pub(super) fn detail(h: &Hold) -> String {
    let script = h.script.map_or("-".to_string(), |s| s.to_string());
    let weight = h.held.unwrap_or(0);
    // Why a left-out server is left out.
    let held = |out_why: &str| match h.held {
        Some(w) => format!("weight held at {w} (script: {script})"),
        None => format!("left out of the kernel: {out_why} (script: weight {script})"),
    };
    match h.reason {
        HoldReason::Down { since } => format!(
            "down since {}, {}",
            format_time(since),
            held("on_down(\"remove\")")
        ),
        HoldReason::Unknown { since } => format!(
            "health unknown since {} (not risen yet), {}",
            format_time(since),
            held("")
        ),
        HoldReason::Draining { since } => {
            format!("draining since {}, {}", format_time(since), held(""))
        }
        HoldReason::Drained { since } => format!(
            "drained since {}, {}",
            format_time(since),
            held("drained with --remove")
        ),
        HoldReason::SlowStart { since, over } => format!(
            "ramping to {script} (risen {}, {over} s), weight now {weight}",
            format_time(since)
        ),
        HoldReason::Sorry => format!("sorry server in: no real server is up (weight {weight})"),
    }
}
