//! rtnetlink messages for addresses and links: requests encoded, dump entries
//! decoded. Constants as in linux/rtnetlink.h, linux/if_addr.h and linux/if_link.h.
//!
//! Wire traps: `struct ifaddrmsg` is 8 bytes and `struct ifinfomsg` 16, both before
//! the attributes; an IPv4 address is `IFA_LOCAL` (the own address) and
//! `IFA_ADDRESS` (the peer on point-to-point links, else the same), so lvsh reads
//! `IFA_LOCAL` first and writes both; `IFA_PROTO` (Linux 5.18) is one byte, and
//! older kernels drop it silently.

use crate::backend::ipvs::wire::{DecodeError, NLMSG_HDRLEN, Table, inet_addr};
use std::net::IpAddr;

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_DUMP: u16 = 0x300;

pub const IFA_ADDRESS: u16 = 1;
pub const IFA_LOCAL: u16 = 2;
pub const IFA_PROTO: u16 = 11;
const IFA_MAX: u16 = 11;

pub const IFLA_IFNAME: u16 = 3;
const IFLA_MAX: u16 = 3;

const IFADDRMSG_LEN: usize = 8;
const IFINFOMSG_LEN: usize = 16;

/// One address of a dump: interface index, address, prefix, `IFA_PROTO` (0 when the
/// kernel sent none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrEntry {
    pub index: u32,
    pub address: IpAddr,
    pub prefix: u8,
    pub proto: u8,
}

fn family_of(a: &IpAddr) -> u8 {
    match a {
        IpAddr::V4(_) => libc::AF_INET as u8,
        IpAddr::V6(_) => libc::AF_INET6 as u8,
    }
}

