use super::{Change, Plan};
use crate::model::{DestKey, Hold, HoldReason, ServiceKey};
use serde::Serialize;

/// The document `to_json` writes: the changes, their counts, and the holds.
#[derive(Serialize)]
struct Document<'a> {
    changes: &'a [Change],
    summary: Summary,
    holds: Vec<HoldDoc<'a>>,
}

/// One hold, as the module doc of `plan` describes it.
#[derive(Serialize)]
struct HoldDoc<'a> {
    service: &'a ServiceKey,
    dest: &'a DestKey,
    reason: &'static str,
    since: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    over: Option<u32>,
    script_weight: Option<u32>,
    weight: Option<u32>,
}

impl<'a> From<&'a Hold> for HoldDoc<'a> {
    fn from(h: &'a Hold) -> Self {
        let (reason, since, over) = match h.reason {
            HoldReason::Down { since } => ("down", Some(since), None),
            HoldReason::Unknown { since } => ("unknown", Some(since), None),
            HoldReason::Draining { since } => ("draining", Some(since), None),
            HoldReason::Drained { since } => ("drained", Some(since), None),
            HoldReason::SlowStart { since, over } => ("slow_start", Some(since), Some(over)),
            HoldReason::Sorry => ("sorry", None, None),
        };
        HoldDoc {
            service: &h.service,
            dest: &h.dest,
            reason,
            since,
            over,
            script_weight: h.script,
            weight: h.held,
        }
    }
}

#[derive(Serialize)]
struct Summary {
    add: usize,
    change: usize,
    delete: usize,
}

