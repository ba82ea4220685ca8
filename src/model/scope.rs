//! What a script owns, when it does not own the whole table.
//!
//! A director often holds IPVS services lvsh must not touch (another team's,
//! keepalived's). A script that declares a [`Scope`] manages only what is inside it:
//!
//! - an inet service is inside when the scope owns its address (a prefix holds it);
//! - a fwmark service, and the nft mark rule of the same number, when the scope owns
//!   the mark number (a mark range holds it);
//! - timeouts and sync daemons are global, outside every scope: a scoped script
//!   changes a timeout only when it sets it (as every script), and a sync daemon
//!   only when it names its role; it never deletes a daemon it does not name.
//!
//! Without a scope a script describes the whole IPVS table and the whole table
//! `inet lvsh`, as before. The scope is the script's intent, not kernel state: it
//! never takes part in comparing balancers.

use super::{Balancer, Origin, ServiceKey};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeSet,
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    str::FromStr,
};

/// An address prefix: `192.168.10.0/24`, `2001:db8::/64`; one address is a prefix
/// of the full length. Bits past the length are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix {
    address: IpAddr,
    len: u8,
}

impl Prefix {
    /// Refuses a length past the family's and bits set past the length (a typo for
    /// a whole address or for the network, which must not be guessed).
    pub fn new(address: IpAddr, len: u8) -> Result<Self, String> {
        let max = max_len(&address);
        if len > max {
            return Err(format!(
                "prefix length {len} is out of range 0..{max} for `{address}`"
            ));
        }
        let p = Prefix {
            address: network(address, len),
            len,
        };
        if p.address != address {
            return Err(format!(
                "`{address}/{len}` has bits set past the prefix length; did you mean `{p}` \
                 (the network) or `{address}` (one address)?"
            ));
        }
        Ok(p)
    }

    /// One address.
    pub fn host(address: IpAddr) -> Self {
        Prefix {
            len: max_len(&address),
            address,
        }
    }

    pub fn contains(&self, a: &IpAddr) -> bool {
        let same_family = a.is_ipv4() == self.address.is_ipv4();
        same_family && network(*a, self.len) == self.address
    }
}

fn max_len(a: &IpAddr) -> u8 {
    if a.is_ipv4() { 32 } else { 128 }
}

/// `a` with every bit past `len` cleared.
fn network(a: IpAddr, len: u8) -> IpAddr {
    match a {
        IpAddr::V4(v) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v) & mask))
        }
        IpAddr::V6(v) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v) & mask))
        }
    }
}

impl fmt::Display for Prefix {
    /// `192.168.10.0/24`, or the bare address for one address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == max_len(&self.address) {
            write!(f, "{}", self.address)
        } else {
            write!(f, "{}/{}", self.address, self.len)
        }
    }
}

impl FromStr for Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let (addr, len) = match t.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (t, None),
        };
        let address: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{s}` is not an address or prefix"))?;
        match len {
            None => Ok(Prefix::host(address)),
            Some(l) => {
                let len = l
                    .parse::<u8>()
                    .map_err(|_| format!("`{l}` in `{s}` is not a prefix length"))?;
                Prefix::new(address, len)
            }
        }
    }
}

/// An inclusive range of fwmark numbers, never holding 0 (the kernel's "no mark").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MarkRange {
    first: u32,
    last: u32,
}

impl MarkRange {
    pub fn new(first: u32, last: u32) -> Result<Self, String> {
        if first == 0 {
            return Err("fwmark 0 is not a mark".to_string());
        }
        if first > last {
            return Err(format!("mark range {first}-{last} runs backwards"));
        }
        Ok(MarkRange { first, last })
    }

    pub fn contains(&self, mark: u32) -> bool {
        (self.first..=self.last).contains(&mark)
    }
}

impl fmt::Display for MarkRange {
    /// `10` or `10-20`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl FromStr for MarkRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{t}` is not a mark (1..4294967295)"))
        };
        match s.split_once('-') {
            Some((a, b)) => MarkRange::new(num(a)?, num(b)?),
            None => {
                let m = num(s)?;
                MarkRange::new(m, m)
            }
        }
    }
}

