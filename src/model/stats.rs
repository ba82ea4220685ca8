use serde::{Deserialize, Serialize};

/// Traffic counters and rates (`IPVS_STATS_ATTR_*`, 64-bit).
///
/// Counters are observations, never configuration: they compare equal always, so a
/// busy service is not "different" from the script that declared it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

impl PartialEq for Stats {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Stats {}

impl Stats {
    pub fn is_zero(&self) -> bool {
        self.conns == 0 && self.inpkts == 0 && self.outpkts == 0
    }
}

/// Connection counts of one destination (`IPVS_DEST_ATTR_*_CONNS`). Observations only.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct DestCounters {
    pub active: u32,
    pub inactive: u32,
    pub persistent: u32,
}

impl PartialEq for DestCounters {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for DestCounters {}
