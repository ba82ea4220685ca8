use super::{Dests, Family, Origin, Protocol, SchedFlags, Scheduler, StatsBox, keyed};
use serde::{Deserialize, Serialize};
use std::{
    fmt,
    net::{IpAddr, Ipv4Addr},
};

/// What `ipvsadm -p` without a value applies: `IPVS_SVC_PERSISTENT_TIMEOUT` in
/// libipvs is 6 minutes, although the man page says 300 s.
pub const DEFAULT_PERSIST_TIMEOUT: u32 = 360;

/// Identity of a virtual service, as the kernel looks it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum ServiceKey {
    /// protocol + address + port; port 0 means every port of the address.
    Inet {
        protocol: Protocol,
        address: IpAddr,
        port: u16,
    },
    /// Firewall-mark service: packets carrying `mark` (set by nft), per family.
    Fwmark { family: Family, fwmark: u32 },
}

impl ServiceKey {
    pub fn inet(protocol: Protocol, address: IpAddr, port: u16) -> Self {
        ServiceKey::Inet {
            protocol,
            address,
            port,
        }
    }

    pub fn fwmark(family: Family, fwmark: u32) -> Self {
        ServiceKey::Fwmark { family, fwmark }
    }

    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Inet { address, .. } => Family::of(address),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }

    /// The port destinations inherit when they name none (0 for fwmark services).
    pub fn port(&self) -> u16 {
        match self {
            ServiceKey::Inet { port, .. } => *port,
            ServiceKey::Fwmark { .. } => 0,
        }
    }

    pub fn protocol(&self) -> Protocol {
        match self {
            ServiceKey::Inet { protocol, .. } => *protocol,
            // The kernel stores fwmark services as TCP.
            ServiceKey::Fwmark { .. } => Protocol::Tcp,
        }
    }
}

/// Formats an address with its port the way ipvsadm does (`[v6]:port`).
/// `192.0.2.1:80` or `[2001:db8::1]:80`, written straight into the formatter
/// (plans print tens of thousands of them).
pub(crate) struct SockAddr<'a>(pub &'a IpAddr, pub u16);

impl fmt::Display for SockAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            // By hand into one buffer: std formats an IPv4 address octet by octet
            // through the formatter, which was a third of rendering a large plan.
            IpAddr::V4(a) => {
                let mut out = [0u8; 21]; // 255.255.255.255:65535
                let mut len = 0;
                let mut put = |s: &str| {
                    out[len..len + s.len()].copy_from_slice(s.as_bytes());
                    len += s.len();
                };
                let mut digits = itoa::Buffer::new();
                for (i, octet) in a.octets().into_iter().enumerate() {
                    if i > 0 {
                        put(".");
                    }
                    put(digits.format(octet));
                }
                put(":");
                put(digits.format(self.1));
                f.write_str(std::str::from_utf8(&out[..len]).expect("digits and dots"))
            }
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

impl fmt::Display for ServiceKey {
    /// `tcp 192.168.10.120:80`, `udp [2001:db8::1]:53`, `fwmark 10`, `fwmark 10 ipv6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Inet {
                protocol,
                address,
                port,
            } => write!(f, "{protocol} {}", SockAddr(address, *port)),
            ServiceKey::Fwmark {
                family: Family::Inet,
                fwmark,
            } => write!(f, "fwmark {fwmark}"),
            ServiceKey::Fwmark {
                family: Family::Inet6,
                fwmark,
            } => write!(f, "fwmark {fwmark} ipv6"),
        }
    }
}

/// An address in JSON, refused with its text: "`10.0.0.300` is not an IP address"
/// rather than serde's "invalid IP address syntax".
pub(crate) fn ip_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<IpAddr, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(d)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!("`{}` is not an IP address", text.escape_debug()))
    })
}

fn some_ip_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    ip_address(d).map(Some)
}

