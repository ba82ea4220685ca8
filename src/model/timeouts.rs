use serde::{Deserialize, Serialize};

/// Global connection timeouts in seconds (`IPVS_CMD_ATTR_TIMEOUT_*`).
///
/// `None` means the script leaves that timeout alone; the kernel always reports all
/// three. The kernel itself treats 0 as "unchanged", so 0 is never a valid setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_fin: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<u32>,
}

impl Timeouts {
    /// What a freshly loaded `ip_vs` module uses.
    pub const KERNEL_DEFAULT: Timeouts = Timeouts {
        tcp: Some(900),
        tcp_fin: Some(120),
        udp: Some(300),
    };

    pub fn is_empty(&self) -> bool {
        self.tcp.is_none() && self.tcp_fin.is_none() && self.udp.is_none()
    }

    /// True when every timeout this one sets has the same value in `observed`.
    pub fn satisfied_by(&self, observed: &Timeouts) -> bool {
        fn ok(want: Option<u32>, have: Option<u32>) -> bool {
            want.is_none() || want == have
        }
        ok(self.tcp, observed.tcp)
            && ok(self.tcp_fin, observed.tcp_fin)
            && ok(self.udp, observed.udp)
    }
}
