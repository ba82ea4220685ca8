//! VIP addresses on interfaces (`address("192.168.10.120/32", "eth0")`), for a single
//! director that carries its VIPs itself.
//!
//! lvsh owns only the addresses it added. With VRRP the VIP belongs to keepalived,
//! and an operator may have added one by hand: the kernel keeps a protocol byte per
//! address (`IFA_PROTO`, Linux 5.18), lvsh writes [`IFAPROT_LVSH`] there, and it only
//! ever deletes addresses that carry it. An address the script wants that is already
//! there without the mark is reported and left alone, never taken over.

use super::Origin;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    net::IpAddr,
};

/// lvsh's value of `IFA_PROTO` (the kernel's own are `IFAPROT_KERNEL_LO` 1,
/// `IFAPROT_KERNEL_RA` 2 and `IFAPROT_KERNEL_LL` 3; `ip address add ... proto 76`
/// makes one that lvsh will treat as its own). 76 is `L`.
pub const IFAPROT_LVSH: u8 = 76;

/// One address on one interface: what the kernel keys it by (with the prefix
/// length, which decides the subnet route the kernel adds with it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HostAddress {
    pub interface: String,
    #[serde(deserialize_with = "super::service::ip_address")]
    pub address: IpAddr,
    pub prefix: u8,
}

impl HostAddress {
    /// `192.168.10.120/32` (the prefix defaults to the whole address) on `interface`;
    /// `Err` says what is wrong with the text.
    pub fn parse(cidr: &str, interface: &str) -> Result<HostAddress, String> {
        let (addr, prefix) = match cidr.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (cidr, None),
        };
        let address: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{cidr}` is not an IP address (with an optional /prefix)"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.trim().parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("`{cidr}`: the prefix length is 0..{max}")),
            },
        };
        if address.is_unspecified() || address.is_multicast() {
            return Err(format!("`{address}` cannot be an interface's address"));
        }
        if !super::sysctl::is_device_name(interface) || interface.contains('/') {
            return Err(format!(
                "`{interface}` is not an interface name (1 to 15 characters, no `/`, `:` or spaces)"
            ));
        }
        Ok(HostAddress {
            interface: interface.to_string(),
            address,
            prefix,
        })
    }
}

impl fmt::Display for HostAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} on {}", self.address, self.prefix, self.interface)
    }
}

/// The addresses lvsh manages. In a desired model: those the script declares (with
/// where). In an observed one: those carrying lvsh's mark, plus what a plan needs to
/// know about the rest (`others`, `interfaces`), which is neither compared nor
/// serialized.
#[derive(Debug, Clone, Default)]
pub struct Addresses {
    owned: BTreeMap<HostAddress, Origin>,
    /// Observed: addresses without lvsh's mark (keepalived's, the operator's).
    pub others: BTreeSet<HostAddress>,
    /// Observed from the kernel: the interfaces of the namespace (`None`: not read,
    /// as from a state file).
    pub interfaces: Option<BTreeSet<String>>,
}

impl Addresses {
    pub fn is_empty(&self) -> bool {
        self.owned.is_empty()
    }

    pub fn len(&self) -> usize {
        self.owned.len()
    }

    /// Adds `a`, declared at `origin`; `false` when it was there already.
    pub fn insert(&mut self, a: HostAddress, origin: Origin) -> bool {
        self.owned.insert(a, origin).is_none()
    }

    /// Keeps the owned addresses for which `f` says so.
    pub fn retain(&mut self, mut f: impl FnMut(&HostAddress) -> bool) {
        self.owned.retain(|a, _| f(a));
    }

    pub fn contains(&self, a: &HostAddress) -> bool {
        self.owned.contains_key(a)
    }

    pub fn iter(&self) -> impl Iterator<Item = &HostAddress> {
        self.owned.keys()
    }

    /// Where the script declares `a`.
    pub fn origin(&self, a: &HostAddress) -> Option<&Origin> {
        self.owned.get(a)
    }

    /// The owned addresses on an interface `observed` does not have (empty when it
    /// did not read the interfaces).
    pub fn missing_interfaces<'a>(&'a self, observed: &Addresses) -> Vec<&'a HostAddress> {
        match &observed.interfaces {
            None => Vec::new(),
            Some(have) => self
                .iter()
                .filter(|a| !have.contains(&a.interface))
                .collect(),
        }
    }

    /// The addresses this (desired) model declares that `observed` holds without
    /// lvsh's mark: a plan neither adds nor takes them over.
    pub fn unowned_in<'a>(&'a self, observed: &Addresses) -> Vec<&'a HostAddress> {
        self.iter()
            .filter(|a| observed.others.contains(*a) && !observed.contains(a))
            .collect()
    }
}

impl PartialEq for Addresses {
    fn eq(&self, other: &Self) -> bool {
        self.owned.keys().eq(other.owned.keys())
    }
}

impl Eq for Addresses {}

impl Serialize for Addresses {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.owned.keys())
    }
}

impl<'de> Deserialize<'de> for Addresses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<HostAddress>::deserialize(d)?;
        let mut out = Addresses::default();
        for a in list {
            out.insert(a, Origin::NONE);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(cidr: &str, dev: &str) -> HostAddress {
        HostAddress::parse(cidr, dev).unwrap()
    }

    #[test]
    fn parses_with_and_without_a_prefix() {
        assert_eq!(a("192.168.10.120", "eth0").prefix, 32);
        assert_eq!(a("192.168.10.120/24", "eth0").prefix, 24);
        assert_eq!(a("2001:db8::1", "lo").prefix, 128);
        assert_eq!(
            a("2001:db8::1/64", "lo").to_string(),
            "2001:db8::1/64 on lo"
        );
        for (cidr, dev, why) in [
            ("192.168.10.120/33", "eth0", "the prefix length is 0..32"),
            ("vip", "eth0", "is not an IP address"),
            ("0.0.0.0", "eth0", "cannot be an interface's address"),
            ("224.0.0.1", "eth0", "cannot be an interface's address"),
            ("10.0.0.1", "eth0:1", "is not an interface name"),
            ("10.0.0.1", "", "is not an interface name"),
            (
                "10.0.0.1",
                "a-very-long-interface",
                "is not an interface name",
            ),
        ] {
            let e = HostAddress::parse(cidr, dev).unwrap_err();
            assert!(e.contains(why), "{cidr} {dev}: {e}");
        }
    }

    #[test]
    fn json_is_a_list_and_equality_ignores_what_is_only_observed() {
        let mut x = Addresses::default();
        x.insert(a("10.0.0.1/32", "lo"), Origin::NONE);
        let j = serde_json::to_string(&x).unwrap();
        assert_eq!(
            j,
            r#"[{"interface":"lo","address":"10.0.0.1","prefix":32}]"#
        );
        let mut y: Addresses = serde_json::from_str(&j).unwrap();
        y.others.insert(a("10.0.0.2", "lo"));
        y.interfaces = Some(["lo".to_string()].into());
        assert_eq!(x, y);
        let mut want = Addresses::default();
        want.insert(a("10.0.0.2", "lo"), Origin::NONE);
        want.insert(a("10.0.0.3", "eth9"), Origin::NONE);
        assert_eq!(want.unowned_in(&y), [&a("10.0.0.2", "lo")]);
        assert_eq!(want.missing_interfaces(&y), [&a("10.0.0.3", "eth9")]);
        assert!(
            want.missing_interfaces(&x).is_empty(),
            "interfaces not read"
        );
    }
}