/// Read field by field rather than as an untagged enum: a bad address or port is
/// then reported as such, not as "did not match any variant".
impl<'de> Deserialize<'de> for ServiceKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Fields {
            protocol: Option<Protocol>,
            #[serde(default, deserialize_with = "some_ip_address")]
            address: Option<IpAddr>,
            port: Option<u16>,
            family: Option<Family>,
            fwmark: Option<u32>,
        }
        let f = Fields::deserialize(d)?;
        match f {
            Fields {
                protocol: Some(protocol),
                address: Some(address),
                port: Some(port),
                family: None,
                fwmark: None,
            } => Ok(ServiceKey::inet(protocol, address, port)),
            Fields {
                protocol: None,
                address: None,
                port: None,
                family: Some(family),
                fwmark: Some(fwmark),
            } => Ok(ServiceKey::fwmark(family, fwmark)),
            _ => Err(serde::de::Error::custom(
                "a service has `protocol`, `address` and `port`, or `family` and `fwmark`",
            )),
        }
    }
}

/// Persistence granularity: which client addresses share one persistence entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Netmask {
    /// IPv4: a netmask (the kernel keeps any 32-bit mask).
    V4(Ipv4Addr),
    /// IPv6: a prefix length 1..=128.
    V6(u8),
}

impl Netmask {
    /// One entry per client address: the kernel's default.
    pub fn host(family: Family) -> Self {
        match family {
            Family::Inet => Netmask::V4(Ipv4Addr::BROADCAST),
            Family::Inet6 => Netmask::V6(128),
        }
    }

    pub fn family(&self) -> Family {
        match self {
            Netmask::V4(_) => Family::Inet,
            Netmask::V6(_) => Family::Inet6,
        }
    }
}

impl fmt::Display for Netmask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Netmask::V4(m) => write!(f, "{m}"),
            Netmask::V6(p) => write!(f, "{p}"),
        }
    }
}

/// Persistence engines the kernel knows (`ip_vs_pe_<name>.ko`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PersistenceEngine {
    Sip,
}

impl PersistenceEngine {
    pub fn name(self) -> &'static str {
        match self {
            PersistenceEngine::Sip => "sip",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        (s == "sip").then_some(PersistenceEngine::Sip)
    }
}

/// A virtual service and its real servers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[serde(flatten)]
    pub key: ServiceKey,
    #[serde(default)]
    pub scheduler: Scheduler,
    #[serde(default, skip_serializing_if = "SchedFlags::is_empty")]
    pub flags: SchedFlags,
    /// Persistence timeout in seconds; `None` = not persistent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<u32>,
    /// `None` = the host mask of the family. Decoders store `None` for a host mask, so
    /// equality does not depend on how the default was spelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netmask: Option<Netmask>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe: Option<PersistenceEngine>,
    /// One-packet scheduling (`IP_VS_SVC_F_ONEPACKET`, `ipvsadm -o`), UDP only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub one_packet: bool,
    #[serde(
        default,
        skip_serializing_if = "Dests::is_empty",
        rename = "destinations"
    )]
    pub dests: Dests,
    #[serde(default, skip_serializing_if = "StatsBox::is_zero")]
    pub stats: StatsBox,
    #[serde(skip)]
    pub origin: Origin,
}

impl Service {
    pub fn new(key: ServiceKey) -> Self {
        Service {
            key,
            scheduler: Scheduler::default(),
            flags: SchedFlags::default(),
            persistence: None,
            netmask: None,
            pe: None,
            one_packet: false,
            dests: Dests::new(),
            stats: StatsBox::default(),
            origin: Origin::default(),
        }
    }

    /// The netmask the kernel holds, with the default filled in.
    pub fn effective_netmask(&self) -> Netmask {
        self.netmask
            .unwrap_or_else(|| Netmask::host(self.key.family()))
    }

    /// Stores `mask`, normalising the host mask to `None`.
    pub fn set_netmask(&mut self, mask: Netmask) {
        self.netmask = (mask != Netmask::host(self.key.family())).then_some(mask);
    }

    /// True when the service's own settings (not its destinations) are equal.
    pub fn same_settings(&self, other: &Service) -> bool {
        // Every field named, so that a new one has to be placed here.
        let Service {
            key,
            scheduler,
            flags,
            persistence,
            netmask,
            pe,
            one_packet,
            dests: _,
            stats: _,
            origin: _,
        } = self;
        *key == other.key
            && *scheduler == other.scheduler
            && *flags == other.flags
            && *persistence == other.persistence
            && *netmask == other.netmask
            && *pe == other.pe
            && *one_packet == other.one_packet
    }
}

