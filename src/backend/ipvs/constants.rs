//! Every constant of `linux/ip_vs.h`, spelled and ordered as in the header, plus neli
//! enums for the generic-netlink commands and attribute sets (so the wire format can
//! also be read back with neli's typed parser).
#![allow(missing_docs)]

use neli::{
    consts::genl::{Cmd, NlAttrType},
    neli_enum,
};

pub const IP_VS_VERSION_CODE: u32 = 0x010201;

// Virtual service flags.
pub const IP_VS_SVC_F_PERSISTENT: u32 = 0x0001;
/// Kernel-internal ("in the hash table"); never set it, always mask it out.
pub const IP_VS_SVC_F_HASHED: u32 = 0x0002;
pub const IP_VS_SVC_F_ONEPACKET: u32 = 0x0004;
pub const IP_VS_SVC_F_SCHED1: u32 = 0x0008;
pub const IP_VS_SVC_F_SCHED2: u32 = 0x0010;
pub const IP_VS_SVC_F_SCHED3: u32 = 0x0020;

pub const IP_VS_SVC_F_SCHED_SH_FALLBACK: u32 = IP_VS_SVC_F_SCHED1;
pub const IP_VS_SVC_F_SCHED_SH_PORT: u32 = IP_VS_SVC_F_SCHED2;
/// Not in the uapi header: the `mh` scheduler defines these in `ip_vs_mh.c`.
pub const IP_VS_SVC_F_SCHED_MH_FALLBACK: u32 = IP_VS_SVC_F_SCHED1;
pub const IP_VS_SVC_F_SCHED_MH_PORT: u32 = IP_VS_SVC_F_SCHED2;

// Sync daemon states.
pub const IP_VS_STATE_NONE: u32 = 0x0000;
pub const IP_VS_STATE_MASTER: u32 = 0x0001;
pub const IP_VS_STATE_BACKUP: u32 = 0x0002;

// The old setsockopt interface (lvsh uses generic netlink only).
pub const IP_VS_BASE_CTL: i32 = 64 + 1024 + 64;
pub const IP_VS_SO_SET_NONE: i32 = IP_VS_BASE_CTL;
pub const IP_VS_SO_SET_INSERT: i32 = IP_VS_BASE_CTL + 1;
pub const IP_VS_SO_SET_ADD: i32 = IP_VS_BASE_CTL + 2;
pub const IP_VS_SO_SET_EDIT: i32 = IP_VS_BASE_CTL + 3;
pub const IP_VS_SO_SET_DEL: i32 = IP_VS_BASE_CTL + 4;
pub const IP_VS_SO_SET_FLUSH: i32 = IP_VS_BASE_CTL + 5;
pub const IP_VS_SO_SET_LIST: i32 = IP_VS_BASE_CTL + 6;
pub const IP_VS_SO_SET_ADDDEST: i32 = IP_VS_BASE_CTL + 7;
pub const IP_VS_SO_SET_DELDEST: i32 = IP_VS_BASE_CTL + 8;
pub const IP_VS_SO_SET_EDITDEST: i32 = IP_VS_BASE_CTL + 9;
pub const IP_VS_SO_SET_TIMEOUT: i32 = IP_VS_BASE_CTL + 10;
pub const IP_VS_SO_SET_STARTDAEMON: i32 = IP_VS_BASE_CTL + 11;
pub const IP_VS_SO_SET_STOPDAEMON: i32 = IP_VS_BASE_CTL + 12;
pub const IP_VS_SO_SET_RESTORE: i32 = IP_VS_BASE_CTL + 13;
pub const IP_VS_SO_SET_SAVE: i32 = IP_VS_BASE_CTL + 14;
pub const IP_VS_SO_SET_ZERO: i32 = IP_VS_BASE_CTL + 15;
pub const IP_VS_SO_SET_MAX: i32 = IP_VS_SO_SET_ZERO;
pub const IP_VS_SO_GET_VERSION: i32 = IP_VS_BASE_CTL;
pub const IP_VS_SO_GET_INFO: i32 = IP_VS_BASE_CTL + 1;
pub const IP_VS_SO_GET_SERVICES: i32 = IP_VS_BASE_CTL + 2;
pub const IP_VS_SO_GET_SERVICE: i32 = IP_VS_BASE_CTL + 3;
pub const IP_VS_SO_GET_DESTS: i32 = IP_VS_BASE_CTL + 4;
pub const IP_VS_SO_GET_DEST: i32 = IP_VS_BASE_CTL + 5;
pub const IP_VS_SO_GET_TIMEOUT: i32 = IP_VS_BASE_CTL + 6;
pub const IP_VS_SO_GET_DAEMON: i32 = IP_VS_BASE_CTL + 7;
pub const IP_VS_SO_GET_MAX: i32 = IP_VS_SO_GET_DAEMON;

