use super::{Change, Plan};
use serde::Serialize;

/// The document `to_json` writes: the changes and their counts.
#[derive(Serialize)]
struct Document<'a> {
    changes: &'a [Change],
    summary: Summary,
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
        let (add, change, delete) = self.counts();
        let doc = Document {
            changes: &self.changes,
            summary: Summary {
                add,
                change,
                delete,
            },
        };
        serde_json::to_string_pretty(&doc).expect("a plan always serializes")
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
            json!({"changes": [], "summary": {"add": 0, "change": 0, "delete": 0}})
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
                "summary": {"add": 1, "change": 2, "delete": 1}
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
    fn json_is_pretty_and_has_no_trailing_newline() {
        let text = Plan::default().to_json();
        assert!(text.starts_with("{\n  \"changes\": []"), "{text}");
        assert!(text.ends_with('}'));
    }
}
