//! A virtual service as the nested `IPVS_CMD_ATTR_SERVICE` attribute.
//!
//! Wire traps:
//! - identity is AF plus either FWMARK, or PROTOCOL + ADDR + PORT; with FWMARK the
//!   kernel ignores the other three and stores the service as TCP;
//! - PROTOCOL is a host-order u16, PORT is network order (`nla_get_be16`);
//! - ADDR is a 16-byte `union nf_inet_addr` whatever the family;
//! - FLAGS is `struct ip_vs_flags { flags, mask }`: the kernel applies
//!   `(old & ~mask) | (flags & mask)`, so we always send the full set with mask ~0;
//!   HASHED is kernel-internal and never sent or kept;
//! - NETMASK is read by the kernel as a raw be32: for IPv4 the mask bytes in network
//!   order (255.255.255.255 = host), for IPv6 the prefix length 1..=128 as a plain
//!   host-order number;
//! - TIMEOUT (persistence seconds) means nothing unless PERSISTENT is in the flags;
//! - NEW/SET need SCHED_NAME, FLAGS, TIMEOUT and NETMASK, else EINVAL; PE_NAME is
//!   optional and leaving it out on SET removes the engine.

use super::constants::*;
use super::stats::decode_stats;
use super::wire::{AF_INET, AF_INET6, DecodeError, Encoder, Table, inet_addr};
use crate::model::{
    Family, Netmask, PersistenceEngine, Protocol, SchedFlags, Scheduler, Service, ServiceKey,
};
use std::net::Ipv4Addr;

type SvcTable<'a> = Table<'a, { IPVS_SVC_ATTR_MAX as usize + 1 }>;

pub fn family_af(f: Family) -> u16 {
    match f {
        Family::Inet => AF_INET,
        Family::Inet6 => AF_INET6,
    }
}

pub fn af_family(af: u16) -> Result<Family, DecodeError> {
    match af {
        AF_INET => Ok(Family::Inet),
        AF_INET6 => Ok(Family::Inet6),
        other => Err(DecodeError::Family(other)),
    }
}

fn put_identity(e: &mut Encoder, key: &ServiceKey) {
    e.u16(IPVS_SVC_ATTR_AF, family_af(key.family()));
    match key {
        ServiceKey::Fwmark { fwmark, .. } => e.u32(IPVS_SVC_ATTR_FWMARK, *fwmark),
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => {
            e.u16(IPVS_SVC_ATTR_PROTOCOL, protocol.number());
            e.inet_addr(IPVS_SVC_ATTR_ADDR, address);
            e.be16(IPVS_SVC_ATTR_PORT, *port);
        }
    }
}

/// `IPVS_CMD_ATTR_SERVICE` with only the identity (DEL_SERVICE, destination commands,
/// the GET_DEST dump, ZERO of one service).
pub fn encode_service_key(e: &mut Encoder, key: &ServiceKey) {
    let n = e.nest(IPVS_CMD_ATTR_SERVICE);
    put_identity(e, key);
    e.end(n);
}

/// `IPVS_CMD_ATTR_SERVICE` as a full entry (NEW_SERVICE, SET_SERVICE).
pub fn encode_service(e: &mut Encoder, s: &Service) {
    let n = e.nest(IPVS_CMD_ATTR_SERVICE);
    put_identity(e, &s.key);
    e.string(IPVS_SVC_ATTR_SCHED_NAME, s.scheduler.name());
    if let Some(pe) = s.pe {
        e.string(IPVS_SVC_ATTR_PE_NAME, pe.name());
    }
    let mut flags = [0u8; 8];
    flags[..4].copy_from_slice(&service_flags(s).to_ne_bytes());
    flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
    e.attr(IPVS_SVC_ATTR_FLAGS, &flags);
    e.u32(IPVS_SVC_ATTR_TIMEOUT, s.persistence.unwrap_or(0));
    e.attr(IPVS_SVC_ATTR_NETMASK, &netmask_bytes(s.effective_netmask()));
    e.end(n);
}

