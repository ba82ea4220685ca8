//! Global connection timeouts: top-level `IPVS_CMD_ATTR_TIMEOUT_*` attributes of
//! SET_CONFIG and of the GET_CONFIG reply (u32 seconds).
//!
//! Wire trap: the kernel treats an absent attribute and a 0 alike, as "unchanged";
//! we leave out the ones the model leaves alone (`None`).

use super::constants::*;
use super::wire::{DecodeError, Encoder, Table};
use crate::model::Timeouts;

type CmdTable<'a> = Table<'a, { IPVS_CMD_ATTR_MAX as usize + 1 }>;

/// The attributes of a SET_CONFIG request.
pub fn encode_timeouts(e: &mut Encoder, t: &Timeouts) {
    if let Some(v) = t.tcp {
        e.u32(IPVS_CMD_ATTR_TIMEOUT_TCP, v);
    }
    if let Some(v) = t.tcp_fin {
        e.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, v);
    }
    if let Some(v) = t.udp {
        e.u32(IPVS_CMD_ATTR_TIMEOUT_UDP, v);
    }
}

/// The attributes of a GET_CONFIG reply (a kernel without TCP or UDP support leaves
/// those out; they stay `None`).
pub fn decode_timeouts(attrs: &[u8]) -> Result<Timeouts, DecodeError> {
    let t = CmdTable::parse(attrs)?;
    Ok(Timeouts {
        tcp: t.u32(IPVS_CMD_ATTR_TIMEOUT_TCP, "IPVS_CMD_ATTR_TIMEOUT_TCP")?,
        tcp_fin: t.u32(
            IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            "IPVS_CMD_ATTR_TIMEOUT_TCP_FIN",
        )?,
        udp: t.u32(IPVS_CMD_ATTR_TIMEOUT_UDP, "IPVS_CMD_ATTR_TIMEOUT_UDP")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_set_timeouts_are_sent() {
        let mut e = Encoder::new();
        encode_timeouts(
            &mut e,
            &Timeouts {
                tcp: Some(900),
                tcp_fin: None,
                udp: Some(60),
            },
        );
        assert_eq!(
            e.bytes(),
            [8, 0, 4, 0, 0x84, 0x03, 0, 0, 8, 0, 6, 0, 60, 0, 0, 0]
        );
        let back = decode_timeouts(e.bytes()).unwrap();
        assert_eq!(back.tcp, Some(900));
        assert_eq!(back.tcp_fin, None);
        assert_eq!(back.udp, Some(60));
        let mut e = Encoder::new();
        encode_timeouts(&mut e, &Timeouts::KERNEL_DEFAULT);
        assert_eq!(
            decode_timeouts(e.bytes()).unwrap(),
            Timeouts::KERNEL_DEFAULT
        );
        let mut e = Encoder::new();
        encode_timeouts(&mut e, &Timeouts::default());
        assert!(e.is_empty());
    }
}
