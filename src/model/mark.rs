use super::{Family, Origin, Protocol, keyed};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeSet, fmt, net::IpAddr, str::FromStr};

/// A destination port or an inclusive range of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn single(p: u16) -> Self {
        PortRange { first: p, last: p }
    }
}

impl fmt::Display for PortRange {
    /// `80` or `8000-8100`, as nft writes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<u16>()
                .map_err(|_| format!("`{t}` is not a port (0..65535)"))
        };
        match s.split_once('-') {
            Some((a, b)) => {
                let (first, last) = (num(a)?, num(b)?);
                if first > last {
                    return Err(format!("port range `{s}` runs backwards"));
                }
                Ok(PortRange { first, last })
            }
            None => Ok(PortRange::single(num(s)?)),
        }
    }
}

impl Serialize for PortRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.first == self.last {
            s.serialize_u16(self.first)
        } else {
            s.serialize_str(&self.to_string())
        }
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u16),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(p) => Ok(PortRange::single(p)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// An nft rule in table `inet lvsh` that sets a firewall mark on traffic to some
/// addresses, so that the fwmark service with that mark receives it.
///
/// Matches: destination address in `addresses`, and, when `ports` is not empty,
/// transport protocol in `protocols` with destination port in `ports`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRule {
    pub mark: u32,
    pub addresses: BTreeSet<IpAddr>,
    #[serde(default = "default_protocols")]
    pub protocols: BTreeSet<Protocol>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub ports: BTreeSet<PortRange>,
    /// Free text kept as the nft rule comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip)]
    pub origin: Origin,
}

fn default_protocols() -> BTreeSet<Protocol> {
    BTreeSet::from([Protocol::Tcp])
}

/// Configuration only: the origin is a place in a script, not configuration.
impl PartialEq for MarkRule {
    fn eq(&self, other: &Self) -> bool {
        // Every field named, so that a new one has to be placed here.
        let MarkRule {
            mark,
            addresses,
            protocols,
            ports,
            comment,
            origin: _,
        } = self;
        *mark == other.mark
            && *addresses == other.addresses
            && *protocols == other.protocols
            && *ports == other.ports
            && *comment == other.comment
    }
}

impl Eq for MarkRule {}

impl MarkRule {
    pub fn new(mark: u32) -> Self {
        MarkRule {
            mark,
            addresses: BTreeSet::new(),
            protocols: default_protocols(),
            ports: BTreeSet::new(),
            comment: None,
            origin: Origin::default(),
        }
    }

    /// Families of the marked addresses: each needs its own fwmark service.
    pub fn families(&self) -> BTreeSet<Family> {
        self.addresses.iter().map(Family::of).collect()
    }
}

impl fmt::Display for MarkRule {
    /// `daddr {192.168.10.120} tcp dport {80, 443} -> fwmark 10`: what the rule matches.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn set<T: fmt::Display>(items: impl Iterator<Item = T>) -> String {
            let v: Vec<String> = items.map(|i| i.to_string()).collect();
            if v.len() == 1 {
                v[0].clone()
            } else {
                format!("{{{}}}", v.join(", "))
            }
        }
        write!(f, "daddr {}", set(self.addresses.iter()))?;
        if !self.ports.is_empty() {
            write!(
                f,
                " {} dport {}",
                set(self.protocols.iter()),
                set(self.ports.iter())
            )?;
        }
        write!(f, " -> fwmark {}", self.mark)?;
        if let Some(c) = &self.comment {
            write!(f, " ({c})")?;
        }
        Ok(())
    }
}

impl keyed::Keyed for MarkRule {
    type Key = u32;
    const WHAT: &'static str = "mark";
    fn key(&self) -> u32 {
        self.mark
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_not_configuration() {
        let mut a = MarkRule::new(10);
        a.origin = Origin::at(std::sync::Arc::from("site.rhai"), 7, 3);
        let mut b = MarkRule::new(10);
        assert_eq!(a, b);
        b.ports.insert(PortRange::single(80));
        assert_ne!(a, b);
    }

    #[test]
    fn port_ranges_parse_and_print() {
        assert_eq!("80".parse::<PortRange>().unwrap(), PortRange::single(80));
        let r: PortRange = "8000-8100".parse().unwrap();
        assert_eq!(r.to_string(), "8000-8100");
        assert!("9-1".parse::<PortRange>().is_err());
        assert!("70000".parse::<PortRange>().is_err());
        let j = serde_json::to_string(&vec![PortRange::single(80), r]).unwrap();
        assert_eq!(j, r#"[80,"8000-8100"]"#);
        assert_eq!(
            serde_json::from_str::<Vec<PortRange>>(&j).unwrap(),
            vec![PortRange::single(80), r]
        );
    }

    #[test]
    fn display_says_what_is_marked() {
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        assert_eq!(m.to_string(), "daddr 192.168.10.120 -> fwmark 10");
        m.ports.insert(PortRange::single(443));
        m.ports.insert(PortRange::single(80));
        m.addresses.insert("2001:db8::1".parse().unwrap());
        assert_eq!(
            m.to_string(),
            "daddr {192.168.10.120, 2001:db8::1} tcp dport {80, 443} -> fwmark 10"
        );
    }
}
