//! What decoding a cache entry costs in serde_json and in self-describing binary
//! formats (issue 16): `cache_decode ENTRY.json FORMAT RUNS`, FORMAT one of `json`,
//! `msgpack` (rmp-serde, fields by name), `msgpack-compact` (fields by position),
//! `cbor` (ciborium), or `plain-json` / `plain-msgpack` (services and destinations in
//! the cache-only form that format 2 of the cache adopted). ENTRY.json is an entry of
//! the cache's format 1 (JSON, what lvsh wrote before format 2); it is re-encoded in
//! FORMAT, then decoded RUNS times; it prints the size and the time per decode. Under
//! `valgrind --tool=callgrind`, RUNS 1 minus RUNS 0 is one decode's instructions.
//!
//! MessagePack is written and read as human-readable: the model's addresses go
//! through serde's buffering (tagged and flattened fields), which always asks for the
//! human-readable form, so a binary form of an address would not read back. ciborium
//! has no such switch, and its entries fail to decode for that reason.
use lvsh::dsl::Input;
use lvsh::model::{
    Balancer, DestCounters, DestKey, Dests, Forward, HostAddress, Netmask, Origin,
    PersistenceEngine, SchedFlags, Scheduler, Service, ServiceKey, StatsBox, TunnelChecksum,
    TunnelKind,
};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A cache-only form of the bulk (formats `plain-json`, `plain-msgpack`): services
/// and destinations as plain structs, no internally tagged enum, no `flatten`, so
/// serde reads them without buffering; decoding includes building the model.
#[derive(Serialize, Deserialize)]
struct Plain {
    format: u32,
    key: String,
    inputs: Vec<Input>,
    output: Vec<String>,
    origins: Vec<(HostAddress, String, usize, usize)>,
    services: Vec<PlainService>,
    /// The rest of the model, its services left out.
    balancer: Balancer,
}

#[derive(Serialize, Deserialize)]
struct PlainService {
    key: ServiceKey,
    scheduler: Scheduler,
    flags: SchedFlags,
    persistence: Option<u32>,
    netmask: Option<Netmask>,
    pe: Option<PersistenceEngine>,
    one_packet: bool,
    dests: Vec<PlainDest>,
    #[serde(default, skip_serializing_if = "StatsBox::is_zero")]
    stats: StatsBox,
}

#[derive(Serialize, Deserialize)]
enum PlainForward {
    Masq,
    Local,
    Route,
    Tunnel(TunnelKind, u16, TunnelChecksum),
}

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

impl Plain {
    fn from(mut e: Entry) -> Plain {
        let services = std::mem::take(&mut e.balancer.services);
        let services = services
            .into_values()
            .map(|s| PlainService {
                key: s.key,
                scheduler: s.scheduler,
                flags: s.flags,
                persistence: s.persistence,
                netmask: s.netmask,
                pe: s.pe,
                one_packet: s.one_packet,
                dests: s
                    .dests
                    .iter()
                    .map(|(_, d)| PlainDest {
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
                    })
                    .collect(),
                stats: s.stats,
            })
            .collect();
        Plain {
            format: e.format,
            key: e.key,
            inputs: e.inputs,
            output: e.output,
            origins: e.origins,
            services,
            balancer: e.balancer,
        }
    }

    fn into_entry(self) -> Entry {
        let mut balancer = self.balancer;
        balancer.services = self
            .services
            .into_iter()
            .map(|p| {
                let mut s = Service::new(p.key);
                s.scheduler = p.scheduler;
                s.flags = p.flags;
                s.persistence = p.persistence;
                s.netmask = p.netmask;
                s.pe = p.pe;
                s.one_packet = p.one_packet;
                s.stats = p.stats;
                s.dests = p
                    .dests
                    .into_iter()
                    .map(|d| {
                        let key = DestKey {
                            address: d.address,
                            port: d.port,
                        };
                        let dest = lvsh::model::Dest {
                            key,
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
                        };
                        (key, dest)
                    })
                    .collect::<Dests>();
                (p.key, s)
            })
            .collect();
        Entry {
            format: self.format,
            key: self.key,
            inputs: self.inputs,
            output: self.output,
            origins: self.origins,
            balancer,
        }
    }
}

/// The fields of `cache::entry::Entry`.
#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    key: String,
    inputs: Vec<Input>,
    output: Vec<String>,
    origins: Vec<(HostAddress, String, usize, usize)>,
    balancer: Balancer,
}

fn encode(e: Entry, format: &str) -> Vec<u8> {
    let mut v = Vec::new();
    match format {
        "plain-json" => serde_json::to_writer(&mut v, &Plain::from(e)).unwrap(),
        "plain-msgpack" => Plain::from(e)
            .serialize(
                &mut rmp_serde::Serializer::new(&mut v)
                    .with_struct_map()
                    .with_human_readable(),
            )
            .unwrap(),
        "json" => serde_json::to_writer(&mut v, &e).unwrap(),
        "msgpack" => e
            .serialize(
                &mut rmp_serde::Serializer::new(&mut v)
                    .with_struct_map()
                    .with_human_readable(),
            )
            .unwrap(),
        "msgpack-compact" => e
            .serialize(&mut rmp_serde::Serializer::new(&mut v).with_human_readable())
            .unwrap(),
        "cbor" => ciborium::into_writer(&e, &mut v).unwrap(),
        _ => panic!("unknown format {format}"),
    }
    v
}

fn decode(bytes: &[u8], format: &str) -> Result<Entry, String> {
    match format {
        "plain-json" => serde_json::from_slice::<Plain>(bytes)
            .map(Plain::into_entry)
            .map_err(|e| e.to_string()),
        "plain-msgpack" => {
            let mut de = rmp_serde::Deserializer::from_read_ref(bytes).with_human_readable();
            Plain::deserialize(&mut de)
                .map(Plain::into_entry)
                .map_err(|e| e.to_string())
        }
        "json" => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        "msgpack" | "msgpack-compact" => {
            let mut de = rmp_serde::Deserializer::from_read_ref(bytes).with_human_readable();
            Entry::deserialize(&mut de).map_err(|e| e.to_string())
        }
        _ => ciborium::from_reader(bytes).map_err(|e| e.to_string()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, format, runs] = &args[..] else {
        eprintln!("usage: cache_decode ENTRY.json FORMAT RUNS");
        std::process::exit(2);
    };
    let runs: u32 = runs.parse().expect("RUNS is a number");
    let json = std::fs::read(path).unwrap();
    let entry: Entry = serde_json::from_slice(&json).unwrap();
    let bytes = encode(entry, format);
    println!("{format}: {} bytes", bytes.len());
    // What comes back is the model the JSON entry holds (compared as JSON).
    if let Ok(back) = decode(&bytes, format) {
        let same = serde_json::to_vec(&back).unwrap() == json;
        println!("{format}: reads back the same entry: {same}");
    }
    let start = std::time::Instant::now();
    for _ in 0..runs {
        match decode(&bytes, format) {
            Ok(e) => drop(std::hint::black_box(e)),
            Err(e) => {
                println!("{format}: does not decode: {e}");
                std::process::exit(1);
            }
        }
    }
    if runs > 0 {
        println!("{format}: {:?} per decode", start.elapsed() / runs);
    }
}
