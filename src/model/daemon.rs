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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// Configuration only: the origin is a place in a script, not configuration.
impl PartialEq for SyncDaemon {
    fn eq(&self, other: &Self) -> bool {
        // Every field named, so that a new one has to be placed here.
        let SyncDaemon {
            state,
            interface,
            syncid,
            maxlen,
            group,
            port,
            ttl,
            origin: _,
        } = self;
        *state == other.state
            && *interface == other.interface
            && *syncid == other.syncid
            && *maxlen == other.maxlen
            && *group == other.group
            && *port == other.port
            && *ttl == other.ttl
    }
}

impl Eq for SyncDaemon {}

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
        let SyncDaemon {
            state,
            interface,
            syncid,
            maxlen,
            group,
            port,
            ttl,
            origin: _,
        } = self;
        *state == observed.state
            && *interface == observed.interface
            && *syncid == observed.syncid
            && ok(maxlen, &observed.maxlen)
            && ok(group, &observed.group)
            && ok(port, &observed.port)
            && ok(ttl, &observed.ttl)
    }
}

impl keyed::Keyed for SyncDaemon {
    type Key = DaemonState;
    const WHAT: &'static str = "sync daemon";
    fn key(&self) -> DaemonState {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_not_configuration() {
        let mut a = SyncDaemon::new(DaemonState::Master, "eth0");
        a.origin = Origin::at(std::sync::Arc::from("site.rhai"), 2, 1);
        let mut b = SyncDaemon::new(DaemonState::Master, "eth0");
        assert_eq!(a, b);
        assert!(a.satisfied_by(&b));
        b.syncid = 4;
        assert_ne!(a, b);
        assert!(!a.satisfied_by(&b));
        // Unset settings take whatever the kernel chose; set ones must match.
        b.syncid = 0;
        b.ttl = Some(1);
        assert_ne!(a, b);
        assert!(a.satisfied_by(&b));
        assert!(!b.satisfied_by(&a));
    }
}
