//! The nft table lvsh owns: `inet lvsh`, and nothing else.
//!
//! Layout (what [`replace_batch`] writes and [`parse_table`] reads back):
//!
//! ```text
//! table inet lvsh {
//!     chain prerouting {
//!         type filter hook prerouting priority mangle; policy accept;
//!         ip daddr 192.168.10.120 tcp dport { 80, 443 } meta mark set 10 comment "lvsh mark 10"
//!         ip6 daddr 2001:db8::10 meta l4proto { tcp, udp } th dport 53 meta mark set 11 comment "lvsh mark 11: dns"
//!     }
//! }
//! ```
//!
//! - One rule per mark and address family (`ip daddr` cannot match IPv6), ordered by
//!   mark. The comment `lvsh mark N[: user comment]` is how a rule is recognised.
//! - One protocol: `tcp dport ...` (nft itself lists `meta l4proto tcp th dport` that
//!   way); several: `meta l4proto { .. } th dport { .. }`. No ports: no protocol match,
//!   every packet to the address is marked (classic `iptables -d VIP -j MARK`).
//! - Prerouting, priority mangle (-150), where `iptables -t mangle` marked: before the
//!   routing decision (so `ip rule fwmark` sees the mark too) and long before IPVS,
//!   which schedules incoming requests in LOCAL_IN.
//! - Only prerouting, no output chain: this is the classic PFMC recipe
//!   (`iptables -t mangle -A PREROUTING`) operators migrate from; marking locally
//!   originated packets would silently send the director's own traffic to a VIP
//!   (health checks, monitoring, a local client) into the balancer and re-route it
//!   (an output chain that changes the mark needs `type route`). Operators who want
//!   local clients balanced add that rule in a table of their own.
//!
//! Every write replaces the whole table in one nft transaction: `add table` (so the
//! delete cannot fail), `delete table`, then the new table. An empty map stops after
//! the delete, which removes the table.
//!
//! Reading back is exact for what lvsh writes, with one caveat nft imposes: a port set
//! holding a range is an interval set, whose touching elements nft merges
//! (`{80, 81-90}` is kept as `{80-90}`). [`canonical`] predicts that; `plan` should
//! compare desired marks in that form, or it shows a change after every apply.
//!
//! Anything in the table lvsh did not write (a rule added by hand, another chain, a
//! set, a changed chain policy) makes [`read`](crate::backend::Nft::read) fail with
//! [`Error::Foreign`], which still carries the marks it recognised: a caller that
//! ignores it cannot mistake a tampered table for a clean one, and `plan` gets both
//! through [`read_observed`] to show the drift; `apply` replaces the table anyway.

mod cli;
mod error;
#[cfg(test)]
mod fake;
mod layout;
mod parse;
mod probe;
mod ruleset;

#[cfg(test)]
mod real_tests;

pub use cli::NftCli;
pub use error::{Error, Foreign};
#[cfg(test)]
pub use fake::FakeNft;
pub use layout::{
    CHAIN, COMMENT_MAX, FAMILY, PRIORITY, RuleSpec, TABLE, canonical, canonical_ports, rules,
    table_text, validate,
};
pub use parse::{TableRead, parse_table};
pub use ruleset::replace_batch;

use super::Nft;
use crate::model::MarkRule;
use std::collections::BTreeMap;

/// Reads the table and keeps foreign objects as data instead of an error: what
/// `plan` needs to show drift next to the mark changes.
pub fn read_observed(nft: &mut dyn Nft) -> Result<TableRead, Error> {
    match nft.read() {
        Ok(marks) => Ok(TableRead {
            marks,
            foreign: Vec::new(),
        }),
        Err(Error::Foreign { marks, foreign }) => Ok(TableRead { marks, foreign }),
        Err(e) => Err(e),
    }
}

impl TableRead {
    /// The marks, or [`Error::Foreign`] when the table holds anything else.
    pub fn into_marks(self) -> Result<BTreeMap<u32, MarkRule>, Error> {
        if self.foreign.is_empty() {
            Ok(self.marks)
        } else {
            Err(Error::Foreign {
                marks: self.marks,
                foreign: self.foreign,
            })
        }
    }
}
