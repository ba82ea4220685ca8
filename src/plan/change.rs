use crate::model::{
    DaemonState, Dest, DestKey, HostAddress, MarkRule, Service, ServiceKey, SyncDaemon,
    SysctlValue, Timeouts,
};
use serde::{Serialize, Serializer, ser::SerializeMap};

/// What happens to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Add,
    /// Changed in place; live connections survive.
    Edit,
    Delete,
}

/// Which object a change is about, by key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Object {
    Service(ServiceKey),
    Dest(ServiceKey, DestKey),
    /// The nft rule that sets this firewall mark.
    Mark(u32),
    Timeouts,
    Daemon(DaemonState),
    /// The IPVS sysctl `net.ipv4.vs.NAME`, or a host one by its full name.
    Sysctl(String),
    /// An address lvsh puts on an interface (added or deleted, never edited).
    Address(HostAddress),
}

// `{"type": "service", "key": ...}`; see the JSON section of the module doc.
impl Serialize for Object {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self {
            Object::Service(key) => {
                m.serialize_entry("type", "service")?;
                m.serialize_entry("key", key)?;
            }
            Object::Dest(service, key) => {
                m.serialize_entry("type", "dest")?;
                m.serialize_entry("service", service)?;
                m.serialize_entry("key", key)?;
            }
            Object::Mark(mark) => {
                m.serialize_entry("type", "mark")?;
                m.serialize_entry("key", mark)?;
            }
            Object::Timeouts => m.serialize_entry("type", "timeouts")?,
            Object::Daemon(state) => {
                m.serialize_entry("type", "daemon")?;
                m.serialize_entry("key", state)?;
            }
            Object::Sysctl(name) => {
                m.serialize_entry("type", "sysctl")?;
                m.serialize_entry("key", name)?;
            }
            Object::Address(a) => {
                m.serialize_entry("type", "address")?;
                m.serialize_entry("key", a)?;
            }
        }
        m.end()
    }
}

/// The settings of one object at one side of a change. Build one with `from`/`into`.
///
/// Serialized as the object itself, in the model's JSON format; the change's `object`
/// says which kind it is. Boxed, timeouts too, so that a plan of ten thousand changes
/// stays small and quick to build (a change is 80 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Snapshot {
    /// A service's own settings. Its `dests` are empty, except in the `before` of a
    /// service deletion, where they are the destinations deleted with it.
    Service(Box<Service>),
    Dest(Box<Dest>),
    Mark(Box<MarkRule>),
    Timeouts(Box<Timeouts>),
    Daemon(Box<SyncDaemon>),
    Sysctl(Box<SysctlValue>),
    Address(Box<HostAddress>),
}

macro_rules! snapshot_from {
    ($($ty:ident => $variant:ident($wrap:path)),*) => {$(
        impl From<$ty> for Snapshot {
            fn from(v: $ty) -> Self {
                Snapshot::$variant($wrap(v))
            }
        }
    )*};
}

snapshot_from!(
    Service => Service(Box::new),
    Dest => Dest(Box::new),
    MarkRule => Mark(Box::new),
    SyncDaemon => Daemon(Box::new),
    Timeouts => Timeouts(Box::new),
    SysctlValue => Sysctl(Box::new),
    HostAddress => Address(Box::new)
);

impl Snapshot {
    pub fn service(&self) -> Option<&Service> {
        match self {
            Snapshot::Service(s) => Some(s),
            _ => None,
        }
    }

    pub fn dest(&self) -> Option<&Dest> {
        match self {
            Snapshot::Dest(d) => Some(d),
            _ => None,
        }
    }

    pub fn mark(&self) -> Option<&MarkRule> {
        match self {
            Snapshot::Mark(m) => Some(m),
            _ => None,
        }
    }

    pub fn timeouts(&self) -> Option<&Timeouts> {
        match self {
            Snapshot::Timeouts(t) => Some(t.as_ref()),
            _ => None,
        }
    }

    pub fn daemon(&self) -> Option<&SyncDaemon> {
        match self {
            Snapshot::Daemon(d) => Some(d),
            _ => None,
        }
    }

    pub fn sysctl(&self) -> Option<&SysctlValue> {
        match self {
            Snapshot::Sysctl(v) => Some(v),
            _ => None,
        }
    }
}

/// One step of a plan: `before` is what the kernel holds (`None` for an add), `after`
/// what it will hold (`None` for a delete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub action: Action,
    pub object: Object,
    pub before: Option<Snapshot>,
    pub after: Option<Snapshot>,
}

impl Change {
    /// The real servers a service deletion takes with it (0 for any other change).
    pub fn dests_deleted_along(&self) -> usize {
        match (self.action, &self.before) {
            (Action::Delete, Some(Snapshot::Service(s))) => s.dests.len(),
            _ => 0,
        }
    }

    pub(crate) fn add(object: Object, after: Snapshot) -> Self {
        Change {
            action: Action::Add,
            object,
            before: None,
            after: Some(after),
        }
    }

    pub(crate) fn edit(object: Object, before: Snapshot, after: Snapshot) -> Self {
        Change {
            action: Action::Edit,
            object,
            before: Some(before),
            after: Some(after),
        }
    }

    pub(crate) fn delete(object: Object, before: Snapshot) -> Self {
        Change {
            action: Action::Delete,
            object,
            before: Some(before),
            after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, Protocol};

    #[test]
    fn objects_serialize_with_type_and_key() {
        let svc = ServiceKey::inet(Protocol::Udp, "2001:db8::1".parse().unwrap(), 53);
        let dk = DestKey {
            address: "10.0.0.5".parse().unwrap(),
            port: 53,
        };
        let cases = [
            (
                Object::Service(svc),
                r#"{"type":"service","key":{"protocol":"udp","address":"2001:db8::1","port":53}}"#,
            ),
            (
                Object::Service(ServiceKey::fwmark(Family::Inet6, 7)),
                r#"{"type":"service","key":{"family":"inet6","fwmark":7}}"#,
            ),
            (
                Object::Dest(ServiceKey::fwmark(Family::Inet, 7), dk),
                r#"{"type":"dest","service":{"family":"inet","fwmark":7},"key":{"address":"10.0.0.5","port":53}}"#,
            ),
            (Object::Mark(10), r#"{"type":"mark","key":10}"#),
            (Object::Timeouts, r#"{"type":"timeouts"}"#),
            (
                Object::Daemon(DaemonState::Backup),
                r#"{"type":"daemon","key":"backup"}"#,
            ),
            (
                Object::Sysctl("conntrack".into()),
                r#"{"type":"sysctl","key":"conntrack"}"#,
            ),
        ];
        for (object, want) in cases {
            assert_eq!(serde_json::to_string(&object).unwrap(), want);
        }
    }

    #[test]
    fn snapshot_accessors_pick_their_kind() {
        let t = Snapshot::from(Timeouts::KERNEL_DEFAULT);
        assert_eq!(t.timeouts(), Some(&Timeouts::KERNEL_DEFAULT));
        assert!(t.service().is_none() && t.dest().is_none());
        assert!(t.mark().is_none() && t.daemon().is_none());
        let m = Snapshot::from(MarkRule::new(3));
        assert_eq!(m.mark().map(|m| m.mark), Some(3));
        assert!(m.timeouts().is_none());
    }
}