fn octets(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

/// `nlmsghdr` + `body`; `body` holds the family header and the attributes.
fn message(ty: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let len = (NLMSG_HDRLEN + body.len()) as u32;
    let mut out = Vec::with_capacity(len as usize);
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(body);
    out
}

fn attr(out: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let len = (4 + payload.len()) as u16;
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(payload);
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

/// A dump of every address of every family.
pub fn get_addresses(seq: u32) -> Vec<u8> {
    message(
        RTM_GETADDR,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        &[0; IFADDRMSG_LEN],
    )
}

/// A dump of every interface.
pub fn get_links(seq: u32) -> Vec<u8> {
    message(
        RTM_GETLINK,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        &[0; IFINFOMSG_LEN],
    )
}

/// `RTM_NEWADDR` (with `proto`, refused if the address is there) or `RTM_DELADDR`
/// (`proto` `None`) of `address/prefix` on interface `index`, with an ACK.
pub fn change_address(
    seq: u32,
    index: u32,
    address: &IpAddr,
    prefix: u8,
    proto: Option<u8>,
) -> Vec<u8> {
    let mut body = vec![family_of(address), prefix, 0, 0];
    body.extend_from_slice(&index.to_ne_bytes());
    let bytes = octets(address);
    attr(&mut body, IFA_LOCAL, &bytes);
    attr(&mut body, IFA_ADDRESS, &bytes);
    let (ty, flags) = match proto {
        Some(p) => {
            attr(&mut body, IFA_PROTO, &[p]);
            (RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL)
        }
        None => (RTM_DELADDR, 0),
    };
    message(ty, NLM_F_REQUEST | NLM_F_ACK | flags, seq, &body)
}

/// One `RTM_NEWADDR` of a dump (the payload after `nlmsghdr`); `None` for a family
/// lvsh does not manage.
pub fn decode_address(payload: &[u8]) -> Result<Option<AddrEntry>, DecodeError> {
    if payload.len() < IFADDRMSG_LEN {
        return Err(DecodeError::Truncated);
    }
    let family = u16::from(payload[0]);
    if family != libc::AF_INET as u16 && family != libc::AF_INET6 as u16 {
        return Ok(None);
    }
    let prefix = payload[1];
    let index = u32::from_ne_bytes(payload[4..8].try_into().expect("4 bytes"));
    let t = Table::<{ IFA_MAX as usize + 1 }>::parse(&payload[IFADDRMSG_LEN..])?;
    let raw = t
        .get(IFA_LOCAL)
        .or_else(|| t.get(IFA_ADDRESS))
        .ok_or(DecodeError::Missing("IFA_ADDRESS"))?;
    let address = inet_addr(family, raw, "IFA_ADDRESS")?;
    let proto = t.u8(IFA_PROTO, "IFA_PROTO")?.unwrap_or(0);
    Ok(Some(AddrEntry {
        index,
        address,
        prefix,
        proto,
    }))
}

/// One `RTM_NEWLINK` of a dump: index and name.
pub fn decode_link(payload: &[u8]) -> Result<(u32, String), DecodeError> {
    if payload.len() < IFINFOMSG_LEN {
        return Err(DecodeError::Truncated);
    }
    let index = u32::from_ne_bytes(payload[4..8].try_into().expect("4 bytes"));
    let t = Table::<{ IFLA_MAX as usize + 1 }>::parse(&payload[IFINFOMSG_LEN..])?;
    let name = t
        .string(IFLA_IFNAME, "IFLA_IFNAME")?
        .ok_or(DecodeError::Missing("IFLA_IFNAME"))?;
    Ok((index, name.to_string()))
}

/// The errno of an `NLMSG_ERROR` payload (0: an ACK).
pub fn decode_error(payload: &[u8]) -> Result<i32, DecodeError> {
    let raw: [u8; 4] = payload
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(DecodeError::Truncated)?;
    Ok(-i32::from_ne_bytes(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_address_carries_both_addresses_and_the_mark() {
        let a: IpAddr = "192.168.10.120".parse().unwrap();
        let m = change_address(7, 2, &a, 32, Some(76));
        let ne16 = |v: u16| v.to_ne_bytes();
        let mut want = Vec::new();
        want.extend_from_slice(&48u32.to_ne_bytes());
        want.extend_from_slice(&ne16(RTM_NEWADDR));
        want.extend_from_slice(&ne16(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
        want.extend_from_slice(&7u32.to_ne_bytes());
        want.extend_from_slice(&0u32.to_ne_bytes());
        want.extend_from_slice(&[libc::AF_INET as u8, 32, 0, 0]);
        want.extend_from_slice(&2u32.to_ne_bytes());
        for ty in [IFA_LOCAL, IFA_ADDRESS] {
            want.extend_from_slice(&ne16(8));
            want.extend_from_slice(&ne16(ty));
            want.extend_from_slice(&[192, 168, 10, 120]);
        }
        want.extend_from_slice(&ne16(5));
        want.extend_from_slice(&ne16(IFA_PROTO));
        want.extend_from_slice(&[76, 0, 0, 0]);
        assert_eq!(m, want);
        // Read back as a dump entry.
        let entry = decode_address(&m[NLMSG_HDRLEN..]).unwrap().unwrap();
        assert_eq!(
            entry,
            AddrEntry {
                index: 2,
                address: a,
                prefix: 32,
                proto: 76
            }
        );
    }

    #[test]
    fn a_deletion_has_no_mark_and_ipv6_is_16_bytes() {
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let m = change_address(1, 1, &a, 128, None);
        assert_eq!(u16::from_ne_bytes([m[4], m[5]]), RTM_DELADDR);
        assert_eq!(m.len(), NLMSG_HDRLEN + 8 + 2 * 20);
        let entry = decode_address(&m[NLMSG_HDRLEN..]).unwrap().unwrap();
        assert_eq!((entry.address, entry.prefix, entry.proto), (a, 128, 0));
    }

    #[test]
    fn peer_addresses_read_the_local_one_and_other_families_are_skipped() {
        let mut body = vec![libc::AF_INET as u8, 32, 0, 0];
        body.extend_from_slice(&3u32.to_ne_bytes());
        attr(&mut body, IFA_ADDRESS, &[10, 0, 0, 2]);
        attr(&mut body, IFA_LOCAL, &[10, 0, 0, 1]);
        let e = decode_address(&body).unwrap().unwrap();
        assert_eq!(e.address, "10.0.0.1".parse::<IpAddr>().unwrap());
        let mut other = body.clone();
        other[0] = libc::AF_PACKET as u8;
        assert_eq!(decode_address(&other).unwrap(), None);
        assert!(decode_address(&body[..6]).is_err());
    }

    #[test]
    fn links_and_errors() {
        let mut body = vec![0u8; 16];
        body[4..8].copy_from_slice(&5u32.to_ne_bytes());
        attr(&mut body, IFLA_IFNAME, b"eth0\0");
        assert_eq!(decode_link(&body).unwrap(), (5, "eth0".to_string()));
        assert_eq!(decode_error(&(-17i32).to_ne_bytes()).unwrap(), 17);
        assert_eq!(decode_error(&0i32.to_ne_bytes()).unwrap(), 0);
        let dump = get_addresses(9);
        assert_eq!(dump.len(), NLMSG_HDRLEN + 8);
        assert_eq!(
            u16::from_ne_bytes([dump[6], dump[7]]),
            NLM_F_REQUEST | NLM_F_DUMP
        );
        assert_eq!(get_links(9).len(), NLMSG_HDRLEN + 16);
    }
}
