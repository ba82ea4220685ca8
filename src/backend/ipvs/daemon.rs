//! A connection-synchronisation daemon as the nested `IPVS_CMD_ATTR_DAEMON` attribute.
//!
//! Wire traps:
//! - NEW_DAEMON needs STATE, MCAST_IFN (NUL string, at most 15 characters) and
//!   SYNC_ID, else EINVAL; the rest is optional and the kernel fills in defaults,
//!   which it then always reports;
//! - MCAST_GROUP is an IPv4 address in network order (`nla_get_in_addr`, 4 bytes),
//!   MCAST_GROUP6 a 16-byte IPv6 address; only one of them is sent or reported;
//! - MCAST_PORT and SYNC_MAXLEN are host-order u16, MCAST_TTL a u8;
//! - DEL_DAEMON needs only STATE.

use super::constants::*;
use super::wire::{DecodeError, Encoder, Table};
use crate::model::{DaemonState, SyncDaemon};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

type DaemonTable<'a> = Table<'a, { IPVS_DAEMON_ATTR_MAX as usize + 1 }>;

pub fn state_bits(s: DaemonState) -> u32 {
    match s {
        DaemonState::Master => IP_VS_STATE_MASTER,
        DaemonState::Backup => IP_VS_STATE_BACKUP,
    }
}

/// `IPVS_CMD_ATTR_DAEMON` for NEW_DAEMON.
pub fn encode_daemon(e: &mut Encoder, d: &SyncDaemon) {
    let n = e.nest(IPVS_CMD_ATTR_DAEMON);
    e.u32(IPVS_DAEMON_ATTR_STATE, state_bits(d.state));
    e.string(IPVS_DAEMON_ATTR_MCAST_IFN, &d.interface);
    e.u32(IPVS_DAEMON_ATTR_SYNC_ID, d.syncid as u32);
    if let Some(maxlen) = d.maxlen {
        e.u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, maxlen);
    }
    match d.group {
        Some(IpAddr::V4(g)) => e.attr(IPVS_DAEMON_ATTR_MCAST_GROUP, &g.octets()),
        Some(IpAddr::V6(g)) => e.attr(IPVS_DAEMON_ATTR_MCAST_GROUP6, &g.octets()),
        None => {}
    }
    if let Some(port) = d.port {
        e.u16(IPVS_DAEMON_ATTR_MCAST_PORT, port);
    }
    if let Some(ttl) = d.ttl {
        e.u8(IPVS_DAEMON_ATTR_MCAST_TTL, ttl);
    }
    e.end(n);
}

/// `IPVS_CMD_ATTR_DAEMON` for DEL_DAEMON.
pub fn encode_daemon_state(e: &mut Encoder, state: DaemonState) {
    let n = e.nest(IPVS_CMD_ATTR_DAEMON);
    e.u32(IPVS_DAEMON_ATTR_STATE, state_bits(state));
    e.end(n);
}