impl Serialize for Prefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A single mark as a number, a range as its text, like port ranges.
impl Serialize for MarkRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.first == self.last {
            s.serialize_u32(self.first)
        } else {
            s.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for MarkRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u32),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => MarkRange::new(n, n),
            Raw::Text(t) => t.parse(),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// The addresses and mark numbers a script owns (see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub addresses: BTreeSet<Prefix>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub marks: BTreeSet<MarkRange>,
    /// The first call that declared it (none when only `--scope` did).
    #[serde(skip)]
    pub origin: Origin,
}

impl Scope {
    /// Adds what `other` owns; several declarations add up.
    pub fn add(&mut self, other: Scope) {
        self.addresses.extend(other.addresses);
        self.marks.extend(other.marks);
        if self.origin.is_none() {
            self.origin = other.origin;
        }
    }

    pub fn owns_address(&self, a: &IpAddr) -> bool {
        self.addresses.iter().any(|p| p.contains(a))
    }

    pub fn owns_mark(&self, mark: u32) -> bool {
        self.marks.iter().any(|r| r.contains(mark))
    }

    pub fn owns_service(&self, key: &ServiceKey) -> bool {
        match key {
            ServiceKey::Inet { address, .. } => self.owns_address(address),
            ServiceKey::Fwmark { fwmark, .. } => self.owns_mark(*fwmark),
        }
    }

    /// The part of `observed` that a script with this scope, describing `desired`,
    /// manages: the services and marks inside the scope, the timeouts and sysctls (a
    /// diff only changes the ones the script sets) and the sync daemons `desired` names. A
    /// plan against it never lists anything outside the scope.
    pub fn restrict(&self, observed: &Balancer, desired: &Balancer) -> Balancer {
        Balancer {
            services: observed
                .services
                .iter()
                .filter(|(k, _)| self.owns_service(k))
                .map(|(k, s)| (*k, s.clone()))
                .collect(),
            marks: observed
                .marks
                .iter()
                .filter(|(m, _)| self.owns_mark(**m))
                .map(|(m, r)| (*m, r.clone()))
                .collect(),
            timeouts: observed.timeouts,
            daemons: observed
                .daemons
                .iter()
                .filter(|(role, _)| desired.daemons.contains_key(role))
                .map(|(role, d)| (*role, d.clone()))
                .collect(),
            sysctls: observed.sysctls.clone(),
            addresses: {
                let mut owned = observed.addresses.clone();
                owned.retain(|a| self.owns_address(&a.address));
                owned
            },
            scope: None,
            checks: Default::default(),
            owns_probes: false,
        }
    }
}

