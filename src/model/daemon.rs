use super::{Origin, keyed};
use serde::{Deserialize, Serialize};
use std::{fmt, net::IpAddr};

/// Role of a connection-synchronisation daemon (`IP_VS_STATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonState {
    Master,
    Backup,
}

impl DaemonState {
    pub fn name(self) -> &'static str {
        match self {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
        }
    }
}

impl fmt::Display for DaemonState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A connection-synchronisation daemon. At most one per role.
///
/// Optional fields left `None` take the kernel's defaults (maxlen from the MTU, group
/// 224.0.0.81 or ff02::81, port 8848, ttl 1); the kernel always reports them filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDaemon {
    pub state: DaemonState,
    pub interface: String,
    #[serde(default)]
    pub syncid: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxlen: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
    #[serde(skip)]
    pub origin: Origin,
}

impl SyncDaemon {
    pub fn new(state: DaemonState, interface: impl Into<String>) -> Self {
        SyncDaemon {
            state,
            interface: interface.into(),
            syncid: 0,
            maxlen: None,
            group: None,
            port: None,
            ttl: None,
            origin: Origin::default(),
        }
    }

    /// True when `observed` has every setting this daemon asks for (unset ones match
    /// whatever the kernel chose).
    pub fn satisfied_by(&self, observed: &SyncDaemon) -> bool {
        fn ok<T: PartialEq>(want: &Option<T>, have: &Option<T>) -> bool {
            want.is_none() || want == have
        }
        self.state == observed.state
            && self.interface == observed.interface
            && self.syncid == observed.syncid
            && ok(&self.maxlen, &observed.maxlen)
            && ok(&self.group, &observed.group)
            && ok(&self.port, &observed.port)
            && ok(&self.ttl, &observed.ttl)
    }
}

impl keyed::Keyed for SyncDaemon {
    type Key = DaemonState;
    fn key(&self) -> DaemonState {
        self.state
    }
}
