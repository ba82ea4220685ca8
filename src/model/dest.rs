use super::{DestCounters, Origin, StatsBox, keyed, service::SockAddr};
use serde::{Deserialize, Serialize};
use std::{fmt, net::IpAddr};

/// Identity of a real server inside its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DestKey {
    #[serde(deserialize_with = "super::service::ip_address")]
    pub address: IpAddr,
    pub port: u16,
}

impl fmt::Display for DestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SockAddr(&self.address, self.port).fmt(f)
    }
}

/// Encapsulation of a tunnel destination (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum TunnelKind {
    #[default]
    Ipip,
    Gue,
    Gre,
}

impl TunnelKind {
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::Ipip => "ipip",
            TunnelKind::Gue => "gue",
            TunnelKind::Gre => "gre",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [TunnelKind::Ipip, TunnelKind::Gue, TunnelKind::Gre]
            .into_iter()
            .find(|k| k.name() == s)
    }
}

/// Checksum option of GUE/GRE tunnels (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum TunnelChecksum {
    #[default]
    None,
    Csum,
    Remcsum,
}

impl TunnelChecksum {
    pub fn name(self) -> &'static str {
        match self {
            TunnelChecksum::None => "nocsum",
            TunnelChecksum::Csum => "csum",
            TunnelChecksum::Remcsum => "remcsum",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            TunnelChecksum::None,
            TunnelChecksum::Csum,
            TunnelChecksum::Remcsum,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// How packets reach a real server (`IP_VS_CONN_F_FWD_MASK`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Forward {
    /// NAT (`-m`, masquerading).
    #[serde(rename = "nat")]
    Masq,
    /// The kernel's own address (`IP_VS_CONN_F_LOCALNODE`); only ever observed.
    Local,
    /// Direct routing (`-g`, gatewaying): ipvsadm's default.
    #[default]
    #[serde(rename = "dr")]
    Route,
    /// IP tunnelling (`-i`).
    Tunnel {
        #[serde(default)]
        kind: TunnelKind,
        /// UDP port of a GUE tunnel (0 otherwise).
        #[serde(default, skip_serializing_if = "is_zero")]
        port: u16,
        #[serde(default)]
        checksum: TunnelChecksum,
    },
}

fn is_zero(p: &u16) -> bool {
    *p == 0
}

impl Forward {
    /// Short name as lvsh prints it: `dr`, `nat`, `tun`, `local`.
    pub fn name(&self) -> &'static str {
        match self {
            Forward::Masq => "nat",
            Forward::Local => "local",
            Forward::Route => "dr",
            Forward::Tunnel { .. } => "tun",
        }
    }

    pub fn is_tunnel(&self) -> bool {
        matches!(self, Forward::Tunnel { .. })
    }
}

impl fmt::Display for Forward {
    /// `dr`, `nat`, `tun`, `tun gue port 6080 csum`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Forward::Tunnel {
                kind,
                port,
                checksum,
            } => {
                f.write_str("tun")?;
                if *kind != TunnelKind::Ipip {
                    write!(f, " {}", kind.name())?;
                }
                if *port != 0 {
                    write!(f, " port {port}")?;
                }
                if *checksum != TunnelChecksum::None {
                    write!(f, " {}", checksum.name())?;
                }
                Ok(())
            }
            other => f.write_str(other.name()),
        }
    }
}

/// ipvsadm's default weight for a new real server.
pub const DEFAULT_WEIGHT: u32 = 1;

/// A real server of a service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dest {
    #[serde(flatten)]
    pub key: DestKey,
    #[serde(default)]
    pub forward: Forward,
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// Upper connection threshold; 0 = none.
    #[serde(default, skip_serializing_if = "is_zero32")]
    pub upper_threshold: u32,
    /// Lower connection threshold; 0 = none (the kernel then uses 3/4 of the upper).
    #[serde(default, skip_serializing_if = "is_zero32")]
    pub lower_threshold: u32,
    #[serde(default, skip_serializing_if = "is_default_counters")]
    pub counters: DestCounters,
    #[serde(default, skip_serializing_if = "StatsBox::is_zero")]
    pub stats: StatsBox,
    #[serde(skip)]
    pub origin: Origin,
}

fn default_weight() -> u32 {
    DEFAULT_WEIGHT
}

fn is_zero32(v: &u32) -> bool {
    *v == 0
}

fn is_default_counters(c: &DestCounters) -> bool {
    c.active == 0 && c.inactive == 0 && c.persistent == 0
}

impl Dest {
    pub fn new(key: DestKey) -> Self {
        Dest {
            key,
            forward: Forward::default(),
            weight: DEFAULT_WEIGHT,
            upper_threshold: 0,
            lower_threshold: 0,
            counters: DestCounters::default(),
            stats: StatsBox::default(),
            origin: Origin::default(),
        }
    }
}

/// Configuration only: the connection counts and stats are observations of the
/// kernel and the origin a place in a script, neither is configuration.
impl PartialEq for Dest {
    fn eq(&self, other: &Self) -> bool {
        // Every field named, so that a new one has to be placed here.
        let Dest {
            key,
            forward,
            weight,
            upper_threshold,
            lower_threshold,
            counters: _,
            stats: _,
            origin: _,
        } = self;
        *key == other.key
            && *forward == other.forward
            && *weight == other.weight
            && *upper_threshold == other.upper_threshold
            && *lower_threshold == other.lower_threshold
    }
}

impl Eq for Dest {}

impl keyed::Keyed for Dest {
    type Key = DestKey;
    const WHAT: &'static str = "real server";
    fn key(&self) -> DestKey {
        self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_stats_and_origin_are_not_configuration() {
        let key = DestKey {
            address: "10.0.1.1".parse().unwrap(),
            port: 8080,
        };
        let mut declared = Dest::new(key);
        declared.origin = Origin::at(std::sync::Arc::from("site.rhai"), 5, 9);
        let mut observed = Dest::new(key);
        observed.counters.inactive = 3;
        observed.stats.conns = 40;
        assert_eq!(declared, observed);
        observed.lower_threshold = 2;
        assert_ne!(declared, observed);
    }

    #[test]
    fn forward_display() {
        assert_eq!(Forward::Route.to_string(), "dr");
        assert_eq!(Forward::Masq.to_string(), "nat");
        let gue = Forward::Tunnel {
            kind: TunnelKind::Gue,
            port: 6080,
            checksum: TunnelChecksum::Csum,
        };
        assert_eq!(gue.to_string(), "tun gue port 6080 csum");
    }

    #[test]
    fn dest_json_round_trip() {
        let mut d = Dest::new(DestKey {
            address: "2001:db8::5".parse().unwrap(),
            port: 443,
        });
        d.forward = Forward::Tunnel {
            kind: TunnelKind::Gre,
            port: 0,
            checksum: TunnelChecksum::Remcsum,
        };
        d.upper_threshold = 100;
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Dest>(&j).unwrap(), d, "{j}");
        let minimal: Dest = serde_json::from_str(r#"{"address":"10.0.0.1","port":80}"#).unwrap();
        assert_eq!(minimal.forward, Forward::Route);
        assert_eq!(minimal.weight, 1);
    }
}