/// The `IP_VS_SVC_F_*` bits a service asks for.
pub fn service_flags(s: &Service) -> u32 {
    let mut f = 0;
    if s.persistence.is_some() {
        f |= IP_VS_SVC_F_PERSISTENT;
    }
    if s.one_packet {
        f |= IP_VS_SVC_F_ONEPACKET;
    }
    if s.flags.flag1 {
        f |= IP_VS_SVC_F_SCHED1;
    }
    if s.flags.flag2 {
        f |= IP_VS_SVC_F_SCHED2;
    }
    if s.flags.flag3 {
        f |= IP_VS_SVC_F_SCHED3;
    }
    f
}

fn netmask_bytes(m: Netmask) -> [u8; 4] {
    match m {
        Netmask::V4(mask) => mask.octets(),
        Netmask::V6(prefix) => (prefix as u32).to_ne_bytes(),
    }
}

/// Reads the identity of a service nest.
pub fn decode_service_key(t: &SvcTable<'_>) -> Result<ServiceKey, DecodeError> {
    let af = t
        .u16(IPVS_SVC_ATTR_AF, "IPVS_SVC_ATTR_AF")?
        .ok_or(DecodeError::Missing("IPVS_SVC_ATTR_AF"))?;
    let family = af_family(af)?;
    if let Some(fwmark) = t.u32(IPVS_SVC_ATTR_FWMARK, "IPVS_SVC_ATTR_FWMARK")? {
        return Ok(ServiceKey::fwmark(family, fwmark));
    }
    let number = t
        .u16(IPVS_SVC_ATTR_PROTOCOL, "IPVS_SVC_ATTR_PROTOCOL")?
        .ok_or(DecodeError::Missing("IPVS_SVC_ATTR_PROTOCOL"))?;
    let protocol = Protocol::from_number(number).ok_or(DecodeError::Protocol(number))?;
    let address = inet_addr(
        af,
        t.require(IPVS_SVC_ATTR_ADDR, "IPVS_SVC_ATTR_ADDR")?,
        "IPVS_SVC_ATTR_ADDR",
    )?;
    let port = t
        .be16(IPVS_SVC_ATTR_PORT, "IPVS_SVC_ATTR_PORT")?
        .ok_or(DecodeError::Missing("IPVS_SVC_ATTR_PORT"))?;
    Ok(ServiceKey::inet(protocol, address, port))
}