impl fmt::Display for Scope {
    /// `192.168.10.0/24, 2001:db8::/64 and marks 10-20, 30`; `nothing` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addresses: Vec<String> = self.addresses.iter().map(Prefix::to_string).collect();
        let marks: Vec<String> = self.marks.iter().map(MarkRange::to_string).collect();
        let marks = match &marks[..] {
            [] => String::new(),
            [one] if !one.contains('-') => format!("mark {one}"),
            _ => format!("marks {}", marks.join(", ")),
        };
        match (addresses.is_empty(), marks.is_empty()) {
            (true, true) => f.write_str("nothing"),
            (false, true) => f.write_str(&addresses.join(", ")),
            (true, false) => f.write_str(&marks),
            (false, false) => write!(f, "{} and {marks}", addresses.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DaemonState, Family, MarkRule, Protocol, Service, SyncDaemon};

    fn prefix(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn scope(addresses: &[&str], marks: &[&str]) -> Scope {
        Scope {
            addresses: addresses.iter().map(|a| prefix(a)).collect(),
            marks: marks.iter().map(|m| m.parse().unwrap()).collect(),
            origin: Origin::NONE,
        }
    }

    #[test]
    fn ipv4_prefixes_hold_their_addresses() {
        let p = prefix("192.168.10.0/24");
        assert!(p.contains(&ip("192.168.10.0")));
        assert!(p.contains(&ip("192.168.10.255")));
        assert!(!p.contains(&ip("192.168.11.0")));
        assert!(!p.contains(&ip("::ffff:192.168.10.1")), "another family");
        let host = prefix("192.168.10.120");
        assert!(host.contains(&ip("192.168.10.120")));
        assert!(!host.contains(&ip("192.168.10.121")));
        assert_eq!(host, prefix("192.168.10.120/32"));
        let all = prefix("0.0.0.0/0");
        assert!(all.contains(&ip("203.0.113.9")));
        assert!(!all.contains(&ip("2001:db8::1")));
    }

    #[test]
    fn ipv6_prefixes_hold_their_addresses() {
        let p = prefix("2001:db8:0:1::/64");
        assert!(p.contains(&ip("2001:db8:0:1::80")));
        assert!(p.contains(&ip("2001:db8:0:1:ffff:ffff:ffff:ffff")));
        assert!(!p.contains(&ip("2001:db8:0:2::80")));
        assert!(!p.contains(&ip("192.168.10.1")));
        assert!(prefix("::/0").contains(&ip("fe80::1")));
        assert!(prefix("2001:db8::1/128").contains(&ip("2001:db8::1")));
        assert!(!prefix("2001:db8::1").contains(&ip("2001:db8::2")));
    }

    #[test]
    fn prefixes_print_as_written_and_refuse_typos() {
        for s in [
            "192.168.10.0/24",
            "10.0.0.1",
            "2001:db8::/32",
            "::/0",
            "0.0.0.0/0",
        ] {
            assert_eq!(prefix(s).to_string(), s);
        }
        assert_eq!(prefix("10.0.0.1/32").to_string(), "10.0.0.1");
        let e = "192.168.10.120/24".parse::<Prefix>().unwrap_err();
        assert!(
            e.contains("did you mean `192.168.10.0/24` (the network) or `192.168.10.120`"),
            "{e}"
        );
        assert!("2001:db8::1/64".parse::<Prefix>().is_err());
        assert!(
            "10.0.0.0/33"
                .parse::<Prefix>()
                .unwrap_err()
                .contains("out of range 0..32")
        );
        assert!("2001:db8::/129".parse::<Prefix>().is_err());
        assert!(
            "vip.example"
                .parse::<Prefix>()
                .unwrap_err()
                .contains("not an address or prefix")
        );
        assert!("10.0.0.0/x".parse::<Prefix>().is_err());
    }

    #[test]
    fn mark_ranges_are_inclusive_and_never_hold_zero() {
        let r: MarkRange = "10-20".parse().unwrap();
        assert!(r.contains(10) && r.contains(20) && !r.contains(21) && !r.contains(9));
        assert_eq!(r.to_string(), "10-20");
        let one: MarkRange = "7".parse().unwrap();
        assert!(one.contains(7) && !one.contains(8));
        assert_eq!(one.to_string(), "7");
        assert!("0".parse::<MarkRange>().is_err());
        assert!("0-5".parse::<MarkRange>().is_err());
        assert!(
            "20-10"
                .parse::<MarkRange>()
                .unwrap_err()
                .contains("backwards")
        );
        assert!("4294967296".parse::<MarkRange>().is_err());
        assert!(MarkRange::new(1, u32::MAX).unwrap().contains(u32::MAX));
    }

    #[test]
    fn a_scope_owns_services_by_address_and_fwmark_services_by_mark() {
        let s = scope(&["192.168.10.0/24", "2001:db8::/64"], &["10-20"]);
        let tcp = |a: &str| ServiceKey::inet(Protocol::Tcp, ip(a), 80);
        assert!(s.owns_service(&tcp("192.168.10.120")));
        assert!(!s.owns_service(&tcp("192.168.11.1")));
        assert!(s.owns_service(&tcp("2001:db8::80")));
        assert!(!s.owns_service(&tcp("2001:db9::80")));
        assert!(s.owns_service(&ServiceKey::fwmark(Family::Inet, 15)));
        assert!(s.owns_service(&ServiceKey::fwmark(Family::Inet6, 20)));
        assert!(!s.owns_service(&ServiceKey::fwmark(Family::Inet, 21)));
        // An address prefix never owns a fwmark service, whatever its rule marks.
        assert!(!scope(&["0.0.0.0/0"], &[]).owns_service(&ServiceKey::fwmark(Family::Inet, 1)));
    }

    #[test]
    fn declarations_add_up_and_say_what_they_own() {
        let mut s = scope(&["192.168.10.0/24"], &[]);
        assert_eq!(s.to_string(), "192.168.10.0/24");
        s.add(scope(&["2001:db8::/64"], &["30", "10-20"]));
        assert_eq!(
            s.to_string(),
            "192.168.10.0/24, 2001:db8::/64 and marks 10-20, 30"
        );
        assert_eq!(scope(&[], &["10"]).to_string(), "mark 10");
        assert_eq!(scope(&[], &["10-11"]).to_string(), "marks 10-11");
        assert_eq!(Scope::default().to_string(), "nothing");
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(
            j,
            r#"{"addresses":["192.168.10.0/24","2001:db8::/64"],"marks":["10-20",30]}"#
        );
        assert_eq!(serde_json::from_str::<Scope>(&j).unwrap(), s);
        assert!(serde_json::from_str::<Scope>(r#"{"marks":[0]}"#).is_err());
    }

    #[test]
    fn restrict_keeps_what_is_inside_and_the_daemons_the_script_names() {
        let mut observed = Balancer::default();
        for key in [
            ServiceKey::inet(Protocol::Tcp, ip("192.168.10.120"), 80),
            ServiceKey::inet(Protocol::Udp, ip("192.168.20.1"), 53),
            ServiceKey::fwmark(Family::Inet, 10),
            ServiceKey::fwmark(Family::Inet, 30),
        ] {
            observed.services.insert(key, Service::new(key));
        }
        for m in [10, 30] {
            observed.marks.insert(m, MarkRule::new(m));
        }
        observed.timeouts.tcp = Some(900);
        observed
            .sysctls
            .set("conntrack", crate::model::SysctlValue::Int(1));
        for role in [DaemonState::Master, DaemonState::Backup] {
            observed.daemons.insert(role, SyncDaemon::new(role, "eth1"));
        }
        let mut desired = Balancer::default();
        desired.daemons.insert(
            DaemonState::Backup,
            SyncDaemon::new(DaemonState::Backup, "eth2"),
        );
        let s = scope(&["192.168.10.0/24"], &["10"]);
        let r = s.restrict(&observed, &desired);
        let keys: Vec<String> = r.services.keys().map(|k| k.to_string()).collect();
        assert_eq!(keys, ["tcp 192.168.10.120:80", "fwmark 10"]);
        assert_eq!(r.marks.keys().copied().collect::<Vec<_>>(), [10]);
        assert_eq!(r.timeouts, observed.timeouts);
        assert_eq!(r.sysctls, observed.sysctls);
        assert_eq!(
            r.daemons.keys().copied().collect::<Vec<_>>(),
            [DaemonState::Backup]
        );
        assert!(r.scope.is_none());
    }

    #[test]
    fn restrict_keeps_lvsh_s_addresses_inside_the_scope() {
        use crate::model::{HostAddress, Origin};
        let a = |cidr: &str| HostAddress::parse(cidr, "lo").unwrap();
        let mut observed = Balancer::default();
        observed.addresses.insert(a("192.168.10.120"), Origin::NONE);
        observed.addresses.insert(a("192.168.20.1"), Origin::NONE);
        observed.addresses.others.insert(a("192.168.10.121"));
        let mut scope = Scope::default();
        scope
            .addresses
            .insert(Prefix::new(ip("192.168.10.0"), 24).unwrap());
        let r = scope.restrict(&observed, &Balancer::default());
        assert_eq!(
            r.addresses.iter().collect::<Vec<_>>(),
            [&a("192.168.10.120")]
        );
        assert!(r.addresses.others.contains(&a("192.168.10.121")));
    }
}