/// A daemon nest as the GET_DAEMON dump sends it.
pub fn decode_daemon(nest: &[u8]) -> Result<SyncDaemon, DecodeError> {
    let t = DaemonTable::parse(nest)?;
    let state = match t
        .u32(IPVS_DAEMON_ATTR_STATE, "IPVS_DAEMON_ATTR_STATE")?
        .ok_or(DecodeError::Missing("IPVS_DAEMON_ATTR_STATE"))?
    {
        IP_VS_STATE_MASTER => DaemonState::Master,
        IP_VS_STATE_BACKUP => DaemonState::Backup,
        other => return Err(DecodeError::DaemonState(other)),
    };
    let interface = t
        .string(IPVS_DAEMON_ATTR_MCAST_IFN, "IPVS_DAEMON_ATTR_MCAST_IFN")?
        .ok_or(DecodeError::Missing("IPVS_DAEMON_ATTR_MCAST_IFN"))?;
    let mut d = SyncDaemon::new(state, interface);
    let syncid = t
        .u32(IPVS_DAEMON_ATTR_SYNC_ID, "IPVS_DAEMON_ATTR_SYNC_ID")?
        .unwrap_or(0);
    d.syncid = u8::try_from(syncid).map_err(|_| DecodeError::SyncId(syncid))?;
    d.maxlen = t.u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, "IPVS_DAEMON_ATTR_SYNC_MAXLEN")?;
    d.group = match t.fixed::<4>(IPVS_DAEMON_ATTR_MCAST_GROUP, "IPVS_DAEMON_ATTR_MCAST_GROUP")? {
        Some(b) => Some(IpAddr::V4(Ipv4Addr::from(b))),
        None => t
            .fixed::<16>(
                IPVS_DAEMON_ATTR_MCAST_GROUP6,
                "IPVS_DAEMON_ATTR_MCAST_GROUP6",
            )?
            .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    };
    d.port = t.u16(IPVS_DAEMON_ATTR_MCAST_PORT, "IPVS_DAEMON_ATTR_MCAST_PORT")?;
    d.ttl = t.u8(IPVS_DAEMON_ATTR_MCAST_TTL, "IPVS_DAEMON_ATTR_MCAST_TTL")?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(d: &SyncDaemon) -> SyncDaemon {
        let mut e = Encoder::new();
        encode_daemon(&mut e, d);
        decode_daemon(&e.bytes()[4..]).unwrap()
    }

    #[test]
    fn minimal_and_full_daemons_round_trip() {
        let mut d = SyncDaemon::new(DaemonState::Master, "eth0");
        assert_eq!(round_trip(&d), d);
        d.syncid = 255;
        d.maxlen = Some(1400);
        d.group = Some("239.1.2.3".parse().unwrap());
        d.port = Some(8849);
        d.ttl = Some(4);
        let back = round_trip(&d);
        assert_eq!(back, d);
        assert_eq!(back.port, Some(8849));
        let mut b = SyncDaemon::new(DaemonState::Backup, "bond0.100");
        b.group = Some("ff02::81".parse().unwrap());
        assert_eq!(round_trip(&b), b);
    }

    #[test]
    fn golden_master_daemon() {
        let mut d = SyncDaemon::new(DaemonState::Master, "eth0");
        d.syncid = 3;
        d.group = Some("224.0.0.81".parse().unwrap());
        d.port = Some(8848);
        d.ttl = Some(1);
        let mut e = Encoder::new();
        encode_daemon(&mut e, &d);
        #[rustfmt::skip]
        let want: &[u8] = &[
            0x38, 0x00, 0x03, 0x80,                         // nest len 56, NESTED|DAEMON
            0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, // STATE = MASTER
            0x09, 0x00, 0x02, 0x00, b'e', b't', b'h', b'0', 0x00, 0, 0, 0, // MCAST_IFN
            0x08, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00, // SYNC_ID 3
            0x08, 0x00, 0x05, 0x00, 224, 0, 0, 81,          // MCAST_GROUP, network order
            0x06, 0x00, 0x07, 0x00, 0x90, 0x22, 0x00, 0x00, // MCAST_PORT 8848, host order
            0x05, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, // MCAST_TTL 1
        ];
        assert_eq!(e.bytes(), want);
        let mut e = Encoder::new();
        encode_daemon_state(&mut e, DaemonState::Backup);
        assert_eq!(e.bytes(), [12, 0, 3, 0x80, 8, 0, 1, 0, 2, 0, 0, 0]);
    }

    #[test]
    fn bad_state_and_syncid_are_errors() {
        let mut e = Encoder::new();
        e.u32(IPVS_DAEMON_ATTR_STATE, 3);
        e.string(IPVS_DAEMON_ATTR_MCAST_IFN, "eth0");
        assert_eq!(
            decode_daemon(e.bytes()).unwrap_err(),
            DecodeError::DaemonState(3)
        );
        let mut e = Encoder::new();
        e.u32(IPVS_DAEMON_ATTR_STATE, 1);
        e.string(IPVS_DAEMON_ATTR_MCAST_IFN, "eth0");
        e.u32(IPVS_DAEMON_ATTR_SYNC_ID, 256);
        assert_eq!(
            decode_daemon(e.bytes()).unwrap_err(),
            DecodeError::SyncId(256)
        );
    }
}
