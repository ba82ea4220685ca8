//! What decoding a cache entry costs in serde_json and in self-describing binary
//! formats (issue 16): `cache_decode ENTRY.json FORMAT RUNS`, FORMAT one of `json`,
//! `msgpack` (rmp-serde, fields by name), `msgpack-compact` (fields by position) or
//! `cbor` (ciborium). The entry (a file of the evaluation cache) is re-encoded in
//! FORMAT, then decoded RUNS times; it prints the size and the time per decode. Under
//! `valgrind --tool=callgrind`, RUNS 1 minus RUNS 0 is one decode's instructions.
//!
//! MessagePack is written and read as human-readable: the model's addresses go
//! through serde's buffering (tagged and flattened fields), which always asks for the
//! human-readable form, so a binary form of an address would not read back. ciborium
//! has no such switch, and its entries fail to decode for that reason.
use lvsh::dsl::Input;
use lvsh::model::{Balancer, HostAddress};
use serde::{Deserialize, Serialize};

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

fn encode(e: &Entry, format: &str) -> Vec<u8> {
    let mut v = Vec::new();
    match format {
        "json" => serde_json::to_writer(&mut v, e).unwrap(),
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
        "cbor" => ciborium::into_writer(e, &mut v).unwrap(),
        _ => panic!("unknown format {format}"),
    }
    v
}

fn decode(bytes: &[u8], format: &str) -> Result<Entry, String> {
    match format {
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
    let entry: Entry = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let bytes = encode(&entry, format);
    drop(entry);
    println!("{format}: {} bytes", bytes.len());
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
