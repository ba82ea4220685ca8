//! Traffic counters (`IPVS_STATS_ATTR_*`), output only.
//!
//! Wire trap: the kernel sends two nests. In `STATS` the packet and connection counters
//! are u32 (they wrap) and the byte counters u64; in `STATS64` everything is u64,
//! written with `nla_put_u64_64bit`, which may put `IPVS_STATS_ATTR_PAD` attributes in
//! between to align the values. We prefer `STATS64` and skip the padding.

use super::constants::*;
use super::wire::{DecodeError, Encoder, Table};
use crate::model::Stats;

type StatsTable<'a> = Table<'a, { IPVS_STATS_ATTR_MAX as usize + 1 }>;

/// Decodes the `STATS64` nest when present, else the 32-bit `STATS` one.
pub fn decode_stats(stats64: Option<&[u8]>, stats: Option<&[u8]>) -> Result<Stats, DecodeError> {
    let Some(nest) = stats64.or(stats) else {
        return Ok(Stats::default());
    };
    let t = StatsTable::parse(nest)?;
    let get = |ty, name| t.uint(ty, name).map(Option::unwrap_or_default);
    Ok(Stats {
        conns: get(IPVS_STATS_ATTR_CONNS, "IPVS_STATS_ATTR_CONNS")?,
        inpkts: get(IPVS_STATS_ATTR_INPKTS, "IPVS_STATS_ATTR_INPKTS")?,
        outpkts: get(IPVS_STATS_ATTR_OUTPKTS, "IPVS_STATS_ATTR_OUTPKTS")?,
        inbytes: get(IPVS_STATS_ATTR_INBYTES, "IPVS_STATS_ATTR_INBYTES")?,
        outbytes: get(IPVS_STATS_ATTR_OUTBYTES, "IPVS_STATS_ATTR_OUTBYTES")?,
        cps: get(IPVS_STATS_ATTR_CPS, "IPVS_STATS_ATTR_CPS")?,
        inpps: get(IPVS_STATS_ATTR_INPPS, "IPVS_STATS_ATTR_INPPS")?,
        outpps: get(IPVS_STATS_ATTR_OUTPPS, "IPVS_STATS_ATTR_OUTPPS")?,
        inbps: get(IPVS_STATS_ATTR_INBPS, "IPVS_STATS_ATTR_INBPS")?,
        outbps: get(IPVS_STATS_ATTR_OUTBPS, "IPVS_STATS_ATTR_OUTBPS")?,
    })
}

/// Writes stats the way the kernel does, both nests, PAD attributes included. Only the
/// kernel sends stats; this exists so decoding can be tested against kernel-shaped bytes.
pub fn encode_stats_as_kernel(e: &mut Encoder, stats_ty: u16, stats64_ty: u16, s: &Stats) {
    let fields = [
        (IPVS_STATS_ATTR_CONNS, s.conns),
        (IPVS_STATS_ATTR_INPKTS, s.inpkts),
        (IPVS_STATS_ATTR_OUTPKTS, s.outpkts),
        (IPVS_STATS_ATTR_INBYTES, s.inbytes),
        (IPVS_STATS_ATTR_OUTBYTES, s.outbytes),
        (IPVS_STATS_ATTR_CPS, s.cps),
        (IPVS_STATS_ATTR_INPPS, s.inpps),
        (IPVS_STATS_ATTR_OUTPPS, s.outpps),
        (IPVS_STATS_ATTR_INBPS, s.inbps),
        (IPVS_STATS_ATTR_OUTBPS, s.outbps),
    ];
    let n = e.nest(stats_ty);
    for (ty, v) in fields {
        if ty == IPVS_STATS_ATTR_INBYTES || ty == IPVS_STATS_ATTR_OUTBYTES {
            e.attr(IPVS_STATS_ATTR_PAD, &[]);
            e.u64(ty, v);
        } else {
            e.u32(ty, v as u32);
        }
    }
    e.end(n);
    let n = e.nest(stats64_ty);
    for (ty, v) in fields {
        e.attr(IPVS_STATS_ATTR_PAD, &[]);
        e.u64(ty, v);
    }
    e.end(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Stats {
        Stats {
            conns: 5_000_000_000,
            inpkts: 2,
            outpkts: 3,
            inbytes: 1 << 40,
            outbytes: 5,
            cps: 6,
            inpps: 7,
            outpps: 8,
            inbps: 9,
            outbps: 10,
        }
    }

    #[test]
    fn stats64_wins_and_padding_is_skipped() {
        let mut e = Encoder::new();
        encode_stats_as_kernel(
            &mut e,
            IPVS_SVC_ATTR_STATS,
            IPVS_SVC_ATTR_STATS64,
            &sample(),
        );
        let t = Table::<13>::parse(e.bytes()).unwrap();
        let s = decode_stats(t.get(IPVS_SVC_ATTR_STATS64), t.get(IPVS_SVC_ATTR_STATS)).unwrap();
        assert_eq!(s, sample());
    }

    #[test]
    fn thirty_two_bit_stats_alone_still_decode() {
        let mut e = Encoder::new();
        encode_stats_as_kernel(
            &mut e,
            IPVS_SVC_ATTR_STATS,
            IPVS_SVC_ATTR_STATS64,
            &sample(),
        );
        let t = Table::<13>::parse(e.bytes()).unwrap();
        let s = decode_stats(None, t.get(IPVS_SVC_ATTR_STATS)).unwrap();
        // conns wrapped at 32 bits, the byte counters are 64-bit even there
        assert_eq!(s.conns, 5_000_000_000 % (1 << 32));
        assert_eq!(s.inbytes, 1 << 40);
        assert_eq!(s.outbps, 10);
        assert_eq!(decode_stats(None, None).unwrap(), Stats::default());
    }
}
