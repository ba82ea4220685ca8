//! Whole generic-netlink requests (one per [`IpvsOp`], dumps, gets) and the kernel's
//! answers to them, as bytes. No socket here, so all of it is tested without a kernel.

use super::config::encode_timeouts;
use super::constants::*;
use super::daemon::{encode_daemon, encode_daemon_state};
use super::dest::{encode_dest, encode_dest_key};
use super::service::{encode_service, encode_service_key};
use super::wire::{DecodeError, Encoder, GENL_HDRLEN, Message, NLMSG_HDRLEN, Table, TooLong};
use crate::backend::IpvsOp;
use crate::model::ServiceKey;

pub const NLM_F_REQUEST: u16 = libc::NLM_F_REQUEST as u16;
pub const NLM_F_MULTI: u16 = libc::NLM_F_MULTI as u16;
pub const NLM_F_ACK: u16 = libc::NLM_F_ACK as u16;
pub const NLM_F_DUMP: u16 = libc::NLM_F_DUMP as u16;
/// On an ACK: the copy of the request was left out (always so for successes).
pub const NLM_F_CAPPED: u16 = 0x100;
/// On an ACK: extended-ack TLVs follow.
pub const NLM_F_ACK_TLVS: u16 = 0x200;
pub const NLMSG_NOOP: u16 = libc::NLMSG_NOOP as u16;
pub const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
pub const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
pub const NLMSG_OVERRUN: u16 = libc::NLMSG_OVERRUN as u16;
pub const NLMSGERR_ATTR_MSG: u16 = 1;

pub const GENL_ID_CTRL: u16 = libc::GENL_ID_CTRL as u16;
pub const CTRL_CMD_GETFAMILY: u8 = libc::CTRL_CMD_GETFAMILY as u8;
pub const CTRL_ATTR_FAMILY_ID: u16 = libc::CTRL_ATTR_FAMILY_ID as u16;
pub const CTRL_ATTR_FAMILY_NAME: u16 = libc::CTRL_ATTR_FAMILY_NAME as u16;

/// The command that carries `op`.
pub fn op_cmd(op: &IpvsOp) -> IpvsCmd {
    match op {
        IpvsOp::AddService(_) => IpvsCmd::NewService,
        IpvsOp::EditService(_) => IpvsCmd::SetService,
        IpvsOp::DelService(_) => IpvsCmd::DelService,
        IpvsOp::AddDest(..) => IpvsCmd::NewDest,
        IpvsOp::EditDest(..) => IpvsCmd::SetDest,
        IpvsOp::DelDest(..) => IpvsCmd::DelDest,
        IpvsOp::SetTimeouts(_) => IpvsCmd::SetConfig,
        IpvsOp::AddDaemon(_) => IpvsCmd::NewDaemon,
        IpvsOp::DelDaemon(_) => IpvsCmd::DelDaemon,
    }
}

/// Appends one IPVS request for the family `family`.
pub fn request(
    e: &mut Encoder,
    family: u16,
    flags: u16,
    seq: u32,
    cmd: IpvsCmd,
    body: impl FnOnce(&mut Encoder),
) {
    let m = e.message(
        family,
        NLM_F_REQUEST | flags,
        seq,
        cmd.into(),
        IPVS_GENL_VERSION,
    );
    body(e);
    e.end(m);
}

/// Appends the request for `op`, without asking for an ACK: the kernel answers a
/// failed request anyway, and a batch asks for one on its last request only
/// ([`Encoder::add_flags`]), whose answer comes after every earlier one. A request
/// too long for netlink's length fields is an error and leaves the encoder as it was.
pub fn encode_op(e: &mut Encoder, family: u16, seq: u32, op: &IpvsOp) -> Result<(), TooLong> {
    let start = e.len();
    request(e, family, 0, seq, op_cmd(op), |e| match op {
        IpvsOp::AddService(s) | IpvsOp::EditService(s) => encode_service(e, s),
        IpvsOp::DelService(k) => encode_service_key(e, k),
        IpvsOp::AddDest(k, d) | IpvsOp::EditDest(k, d) => {
            encode_service_key(e, k);
            encode_dest(e, d);
        }
        IpvsOp::DelDest(k, d) => {
            encode_service_key(e, k);
            encode_dest_key(e, d);
        }
        IpvsOp::SetTimeouts(t) => encode_timeouts(e, t),
        IpvsOp::AddDaemon(d) => encode_daemon(e, d),
        IpvsOp::DelDaemon(s) => encode_daemon_state(e, *s),
    });
    e.check_since(start)
}

