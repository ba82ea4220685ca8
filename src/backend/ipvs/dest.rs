//! A real server as the nested `IPVS_CMD_ATTR_DEST` attribute.
//!
//! Wire traps:
//! - ADDR is 16 bytes; its family is ADDR_FAMILY (u16), which the kernel takes as the
//!   service's family when absent (kernels before 3.18 know no other). A family other
//!   than the service's is only accepted with tunnel forwarding and no sync daemon;
//! - PORT is network order (`nla_get_be16`);
//! - FWD_METHOD is a u32 of which the kernel keeps only `IP_VS_CONN_F_FWD_MASK`;
//! - WEIGHT is read into an int: above `i32::MAX` it is negative, so ERANGE;
//! - L_THRESH above U_THRESH is ERANGE; 0 stays 0 (the kernel then uses 3/4 of U);
//! - TUN_TYPE is a u8, TUN_PORT network order (required, non-zero, for GUE, else
//!   EINVAL), TUN_FLAGS a host-order u16. Kernels before 5.2 ignore all three;
//! - NEW/SET need ADDR, PORT, FWD_METHOD, WEIGHT, U_THRESH and L_THRESH; DEL needs
//!   ADDR and PORT (and ADDR_FAMILY to find a mixed-family destination).

use super::constants::*;
use super::service::{af_family, family_af};
use super::stats::decode_stats;
use super::wire::{DecodeError, Encoder, Table, inet_addr};
use crate::model::{Dest, DestCounters, DestKey, Family, Forward, TunnelChecksum, TunnelKind};

type DestTable<'a> = Table<'a, { IPVS_DEST_ATTR_MAX as usize + 1 }>;

fn put_identity(e: &mut Encoder, key: &DestKey) {
    e.u16(
        IPVS_DEST_ATTR_ADDR_FAMILY,
        family_af(Family::of(&key.address)),
    );
    e.inet_addr(IPVS_DEST_ATTR_ADDR, &key.address);
    e.be16(IPVS_DEST_ATTR_PORT, key.port);
}

/// `IPVS_CMD_ATTR_DEST` with only the identity (DEL_DEST).
pub fn encode_dest_key(e: &mut Encoder, key: &DestKey) {
    let n = e.nest(IPVS_CMD_ATTR_DEST);
    put_identity(e, key);
    e.end(n);
}

/// `IPVS_CMD_ATTR_DEST` as a full entry (NEW_DEST, SET_DEST).
pub fn encode_dest(e: &mut Encoder, d: &Dest) {
    let n = e.nest(IPVS_CMD_ATTR_DEST);
    put_identity(e, &d.key);
    e.u32(IPVS_DEST_ATTR_FWD_METHOD, forward_bits(&d.forward));
    e.u32(IPVS_DEST_ATTR_WEIGHT, d.weight);
    e.u32(IPVS_DEST_ATTR_U_THRESH, d.upper_threshold);
    e.u32(IPVS_DEST_ATTR_L_THRESH, d.lower_threshold);
    if let Forward::Tunnel {
        kind,
        port,
        checksum,
    } = d.forward
    {
        e.u8(IPVS_DEST_ATTR_TUN_TYPE, tunnel_type(kind));
        e.be16(IPVS_DEST_ATTR_TUN_PORT, port);
        e.u16(IPVS_DEST_ATTR_TUN_FLAGS, tunnel_flags(checksum));
    }
    e.end(n);
}

pub fn forward_bits(f: &Forward) -> u32 {
    match f {
        Forward::Masq => IP_VS_CONN_F_MASQ,
        Forward::Local => IP_VS_CONN_F_LOCALNODE,
        Forward::Route => IP_VS_CONN_F_DROUTE,
        Forward::Tunnel { .. } => IP_VS_CONN_F_TUNNEL,
    }
}

fn tunnel_type(k: TunnelKind) -> u8 {
    match k {
        TunnelKind::Ipip => IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
        TunnelKind::Gue => IP_VS_CONN_F_TUNNEL_TYPE_GUE,
        TunnelKind::Gre => IP_VS_CONN_F_TUNNEL_TYPE_GRE,
    }
}

fn tunnel_flags(c: TunnelChecksum) -> u16 {
    match c {
        TunnelChecksum::None => IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
        TunnelChecksum::Csum => IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
        TunnelChecksum::Remcsum => IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
    }
}

