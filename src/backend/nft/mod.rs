//! The nft table lvsh owns: `inet lvsh`, and nothing else.
//!
//! Layout (what [`ruleset::replace_batch`] writes and [`parse::parse_table`] reads back):
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
//! the delete, which removes the table. Anything in the table lvsh did not write is
//! reported by [`read`](crate::backend::Nft::read) as [`Error::Foreign`] (so `plan`
//! shows it and `apply` replaces it), never ignored.

mod cli;
mod error;
mod fake;
mod layout;
mod parse;
mod ruleset;

#[cfg(test)]
mod real_tests;

pub use cli::NftCli;
pub use error::{Error, Foreign};
pub use fake::FakeNft;
pub use layout::{
    CHAIN, COMMENT_MAX, FAMILY, PRIORITY, RuleSpec, TABLE, canonical, canonical_ports, rules,
    table_text, validate,
};
pub use parse::{Observed, parse_table};
pub use ruleset::replace_batch;

use super::Nft;
use crate::model::MarkRule;
use std::collections::BTreeMap;

/// Reads the table and keeps foreign objects as data instead of an error: what
/// `plan` needs to show drift next to the mark changes.
pub fn read_observed(nft: &mut dyn Nft) -> Result<Observed, Error> {
    match nft.read() {
        Ok(marks) => Ok(Observed {
            marks,
            foreign: Vec::new(),
        }),
        Err(Error::Foreign { marks, foreign }) => Ok(Observed { marks, foreign }),
        Err(e) => Err(e),
    }
}

impl Observed {
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
