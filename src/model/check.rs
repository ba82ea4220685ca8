//! Health checks as data: what `lvsh watch` probes and what it does with the answer.
//! The kernel never sees any of this, so none of it takes part in a plan's diff.

use super::{Balancer, Dest, DestKey, Family, ServiceKey, keyed};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt, net::IpAddr};

/// Firewall marks `lvsh watch` gives the fwmark services that steer `via_vip()`
/// probes (`0x4c560000`-`0x4c56ffff`, "LV"): scripts may not use them, and plans of
/// scripts leave those services alone.
pub const PROBE_MARKS: std::ops::RangeInclusive<u32> = 0x4c56_0000..=0x4c56_ffff;

/// Probe timing defaults: tighter than keepalived's 60 s, with a real rise.
pub const DEFAULT_EVERY_MS: u32 = 2_000;
pub const DEFAULT_TIMEOUT_MS: u32 = 1_000;
pub const DEFAULT_RISE: u32 = 2;
pub const DEFAULT_FALL: u32 = 3;

/// One health check: the probe and when it counts as up or down.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub kind: CheckKind,
    pub every_ms: u32,
    pub timeout_ms: u32,
    /// Successes in a row that bring a server up.
    pub rise: u32,
    /// Failures in a row that take it down.
    pub fall: u32,
    /// The port to probe; `None` = the real server's port (or the service's, for a
    /// port-less fwmark destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Probe the VIP steered to this one server (a per-check fwmark service and
    /// `SO_MARK`), which proves the server accepts the VIP's traffic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub via_vip: bool,
}

impl Check {
    pub fn new(kind: CheckKind) -> Self {
        Check {
            kind,
            every_ms: DEFAULT_EVERY_MS,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            rise: DEFAULT_RISE,
            fall: DEFAULT_FALL,
            port: None,
            via_vip: false,
        }
    }

    /// The port a probe of `dest` goes to: the check's own, else the server's, else
    /// (a port-less fwmark destination) the lowest port its mark's rule matches.
    /// `None` for exec checks, which have no port, and when there is none to choose.
    pub fn probe_port(&self, b: &Balancer, service: &ServiceKey, dest: &DestKey) -> Option<u16> {
        if matches!(self.kind, CheckKind::Exec { .. }) {
            return None;
        }
        if let Some(p) = self.port {
            return Some(p);
        }
        if dest.port != 0 {
            return Some(dest.port);
        }
        match service {
            ServiceKey::Inet { port, .. } => Some(*port).filter(|p| *p != 0),
            ServiceKey::Fwmark { fwmark, .. } => b
                .marks
                .get(fwmark)
                .and_then(|m| m.ports.iter().next())
                .map(|r| r.first),
        }
    }

    /// The address a probe of `dest` goes to: the server's own, or with `via_vip`
    /// the service's (for a fwmark service, the first vip of its family that its
    /// mark's rule declares). `None` for exec checks and for a `via_vip` check of
    /// a fwmark service without vips.
    pub fn probe_address(
        &self,
        b: &Balancer,
        service: &ServiceKey,
        dest: &DestKey,
    ) -> Option<IpAddr> {
        match (&self.kind, self.via_vip, service) {
            (CheckKind::Exec { .. }, ..) => None,
            (_, false, _) => Some(dest.address),
            (_, true, ServiceKey::Inet { address, .. }) => Some(*address),
            // A probe of another family would be looked up among that family's
            // fwmark services.
            (_, true, ServiceKey::Fwmark { family, .. }) => b
                .mark_vips(*service)
                .into_iter()
                .find(|a| Family::of(a) == *family),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum CheckKind {
    /// A TCP connect.
    Tcp,
    /// An HTTP(S) GET.
    Http(HttpCheck),
    /// A datagram sent; up when the reply arrives (and holds `expect`, if set).
    Udp {
        payload: Vec<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect: Option<Vec<u8>>,
    },
    /// A program run; exit status 0 = up. Only `watch` ever runs it.
    Exec { program: String, args: Vec<String> },
}

impl CheckKind {
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Tcp => "tcp",
            CheckKind::Http(h) if h.tls => "https",
            CheckKind::Http(_) => "http",
            CheckKind::Udp { .. } => "udp",
            CheckKind::Exec { .. } => "exec",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tls: bool,
    pub path: String,
    /// Status codes that count as up, as inclusive ranges; default 200–299.
    pub expect: Vec<StatusRange>,
    /// `Host:` header (and the default SNI name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// A substring the body must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// Skip certificate verification (https only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// TLS server name when it differs from `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
}

impl HttpCheck {
    pub fn new(path: &str, tls: bool) -> Self {
        HttpCheck {
            tls,
            path: path.to_string(),
            expect: vec![StatusRange(200, 299)],
            host: None,
            contains: None,
            insecure: false,
            sni: None,
        }
    }

    pub fn accepts(&self, status: u16) -> bool {
        self.expect.iter().any(|r| r.0 <= status && status <= r.1)
    }
}

/// Inclusive range of HTTP status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StatusRange(pub u16, pub u16);

impl fmt::Display for StatusRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == self.1 {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{}-{}", self.0, self.1)
        }
    }
}

/// What a failed server's destination becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDown {
    /// Weight 0: no new connections, established ones go on.
    #[default]
    Quiesce,
    /// The destination is deleted (with `expire_nodest_conn=1` its flows end too).
    Remove,
}