// Connection flags. Over netlink only the forwarding bits (FWD_MASK) travel.
pub const IP_VS_CONN_F_FWD_MASK: u32 = 0x0007;
pub const IP_VS_CONN_F_MASQ: u32 = 0x0000;
pub const IP_VS_CONN_F_LOCALNODE: u32 = 0x0001;
pub const IP_VS_CONN_F_TUNNEL: u32 = 0x0002;
pub const IP_VS_CONN_F_DROUTE: u32 = 0x0003;
pub const IP_VS_CONN_F_BYPASS: u32 = 0x0004;
pub const IP_VS_CONN_F_SYNC: u32 = 0x0020;
pub const IP_VS_CONN_F_HASHED: u32 = 0x0040;
pub const IP_VS_CONN_F_NOOUTPUT: u32 = 0x0080;
pub const IP_VS_CONN_F_INACTIVE: u32 = 0x0100;
pub const IP_VS_CONN_F_OUT_SEQ: u32 = 0x0200;
pub const IP_VS_CONN_F_IN_SEQ: u32 = 0x0400;
pub const IP_VS_CONN_F_SEQ_MASK: u32 = 0x0600;
pub const IP_VS_CONN_F_NO_CPORT: u32 = 0x0800;
pub const IP_VS_CONN_F_TEMPLATE: u32 = 0x1000;
pub const IP_VS_CONN_F_ONE_PACKET: u32 = 0x2000;
pub const IP_VS_CONN_F_BACKUP_MASK: u32 = IP_VS_CONN_F_FWD_MASK
    | IP_VS_CONN_F_NOOUTPUT
    | IP_VS_CONN_F_INACTIVE
    | IP_VS_CONN_F_SEQ_MASK
    | IP_VS_CONN_F_NO_CPORT
    | IP_VS_CONN_F_TEMPLATE;
pub const IP_VS_CONN_F_BACKUP_UPD_MASK: u32 = IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_SEQ_MASK;
pub const IP_VS_CONN_F_NFCT: u32 = 1 << 16;
pub const IP_VS_CONN_F_DEST_MASK: u32 =
    IP_VS_CONN_F_FWD_MASK | IP_VS_CONN_F_ONE_PACKET | IP_VS_CONN_F_NFCT;

/// Including the NUL: names are at most 15 characters on the wire.
pub const IP_VS_SCHEDNAME_MAXLEN: usize = 16;
pub const IP_VS_PENAME_MAXLEN: usize = 16;
pub const IP_VS_IFNAME_MAXLEN: usize = 16;
pub const IP_VS_PEDATA_MAXLEN: usize = 255;

// Tunnel types.
pub const IP_VS_CONN_F_TUNNEL_TYPE_IPIP: u8 = 0;
pub const IP_VS_CONN_F_TUNNEL_TYPE_GUE: u8 = 1;
pub const IP_VS_CONN_F_TUNNEL_TYPE_GRE: u8 = 2;
pub const IP_VS_CONN_F_TUNNEL_TYPE_MAX: u8 = 3;

// Tunnel encapsulation flags.
pub const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM: u16 = 0;
pub const IP_VS_TUNNEL_ENCAP_FLAG_CSUM: u16 = 1 << 0;
pub const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM: u16 = 1 << 1;

// Generic netlink family.
pub const IPVS_GENL_NAME: &str = "IPVS";
pub const IPVS_GENL_VERSION: u8 = 0x1;

