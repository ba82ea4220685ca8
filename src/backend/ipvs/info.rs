//! What GET_INFO reports: the IPVS version and the connection hash table size.

use super::constants::*;
use super::wire::{DecodeError, Table};
use std::fmt;

type InfoTable<'a> = Table<'a, { IPVS_INFO_ATTR_MAX as usize + 1 }>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// `IP_VS_VERSION_CODE` of the kernel, e.g. 0x010201.
    pub version: u32,
    /// Buckets of the connection hash table (`ip_vs_conn_tab_size`).
    pub conn_tab_size: u32,
}

impl fmt::Display for Info {
    /// `IPVS 1.2.1 (size=4096)`, like the first line of `ipvsadm -L`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.version;
        write!(
            f,
            "IPVS {}.{}.{} (size={})",
            (v >> 16) & 0xff,
            (v >> 8) & 0xff,
            v & 0xff,
            self.conn_tab_size
        )
    }
}

/// The attributes of a GET_INFO reply (command SET_INFO).
pub fn decode_info(attrs: &[u8]) -> Result<Info, DecodeError> {
    let t = InfoTable::parse(attrs)?;
    Ok(Info {
        version: t
            .u32(IPVS_INFO_ATTR_VERSION, "IPVS_INFO_ATTR_VERSION")?
            .ok_or(DecodeError::Missing("IPVS_INFO_ATTR_VERSION"))?,
        conn_tab_size: t
            .u32(IPVS_INFO_ATTR_CONN_TAB_SIZE, "IPVS_INFO_ATTR_CONN_TAB_SIZE")?
            .unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ipvs::wire::Encoder;

    #[test]
    fn info_decodes_and_prints_like_ipvsadm() {
        let mut e = Encoder::new();
        e.u32(IPVS_INFO_ATTR_VERSION, IP_VS_VERSION_CODE);
        e.u32(IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096);
        let i = decode_info(e.bytes()).unwrap();
        assert_eq!(i.to_string(), "IPVS 1.2.1 (size=4096)");
        assert_eq!(
            decode_info(&[]).unwrap_err(),
            DecodeError::Missing("IPVS_INFO_ATTR_VERSION")
        );
    }
}