impl OnDown {
    pub fn name(self) -> &'static str {
        match self {
            OnDown::Quiesce => "quiesce",
            OnDown::Remove => "remove",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [OnDown::Quiesce, OnDown::Remove]
            .into_iter()
            .find(|o| o.name() == s)
    }
}

/// The run-time settings of one service: its default check, what a failure does,
/// the sorry server, and each real server's own settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceChecks {
    #[serde(flatten)]
    pub service: ServiceKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    #[serde(default)]
    pub on_down: OnDown,
    /// Added only while no real server of the service is up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorry: Option<Dest>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", with = "keyed")]
    pub dests: BTreeMap<DestKey, DestChecks>,
}

impl ServiceChecks {
    pub fn new(service: ServiceKey) -> Self {
        ServiceChecks {
            service,
            check: None,
            on_down: OnDown::default(),
            sorry: None,
            dests: BTreeMap::new(),
        }
    }

    /// The check that decides `dest`'s health: its own, else the service's.
    pub fn check_of(&self, dest: &DestKey) -> Option<&Check> {
        self.dests
            .get(dest)
            .and_then(|d| d.check.as_ref())
            .or(self.check.as_ref())
    }

    pub fn slow_start_of(&self, dest: &DestKey) -> Option<u32> {
        self.dests.get(dest).and_then(|d| d.slow_start)
    }

    fn is_empty(&self) -> bool {
        self.check.is_none()
            && self.sorry.is_none()
            && self.on_down == OnDown::default()
            && self.dests.is_empty()
    }
}

impl keyed::Keyed for ServiceChecks {
    type Key = ServiceKey;
    const WHAT: &'static str = "service";
    fn key(&self) -> ServiceKey {
        self.service
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestChecks {
    #[serde(flatten)]
    pub dest: DestKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    /// Seconds over which a risen server's weight ramps up to the script's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_start: Option<u32>,
}

impl keyed::Keyed for DestChecks {
    type Key = DestKey;
    const WHAT: &'static str = "real server";
    fn key(&self) -> DestKey {
        self.dest
    }
}

/// Every service's run-time settings; only services that have some.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Checks {
    #[serde(with = "keyed")]
    pub services: BTreeMap<ServiceKey, ServiceChecks>,
}

impl Checks {
    pub fn is_empty(&self) -> bool {
        self.services.values().all(ServiceChecks::is_empty)
    }

    pub fn service(&self, key: &ServiceKey) -> Option<&ServiceChecks> {
        self.services.get(key)
    }

    /// The settings of `key`, created empty on first use (for builders).
    pub fn service_mut(&mut self, key: ServiceKey) -> &mut ServiceChecks {
        self.services
            .entry(key)
            .or_insert_with(|| ServiceChecks::new(key))
    }

    /// The check deciding `dest` of `service`, if any.
    pub fn check_of(&self, service: &ServiceKey, dest: &DestKey) -> Option<&Check> {
        self.services.get(service).and_then(|s| s.check_of(dest))
    }

    /// How many services have a check, of their own or on one of their servers.
    pub fn checked_services(&self) -> usize {
        self.services
            .values()
            .filter(|s| s.check.is_some() || s.dests.values().any(|d| d.check.is_some()))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    fn key() -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80)
    }

    fn dest(last: u8) -> DestKey {
        DestKey {
            address: format!("10.0.0.{last}").parse().unwrap(),
            port: 80,
        }
    }

    #[test]
    fn a_server_check_overrides_the_service_check() {
        let mut checks = Checks::default();
        let s = checks.service_mut(key());
        s.check = Some(Check::new(CheckKind::Tcp));
        let own = Check {
            port: Some(8080),
            ..Check::new(CheckKind::Tcp)
        };
        s.dests.insert(
            dest(2),
            DestChecks {
                dest: dest(2),
                check: Some(own.clone()),
                slow_start: None,
            },
        );
        assert_eq!(checks.check_of(&key(), &dest(1)).unwrap().port, None);
        assert_eq!(checks.check_of(&key(), &dest(2)), Some(&own));
        assert!(checks.check_of(&key(), &dest(3)).is_some());
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let mut checks = Checks::default();
        let mut http = HttpCheck::new("/healthz", true);
        http.expect = vec![StatusRange(200, 200), StatusRange(301, 302)];
        http.contains = Some("ok".into());
        let s = checks.service_mut(key());
        s.check = Some(Check::new(CheckKind::Http(http)));
        s.on_down = OnDown::Remove;
        let json = serde_json::to_string(&checks).unwrap();
        let back: Checks = serde_json::from_str(&json).unwrap();
        assert_eq!(back, checks);
    }

    #[test]
    fn status_ranges_accept_their_bounds_only() {
        let mut http = HttpCheck::new("/", false);
        assert!(http.accepts(200) && http.accepts(299) && !http.accepts(300));
        http.expect = vec![StatusRange(204, 204)];
        assert!(http.accepts(204) && !http.accepts(200));
    }
}