// Commands.
pub const IPVS_CMD_UNSPEC: u8 = 0;
pub const IPVS_CMD_NEW_SERVICE: u8 = 1;
pub const IPVS_CMD_SET_SERVICE: u8 = 2;
pub const IPVS_CMD_DEL_SERVICE: u8 = 3;
pub const IPVS_CMD_GET_SERVICE: u8 = 4;
pub const IPVS_CMD_NEW_DEST: u8 = 5;
pub const IPVS_CMD_SET_DEST: u8 = 6;
pub const IPVS_CMD_DEL_DEST: u8 = 7;
pub const IPVS_CMD_GET_DEST: u8 = 8;
pub const IPVS_CMD_NEW_DAEMON: u8 = 9;
pub const IPVS_CMD_DEL_DAEMON: u8 = 10;
pub const IPVS_CMD_GET_DAEMON: u8 = 11;
pub const IPVS_CMD_SET_CONFIG: u8 = 12;
pub const IPVS_CMD_GET_CONFIG: u8 = 13;
/// Only ever the command of a GET_INFO reply.
pub const IPVS_CMD_SET_INFO: u8 = 14;
pub const IPVS_CMD_GET_INFO: u8 = 15;
pub const IPVS_CMD_ZERO: u8 = 16;
pub const IPVS_CMD_FLUSH: u8 = 17;
pub const IPVS_CMD_MAX: u8 = IPVS_CMD_FLUSH;

// First-level attributes.
pub const IPVS_CMD_ATTR_UNSPEC: u16 = 0;
pub const IPVS_CMD_ATTR_SERVICE: u16 = 1;
pub const IPVS_CMD_ATTR_DEST: u16 = 2;
pub const IPVS_CMD_ATTR_DAEMON: u16 = 3;
pub const IPVS_CMD_ATTR_TIMEOUT_TCP: u16 = 4;
pub const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
pub const IPVS_CMD_ATTR_TIMEOUT_UDP: u16 = 6;
pub const IPVS_CMD_ATTR_MAX: u16 = IPVS_CMD_ATTR_TIMEOUT_UDP;

// Service attributes (inside IPVS_CMD_ATTR_SERVICE).
pub const IPVS_SVC_ATTR_UNSPEC: u16 = 0;
pub const IPVS_SVC_ATTR_AF: u16 = 1;
pub const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
pub const IPVS_SVC_ATTR_ADDR: u16 = 3;
pub const IPVS_SVC_ATTR_PORT: u16 = 4;
pub const IPVS_SVC_ATTR_FWMARK: u16 = 5;
pub const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
pub const IPVS_SVC_ATTR_FLAGS: u16 = 7;
pub const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
pub const IPVS_SVC_ATTR_NETMASK: u16 = 9;
pub const IPVS_SVC_ATTR_STATS: u16 = 10;
pub const IPVS_SVC_ATTR_PE_NAME: u16 = 11;
pub const IPVS_SVC_ATTR_STATS64: u16 = 12;
pub const IPVS_SVC_ATTR_MAX: u16 = IPVS_SVC_ATTR_STATS64;

// Destination attributes (inside IPVS_CMD_ATTR_DEST).
pub const IPVS_DEST_ATTR_UNSPEC: u16 = 0;
pub const IPVS_DEST_ATTR_ADDR: u16 = 1;
pub const IPVS_DEST_ATTR_PORT: u16 = 2;
pub const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
pub const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
pub const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
pub const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
pub const IPVS_DEST_ATTR_ACTIVE_CONNS: u16 = 7;
pub const IPVS_DEST_ATTR_INACT_CONNS: u16 = 8;
pub const IPVS_DEST_ATTR_PERSIST_CONNS: u16 = 9;
pub const IPVS_DEST_ATTR_STATS: u16 = 10;
pub const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;
pub const IPVS_DEST_ATTR_STATS64: u16 = 12;
pub const IPVS_DEST_ATTR_TUN_TYPE: u16 = 13;
pub const IPVS_DEST_ATTR_TUN_PORT: u16 = 14;
pub const IPVS_DEST_ATTR_TUN_FLAGS: u16 = 15;
pub const IPVS_DEST_ATTR_MAX: u16 = IPVS_DEST_ATTR_TUN_FLAGS;