/// A service nest as the kernel sends it (dump entries), without destinations.
pub fn decode_service(nest: &[u8]) -> Result<Service, DecodeError> {
    let t = SvcTable::parse(nest)?;
    let key = decode_service_key(&t)?;
    let mut s = Service::new(key);

    let sched = t
        .string(IPVS_SVC_ATTR_SCHED_NAME, "IPVS_SVC_ATTR_SCHED_NAME")?
        .ok_or(DecodeError::Missing("IPVS_SVC_ATTR_SCHED_NAME"))?;
    s.scheduler = sched
        .parse::<Scheduler>()
        .map_err(|()| DecodeError::UnknownScheduler {
            service: key.to_string(),
            name: sched.to_string(),
            known: Scheduler::names().collect::<Vec<_>>().join(", "),
        })?;

    let flags = t
        .fixed::<8>(IPVS_SVC_ATTR_FLAGS, "IPVS_SVC_ATTR_FLAGS")?
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(DecodeError::Missing("IPVS_SVC_ATTR_FLAGS"))?;
    // PERSISTENT, HASHED and ONEPACKET are not scheduler flags.
    s.flags = SchedFlags {
        flag1: flags & IP_VS_SVC_F_SCHED1 != 0,
        flag2: flags & IP_VS_SVC_F_SCHED2 != 0,
        flag3: flags & IP_VS_SVC_F_SCHED3 != 0,
    };
    s.one_packet = flags & IP_VS_SVC_F_ONEPACKET != 0;
    let timeout = t
        .u32(IPVS_SVC_ATTR_TIMEOUT, "IPVS_SVC_ATTR_TIMEOUT")?
        .unwrap_or(0);
    s.persistence = (flags & IP_VS_SVC_F_PERSISTENT != 0).then_some(timeout);

    if let Some(b) = t.fixed::<4>(IPVS_SVC_ATTR_NETMASK, "IPVS_SVC_ATTR_NETMASK")? {
        let mask = match key.family() {
            Family::Inet => Netmask::V4(Ipv4Addr::from(b)),
            Family::Inet6 => {
                let prefix = u32::from_ne_bytes(b);
                if !(1..=128).contains(&prefix) {
                    return Err(DecodeError::Netmask(prefix));
                }
                Netmask::V6(prefix as u8)
            }
        };
        s.set_netmask(mask);
    }

    if let Some(name) = t.string(IPVS_SVC_ATTR_PE_NAME, "IPVS_SVC_ATTR_PE_NAME")?
        && !name.is_empty()
    {
        s.pe = Some(
            PersistenceEngine::parse(name).ok_or_else(|| DecodeError::UnknownPe {
                service: key.to_string(),
                name: name.to_string(),
            })?,
        );
    }

    s.stats = decode_stats(t.get(IPVS_SVC_ATTR_STATS64), t.get(IPVS_SVC_ATTR_STATS))?.into();
    Ok(s)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::backend::ipvs::stats::encode_stats_as_kernel;
    use crate::model::{SchedFlag, Stats};

    /// The nest the kernel would send for `s` in a dump: what we send, plus the
    /// FLAGS mask the kernel also fills with ~0, plus both stats nests.
    pub fn kernel_nest(s: &Service) -> Vec<u8> {
        let mut e = Encoder::new();
        encode_service(&mut e, s);
        let mut inner = e.bytes()[4..].to_vec();
        let mut tail = Encoder::new();
        encode_stats_as_kernel(
            &mut tail,
            IPVS_SVC_ATTR_STATS,
            IPVS_SVC_ATTR_STATS64,
            &s.stats,
        );
        inner.extend_from_slice(tail.bytes());
        inner
    }

    fn inner(e: &Encoder) -> &[u8] {
        &e.bytes()[4..]
    }

    pub fn variants() -> Vec<Service> {
        let v4 = ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), 80);
        let v6 = ServiceKey::inet(Protocol::Udp, "2001:db8::1".parse().unwrap(), 53);
        let sctp = ServiceKey::inet(Protocol::Sctp, "10.0.0.1".parse().unwrap(), 0);
        let fw4 = ServiceKey::fwmark(Family::Inet, 10);
        let fw6 = ServiceKey::fwmark(Family::Inet6, u32::MAX);
        let mut out = Vec::new();
        for key in [v4, v6, sctp, fw4, fw6] {
            for sched in [
                Scheduler::Wlc,
                Scheduler::Sh,
                Scheduler::Mh,
                Scheduler::Twos,
                Scheduler::None,
            ] {
                let mut s = Service::new(key);
                s.scheduler = sched;
                out.push(s.clone());
                s.persistence = Some(1200);
                s.set_netmask(match key.family() {
                    Family::Inet => Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
                    Family::Inet6 => Netmask::V6(64),
                });
                out.push(s.clone());
                s.flags.insert(SchedFlag::Flag1);
                s.flags.insert(SchedFlag::Flag3);
                s.one_packet = true;
                s.pe = Some(PersistenceEngine::Sip);
                out.push(s.clone());
                s.persistence = Some(0);
                s.flags.insert(SchedFlag::Flag2);
                *s.stats = Stats {
                    conns: 1,
                    inpkts: 2,
                    outpkts: 3,
                    inbytes: u64::MAX,
                    outbytes: 5,
                    cps: 6,
                    inpps: 7,
                    outpps: 8,
                    inbps: 9,
                    outbps: 10,
                };
                out.push(s);
            }
        }
        out
    }

    #[test]
    fn every_variant_round_trips() {
        for s in variants() {
            let back = decode_service(&kernel_nest(&s)).unwrap();
            assert_eq!(back, s);
            assert_eq!(back.stats, s.stats, "{:?}", s.key);
            assert!(back.dests.is_empty());
        }
    }

    #[test]
    fn golden_v4_persistent_service() {
        let mut s = Service::new(ServiceKey::inet(
            Protocol::Tcp,
            "10.0.0.1".parse().unwrap(),
            443,
        ));
        s.scheduler = Scheduler::Wrr;
        s.persistence = Some(1200);
        let mut e = Encoder::new();
        encode_service(&mut e, &s);
        #[rustfmt::skip]
        let want: &[u8] = &[
            0x54, 0x00, 0x01, 0x80,                         // nest len 84, NESTED|SERVICE
            0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, // AF = AF_INET
            0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, // PROTOCOL = 6
            0x14, 0x00, 0x03, 0x00, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ADDR
            0x06, 0x00, 0x04, 0x00, 0x01, 0xbb, 0x00, 0x00, // PORT 443, big-endian
            0x08, 0x00, 0x06, 0x00, b'w', b'r', b'r', 0x00, // SCHED_NAME "wrr\0"
            0x0c, 0x00, 0x07, 0x00, 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, // FLAGS {PERSISTENT, ~0}
            0x08, 0x00, 0x08, 0x00, 0xb0, 0x04, 0x00, 0x00, // TIMEOUT 1200
            0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, // NETMASK host
        ];
        assert_eq!(e.bytes(), want);
    }

    #[test]
    fn golden_v6_fwmark_with_prefix_and_flags() {
        let mut s = Service::new(ServiceKey::fwmark(Family::Inet6, 7));
        s.scheduler = Scheduler::Mh;
        s.flags.insert(SchedFlag::Flag1);
        s.flags.insert(SchedFlag::Flag2);
        s.persistence = Some(60);
        s.set_netmask(Netmask::V6(48));
        s.pe = Some(PersistenceEngine::Sip);
        let mut e = Encoder::new();
        encode_service(&mut e, &s);
        #[rustfmt::skip]
        let want: &[u8] = &[
            0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00, // AF = AF_INET6 (+2 pad)
            0x08, 0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00, // FWMARK 7, no proto/addr/port
            0x07, 0x00, 0x06, 0x00, b'm', b'h', 0x00, 0x00, // SCHED_NAME "mh\0" + pad
            0x08, 0x00, 0x0b, 0x00, b's', b'i', b'p', 0x00, // PE_NAME "sip\0"
            0x0c, 0x00, 0x07, 0x00, 0x19, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, // PERSISTENT|SCHED1|SCHED2
            0x08, 0x00, 0x08, 0x00, 0x3c, 0x00, 0x00, 0x00, // TIMEOUT 60
            0x08, 0x00, 0x09, 0x00, 0x30, 0x00, 0x00, 0x00, // NETMASK: prefix 48, host order
        ];
        assert_eq!(inner(&e), want);
    }

    #[test]
    fn identity_only_for_key_commands() {
        let mut e = Encoder::new();
        encode_service_key(&mut e, &ServiceKey::fwmark(Family::Inet, 10));
        assert_eq!(
            e.bytes(),
            [
                20, 0, 1, 0x80, 6, 0, 1, 0, 2, 0, 0, 0, 8, 0, 5, 0, 10, 0, 0, 0
            ]
        );
    }

    #[test]
    fn hashed_flag_and_timeout_without_persistence_are_ignored() {
        let mut e = Encoder::new();
        let n = e.nest(IPVS_CMD_ATTR_SERVICE);
        e.u16(IPVS_SVC_ATTR_AF, AF_INET);
        e.u16(IPVS_SVC_ATTR_PROTOCOL, 17);
        e.attr(IPVS_SVC_ATTR_ADDR, &[10, 1, 2, 3]); // 4-byte form
        e.be16(IPVS_SVC_ATTR_PORT, 53);
        e.string(IPVS_SVC_ATTR_SCHED_NAME, "rr");
        let mut flags = [0u8; 8];
        flags[..4].copy_from_slice(&(IP_VS_SVC_F_HASHED | IP_VS_SVC_F_ONEPACKET).to_ne_bytes());
        e.attr(IPVS_SVC_ATTR_FLAGS, &flags);
        e.u32(IPVS_SVC_ATTR_TIMEOUT, 300);
        e.attr(IPVS_SVC_ATTR_NETMASK, &[255, 255, 255, 255]);
        e.end(n);
        let s = decode_service(inner(&e)).unwrap();
        assert_eq!(
            s.key,
            ServiceKey::inet(Protocol::Udp, "10.1.2.3".parse().unwrap(), 53)
        );
        assert_eq!(s.scheduler, Scheduler::Rr);
        assert_eq!(s.persistence, None);
        assert!(s.one_packet);
        assert!(s.flags.is_empty());
        assert_eq!(s.netmask, None);
        assert_eq!(s.pe, None);
    }

    #[test]
    fn unknown_names_are_named_in_the_error() {
        let mut s = Service::new(ServiceKey::inet(
            Protocol::Tcp,
            "10.0.0.1".parse().unwrap(),
            80,
        ));
        s.scheduler = Scheduler::Rr;
        let good = kernel_nest(&s);
        let mut bad = good.clone();
        // SCHED_NAME "rr\0" -> "xy\0"
        let at = bad.windows(3).position(|w| w == b"rr\0").unwrap();
        bad[at..at + 2].copy_from_slice(b"xy");
        let err = decode_service(&bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "service tcp 10.0.0.1:80 uses scheduler `xy`, which lvsh does not know \
             (known: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos, none)"
        );
        let mut e = Encoder::new();
        e.u16(IPVS_SVC_ATTR_AF, AF_INET);
        e.u16(IPVS_SVC_ATTR_PROTOCOL, 33);
        assert_eq!(
            decode_service(e.bytes()).unwrap_err(),
            DecodeError::Protocol(33)
        );
        let mut e = Encoder::new();
        e.u16(IPVS_SVC_ATTR_AF, 3);
        assert_eq!(
            decode_service(e.bytes()).unwrap_err(),
            DecodeError::Family(3)
        );
    }

    /// What the kernel sends for `ipvsadm -A -t 10.1.0.100:81 -s none -b flag-1,flag-3`:
    /// the name `none` (no scheduler bound), the flags kept.
    #[test]
    fn scheduler_none_decodes() {
        let mut e = Encoder::new();
        e.u16(IPVS_SVC_ATTR_AF, AF_INET);
        e.u16(IPVS_SVC_ATTR_PROTOCOL, 6);
        e.attr(
            IPVS_SVC_ATTR_ADDR,
            &[10, 1, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        e.attr(IPVS_SVC_ATTR_PORT, &81u16.to_be_bytes());
        e.string(IPVS_SVC_ATTR_SCHED_NAME, "none");
        let flags = IP_VS_SVC_F_HASHED | IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED3;
        let mut raw = [0xff; 8];
        raw[..4].copy_from_slice(&flags.to_ne_bytes());
        e.attr(IPVS_SVC_ATTR_FLAGS, &raw);
        e.u32(IPVS_SVC_ATTR_TIMEOUT, 0);
        e.attr(IPVS_SVC_ATTR_NETMASK, &[255; 4]);
        let s = decode_service(e.bytes()).unwrap();
        assert_eq!(s.scheduler, Scheduler::None);
        assert_eq!(s.flags.names(s.scheduler), ["flag-1", "flag-3"]);
        assert_eq!(s.persistence, None);
        // And it encodes back under the same name.
        let mut e = Encoder::new();
        encode_service(&mut e, &s);
        assert!(e.bytes().windows(5).any(|w| w == b"none\0"));
    }

    #[test]
    fn missing_netmask_means_host_mask() {
        let mut e = Encoder::new();
        e.u16(IPVS_SVC_ATTR_AF, AF_INET6);
        e.u32(IPVS_SVC_ATTR_FWMARK, 3);
        e.string(IPVS_SVC_ATTR_SCHED_NAME, "wlc");
        e.attr(IPVS_SVC_ATTR_FLAGS, &[0; 8]);
        let s = decode_service(e.bytes()).unwrap();
        assert_eq!(s.netmask, None);
        assert_eq!(s.effective_netmask(), Netmask::V6(128));
        e.attr(IPVS_SVC_ATTR_NETMASK, &200u32.to_ne_bytes());
        assert_eq!(
            decode_service(e.bytes()).unwrap_err(),
            DecodeError::Netmask(200)
        );
    }
}
