//! What the run-time side knows about each real server: its health (written by
//! `lvsh watch`) and its drain (written by `lvsh drain`/`undrain` and by watch as a
//! drain progresses). Persisted under the state directory, so a restart, `kill -9`
//! or reboot resumes from it.

use super::{DestKey, ServiceKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Format version of the persisted file.
pub const RUNTIME_FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// Not yet decided: a server watch added, held at weight 0 until it rises.
    Unknown,
    Up,
    Down,
}

impl HealthState {
    pub fn name(self) -> &'static str {
        match self {
            HealthState::Unknown => "unknown",
            HealthState::Up => "up",
            HealthState::Down => "down",
        }
    }
}

/// The last probe's answer.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub ok: bool,
    /// Unix time, seconds.
    pub at: u64,
    pub latency_ms: u32,
    /// "connected", "status 503", "timed out after 1s", "exit status 2".
    pub reason: String,
}

impl Clone for ProbeResult {
    fn clone(&self) -> Self {
        ProbeResult {
            ok: self.ok,
            at: self.at,
            latency_ms: self.latency_ms,
            reason: self.reason.clone(),
        }
    }

    /// Reuses the reason's buffer: the daemon copies each answer into every record
    /// of its probe, a thousand times a second at 2,000 servers.
    fn clone_from(&mut self, source: &Self) {
        self.ok = source.ok;
        self.at = source.at;
        self.latency_ms = source.latency_ms;
        self.reason.clone_from(&source.reason);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub state: HealthState,
    /// Unix time of the last transition.
    pub since: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<ProbeResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrainState {
    /// Weight 0; waiting for its connections (and templates) to end or the deadline.
    Draining,
    /// Done: weight 0, or removed when the drain asked for it.
    Drained,
}

impl DrainState {
    pub fn name(self) -> &'static str {
        match self {
            DrainState::Draining => "draining",
            DrainState::Drained => "drained",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drain {
    pub state: DrainState,
    /// Unix time the drain began.
    pub started: u64,
    /// Unix time after which the drain ends whatever the connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
    /// The kernel's weight when the drain began: what `undrain` gives back when no
    /// script says otherwise.
    pub prior_weight: u32,
    /// Delete the destination once drained.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove: bool,
    /// Unix time the drain ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<u64>,
    /// Why it ended: "connections ended", "deadline passed with 3 connections".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// One real server of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRuntime {
    pub service: ServiceKey,
    pub dest: DestKey,
    /// The script's weight as `watch` last loaded it (for `lvsh status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain: Option<Drain>,
}

/// Everything the run-time side holds, by (service, real server).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runtime {
    pub servers: BTreeMap<(ServiceKey, DestKey), ServerRuntime>,
}

impl Runtime {
    pub fn get(&self, service: &ServiceKey, dest: &DestKey) -> Option<&ServerRuntime> {
        self.servers.get(&(*service, *dest))
    }

    pub fn entry(&mut self, service: ServiceKey, dest: DestKey) -> &mut ServerRuntime {
        self.servers
            .entry((service, dest))
            .or_insert_with(|| ServerRuntime {
                service,
                dest,
                script_weight: None,
                health: None,
                drain: None,
            })
    }

    pub fn health(&self, service: &ServiceKey, dest: &DestKey) -> Option<&Health> {
        self.get(service, dest).and_then(|s| s.health.as_ref())
    }

    pub fn drain(&self, service: &ServiceKey, dest: &DestKey) -> Option<&Drain> {
        self.get(service, dest).and_then(|s| s.drain.as_ref())
    }

    /// Drops records that hold nothing any more.
    pub fn prune(&mut self) {
        self.servers
            .retain(|_, s| s.health.is_some() || s.drain.is_some() || s.script_weight.is_some());
    }
}

/// The persisted form: a list, since JSON keys must be strings.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuntimeFile {
    format: u32,
    servers: Vec<ServerRuntime>,
}

impl Serialize for Runtime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RuntimeFile {
            format: RUNTIME_FORMAT,
            servers: self.servers.values().cloned().collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Runtime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let file = RuntimeFile::deserialize(d)?;
        if file.format != RUNTIME_FORMAT {
            return Err(serde::de::Error::custom(format!(
                "format {} is not the {RUNTIME_FORMAT} this lvsh reads",
                file.format
            )));
        }
        let mut runtime = Runtime::default();
        for s in file.servers {
            if runtime.servers.insert((s.service, s.dest), s).is_some() {
                return Err(serde::de::Error::custom("a real server is listed twice"));
            }
        }
        Ok(runtime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    #[test]
    fn a_result_copied_in_place_equals_its_source() {
        let mut to = ProbeResult {
            ok: true,
            at: 1,
            latency_ms: 2,
            reason: "connected".into(),
        };
        let from = ProbeResult {
            ok: false,
            at: 3,
            latency_ms: 1000,
            reason: "timed out after 1s connecting".into(),
        };
        to.clone_from(&from);
        assert_eq!(to, from);
    }

    #[test]
    fn round_trips_through_json_and_refuses_other_formats() {
        let mut rt = Runtime::default();
        let svc = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80);
        let dest = DestKey {
            address: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        rt.entry(svc, dest).health = Some(Health {
            state: HealthState::Down,
            since: 5,
            last: None,
        });
        let json = serde_json::to_string(&rt).unwrap();
        assert_eq!(serde_json::from_str::<Runtime>(&json).unwrap(), rt);
        let other = json.replace("\"format\":1", "\"format\":9");
        let err = serde_json::from_str::<Runtime>(&other).unwrap_err();
        assert!(err.to_string().contains("format 9"), "{err}");
    }
}
