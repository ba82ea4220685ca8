//! The plan: what must change in the kernel so that it holds the desired balancer.
//!
//! [`diff`] compares a desired [`Balancer`] (from a script) with an observed one (from
//! the kernel or a state file) by key and returns a [`Plan`]: an ordered list of
//! [`Change`]s. It is a pure function; rendering ([`Plan::render`], [`Plan::to_json`])
//! is for people and tools only and never steers apply.
//!
//! # What is compared
//!
//! Objects are matched by key (`ServiceKey`, `DestKey`, mark number, daemon role) and
//! compared with kernel-relevant equality: origins, traffic counters and connection
//! counts never make a difference. A different key is simply another object.
//!
//! - **Services** compare their own settings with `Service::same_settings`; their
//!   destinations are compared one by one. A changed service is an `Edit`: the kernel
//!   changes scheduler, flags, persistence, netmask, persistence engine and one-packet
//!   scheduling in place (`IPVS_CMD_SET_SERVICE`), so connections survive.
//! - **Destinations** likewise: forwarding method (tunnel options included), weight and
//!   thresholds change in place (`IPVS_CMD_SET_DEST`). Their address family is part of
//!   the address, hence of the key.
//! - **Marks** (the nft rules of table `inet lvsh`) are listed per mark number, although
//!   apply replaces the whole table in one nft transaction.
//! - **Timeouts** are never added or deleted: a field the script leaves unset is left
//!   alone, and there is an `Edit` only when a value the script sets differs from the
//!   kernel's.
//! - **Sysctls** (`net.ipv4.vs.*`) are never added or deleted either: only those the
//!   script sets take part, each an `Edit` when the kernel holds another value (the
//!   two automatic defense modes 1 and 2 count as one, since the kernel switches
//!   between them itself), or an `Add` when the state compared with does not hold
//!   it at all (a state file, `--empty`).
//! - **Addresses** on interfaces are added or deleted, never edited: one the script
//!   declares that the observed state lacks is an `Add` (unless the state holds it
//!   without lvsh's mark: then nothing, and the caller reports it); in
//!   [`Mode::Replace`] one with lvsh's mark the script does not declare is a `Delete`.
//! - **Sync daemons** compare with `SyncDaemon::satisfied_by` (unset fields match the
//!   kernel's defaults). The kernel cannot change a running daemon, so a changed one is
//!   a `Delete` followed by an `Add`.
//!
//! In [`Mode::Merge`] nothing the script does not name is deleted: no services,
//! destinations, marks or daemons go. A changed sync daemon is still restarted
//! (`Delete` + `Add` of the same role), as that is the only way to change it.
//!
//! # Order
//!
//! The changes are in the order apply must execute them, chosen so that a kill at
//! any point leaves a kernel no worse than the old or the new state: no service with
//! fewer real servers than both give it, and no fwmark service without its mark.
//!
//! 0. sysctls, before everything else: `expire_nodest_conn` and
//!    `expire_quiescent_template` must be in force when a real server goes or its
//!    weight drops in the same apply, `conntrack` before rules that need it, and the
//!    `sync_*` settings before a sync daemon starts (it reads them at its start);
//!    then address additions (a VIP is on its interface before its services exist);
//! 1. mark additions, and mark edits that mark more or other traffic (nft first: a
//!    new fwmark service never exists without its mark);
//! 2. sync daemon deletions (including the first half of a restart);
//! 3. timeouts;
//! 4. service additions and edits, each followed by its destinations' additions and
//!    edits (apply sends a new service and its destinations in one batch);
//! 5. destination deletions (after the additions: a service whose real servers are
//!    replaced never drops below the smaller of its old and new sets);
//! 6. service deletions;
//! 7. sync daemon additions;
//! 8. mark deletions, and mark edits that only narrow what is marked (after the
//!    services that take the rest of the traffic exist, and after the fwmark
//!    services that needed them are gone);
//! 9. address deletions, last.
//!
//! Within a group, changes are in key order (destinations by service key, then
//! destination key; sysctls by name). Apart from the sysctls, mark changes are
//! therefore always a prefix (group 1) and a suffix (group 8) of the list, so apply
//! can run at most two nft transactions around the IPVS batch.
//!
//! Deleting a service deletes its destinations in the kernel, so a deleted service
//! gets no separate destination deletions: its `before` snapshot carries the
//! destinations that go with it (and the rendering lists them). A new service's
//! destinations are separate `Add`s, since each needs its own `IPVS_CMD_NEW_DEST`.
//! Every other service snapshot has no destinations.
//!
//! The dependencies between IPVS objects fit this order too: the kernel refuses a
//! destination of the other address family while a sync daemon runs, and a daemon
//! while such destinations exist; daemon deletions come before destination additions,
//! destination deletions before daemon additions.
//!
//! # JSON
//!
//! [`Plan::to_json`] writes one object:
//!
//! ```json
//! {
//!   "changes": [
//!     {
//!       "action": "add",
//!       "object": {"type": "service", "key": {"protocol": "tcp", "address": "192.168.10.120", "port": 80}},
//!       "before": null,
//!       "after": {"protocol": "tcp", "address": "192.168.10.120", "port": 80, "scheduler": "rr", "persistence": 120}
//!     }
//!   ],
//!   "summary": {"add": 1, "change": 0, "delete": 0}
//! }
//! ```
//!
//! - `action`: `"add"`, `"edit"` or `"delete"`; `summary.change` counts the edits.
//!   `summary` counts every real server once, like the text's `Plan:` line: a
//!   service deleted with two real servers is one change and 3 in `summary.delete`.
//! - `object.type` and its keys:
//!   - `"service"`, `key`: `{protocol, address, port}` or `{family, fwmark}`;
//!   - `"dest"`, `service` (a service key as above) and `key`: `{address, port}`;
//!   - `"mark"`, `key`: the mark number;
//!   - `"timeouts"`, no key;
//!   - `"daemon"`, `key`: `"master"` or `"backup"`;
//!   - `"sysctl"`, `key`: the name without `net.ipv4.vs.` (`"expire_nodest_conn"`),
//!     or a host sysctl's full name (`"net.ipv4.ip_forward"`);
//!   - `"address"`, `key`: `{interface, address, prefix}`.
//! - `before` / `after`: the object's settings in the model's JSON format (as in
//!   `lvsh emit --to json`), or `null` for an add's `before` and a delete's `after`.
//!   Service snapshots hold no `destinations`, except the `before` of a service
//!   deletion, which lists the destinations deleted with it. For timeouts, `after`
//!   is what the kernel will hold: the observed values with the script's set over them.
//!   For a sysctl, `before` and `after` are its values: `0`, `[3, 50]` (sync_threshold),
//!   `"0-3"` (est_cpulist). For an address, the snapshot is its key again.
//!
//! The order of `changes` is the order above.
//!
//! `holds` lists the real servers whose weight the run-time side holds (a drain, a
//! failed health check, a slow start, a sorry server): not changes, and not counted
//! in `summary`. One object each:
//!
//! ```json
//! {
//!   "service": {"protocol": "tcp", "address": "192.168.10.120", "port": 80},
//!   "dest": {"address": "192.168.10.12", "port": 80},
//!   "reason": "draining",
//!   "since": 1796300000,
//!   "script_weight": 10,
//!   "weight": 0
//! }
//! ```
//!
//! - `reason`: `"down"`, `"unknown"` (added by watch, not risen yet), `"draining"`,
//!   `"drained"`, `"slow_start"` or `"sorry"`;
//! - `since`: Unix time of the transition (the drain's start or end, the health
//!   change); `null` for `"sorry"`;
//! - `over`: the slow start's ramp in seconds (`"slow_start"` only);
//! - `script_weight`: the script's weight (`null` for the sorry server, which the
//!   script holds apart); `weight`: the weight the kernel gets, `null` when the real
//!   server is left out (`on_down("remove")`, or drained with `--remove`).
//!
//! Fields are only ever added to this format, never renamed or removed.