/// A destination nest as the kernel sends it. `service_family` fills in a missing
/// ADDR_FAMILY.
pub fn decode_dest(nest: &[u8], service_family: Family) -> Result<Dest, DecodeError> {
    let t = DestTable::parse(nest)?;
    let af = match t.u16(IPVS_DEST_ATTR_ADDR_FAMILY, "IPVS_DEST_ATTR_ADDR_FAMILY")? {
        Some(af) => af,
        None => family_af(service_family),
    };
    af_family(af)?;
    let address = inet_addr(
        af,
        t.require(IPVS_DEST_ATTR_ADDR, "IPVS_DEST_ATTR_ADDR")?,
        "IPVS_DEST_ATTR_ADDR",
    )?;
    let port = t
        .be16(IPVS_DEST_ATTR_PORT, "IPVS_DEST_ATTR_PORT")?
        .ok_or(DecodeError::Missing("IPVS_DEST_ATTR_PORT"))?;
    let key = DestKey { address, port };
    let mut d = Dest::new(key);

    let method = t
        .u32(IPVS_DEST_ATTR_FWD_METHOD, "IPVS_DEST_ATTR_FWD_METHOD")?
        .ok_or(DecodeError::Missing("IPVS_DEST_ATTR_FWD_METHOD"))?
        & IP_VS_CONN_F_FWD_MASK;
    let dest = || key.to_string();
    d.forward = match method {
        IP_VS_CONN_F_MASQ => Forward::Masq,
        IP_VS_CONN_F_LOCALNODE => Forward::Local,
        IP_VS_CONN_F_DROUTE => Forward::Route,
        IP_VS_CONN_F_TUNNEL => {
            let kind = match t
                .u8(IPVS_DEST_ATTR_TUN_TYPE, "IPVS_DEST_ATTR_TUN_TYPE")?
                .unwrap_or(IP_VS_CONN_F_TUNNEL_TYPE_IPIP)
            {
                IP_VS_CONN_F_TUNNEL_TYPE_IPIP => TunnelKind::Ipip,
                IP_VS_CONN_F_TUNNEL_TYPE_GUE => TunnelKind::Gue,
                IP_VS_CONN_F_TUNNEL_TYPE_GRE => TunnelKind::Gre,
                kind => return Err(DecodeError::TunnelType { dest: dest(), kind }),
            };
            let port = t
                .be16(IPVS_DEST_ATTR_TUN_PORT, "IPVS_DEST_ATTR_TUN_PORT")?
                .unwrap_or(0);
            let checksum = match t
                .u16(IPVS_DEST_ATTR_TUN_FLAGS, "IPVS_DEST_ATTR_TUN_FLAGS")?
                .unwrap_or(0)
            {
                IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM => TunnelChecksum::None,
                IP_VS_TUNNEL_ENCAP_FLAG_CSUM => TunnelChecksum::Csum,
                IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM => TunnelChecksum::Remcsum,
                flags => {
                    return Err(DecodeError::TunnelFlags {
                        dest: dest(),
                        flags,
                    });
                }
            };
            Forward::Tunnel {
                kind,
                port,
                checksum,
            }
        }
        method => {
            return Err(DecodeError::Forward {
                dest: dest(),
                method,
            });
        }
    };

    d.weight = t
        .u32(IPVS_DEST_ATTR_WEIGHT, "IPVS_DEST_ATTR_WEIGHT")?
        .ok_or(DecodeError::Missing("IPVS_DEST_ATTR_WEIGHT"))?;
    d.upper_threshold = t
        .u32(IPVS_DEST_ATTR_U_THRESH, "IPVS_DEST_ATTR_U_THRESH")?
        .unwrap_or(0);
    d.lower_threshold = t
        .u32(IPVS_DEST_ATTR_L_THRESH, "IPVS_DEST_ATTR_L_THRESH")?
        .unwrap_or(0);
    d.counters = DestCounters {
        active: t
            .u32(IPVS_DEST_ATTR_ACTIVE_CONNS, "IPVS_DEST_ATTR_ACTIVE_CONNS")?
            .unwrap_or(0),
        inactive: t
            .u32(IPVS_DEST_ATTR_INACT_CONNS, "IPVS_DEST_ATTR_INACT_CONNS")?
            .unwrap_or(0),
        persistent: t
            .u32(IPVS_DEST_ATTR_PERSIST_CONNS, "IPVS_DEST_ATTR_PERSIST_CONNS")?
            .unwrap_or(0),
    };
    d.stats = decode_stats(t.get(IPVS_DEST_ATTR_STATS64), t.get(IPVS_DEST_ATTR_STATS))?.into();
    Ok(d)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::backend::ipvs::stats::encode_stats_as_kernel;
    use crate::model::Stats;

    /// The nest the kernel would send for `d` in a dump: what we send plus the
    /// counters, the (always present) tunnel attributes and both stats nests.
    pub fn kernel_nest(d: &Dest) -> Vec<u8> {
        let mut e = Encoder::new();
        encode_dest(&mut e, d);
        let mut out = e.bytes()[4..].to_vec();
        let mut tail = Encoder::new();
        if !d.forward.is_tunnel() {
            tail.u8(IPVS_DEST_ATTR_TUN_TYPE, 0);
            tail.be16(IPVS_DEST_ATTR_TUN_PORT, 0);
            tail.u16(IPVS_DEST_ATTR_TUN_FLAGS, 0);
        }
        tail.u32(IPVS_DEST_ATTR_ACTIVE_CONNS, d.counters.active);
        tail.u32(IPVS_DEST_ATTR_INACT_CONNS, d.counters.inactive);
        tail.u32(IPVS_DEST_ATTR_PERSIST_CONNS, d.counters.persistent);
        encode_stats_as_kernel(
            &mut tail,
            IPVS_DEST_ATTR_STATS,
            IPVS_DEST_ATTR_STATS64,
            &d.stats,
        );
        out.extend_from_slice(tail.bytes());
        out
    }

    pub fn variants() -> Vec<Dest> {
        let forwards = [
            Forward::Masq,
            Forward::Route,
            Forward::Local,
            Forward::Tunnel {
                kind: TunnelKind::Ipip,
                port: 0,
                checksum: TunnelChecksum::None,
            },
            Forward::Tunnel {
                kind: TunnelKind::Gue,
                port: 6080,
                checksum: TunnelChecksum::Csum,
            },
            Forward::Tunnel {
                kind: TunnelKind::Gue,
                port: 5555,
                checksum: TunnelChecksum::Remcsum,
            },
            Forward::Tunnel {
                kind: TunnelKind::Gre,
                port: 0,
                checksum: TunnelChecksum::Csum,
            },
        ];
        let mut out = Vec::new();
        for addr in ["10.0.1.1", "2001:db8::10"] {
            for port in [0, 80, 65535] {
                for forward in forwards {
                    let mut d = Dest::new(DestKey {
                        address: addr.parse().unwrap(),
                        port,
                    });
                    d.forward = forward;
                    out.push(d.clone());
                    d.weight = 65535;
                    d.upper_threshold = 1000;
                    d.lower_threshold = 750;
                    d.counters = DestCounters {
                        active: 1,
                        inactive: 2,
                        persistent: 3,
                    };
                    *d.stats = Stats {
                        conns: 11,
                        inbytes: 1 << 33,
                        outbps: 3,
                        ..Stats::default()
                    };
                    out.push(d.clone());
                    d.weight = 0;
                    out.push(d);
                }
            }
        }
        out
    }

    #[test]
    fn every_variant_round_trips() {
        for d in variants() {
            // the service family only matters when ADDR_FAMILY is missing
            let back = decode_dest(&kernel_nest(&d), Family::Inet).unwrap();
            assert_eq!(back, d);
            assert_eq!(back.counters, d.counters);
            assert_eq!(back.stats, d.stats);
        }
    }

    #[test]
    fn golden_nat_dest() {
        let mut d = Dest::new(DestKey {
            address: "10.2.1.1".parse().unwrap(),
            port: 8080,
        });
        d.forward = Forward::Masq;
        d.weight = 3;
        d.upper_threshold = 100;
        d.lower_threshold = 50;
        let mut e = Encoder::new();
        encode_dest(&mut e, &d);
        #[rustfmt::skip]
        let want: &[u8] = &[
            0x48, 0x00, 0x02, 0x80,                         // nest len 72, NESTED|DEST
            0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, // ADDR_FAMILY = AF_INET
            0x14, 0x00, 0x01, 0x00, 10, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ADDR
            0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00, // PORT 8080, big-endian
            0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, // FWD_METHOD = MASQ
            0x08, 0x00, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00, // WEIGHT 3
            0x08, 0x00, 0x05, 0x00, 0x64, 0x00, 0x00, 0x00, // U_THRESH 100
            0x08, 0x00, 0x06, 0x00, 0x32, 0x00, 0x00, 0x00, // L_THRESH 50
        ];
        assert_eq!(e.bytes(), want);
    }

    #[test]
    fn golden_gue_tunnel_attributes() {
        let mut d = Dest::new(DestKey {
            address: "2001:db8::5".parse().unwrap(),
            port: 443,
        });
        d.forward = Forward::Tunnel {
            kind: TunnelKind::Gue,
            port: 6080,
            checksum: TunnelChecksum::Remcsum,
        };
        let mut e = Encoder::new();
        encode_dest(&mut e, &d);
        let tail = &e.bytes()[e.len() - 24..];
        #[rustfmt::skip]
        let want: &[u8] = &[
            0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00, // TUN_TYPE = GUE (u8 + pad)
            0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00, // TUN_PORT 6080, big-endian
            0x06, 0x00, 0x0f, 0x00, 0x02, 0x00, 0x00, 0x00, // TUN_FLAGS = REMCSUM
        ];
        assert_eq!(tail, want);
        assert_eq!(&e.bytes()[4..12], [6, 0, 11, 0, 10, 0, 0, 0]); // ADDR_FAMILY = AF_INET6
    }

    #[test]
    fn identity_only_for_delete() {
        let mut e = Encoder::new();
        encode_dest_key(
            &mut e,
            &DestKey {
                address: "10.0.0.9".parse().unwrap(),
                port: 0,
            },
        );
        assert_eq!(e.len(), 4 + 8 + 20 + 8);
        let t = DestTable::parse(&e.bytes()[4..]).unwrap();
        assert!(t.get(IPVS_DEST_ATTR_FWD_METHOD).is_none());
        assert_eq!(t.be16(IPVS_DEST_ATTR_PORT, "p").unwrap(), Some(0));
    }

    #[test]
    fn old_kernels_without_address_family_use_the_service_family() {
        let mut e = Encoder::new();
        e.attr(
            IPVS_DEST_ATTR_ADDR,
            &"2001:db8::7"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        );
        e.be16(IPVS_DEST_ATTR_PORT, 80);
        e.u32(
            IPVS_DEST_ATTR_FWD_METHOD,
            IP_VS_CONN_F_DROUTE | IP_VS_CONN_F_NOOUTPUT,
        );
        e.u32(IPVS_DEST_ATTR_WEIGHT, 5);
        let d = decode_dest(e.bytes(), Family::Inet6).unwrap();
        assert_eq!(
            d.key.address,
            "2001:db8::7".parse::<std::net::IpAddr>().unwrap()
        );
        assert_eq!(d.forward, Forward::Route); // bits outside FWD_MASK dropped
        assert_eq!(d.weight, 5);
    }

    #[test]
    fn unrepresentable_kernel_state_is_a_clear_error() {
        let mut d = Dest::new(DestKey {
            address: "10.0.0.1".parse().unwrap(),
            port: 80,
        });
        d.forward = Forward::Tunnel {
            kind: TunnelKind::Gue,
            port: 1,
            checksum: TunnelChecksum::None,
        };
        let mut nest = kernel_nest(&d);
        let mut extra = Encoder::new();
        extra.u16(IPVS_DEST_ATTR_TUN_FLAGS, 3);
        nest.extend_from_slice(extra.bytes()); // the last duplicate wins
        assert_eq!(
            decode_dest(&nest, Family::Inet).unwrap_err().to_string(),
            "destination 10.0.0.1:80 has tunnel flags 0x3, which lvsh cannot represent"
        );
        let mut extra = Encoder::new();
        extra.u32(IPVS_DEST_ATTR_FWD_METHOD, IP_VS_CONN_F_BYPASS);
        nest.extend_from_slice(extra.bytes());
        assert_eq!(
            decode_dest(&nest, Family::Inet).unwrap_err().to_string(),
            "destination 10.0.0.1:80 has unknown forwarding method 4"
        );
    }
}
