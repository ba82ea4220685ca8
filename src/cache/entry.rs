//! An entry on disk: two MessagePack values, the evaluation with its key and format
//! (so that a file of another kind, version or key is a miss), then its services.
//!
//! Services and destinations, the bulk of a model, are written in a form of the
//! cache's own: plain structs, no internally tagged or untagged enum and no
//! `flatten`, which serde would otherwise buffer field by field while decoding (most
//! of a warm lookup's cost with the model's serde). That lets them be written as
//! arrays in MessagePack's binary form (fields by position, addresses as octets),
//! which decodes with 38% fewer instructions than maps with field names and
//! addresses as text, and takes a third of the room. The rest of the model keeps
//! its serde, and so the human-readable form that its buffered fields need.

use super::{FORMAT, Key};
use crate::dsl::{Evaluated, Input};
use crate::model::{
    Balancer, Dest, DestCounters, DestKey, Dests, Forward, HostAddress, Netmask, Origin,
    PersistenceEngine, SchedFlags, Scheduler, Service, ServiceKey, Stats, StatsBox, TunnelChecksum,
    TunnelKind,
};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Serialize, Deserialize)]
struct Entry<B> {
    format: u32,
    key: String,
    inputs: Vec<Input>,
    output: Vec<String>,
    /// Where the script declares each address: plan and apply point at it when the
    /// interface is missing. The model's serde leaves origins out.
    origins: Vec<(HostAddress, String, usize, usize)>,
    /// The model without its services, which follow the entry.
    balancer: B,
}

/// A [`Service`] without its origin (as the model's serde), destinations `D`.
/// Written by position: every field always, none skipped.
#[derive(Serialize, Deserialize)]
struct PlainService<D> {
    key: PlainKey,
    scheduler: Scheduler,
    flags: SchedFlags,
    persistence: Option<u32>,
    netmask: Option<PlainNetmask>,
    pe: Option<PersistenceEngine>,
    one_packet: bool,
    dests: D,
    stats: Option<Stats>,
}

/// [`Netmask`] is untagged, which serde buffers.
#[derive(Serialize, Deserialize)]
enum PlainNetmask {
    V4([u8; 4]),
    V6(u8),
}

#[derive(Serialize, Deserialize)]
enum PlainKey {
    Inet(crate::model::Protocol, Octets, u16),
    Fwmark(crate::model::Family, u32),
}

/// The forwarding method as a number: an enum's variant would be its name.
const MASQ: u8 = 0;
const LOCAL: u8 = 1;
const ROUTE: u8 = 2;
const TUNNEL: u8 = 3;

/// A [`Dest`] without its origin, by position as [`PlainService`].
#[derive(Serialize, Deserialize)]
struct PlainDest {
    address: Octets,
    port: u16,
    forward: u8,
    tunnel: Option<(TunnelKind, u16, TunnelChecksum)>,
    weight: u32,
    upper: u32,
    lower: u32,
    counters: Option<DestCounters>,
    stats: Option<Stats>,
}

/// An address as its 4 or 16 octets (MessagePack `bin`): serde's binary form of
/// `IpAddr` is an enum variant by name with a number per octet.
struct Octets(IpAddr);

impl Serialize for Octets {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            IpAddr::V4(a) => s.serialize_bytes(&a.octets()),
            IpAddr::V6(a) => s.serialize_bytes(&a.octets()),
        }
    }
}

impl<'de> Deserialize<'de> for Octets {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Octets;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("4 or 16 octets")
            }
            fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<Octets, E> {
                match b.len() {
                    4 => Ok(Octets(IpAddr::from(<[u8; 4]>::try_from(b).expect("4")))),
                    16 => Ok(Octets(IpAddr::from(<[u8; 16]>::try_from(b).expect("16")))),
                    n => Err(E::invalid_length(n, &self)),
                }
            }
        }
        d.deserialize_bytes(Visitor)
    }
}

/// Stats and counters are observations: a model a script made has none.
fn stats(s: &StatsBox) -> Option<Stats> {
    (!s.is_zero()).then(|| **s)
}

impl From<Netmask> for PlainNetmask {
    fn from(m: Netmask) -> Self {
        match m {
            Netmask::V4(a) => PlainNetmask::V4(a.octets()),
            Netmask::V6(p) => PlainNetmask::V6(p),
        }
    }
}

impl From<PlainNetmask> for Netmask {
    fn from(m: PlainNetmask) -> Self {
        match m {
            PlainNetmask::V4(a) => Netmask::V4(a.into()),
            PlainNetmask::V6(p) => Netmask::V6(p),
        }
    }
}

impl From<ServiceKey> for PlainKey {
    fn from(k: ServiceKey) -> Self {
        match k {
            ServiceKey::Inet {
                protocol,
                address,
                port,
            } => PlainKey::Inet(protocol, Octets(address), port),
            ServiceKey::Fwmark { family, fwmark } => PlainKey::Fwmark(family, fwmark),
        }
    }
}

impl From<PlainKey> for ServiceKey {
    fn from(k: PlainKey) -> Self {
        match k {
            PlainKey::Inet(protocol, Octets(address), port) => {
                ServiceKey::inet(protocol, address, port)
            }
            PlainKey::Fwmark(family, fwmark) => ServiceKey::fwmark(family, fwmark),
        }
    }
}

