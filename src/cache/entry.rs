//! An entry on disk: MessagePack of the evaluation, with its key and format so that
//! a file of another kind, version or key is a miss.
//!
//! Services and destinations, the bulk of a model, are written in a form of the
//! cache's own: plain structs, no internally tagged enum and no `flatten`, which
//! serde would otherwise buffer field by field while decoding (most of a warm
//! lookup's cost with the model's serde). The rest of the model keeps its serde.
//! MessagePack is written and read as human-readable, as the model's serde expects
//! inside the fields it buffers (addresses as text).

use super::{FORMAT, Key};
use crate::dsl::{Evaluated, Input};
use crate::model::{
    Balancer, Dest, DestCounters, DestKey, Dests, Forward, HostAddress, Netmask, Origin,
    PersistenceEngine, SchedFlags, Scheduler, Service, ServiceKey, StatsBox, TunnelChecksum,
    TunnelKind,
};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Serialize, Deserialize)]
struct Entry<S, B> {
    format: u32,
    key: String,
    inputs: Vec<Input>,
    output: Vec<String>,
    /// Where the script declares each address: plan and apply point at it when the
    /// interface is missing. The model's serde leaves origins out.
    origins: Vec<(HostAddress, String, usize, usize)>,
    services: S,
    /// The model without its services.
    balancer: B,
}

/// A [`Service`] without its origin (as the model's serde), destinations `D`.
#[derive(Serialize, Deserialize)]
struct PlainService<D> {
    key: PlainKey,
    scheduler: Scheduler,
    flags: SchedFlags,
    persistence: Option<u32>,
    netmask: Option<Netmask>,
    pe: Option<PersistenceEngine>,
    one_packet: bool,
    dests: D,
    #[serde(default, skip_serializing_if = "StatsBox::is_zero")]
    stats: StatsBox,
}

#[derive(Serialize, Deserialize)]
enum PlainKey {
    Inet(crate::model::Protocol, IpAddr, u16),
    Fwmark(crate::model::Family, u32),
}

#[derive(Serialize, Deserialize)]
enum PlainForward {
    Masq,
    Local,
    Route,
    Tunnel(TunnelKind, u16, TunnelChecksum),
}

/// A [`Dest`] without its origin.
#[derive(Serialize, Deserialize)]
struct PlainDest {
    address: IpAddr,
    port: u16,
    forward: PlainForward,
    weight: u32,
    upper: u32,
    lower: u32,
    #[serde(default, skip_serializing_if = "no_counters")]
    counters: DestCounters,
    #[serde(default, skip_serializing_if = "StatsBox::is_zero")]
    stats: StatsBox,
}

fn no_counters(c: &DestCounters) -> bool {
    *c == DestCounters::default()
}

impl From<ServiceKey> for PlainKey {
    fn from(k: ServiceKey) -> Self {
        match k {
            ServiceKey::Inet {
                protocol,
                address,
                port,
            } => PlainKey::Inet(protocol, address, port),
            ServiceKey::Fwmark { family, fwmark } => PlainKey::Fwmark(family, fwmark),
        }
    }
}

impl From<PlainKey> for ServiceKey {
    fn from(k: PlainKey) -> Self {
        match k {
            PlainKey::Inet(protocol, address, port) => ServiceKey::inet(protocol, address, port),
            PlainKey::Fwmark(family, fwmark) => ServiceKey::fwmark(family, fwmark),
        }
    }
}

impl From<&Dest> for PlainDest {
    fn from(d: &Dest) -> Self {
        PlainDest {
            address: d.key.address,
            port: d.key.port,
            forward: match d.forward {
                Forward::Masq => PlainForward::Masq,
                Forward::Local => PlainForward::Local,
                Forward::Route => PlainForward::Route,
                Forward::Tunnel {
                    kind,
                    port,
                    checksum,
                } => PlainForward::Tunnel(kind, port, checksum),
            },
            weight: d.weight,
            upper: d.upper_threshold,
            lower: d.lower_threshold,
            counters: d.counters,
            stats: d.stats.clone(),
        }
    }
}

impl From<PlainDest> for Dest {
    fn from(d: PlainDest) -> Self {
        Dest {
            key: DestKey {
                address: d.address,
                port: d.port,
            },
            forward: match d.forward {
                PlainForward::Masq => Forward::Masq,
                PlainForward::Local => Forward::Local,
                PlainForward::Route => Forward::Route,
                PlainForward::Tunnel(kind, port, checksum) => Forward::Tunnel {
                    kind,
                    port,
                    checksum,
                },
            },
            weight: d.weight,
            upper_threshold: d.upper,
            lower_threshold: d.lower,
            counters: d.counters,
            stats: d.stats,
            origin: Origin::default(),
        }
    }
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
            netmask: v.netmask,
            pe: v.pe,
            one_packet: v.one_packet,
            dests: DestsOut(&v.dests),
            stats: v.stats.clone(),
        }))
    }
}

impl Serialize for DestsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(_, d)| PlainDest::from(d)))
    }
}

fn service(p: PlainService<Vec<PlainDest>>) -> Service {
    Service {
        key: p.key.into(),
        scheduler: p.scheduler,
        flags: p.flags,
        persistence: p.persistence,
        netmask: p.netmask,
        pe: p.pe,
        one_packet: p.one_packet,
        dests: p
            .dests
            .into_iter()
            .map(|d| {
                let d = Dest::from(d);
                (d.key, d)
            })
            .collect(),
        stats: p.stats,
        origin: Origin::default(),
    }
}

/// Writes the entry to `out` as it is serialized: the entry of 10,000 services ×
/// 4 destinations is some 4 MB, which a buffer (grown by doubling) would add to
/// the peak memory of the apply that stores it.
pub fn encode(key: &Key, e: &Evaluated, out: impl std::io::Write) -> std::io::Result<()> {
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
        services: ServicesOut(&b.services),
        balancer: rest,
    };
    let mut s = rmp_serde::Serializer::new(out)
        .with_struct_map()
        .with_human_readable();
    entry.serialize(&mut s).map_err(std::io::Error::other)
}

/// The evaluation in `bytes`, if it is an entry of this format for `key`.
pub fn decode(bytes: &[u8], key: &Key) -> Option<Evaluated> {
    // An entry of another format that does not parse as this one is a miss too.
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes).with_human_readable();
    let entry: Entry<Vec<PlainService<Vec<PlainDest>>>, Balancer> =
        Deserialize::deserialize(&mut de).ok()?;
    if entry.format != FORMAT || entry.key != key.hex() {
        return None;
    }
    let mut balancer = entry.balancer;
    balancer.services = entry
        .services
        .into_iter()
        .map(|p| {
            let s = service(p);
            (s.key, s)
        })
        .collect();
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
