//! An entry on disk: compact JSON of the evaluation, with its key and format so that
//! a file of another kind, version or key is a miss.

use super::{FORMAT, Key};
use crate::dsl::{Evaluated, Input};
use crate::model::{Balancer, HostAddress, Origin};
use serde::{Deserialize, Serialize};
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
    balancer: B,
}

/// Writes the entry to `out` as it is serialized: the text of 10,000 services ×
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
    let entry = Entry {
        format: FORMAT,
        key: key.hex().to_string(),
        inputs: e.inputs.clone(),
        output: e.output.clone(),
        origins,
        balancer: &e.balancer,
    };
    serde_json::to_writer(out, &entry).map_err(std::io::Error::other)
}

/// The evaluation in `bytes`, if it is an entry of this format for `key`.
pub fn decode(bytes: &[u8], key: &Key) -> Option<Evaluated> {
    // An entry of another format that does not parse as this one is a miss too.
    let entry: Entry<Balancer> = serde_json::from_slice(bytes).ok()?;
    if entry.format != FORMAT || entry.key != key.hex() {
        return None;
    }
    let mut balancer = entry.balancer;
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