// Sync daemon attributes (inside IPVS_CMD_ATTR_DAEMON).
pub const IPVS_DAEMON_ATTR_UNSPEC: u16 = 0;
pub const IPVS_DAEMON_ATTR_STATE: u16 = 1;
pub const IPVS_DAEMON_ATTR_MCAST_IFN: u16 = 2;
pub const IPVS_DAEMON_ATTR_SYNC_ID: u16 = 3;
pub const IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
pub const IPVS_DAEMON_ATTR_MCAST_GROUP: u16 = 5;
pub const IPVS_DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
pub const IPVS_DAEMON_ATTR_MCAST_PORT: u16 = 7;
pub const IPVS_DAEMON_ATTR_MCAST_TTL: u16 = 8;
pub const IPVS_DAEMON_ATTR_MAX: u16 = IPVS_DAEMON_ATTR_MCAST_TTL;

// Statistics attributes (inside the *_ATTR_STATS and *_ATTR_STATS64 nests).
pub const IPVS_STATS_ATTR_UNSPEC: u16 = 0;
pub const IPVS_STATS_ATTR_CONNS: u16 = 1;
pub const IPVS_STATS_ATTR_INPKTS: u16 = 2;
pub const IPVS_STATS_ATTR_OUTPKTS: u16 = 3;
pub const IPVS_STATS_ATTR_INBYTES: u16 = 4;
pub const IPVS_STATS_ATTR_OUTBYTES: u16 = 5;
pub const IPVS_STATS_ATTR_CPS: u16 = 6;
pub const IPVS_STATS_ATTR_INPPS: u16 = 7;
pub const IPVS_STATS_ATTR_OUTPPS: u16 = 8;
pub const IPVS_STATS_ATTR_INBPS: u16 = 9;
pub const IPVS_STATS_ATTR_OUTBPS: u16 = 10;
/// Alignment filler before 64-bit values; carries nothing.
pub const IPVS_STATS_ATTR_PAD: u16 = 11;
pub const IPVS_STATS_ATTR_MAX: u16 = IPVS_STATS_ATTR_PAD;

// GET_INFO reply attributes (top level of the SET_INFO reply).
pub const IPVS_INFO_ATTR_UNSPEC: u16 = 0;
pub const IPVS_INFO_ATTR_VERSION: u16 = 1;
pub const IPVS_INFO_ATTR_CONN_TAB_SIZE: u16 = 2;
pub const IPVS_INFO_ATTR_MAX: u16 = IPVS_INFO_ATTR_CONN_TAB_SIZE;

/// The generic-netlink commands, as a neli enum.
#[neli_enum(serialized_type = "u8")]
pub enum IpvsCmd {
    Unspec = IPVS_CMD_UNSPEC,
    NewService = IPVS_CMD_NEW_SERVICE,
    SetService = IPVS_CMD_SET_SERVICE,
    DelService = IPVS_CMD_DEL_SERVICE,
    GetService = IPVS_CMD_GET_SERVICE,
    NewDest = IPVS_CMD_NEW_DEST,
    SetDest = IPVS_CMD_SET_DEST,
    DelDest = IPVS_CMD_DEL_DEST,
    GetDest = IPVS_CMD_GET_DEST,
    NewDaemon = IPVS_CMD_NEW_DAEMON,
    DelDaemon = IPVS_CMD_DEL_DAEMON,
    GetDaemon = IPVS_CMD_GET_DAEMON,
    SetConfig = IPVS_CMD_SET_CONFIG,
    GetConfig = IPVS_CMD_GET_CONFIG,
    SetInfo = IPVS_CMD_SET_INFO,
    GetInfo = IPVS_CMD_GET_INFO,
    Zero = IPVS_CMD_ZERO,
    Flush = IPVS_CMD_FLUSH,
}
impl Cmd for IpvsCmd {}