/// Configuration only: the counters are observations of the kernel and the origin
/// a place in a script, neither is configuration. So a busy service read from the
/// kernel equals the one its script declares, and a plan is empty between them.
impl PartialEq for Service {
    fn eq(&self, other: &Self) -> bool {
        // `same_settings` names every field, so a new one has to be placed there.
        self.same_settings(other) && self.dests == other.dests
    }
}

impl Eq for Service {}

impl keyed::Keyed for Service {
    type Key = ServiceKey;
    const WHAT: &'static str = "service";
    fn key(&self) -> ServiceKey {
        self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_address_and_port_read_as_std_writes_them() {
        let cases = [
            ([0, 0, 0, 0], 0),
            ([255, 255, 255, 255], 65535),
            ([10, 2, 1, 1], 8080),
            ([1, 22, 133, 4], 9),
            ([192, 168, 100, 10], 443),
        ];
        for (octets, port) in cases {
            let a = IpAddr::from(octets);
            let std = format!("{a}:{port}");
            assert_eq!(SockAddr(&a, port).to_string(), std);
            // A width on the outer formatter pads neither way.
            assert_eq!(format!("{:>30}", SockAddr(&a, port)), std);
        }
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(SockAddr(&v6, 53).to_string(), "[2001:db8::1]:53");
    }

    #[test]
    fn observations_and_origins_are_not_configuration() {
        use crate::model::{Dest, DestKey};
        let at = |line| Origin::at(std::sync::Arc::from("site.rhai"), line, 1);
        let key = ServiceKey::inet(Protocol::Tcp, "10.0.0.1".parse().unwrap(), 80);
        let dk = DestKey {
            address: "10.0.1.1".parse().unwrap(),
            port: 80,
        };
        let mut declared = Service::new(key);
        declared.origin = at(3);
        let mut d = Dest::new(dk);
        d.origin = at(4);
        declared.dests.insert(dk, d);
        let mut observed = declared.clone();
        observed.origin = Origin::NONE;
        observed.stats.conns = 1000;
        let od = observed.dests.get_mut(&dk).unwrap();
        od.origin = Origin::NONE;
        od.counters.active = 12;
        od.stats.inbytes = 1 << 30;
        assert_eq!(declared, observed);
        assert!(declared.same_settings(&observed));
        // A setting, of the service or of a destination, is configuration.
        let mut other = observed.clone();
        other.persistence = Some(300);
        assert_ne!(declared, other);
        assert!(!declared.same_settings(&other));
        let mut other = observed.clone();
        other.dests.get_mut(&dk).unwrap().weight = 5;
        assert_ne!(declared, other);
        assert!(
            declared.same_settings(&other),
            "destinations are not settings"
        );
    }

    #[test]
    fn key_display_matches_plan_text() {
        let v4 = ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), 80);
        assert_eq!(v4.to_string(), "tcp 192.168.10.120:80");
        let v6 = ServiceKey::inet(Protocol::Udp, "2001:db8::1".parse().unwrap(), 53);
        assert_eq!(v6.to_string(), "udp [2001:db8::1]:53");
        assert_eq!(
            ServiceKey::fwmark(Family::Inet, 10).to_string(),
            "fwmark 10"
        );
        assert_eq!(
            ServiceKey::fwmark(Family::Inet6, 10).to_string(),
            "fwmark 10 ipv6"
        );
    }

    #[test]
    fn host_netmask_is_normalised() {
        let mut s = Service::new(ServiceKey::fwmark(Family::Inet, 1));
        s.set_netmask(Netmask::V4(Ipv4Addr::BROADCAST));
        assert_eq!(s.netmask, None);
        s.set_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(
            s.netmask,
            Some(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)))
        );
        assert_eq!(s.effective_netmask().to_string(), "255.255.255.0");
    }

    #[test]
    fn json_round_trip_keeps_both_key_kinds() {
        for key in [
            ServiceKey::inet(Protocol::Sctp, "10.0.0.1".parse().unwrap(), 0),
            ServiceKey::fwmark(Family::Inet6, 7),
        ] {
            let mut s = Service::new(key);
            s.persistence = Some(600);
            let j = serde_json::to_string(&s).unwrap();
            let back: Service = serde_json::from_str(&j).unwrap();
            assert_eq!(back, s, "{j}");
            assert_eq!(back.key, key);
        }
    }
}