mod against;
mod change;
mod diff;
mod json;
mod render;

pub use against::Against;
pub use change::{Action, Change, Object, Snapshot};
pub use diff::diff;

use crate::model::Hold;
use serde::Serialize;

/// How much of the kernel the script owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The script describes everything: what it does not name is deleted.
    #[default]
    Replace,
    /// Only add and change, never delete.
    Merge,
}

/// The ordered changes that bring the kernel to the desired state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Real servers whose weight the run-time side holds (drain, health): shown
    /// beside the changes, never counted as one. The desired model the plan was
    /// made from already carries the held weights ([`crate::model::effective`]).
    #[serde(skip)]
    pub holds: Vec<Hold>,
}

impl Plan {
    /// No changes; holds are not changes.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The plan with the holds that shaped its desired model, for display.
    pub fn with_holds(mut self, holds: Vec<Hold>) -> Plan {
        self.holds = holds;
        self
    }

    /// Numbers of additions, edits and deletions. Real servers count one each,
    /// added or deleted alike: those deleted with their service too, although they
    /// are part of its change.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.changes
            .iter()
            .fold((0, 0, 0), |(a, e, d), c| match c.action {
                Action::Add => (a + 1, e, d),
                Action::Edit => (a, e + 1, d),
                Action::Delete => (a, e, d + 1 + c.dests_deleted_along()),
            })
    }
}