impl IpvsCmd {
    /// The header's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            IpvsCmd::Unspec => "IPVS_CMD_UNSPEC",
            IpvsCmd::NewService => "IPVS_CMD_NEW_SERVICE",
            IpvsCmd::SetService => "IPVS_CMD_SET_SERVICE",
            IpvsCmd::DelService => "IPVS_CMD_DEL_SERVICE",
            IpvsCmd::GetService => "IPVS_CMD_GET_SERVICE",
            IpvsCmd::NewDest => "IPVS_CMD_NEW_DEST",
            IpvsCmd::SetDest => "IPVS_CMD_SET_DEST",
            IpvsCmd::DelDest => "IPVS_CMD_DEL_DEST",
            IpvsCmd::GetDest => "IPVS_CMD_GET_DEST",
            IpvsCmd::NewDaemon => "IPVS_CMD_NEW_DAEMON",
            IpvsCmd::DelDaemon => "IPVS_CMD_DEL_DAEMON",
            IpvsCmd::GetDaemon => "IPVS_CMD_GET_DAEMON",
            IpvsCmd::SetConfig => "IPVS_CMD_SET_CONFIG",
            IpvsCmd::GetConfig => "IPVS_CMD_GET_CONFIG",
            IpvsCmd::SetInfo => "IPVS_CMD_SET_INFO",
            IpvsCmd::GetInfo => "IPVS_CMD_GET_INFO",
            IpvsCmd::Zero => "IPVS_CMD_ZERO",
            IpvsCmd::Flush => "IPVS_CMD_FLUSH",
            IpvsCmd::UnrecognizedConst(_) => "IPVS_CMD_?",
        }
    }
}

/// First-level attributes, as a neli enum.
#[neli_enum(serialized_type = "u16")]
pub enum IpvsCmdAttr {
    Unspec = IPVS_CMD_ATTR_UNSPEC,
    Service = IPVS_CMD_ATTR_SERVICE,
    Dest = IPVS_CMD_ATTR_DEST,
    Daemon = IPVS_CMD_ATTR_DAEMON,
    TimeoutTcp = IPVS_CMD_ATTR_TIMEOUT_TCP,
    TimeoutTcpFin = IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
    TimeoutUdp = IPVS_CMD_ATTR_TIMEOUT_UDP,
}
impl NlAttrType for IpvsCmdAttr {}

/// Service attributes, as a neli enum.
#[neli_enum(serialized_type = "u16")]
pub enum IpvsSvcAttr {
    Unspec = IPVS_SVC_ATTR_UNSPEC,
    Af = IPVS_SVC_ATTR_AF,
    Protocol = IPVS_SVC_ATTR_PROTOCOL,
    Addr = IPVS_SVC_ATTR_ADDR,
    Port = IPVS_SVC_ATTR_PORT,
    Fwmark = IPVS_SVC_ATTR_FWMARK,
    SchedName = IPVS_SVC_ATTR_SCHED_NAME,
    Flags = IPVS_SVC_ATTR_FLAGS,
    Timeout = IPVS_SVC_ATTR_TIMEOUT,
    Netmask = IPVS_SVC_ATTR_NETMASK,
    Stats = IPVS_SVC_ATTR_STATS,
    PeName = IPVS_SVC_ATTR_PE_NAME,
    Stats64 = IPVS_SVC_ATTR_STATS64,
}
impl NlAttrType for IpvsSvcAttr {}

/// Destination attributes, as a neli enum.
#[neli_enum(serialized_type = "u16")]
pub enum IpvsDestAttr {
    Unspec = IPVS_DEST_ATTR_UNSPEC,
    Addr = IPVS_DEST_ATTR_ADDR,
    Port = IPVS_DEST_ATTR_PORT,
    FwdMethod = IPVS_DEST_ATTR_FWD_METHOD,
    Weight = IPVS_DEST_ATTR_WEIGHT,
    UThresh = IPVS_DEST_ATTR_U_THRESH,
    LThresh = IPVS_DEST_ATTR_L_THRESH,
    ActiveConns = IPVS_DEST_ATTR_ACTIVE_CONNS,
    InactConns = IPVS_DEST_ATTR_INACT_CONNS,
    PersistConns = IPVS_DEST_ATTR_PERSIST_CONNS,
    Stats = IPVS_DEST_ATTR_STATS,
    AddrFamily = IPVS_DEST_ATTR_ADDR_FAMILY,
    Stats64 = IPVS_DEST_ATTR_STATS64,
    TunType = IPVS_DEST_ATTR_TUN_TYPE,
    TunPort = IPVS_DEST_ATTR_TUN_PORT,
    TunFlags = IPVS_DEST_ATTR_TUN_FLAGS,
}
impl NlAttrType for IpvsDestAttr {}