impl Plan {
    /// The plan as pretty-printed JSON, without a trailing newline; the format is
    /// described in the module doc.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.json_document()).expect("a plan always serializes")
    }

    /// The document `to_json` prints, to be serialized in place: the journal streams
    /// it into a snapshot instead of holding a 50,000-change plan as text or value.
    pub fn json_document(&self) -> impl Serialize + '_ {
        let (add, change, delete) = self.counts();
        Document {
            changes: &self.changes,
            summary: Summary {
                add,
                change,
                delete,
            },
            holds: self.holds.iter().map(HoldDoc::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{
        Balancer, Dest, DestKey, MarkRule, Protocol, Service, ServiceKey, Timeouts,
    };
    use crate::plan::{Mode, Plan, diff};
    use serde_json::{Value, json};

    #[test]
    fn empty_plan() {
        let v: Value = serde_json::from_str(&Plan::default().to_json()).unwrap();
        assert_eq!(
            v,
            json!({"changes": [], "summary": {"add": 0, "change": 0, "delete": 0}, "holds": []})
        );
    }

    #[test]
    fn every_field_of_a_plan() {
        let key = ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), 80);
        let dk = DestKey {
            address: "192.168.10.11".parse().unwrap(),
            port: 80,
        };
        let mut desired = Balancer::default();
        let mut s = Service::new(key);
        s.scheduler = "rr".parse().unwrap();
        s.persistence = Some(120);
        s.dests.insert(dk, Dest::new(dk));
        desired.services.insert(key, s.clone());
        desired.timeouts.tcp = Some(600);

        let mut observed = Balancer::default();
        let mut old = s.clone();
        old.dests.clear();
        old.scheduler = "wlc".parse().unwrap();
        old.stats.conns = 99; // counters never show up in a plan
        observed.services.insert(key, old);
        observed.timeouts = Timeouts::KERNEL_DEFAULT;
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        observed.marks.insert(10, m);

        let plan = diff(&desired, &observed, Mode::Replace);
        let v: Value = serde_json::from_str(&plan.to_json()).unwrap();
        let svc = json!({"protocol": "tcp", "address": "192.168.10.120", "port": 80});
        assert_eq!(
            v,
            json!({
                "changes": [
                    {
                        "action": "edit",
                        "object": {"type": "timeouts"},
                        "before": {"tcp": 900, "tcp_fin": 120, "udp": 300},
                        "after": {"tcp": 600, "tcp_fin": 120, "udp": 300}
                    },
                    {
                        "action": "edit",
                        "object": {"type": "service", "key": svc},
                        "before": {"protocol": "tcp", "address": "192.168.10.120", "port": 80,
                                   "scheduler": "wlc", "persistence": 120},
                        "after": {"protocol": "tcp", "address": "192.168.10.120", "port": 80,
                                  "scheduler": "rr", "persistence": 120}
                    },
                    {
                        "action": "add",
                        "object": {"type": "dest", "service": svc,
                                   "key": {"address": "192.168.10.11", "port": 80}},
                        "before": null,
                        "after": {"address": "192.168.10.11", "port": 80,
                                  "forward": {"method": "dr"}, "weight": 1}
                    },
                    {
                        "action": "delete",
                        "object": {"type": "mark", "key": 10},
                        "before": {"mark": 10, "addresses": ["192.168.10.120"], "protocols": ["tcp"]},
                        "after": null
                    }
                ],
                "summary": {"add": 1, "change": 2, "delete": 1},
                "holds": []
            })
        );
    }

    /// A service deleted with its real servers counts as their addition would.
    #[test]
    fn the_summary_counts_real_servers_deleted_with_their_service() {
        let key = ServiceKey::inet(Protocol::Tcp, "10.0.0.1".parse().unwrap(), 80);
        let mut s = Service::new(key);
        for a in ["10.0.1.1", "10.0.1.2"] {
            let dk = DestKey {
                address: a.parse().unwrap(),
                port: 80,
            };
            s.dests.insert(dk, Dest::new(dk));
        }
        let mut b = Balancer::default();
        b.services.insert(key, s);
        for (desired, observed, summary) in [
            (
                &b,
                &Balancer::default(),
                json!({"add": 3, "change": 0, "delete": 0}),
            ),
            (
                &Balancer::default(),
                &b,
                json!({"add": 0, "change": 0, "delete": 3}),
            ),
        ] {
            let plan = diff(desired, observed, Mode::Replace);
            let v: Value = serde_json::from_str(&plan.to_json()).unwrap();
            assert_eq!(v["summary"], summary);
        }
    }

    #[test]
    fn holds_carry_their_reason_times_and_weights() {
        use crate::model::{Hold, HoldReason};
        let service = ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), 80);
        let dest = |last: u8| DestKey {
            address: format!("192.168.10.{last}").parse().unwrap(),
            port: 80,
        };
        let plan = Plan::default().with_holds(vec![
            Hold {
                service,
                dest: dest(11),
                reason: HoldReason::Down { since: 7 },
                script: Some(10),
                held: None,
            },
            Hold {
                service,
                dest: dest(12),
                reason: HoldReason::SlowStart { since: 9, over: 30 },
                script: Some(10),
                held: Some(3),
            },
            Hold {
                service,
                dest: dest(99),
                reason: HoldReason::Sorry,
                script: None,
                held: Some(1),
            },
        ]);
        let v: Value = serde_json::from_str(&plan.to_json()).unwrap();
        let svc = json!({"protocol": "tcp", "address": "192.168.10.120", "port": 80});
        assert_eq!(
            v["holds"],
            json!([
                {"service": svc, "dest": {"address": "192.168.10.11", "port": 80},
                 "reason": "down", "since": 7, "script_weight": 10, "weight": null},
                {"service": svc, "dest": {"address": "192.168.10.12", "port": 80},
                 "reason": "slow_start", "since": 9, "over": 30, "script_weight": 10, "weight": 3},
                {"service": svc, "dest": {"address": "192.168.10.99", "port": 80},
                 "reason": "sorry", "since": null, "script_weight": null, "weight": 1}
            ])
        );
        // Holds are not changes.
        assert_eq!(v["summary"], json!({"add": 0, "change": 0, "delete": 0}));
    }

    #[test]
    fn json_is_pretty_and_has_no_trailing_newline() {
        let text = Plan::default().to_json();
        assert!(text.starts_with("{\n  \"changes\": []"), "{text}");
        assert!(text.ends_with('}'));
    }
}