impl From<&Dest> for PlainDest {
    fn from(d: &Dest) -> Self {
        let (forward, tunnel) = match d.forward {
            Forward::Masq => (MASQ, None),
            Forward::Local => (LOCAL, None),
            Forward::Route => (ROUTE, None),
            Forward::Tunnel {
                kind,
                port,
                checksum,
            } => (TUNNEL, Some((kind, port, checksum))),
        };
        PlainDest {
            address: Octets(d.key.address),
            port: d.key.port,
            forward,
            tunnel,
            weight: d.weight,
            upper: d.upper_threshold,
            lower: d.lower_threshold,
            counters: (d.counters != DestCounters::default()).then_some(d.counters),
            stats: stats(&d.stats),
        }
    }
}

/// The destination, unless its forwarding method is not one lvsh writes.
fn dest(d: PlainDest) -> Option<Dest> {
    Some(Dest {
        key: DestKey {
            address: d.address.0,
            port: d.port,
        },
        forward: match (d.forward, d.tunnel) {
            (MASQ, None) => Forward::Masq,
            (LOCAL, None) => Forward::Local,
            (ROUTE, None) => Forward::Route,
            (TUNNEL, Some((kind, port, checksum))) => Forward::Tunnel {
                kind,
                port,
                checksum,
            },
            _ => return None,
        },
        weight: d.weight,
        upper_threshold: d.upper,
        lower_threshold: d.lower,
        counters: d.counters.unwrap_or_default(),
        stats: d.stats.map(StatsBox::from).unwrap_or_default(),
        origin: Origin::default(),
    })
}

/// The services, converted one at a time as they are written.
struct ServicesOut<'a>(&'a BTreeMap<ServiceKey, Service>);
struct DestsOut<'a>(&'a Dests);

impl Serialize for ServicesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.values().map(|v| PlainService {
            key: PlainKey::from(v.key),
            scheduler: v.scheduler,
            flags: v.flags,
            persistence: v.persistence,
            netmask: v.netmask.map(PlainNetmask::from),
            pe: v.pe,
            one_packet: v.one_packet,
            dests: DestsOut(&v.dests),
            stats: stats(&v.stats),
        }))
    }
}

impl Serialize for DestsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(_, d)| PlainDest::from(d)))
    }
}

fn service(p: PlainService<Vec<PlainDest>>) -> Option<Service> {
    let mut dests = Dests::default();
    for d in p.dests {
        let d = dest(d)?;
        dests.insert(d.key, d);
    }
    Some(Service {
        key: p.key.into(),
        scheduler: p.scheduler,
        flags: p.flags,
        persistence: p.persistence,
        netmask: p.netmask.map(Netmask::from),
        pe: p.pe,
        one_packet: p.one_packet,
        dests,
        stats: p.stats.map(StatsBox::from).unwrap_or_default(),
        origin: Origin::default(),
    })
}

/// Writes the entry to `out` as it is serialized: the entry of 10,000 services ×
/// 4 destinations is some 4 MB, which a buffer (grown by doubling) would add to
/// the peak memory of the apply that stores it.
pub fn encode(key: &Key, e: &Evaluated, mut out: impl std::io::Write) -> std::io::Result<()> {
    let origins = e
        .balancer
        .addresses
        .iter()
        .filter_map(|a| {
            let pos = e.balancer.addresses.origin(a)?.pos()?;
            Some((a.clone(), pos.source.to_string(), pos.line, pos.column))
        })
        .collect();
    let b = &e.balancer;
    let rest = Balancer {
        services: BTreeMap::new(),
        marks: b.marks.clone(),
        timeouts: b.timeouts,
        daemons: b.daemons.clone(),
        sysctls: b.sysctls.clone(),
        addresses: b.addresses.clone(),
        scope: b.scope.clone(),
        checks: b.checks.clone(),
        owns_probes: b.owns_probes,
    };
    let entry = Entry {
        format: FORMAT,
        key: key.hex().to_string(),
        inputs: e.inputs.clone(),
        output: e.output.clone(),
        origins,
        balancer: rest,
    };
    let mut s = rmp_serde::Serializer::new(&mut out)
        .with_struct_map()
        .with_human_readable();
    entry.serialize(&mut s).map_err(std::io::Error::other)?;
    let mut s = rmp_serde::Serializer::new(&mut out)
        .with_struct_tuple()
        .with_binary();
    ServicesOut(&b.services)
        .serialize(&mut s)
        .map_err(std::io::Error::other)
}

/// The evaluation in `bytes`, if it is an entry of this format for `key`.
pub fn decode(bytes: &[u8], key: &Key) -> Option<Evaluated> {
    // An entry of another format that does not parse as this one is a miss too.
    // Reading from `rest` moves it past each value.
    let mut rest = bytes;
    let mut de = rmp_serde::Deserializer::new(&mut rest).with_human_readable();
    let entry: Entry<Balancer> = Deserialize::deserialize(&mut de).ok()?;
    if entry.format != FORMAT || entry.key != key.hex() {
        return None;
    }
    let mut de = rmp_serde::Deserializer::new(&mut rest).with_binary();
    let services: Vec<PlainService<Vec<PlainDest>>> = Deserialize::deserialize(&mut de).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let mut balancer = entry.balancer;
    balancer.services = services
        .into_iter()
        .map(|p| service(p).map(|s| (s.key, s)))
        .collect::<Option<_>>()?;
    for (a, source, line, column) in entry.origins {
        if balancer.addresses.contains(&a) {
            balancer
                .addresses
                .insert(a, Origin::at(Arc::from(source), line, column));
        }
    }
    Some(Evaluated {
        balancer,
        output: entry.output,
        inputs: entry.inputs,
        timings: Default::default(),
    })
}
