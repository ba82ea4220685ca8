use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ops::{Deref, DerefMut};

/// Traffic counters and rates (`IPVS_STATS_ATTR_*`, 64-bit).
///
/// Counters are observations, never configuration: [`Service`](super::Service) and
/// [`Dest`](super::Dest) leave them out of their equality, so a busy service is not
/// "different" from the script that declared it. Stats themselves compare by value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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

impl Stats {
    pub fn is_zero(&self) -> bool {
        self.conns == 0 && self.inpkts == 0 && self.outpkts == 0
    }
}

/// Connection counts of one destination (`IPVS_DEST_ATTR_*_CONNS`). Observations
/// only: [`Dest`](super::Dest) leaves them out of its equality.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestCounters {
    pub active: u32,
    pub inactive: u32,
    pub persistent: u32,
}

/// The [`Stats`] of a service or destination, allocated only when there are some.
///
/// Only a model read from the kernel has stats; a desired model of 40,000
/// destinations would otherwise carry 3 MiB of zeros. Reads through `Deref` see
/// zeros when there are none; writes through `DerefMut` allocate.
#[derive(Debug, Clone, Default)]
pub struct StatsBox(Option<Box<Stats>>);

static NO_STATS: Stats = Stats {
    conns: 0,
    inpkts: 0,
    outpkts: 0,
    inbytes: 0,
    outbytes: 0,
    cps: 0,
    inpps: 0,
    outpps: 0,
    inbps: 0,
    outbps: 0,
};

impl StatsBox {
    pub fn is_zero(&self) -> bool {
        self.0.as_deref().is_none_or(Stats::is_zero)
    }
}

impl From<Stats> for StatsBox {
    /// All-zero stats take no room.
    fn from(s: Stats) -> Self {
        StatsBox((s != NO_STATS).then(|| Box::new(s)))
    }
}

impl Deref for StatsBox {
    type Target = Stats;
    fn deref(&self) -> &Stats {
        self.0.as_deref().unwrap_or(&NO_STATS)
    }
}

impl DerefMut for StatsBox {
    fn deref_mut(&mut self) -> &mut Stats {
        self.0.get_or_insert_with(Box::default)
    }
}

/// Equal when the stats read equal: none at all is the same as all zeros.
impl PartialEq for StatsBox {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}
impl Eq for StatsBox {}

impl Serialize for StatsBox {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Stats::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for StatsBox {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Stats::deserialize(d).map(StatsBox::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_box_reads_zeros_and_allocates_on_write() {
        let mut s = StatsBox::default();
        assert!(s.is_zero() && s.0.is_none());
        assert_eq!(s.inbytes, 0);
        s.conns = 3;
        assert!(!s.is_zero());
        assert_eq!(StatsBox::from(Stats::default()).0, None);
        let j = serde_json::to_string(&s).unwrap();
        let back: StatsBox = serde_json::from_str(&j).unwrap();
        assert_eq!(back.conns, 3);
    }

    #[test]
    fn equal_stats_are_equal_and_different_stats_differ() {
        let a = Stats {
            conns: 7,
            inbytes: 1 << 40,
            ..Stats::default()
        };
        let same = a;
        assert_eq!(a, same);
        for other in [
            Stats { conns: 8, ..a },
            Stats { outbps: 1, ..a },
            Stats::default(),
        ] {
            assert_ne!(a, other);
            assert_ne!(StatsBox::from(a), StatsBox::from(other));
        }
        assert_eq!(StatsBox::from(a), StatsBox::from(a));
        // No stats and zero stats are the same reading.
        let written = StatsBox(Some(Box::default()));
        assert_eq!(written, StatsBox::default());
        let c = DestCounters {
            active: 1,
            inactive: 2,
            persistent: 3,
        };
        let same = c;
        assert_eq!(c, same);
        assert_ne!(c, DestCounters { active: 0, ..c });
    }
}