/// Appends a dump request; GET_DEST needs the service it lists.
pub fn encode_dump(
    e: &mut Encoder,
    family: u16,
    seq: u32,
    cmd: IpvsCmd,
    service: Option<&ServiceKey>,
) {
    request(e, family, NLM_F_DUMP, seq, cmd, |e| {
        if let Some(k) = service {
            encode_service_key(e, k);
        }
    });
}

/// Appends the nlctrl request that resolves a family name to its id.
pub fn encode_get_family(e: &mut Encoder, seq: u32, name: &str) {
    let m = e.message(
        GENL_ID_CTRL,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        CTRL_CMD_GETFAMILY,
        1,
    );
    e.string(CTRL_ATTR_FAMILY_NAME, name);
    e.end(m);
}

/// One answer of the kernel, already split by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// NLMSG_ERROR: `errno` 0 is the ACK of a success; `text` is extended-ack text.
    Ack { errno: i32, text: Option<&'a str> },
    /// NLMSG_DONE, the end of a dump (a negative status there is a failed dump).
    Done { errno: i32 },
    /// A generic-netlink message: its command and its top-level attributes.
    Data { cmd: u8, attrs: &'a [u8] },
    /// NLMSG_NOOP and the like; nothing to do.
    Other,
}

/// The errno of an `nlmsgerr` or a dump's status: the kernel sends it negated, 0 for
/// success. A positive value, or one whose negation overflows, is no errno.
fn errno(b: &[u8]) -> Result<i32, DecodeError> {
    let code = i32::from_ne_bytes(b.try_into().map_err(|_| DecodeError::Truncated)?);
    match code.checked_neg() {
        Some(errno) if errno >= 0 => Ok(errno),
        _ => Err(DecodeError::Errno(code)),
    }
}

/// Classifies one message.
pub fn answer<'a>(m: &Message<'a>) -> Result<Answer<'a>, DecodeError> {
    let p = m.payload;
    match m.ty {
        NLMSG_ERROR => {
            if p.len() < 4 + NLMSG_HDRLEN {
                return Err(DecodeError::Truncated);
            }
            let errno = errno(&p[0..4])?;
            let mut text = None;
            if m.flags & NLM_F_ACK_TLVS != 0 {
                // the request copy: its header only when CAPPED, else all of it
                let copied = if m.flags & NLM_F_CAPPED != 0 {
                    NLMSG_HDRLEN
                } else {
                    u32::from_ne_bytes(p[4..8].try_into().unwrap()) as usize
                };
                let at = (4 + copied + 3) & !3;
                if at <= p.len() {
                    text = Table::<2>::parse(&p[at..])?
                        .string(NLMSGERR_ATTR_MSG, "NLMSGERR_ATTR_MSG")?
                        .filter(|t| !t.is_empty());
                }
            }
            Ok(Answer::Ack { errno, text })
        }
        NLMSG_DONE => {
            let errno = match p.get(0..4) {
                Some(b) => errno(b)?,
                None => 0,
            };
            Ok(Answer::Done { errno })
        }
        NLMSG_NOOP | NLMSG_OVERRUN => Ok(Answer::Other),
        _ => {
            if p.len() < GENL_HDRLEN {
                return Err(DecodeError::Truncated);
            }
            Ok(Answer::Data {
                cmd: p[0],
                attrs: &p[GENL_HDRLEN..],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ipvs::wire::messages;
    use crate::model::{
        DaemonState, Dest, DestKey, Family, Forward, Protocol, Scheduler, Service, SyncDaemon,
        Timeouts,
    };

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The NEW_SERVICE dump that was sent to the lab kernel and accepted there.
    #[test]
    fn golden_new_service_request() {
        let mut s = Service::new(ServiceKey::inet(
            Protocol::Tcp,
            "10.0.0.1".parse().unwrap(),
            443,
        ));
        s.scheduler = Scheduler::Wrr;
        s.persistence = Some(1200);
        let mut e = Encoder::new();
        encode_op(&mut e, 0x24, 1, &IpvsOp::AddService(s)).unwrap();
        // Sent alone, it was the batch's last request: the one that asks for an ACK.
        assert_eq!(&e.bytes()[6..8], [1, 0], "NLM_F_REQUEST only");
        e.add_flags(0, NLM_F_ACK);
        let want = hex("68000000 2400 0500 01000000 00000000
             01 01 0000
             5400 0180
             0600 0100 0200 0000   0600 0200 0600 0000
             1400 0300 0a000001 00000000 00000000 00000000
             0600 0400 01bb 0000
             0800 0600 77727200
             0c00 0700 01000000 ffffffff
             0800 0800 b0040000
             0800 0900 ffffffff");
        assert_eq!(e.bytes(), want);
    }

    /// neli, an independent parser, reads our bytes back to the same values.
    #[test]
    fn neli_parses_our_requests() {
        use neli::{FromBytes, genl::Genlmsghdr, nl::Nlmsghdr};
        use std::io::Cursor;
        let key = ServiceKey::inet(Protocol::Udp, "2001:db8::1".parse().unwrap(), 53);
        let mut d = Dest::new(DestKey {
            address: "2001:db8::10".parse().unwrap(),
            port: 5353,
        });
        d.forward = Forward::Masq;
        d.weight = 7;
        d.upper_threshold = 9;
        let mut e = Encoder::new();
        encode_op(&mut e, 0x30, 42, &IpvsOp::AddDest(key, d)).unwrap();
        let m = Nlmsghdr::<u16, Genlmsghdr<IpvsCmd, IpvsCmdAttr>>::from_bytes(&mut Cursor::new(
            e.bytes(),
        ))
        .unwrap();
        assert_eq!(*m.nl_type(), 0x30);
        assert_eq!(*m.nl_seq(), 42);
        let g = m.get_payload().unwrap();
        assert_eq!(*g.cmd(), IpvsCmd::NewDest);
        let top = g.attrs().get_attr_handle();
        let svc = top
            .get_nested_attributes::<IpvsSvcAttr>(IpvsCmdAttr::Service)
            .unwrap();
        assert_eq!(svc.get_attr_payload_as::<u16>(IpvsSvcAttr::Af).unwrap(), 10);
        assert_eq!(
            svc.get_attr_payload_as::<u16>(IpvsSvcAttr::Protocol)
                .unwrap(),
            17
        );
        let port = svc.get_attr_payload_as::<u16>(IpvsSvcAttr::Port).unwrap();
        assert_eq!(u16::from_be(port), 53);
        let dest = top
            .get_nested_attributes::<IpvsDestAttr>(IpvsCmdAttr::Dest)
            .unwrap();
        assert_eq!(
            dest.get_attr_payload_as::<u32>(IpvsDestAttr::Weight)
                .unwrap(),
            7
        );
        assert_eq!(
            dest.get_attr_payload_as::<u32>(IpvsDestAttr::UThresh)
                .unwrap(),
            9
        );
        assert_eq!(
            dest.get_attr_payload_as::<u32>(IpvsDestAttr::FwdMethod)
                .unwrap(),
            IP_VS_CONN_F_MASQ
        );
        assert_eq!(
            u16::from_be(dest.get_attr_payload_as::<u16>(IpvsDestAttr::Port).unwrap()),
            5353
        );
    }

    #[test]
    fn every_op_has_its_command_and_asks_no_ack_until_told() {
        let key = ServiceKey::fwmark(Family::Inet, 1);
        let dk = DestKey {
            address: "10.0.0.1".parse().unwrap(),
            port: 0,
        };
        let ops = [
            IpvsOp::AddService(Service::new(key)),
            IpvsOp::EditService(Service::new(key)),
            IpvsOp::DelService(key),
            IpvsOp::AddDest(key, Dest::new(dk)),
            IpvsOp::EditDest(key, Dest::new(dk)),
            IpvsOp::DelDest(key, dk),
            IpvsOp::SetTimeouts(Timeouts::KERNEL_DEFAULT),
            IpvsOp::AddDaemon(SyncDaemon::new(DaemonState::Master, "eth0")),
            IpvsOp::DelDaemon(DaemonState::Backup),
        ];
        let mut e = Encoder::new();
        for (i, op) in ops.iter().enumerate() {
            encode_op(&mut e, 0x22, 100 + i as u32, op).unwrap();
        }
        let got: Vec<(u8, u16, u32)> = messages(e.bytes())
            .map(|m| {
                let m = m.unwrap();
                (m.payload[0], m.flags, m.seq)
            })
            .collect();
        let want: Vec<(u8, u16, u32)> = [1u8, 2, 3, 5, 6, 7, 12, 9, 10]
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, NLM_F_REQUEST, 100 + i as u32))
            .collect();
        assert_eq!(got, want);
        // The ACK flag goes on the message asked for, and only on it.
        let third = messages(e.bytes())
            .take(2)
            .map(|m| 16 + m.unwrap().payload.len().next_multiple_of(4))
            .sum();
        e.add_flags(third, NLM_F_ACK);
        let flags: Vec<u16> = messages(e.bytes()).map(|m| m.unwrap().flags).collect();
        let mut want = vec![NLM_F_REQUEST; ops.len()];
        want[2] |= NLM_F_ACK;
        assert_eq!(flags, want);
    }

    #[test]
    fn a_request_too_long_for_netlink_is_refused_and_leaves_the_batch_whole() {
        let mut e = Encoder::new();
        let key = ServiceKey::fwmark(Family::Inet, 1);
        encode_op(&mut e, 0x22, 1, &IpvsOp::DelService(key)).unwrap();
        let before = e.bytes().to_vec();
        let huge = SyncDaemon::new(DaemonState::Master, "x".repeat(70_000));
        let err = encode_op(&mut e, 0x22, 2, &IpvsOp::AddDaemon(huge)).unwrap_err();
        assert_eq!(
            (err.what, err.ty),
            ("attribute", IPVS_DAEMON_ATTR_MCAST_IFN)
        );
        assert_eq!(e.finish().unwrap(), before);
        encode_op(&mut e, 0x22, 3, &IpvsOp::DelService(key)).unwrap();
        let seqs: Vec<u32> = messages(e.finish().unwrap())
            .map(|m| m.unwrap().seq)
            .collect();
        assert_eq!(seqs, [1, 3]);
    }

    #[test]
    fn dump_requests_carry_no_ack_and_the_service_for_dests() {
        let mut e = Encoder::new();
        encode_dump(&mut e, 0x22, 9, IpvsCmd::GetService, None);
        assert_eq!(
            e.bytes(),
            hex("14000000 2200 0103 09000000 00000000 04010000")
        );
        e.clear();
        encode_dump(
            &mut e,
            0x22,
            10,
            IpvsCmd::GetDest,
            Some(&ServiceKey::fwmark(Family::Inet6, 5)),
        );
        assert_eq!(
            e.bytes(),
            hex("28000000 2200 0103 0a000000 00000000 08010000
                 1400 0180 0600 0100 0a00 0000 0800 0500 05000000")
        );
        e.clear();
        encode_get_family(&mut e, 1, "IPVS");
        assert_eq!(
            e.bytes(),
            hex("20000000 1000 0500 01000000 00000000 03010000 0900 0200 49505653 00000000")
        );
    }

    /// 10,000 objects (2000 services with 4 destinations) through encode and decode.
    /// Debug builds take about 40 ms, release builds under 2 ms; the bound only
    /// catches work that grew per object (quadratic copies, per-attribute allocation).
    #[test]
    fn ten_thousand_objects_encode_and_decode_quickly() {
        use crate::backend::ipvs::{dest::decode_dest, service::decode_service};
        use std::time::{Duration, Instant};
        let mut ops = Vec::new();
        for i in 0..2000u32 {
            let k = ServiceKey::inet(
                Protocol::Tcp,
                std::net::Ipv4Addr::from(0x0a01_0000 + i).into(),
                80,
            );
            ops.push(IpvsOp::AddService(Service::new(k)));
            for j in 1..=4u32 {
                let mut d = Dest::new(DestKey {
                    address: std::net::Ipv4Addr::from(0x0a02_0000 + i * 4 + j).into(),
                    port: 8080,
                });
                d.forward = Forward::Masq;
                ops.push(IpvsOp::AddDest(k, d));
            }
        }
        let t = Instant::now();
        let mut e = Encoder::with_capacity(2 << 20);
        for (i, op) in ops.iter().enumerate() {
            encode_op(&mut e, 0x24, i as u32, op).unwrap();
        }
        let mut decoded = 0;
        for m in messages(e.bytes()) {
            let m = m.unwrap();
            let t = Table::<7>::parse(&m.payload[GENL_HDRLEN..]).unwrap();
            if m.payload[0] == IPVS_CMD_NEW_SERVICE {
                decode_service(t.get(IPVS_CMD_ATTR_SERVICE).unwrap()).unwrap();
            } else {
                decode_dest(t.get(IPVS_CMD_ATTR_DEST).unwrap(), Family::Inet).unwrap();
            }
            decoded += 1;
        }
        let took = t.elapsed();
        assert_eq!(decoded, 10_000);
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }

    fn msg(ty: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&7u32.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn one(bytes: &[u8]) -> Answer<'_> {
        let m = messages(bytes).next().unwrap().unwrap();
        answer(&m).unwrap()
    }

    #[test]
    fn acks_capped_uncapped_and_with_text() {
        // success: capped, header copy only
        let mut p = 0i32.to_ne_bytes().to_vec();
        p.extend_from_slice(&[0; 16]);
        let ok = msg(NLMSG_ERROR, NLM_F_CAPPED, &p);
        assert_eq!(
            one(&ok),
            Answer::Ack {
                errno: 0,
                text: None
            }
        );

        // failure, uncapped: the whole 24-byte request is echoed, then TLVs
        let mut p = (-libc::ENOENT).to_ne_bytes().to_vec();
        let mut req = 24u32.to_ne_bytes().to_vec();
        req.extend_from_slice(&[0; 20]);
        p.extend_from_slice(&req);
        let mut tlv = Encoder::new();
        tlv.string(NLMSGERR_ATTR_MSG, "no such thing");
        p.extend_from_slice(tlv.bytes());
        let err = msg(NLMSG_ERROR, NLM_F_ACK_TLVS, &p);
        assert_eq!(
            one(&err),
            Answer::Ack {
                errno: libc::ENOENT,
                text: Some("no such thing")
            }
        );

        // failure, capped, with TLVs after the header copy
        let mut p = (-libc::EEXIST).to_ne_bytes().to_vec();
        p.extend_from_slice(&[0; 16]);
        p.extend_from_slice(tlv.bytes());
        let err = msg(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, &p);
        assert_eq!(
            one(&err),
            Answer::Ack {
                errno: libc::EEXIST,
                text: Some("no such thing")
            }
        );
    }

    #[test]
    fn done_data_and_truncation() {
        assert_eq!(
            one(&msg(NLMSG_DONE, NLM_F_MULTI, &0i32.to_ne_bytes())),
            Answer::Done { errno: 0 }
        );
        assert_eq!(
            one(&msg(NLMSG_DONE, NLM_F_MULTI, &(-libc::EPERM).to_ne_bytes())),
            Answer::Done { errno: libc::EPERM }
        );
        assert_eq!(
            one(&msg(0x22, NLM_F_MULTI, &[1, 1, 0, 0, 4, 0, 1, 0])),
            Answer::Data {
                cmd: 1,
                attrs: &[4, 0, 1, 0]
            }
        );
        let short = msg(NLMSG_ERROR, 0, &[0; 8]);
        let m = messages(&short).next().unwrap().unwrap();
        assert_eq!(answer(&m), Err(DecodeError::Truncated));
    }

    /// Found by the `ipvs_netlink` fuzz target: an error code of i32::MIN panicked
    /// (its negation overflows); a positive one became a negative errno.
    #[test]
    fn error_codes_that_are_no_errno_are_decode_errors() {
        let crash = [
            0x24, 0, 0, 0, 0x02, 0, 0, 0x01, 0x01, 0, 0, 0, 0x92, 0x10, 0, 0, // nlmsghdr
            0, 0, 0, 0x80, // error i32::MIN
            0x24, 0, 0, 0, 0, 0x92, 0, 0, 0x01, 0x05, 0, 0, 0, 0, 0, 0, // request copy
        ];
        let m = messages(&crash).next().unwrap().unwrap();
        assert_eq!(answer(&m), Err(DecodeError::Errno(i32::MIN)));
        let mut p = 5i32.to_ne_bytes().to_vec();
        p.extend_from_slice(&[0; 16]);
        let positive = msg(NLMSG_ERROR, NLM_F_CAPPED, &p);
        let m = messages(&positive).next().unwrap().unwrap();
        assert_eq!(answer(&m), Err(DecodeError::Errno(5)));
        for code in [i32::MIN, 1] {
            let done = msg(NLMSG_DONE, NLM_F_MULTI, &code.to_ne_bytes());
            let m = messages(&done).next().unwrap().unwrap();
            assert_eq!(answer(&m), Err(DecodeError::Errno(code)));
        }
        assert_eq!(
            DecodeError::Errno(5).to_string(),
            "the kernel answered with error code 5, which is no negated errno"
        );
    }
}
