//! Whether table `inet lvsh` exists, asked over nfnetlink before starting `nft`.
//!
//! Every plan reads the table, and most balancers have no marks and so no table:
//! one `NFT_MSG_GETTABLE` answers that with a request instead of a process (`nft`
//! takes 60–70 ms to start in a small VM, beside a 400 ms IPVS dump). Only a clear
//! "no such table" is trusted; any other answer, or none, leaves it to `nft`, which
//! reads the table and reports errors as before. Constants as in
//! linux/netfilter/nfnetlink.h and linux/netfilter/nf_tables.h.

use super::layout::TABLE;
use crate::backend::{
    addr::wire::{NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR, decode_error},
    ipvs::{
        netlink::{in_netns, set_recv_timeout},
        wire::{Encoder, messages},
    },
};
use neli::{
    consts::socket::{Msg, NlFamily},
    socket::NlSocket,
    utils::Groups,
};
use std::{io, os::fd::AsRawFd, time::Duration};

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFT_MSG_GETTABLE: u16 = 1;
const NFNETLINK_V0: u8 = 0;
const NFPROTO_INET: u8 = 1;
const NFTA_TABLE_NAME: u16 = 1;

/// The kernel answers at once; a stuck answer is left to `nft`.
const RECV_TIMEOUT: Duration = Duration::from_secs(5);

/// `Some(false)` when the namespace has no table `inet lvsh`, `Some(true)` when it
/// has one, `None` when the kernel did not say (no nfnetlink, nf_tables not loaded,
/// not root, a namespace given as a path).
pub fn table_exists(netns: Option<&str>) -> Option<bool> {
    let sock = match netns {
        None => open().ok()?,
        Some(name) if name.contains('/') => return None,
        Some(name) => in_netns(name, || open().map_err(|e| io_error(e.to_string()))).ok()?,
    };
    let seq = 1;
    sock.send(request(seq), Msg::empty()).ok()?;
    let mut rx = vec![0u8; 8192];
    // The table's description, then the ACK; or only the error.
    let mut seen = false;
    loop {
        let (n, _) = sock.recv(&mut rx[..], Msg::empty()).ok()?;
        for m in messages(&rx[..n.min(rx.len())]) {
            let m = m.ok()?;
            if m.seq != seq {
                continue;
            }
            if m.ty != NLMSG_ERROR {
                seen = true;
                continue;
            }
            return match decode_error(m.payload).ok()? {
                0 if seen => Some(true),
                libc::ENOENT => Some(false),
                // An ACK without the table, or any error: `nft` decides.
                _ => None,
            };
        }
    }
}

/// `NFT_MSG_GETTABLE` of `inet lvsh` with an ACK. `nfgenmsg` (family, version,
/// resource id) has `genlmsghdr`'s layout, so the generic-netlink encoder serves.
fn request(seq: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    let m = e.message(
        NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETTABLE,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        NFPROTO_INET,
        NFNETLINK_V0,
    );
    e.string(NFTA_TABLE_NAME, TABLE);
    e.end(m);
    e.finish().expect("a 32-byte request fits").to_vec()
}

fn open() -> io::Result<NlSocket> {
    let sock = NlSocket::connect(NlFamily::Netfilter, None, Groups::empty())?;
    set_recv_timeout(sock.as_raw_fd(), RECV_TIMEOUT)?;
    Ok(sock)
}

fn io_error(message: String) -> crate::backend::ipvs::Error {
    crate::backend::ipvs::Error::Io {
        context: "create the nfnetlink socket",
        source: io::Error::other(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_a_gettable_of_inet_lvsh_with_an_ack() {
        let r = request(7);
        // nlmsghdr: length, type (subsystem 10, message 1), flags, seq, port.
        assert_eq!(
            u32::from_ne_bytes(r[0..4].try_into().unwrap()) as usize,
            r.len()
        );
        assert_eq!(u16::from_ne_bytes([r[4], r[5]]), 0x0a01);
        assert_eq!(u16::from_ne_bytes([r[6], r[7]]), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(u32::from_ne_bytes(r[8..12].try_into().unwrap()), 7);
        // nfgenmsg: NFPROTO_INET, NFNETLINK_V0, resource id 0.
        assert_eq!(&r[16..20], &[1, 0, 0, 0]);
        // NFTA_TABLE_NAME "lvsh\0", padded to 4.
        assert_eq!(
            &r[20..32],
            &[9, 0, 1, 0, b'l', b'v', b's', b'h', 0, 0, 0, 0]
        );
        assert_eq!(r.len(), 32);
    }
}