/// Sync daemon attributes, as a neli enum.
#[neli_enum(serialized_type = "u16")]
pub enum IpvsDaemonAttr {
    Unspec = IPVS_DAEMON_ATTR_UNSPEC,
    State = IPVS_DAEMON_ATTR_STATE,
    McastIfn = IPVS_DAEMON_ATTR_MCAST_IFN,
    SyncId = IPVS_DAEMON_ATTR_SYNC_ID,
    SyncMaxlen = IPVS_DAEMON_ATTR_SYNC_MAXLEN,
    McastGroup = IPVS_DAEMON_ATTR_MCAST_GROUP,
    McastGroup6 = IPVS_DAEMON_ATTR_MCAST_GROUP6,
    McastPort = IPVS_DAEMON_ATTR_MCAST_PORT,
    McastTtl = IPVS_DAEMON_ATTR_MCAST_TTL,
}
impl NlAttrType for IpvsDaemonAttr {}

/// Statistics attributes, as a neli enum.
#[neli_enum(serialized_type = "u16")]
pub enum IpvsStatsAttr {
    Unspec = IPVS_STATS_ATTR_UNSPEC,
    Conns = IPVS_STATS_ATTR_CONNS,
    Inpkts = IPVS_STATS_ATTR_INPKTS,
    Outpkts = IPVS_STATS_ATTR_OUTPKTS,
    Inbytes = IPVS_STATS_ATTR_INBYTES,
    Outbytes = IPVS_STATS_ATTR_OUTBYTES,
    Cps = IPVS_STATS_ATTR_CPS,
    Inpps = IPVS_STATS_ATTR_INPPS,
    Outpps = IPVS_STATS_ATTR_OUTPPS,
    Inbps = IPVS_STATS_ATTR_INBPS,
    Outbps = IPVS_STATS_ATTR_OUTBPS,
    Pad = IPVS_STATS_ATTR_PAD,
}
impl NlAttrType for IpvsStatsAttr {}

/// GET_INFO reply attributes, as a neli enum.
#[neli_enum(serialized_type = "u16")]
pub enum IpvsInfoAttr {
    Unspec = IPVS_INFO_ATTR_UNSPEC,
    Version = IPVS_INFO_ATTR_VERSION,
    ConnTabSize = IPVS_INFO_ATTR_CONN_TAB_SIZE,
}
impl NlAttrType for IpvsInfoAttr {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_carry_the_header_values() {
        assert_eq!(u8::from(IpvsCmd::Flush), 17);
        assert_eq!(IpvsCmd::from(5u8), IpvsCmd::NewDest);
        assert_eq!(IpvsCmd::from(99u8), IpvsCmd::UnrecognizedConst(99));
        assert_eq!(u16::from(IpvsSvcAttr::Stats64), 12);
        assert_eq!(u16::from(IpvsDestAttr::TunFlags), 15);
        assert_eq!(u16::from(IpvsDaemonAttr::McastTtl), 8);
        assert_eq!(u16::from(IpvsStatsAttr::Pad), 11);
        assert_eq!(IpvsCmd::GetInfo.name(), "IPVS_CMD_GET_INFO");
    }

    #[test]
    fn derived_masks_match_the_header() {
        assert_eq!(IP_VS_CONN_F_BACKUP_MASK, 0x1f87);
        assert_eq!(IP_VS_CONN_F_DEST_MASK, 0x12007);
        assert_eq!(IP_VS_SO_SET_ZERO, 1167);
    }
}
