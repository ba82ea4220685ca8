//! The IPVS sysctls a script sets: values the kernel refuses or that mean nothing,
//! and the known traps of their combinations with persistence and health checks
//! (warnings W1, W2, W4, W10 and W12 of the wave-2 notes).

use super::{Field, Problem, Subject};
use crate::model::{
    Balancer, OnDown, Origin, ServiceChecks, ServiceKey,
    sysctl::{SysctlValue, spec_of},
};

pub(super) fn check(b: &Balancer, out: &mut Vec<Problem>) {
    for (name, value) in b.sysctls.iter() {
        range(name, value, out);
    }
    traps(b, out);
}

fn at(p: Problem, name: &str, label: impl Into<String>) -> Problem {
    p.at(
        Subject::Sysctl(name.to_string()),
        Field::Object,
        &Origin::default(),
        label,
    )
}

fn range(name: &str, value: &SysctlValue, out: &mut Vec<Problem>) {
    let Some(spec) = spec_of(name) else {
        out.push(at(
            Problem::error(format!("unknown IPVS sysctl `{name}`")),
            name,
            "set here",
        ));
        return;
    };
    let Some(bad) = spec.check(value) else {
        return;
    };
    let help = if bad.kernel {
        "the kernel refuses any other value"
    } else {
        "the kernel would take it without a check, but no other value means anything"
    };
    out.push(at(
        Problem::error(format!("sysctl `{name}` cannot be {value}: {}", bad.why)).help(help),
        name,
        format!("{name} = {value}"),
    ));
}

/// Whether a service's servers are health-checked at all.
fn checked(sc: &ServiceChecks) -> bool {
    sc.check.is_some() || sc.dests.values().any(|d| d.check.is_some())
}

fn traps(b: &Balancer, out: &mut Vec<Problem>) {
    let set = |name: &str| b.sysctls.int(name);
    let checked: Vec<(&ServiceKey, &ServiceChecks)> = b
        .checks
        .services
        .iter()
        .filter(|(k, sc)| b.services.contains_key(k) && checked(sc))
        .collect();
    // W1: weight 0 does not move a client whose persistence template points at the
    // server; only this sysctl expires such templates (kubernetes#71809).
    if set("expire_quiescent_template") != Some(1) {
        let quiescing: Vec<&ServiceKey> = checked
            .iter()
            .filter(|(k, sc)| sc.on_down == OnDown::Quiesce && b.services[*k].persistence.is_some())
            .map(|(k, _)| *k)
            .collect();
        if let Some(first) = quiescing.first() {
            let what = match quiescing.len() {
                1 => format!("persistent service {first} quiesces"),
                n => format!("{n} persistent services ({first}, ...) quiesce"),
            };
            let mut p = Problem::warning(format!(
                "{what} failed servers, but `expire_quiescent_template` is not 1: a drain or a \
                 failed server may keep persistent clients until their template expires; add \
                 `sysctl(\"expire_quiescent_template\", 1)`"
            ))
            .at(
                Subject::Service(**first),
                Field::Persistence,
                &b.services[*first].origin,
                "persistent",
            );
            if set("expire_quiescent_template").is_some() {
                p = at(p, "expire_quiescent_template", "set here");
            }
            out.push(p);
        }
    }
    // W2: the kernel reschedules a reused source port only with a reuse mode.
    if set("conn_reuse_mode") == Some(0) && !checked.is_empty() {
        out.push(at(
            Problem::warning(
                "`conn_reuse_mode` 0 with health checks: a client reusing a source port follows \
                 its old connection to a quiesced or failed server; leave it at 1 (the default)",
            ),
            "conn_reuse_mode",
            "set here",
        ));
    }
    // W4: a deleted destination's connections are dropped silently, not ended.
    if set("expire_nodest_conn") != Some(1) {
        let removing: Vec<&ServiceKey> = checked
            .iter()
            .filter(|(_, sc)| sc.on_down == OnDown::Remove)
            .map(|(k, _)| *k)
            .collect();
        if let Some(first) = removing.first() {
            let what = match removing.len() {
                1 => format!("service {first} removes"),
                n => format!("{n} services ({first}, ...) remove"),
            };
            let mut p = Problem::warning(format!(
                "{what} failed servers, but `expire_nodest_conn` is not 1: their connections hang \
                 until their IPVS timeout (by default 900 s for TCP, 300 s for UDP); add `sysctl(\"expire_nodest_conn\", 1)`"
            ))
            .at(
                Subject::Service(**first),
                Field::Object,
                &b.services[first].origin,
                "on_down(\"remove\")",
            );
            if set("expire_nodest_conn").is_some() {
                p = at(p, "expire_nodest_conn", "set here");
            }
            out.push(p);
        }
    }
    // W10: a director that is also a sync backup would loop DR/TUN packets; the
    // kernel then stops balancing altogether.
    if set("backup_only") == Some(1) && !b.services.is_empty() {
        out.push(at(
            Problem::warning(
                "`backup_only` 1: this director balances none of its services while a backup \
                 sync daemon runs; set it only on a director that is just a backup",
            ),
            "backup_only",
            "set here",
        ));
    }
    // W12.
    if set("run_estimation") == Some(0) {
        out.push(at(
            Problem::warning(
                "`run_estimation` 0 stops the kernel's rate estimators: the rates of \
                 `lvsh show --stats` read 0",
            ),
            "run_estimation",
            "set here",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{
        Balancer, Check, CheckKind, OnDown, Protocol, Service, ServiceKey, SysctlValue, validate,
    };

    fn key(port: u16) -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), port)
    }

    /// A balancer with one checked service per entry: (persistent, on_down).
    fn checked(services: &[(bool, OnDown)]) -> Balancer {
        let mut b = Balancer::default();
        for (i, (persist, on_down)) in services.iter().enumerate() {
            let k = key(80 + i as u16);
            let mut s = Service::new(k);
            s.persistence = persist.then_some(120);
            b.services.insert(k, s);
            let sc = b.checks.service_mut(k);
            sc.check = Some(Check::new(CheckKind::Tcp));
            sc.on_down = *on_down;
        }
        b
    }

    fn set(mut b: Balancer, name: &str, v: i64) -> Balancer {
        b.sysctls.set(name, SysctlValue::Int(v));
        b
    }

    fn messages(b: &Balancer) -> Vec<String> {
        validate(b).into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn out_of_range_values_are_errors_saying_who_refuses_them() {
        let b = set(Balancer::default(), "drop_entry", 4);
        let p = &validate(&b)[0];
        assert!(p.is_error());
        assert!(
            p.message
                .starts_with("sysctl `drop_entry` cannot be 4: it is 0 (off)")
        );
        assert_eq!(
            p.help.as_deref(),
            Some("the kernel refuses any other value")
        );
        let b = set(Balancer::default(), "expire_nodest_conn", 2);
        let p = &validate(&b)[0];
        assert_eq!(
            p.message,
            "sysctl `expire_nodest_conn` cannot be 2: it is 0 or 1 (the kernel tests only for non-zero)"
        );
        assert!(p.help.as_deref().unwrap().contains("without a check"));
        for (name, v) in [
            ("conn_reuse_mode", 4),
            ("sync_ports", 6),
            ("sync_version", 2),
            ("sync_retries", 4),
            ("est_nice", -21),
            ("amemthresh", 0),
            ("secure_tcp", -1),
        ] {
            assert!(
                validate(&set(Balancer::default(), name, v))[0].is_error(),
                "{name} {v}"
            );
        }
        let mut b = Balancer::default();
        b.sysctls.set("sync_threshold", SysctlValue::Pair(50, 3));
        b.sysctls.set("nonsense", SysctlValue::Int(1));
        assert_eq!(
            messages(&b),
            [
                "unknown IPVS sysctl `nonsense`",
                "sysctl `sync_threshold` cannot be [50, 3]: it is `[threshold, period]` with \
                 threshold below period (or period 0), both >= 0"
            ]
        );
    }

    #[test]
    fn w1_persistence_with_quiesce_needs_expire_quiescent_template() {
        let b = checked(&[(true, OnDown::Quiesce), (false, OnDown::Quiesce)]);
        let m = messages(&b);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].starts_with(
            "persistent service tcp 192.168.10.120:80 quiesces failed servers, but \
             `expire_quiescent_template` is not 1"
        ));
        assert!(m[0].ends_with("add `sysctl(\"expire_quiescent_template\", 1)`"));
        let two = checked(&[(true, OnDown::Quiesce), (true, OnDown::Quiesce)]);
        assert!(
            messages(&two)[0]
                .starts_with("2 persistent services (tcp 192.168.10.120:80, ...) quiesce")
        );
        // Set to 0 by the script: the warning points at that too.
        let zero = set(b.clone(), "expire_quiescent_template", 0);
        assert_eq!(validate(&zero)[0].places.len(), 2);
        assert!(messages(&set(b, "expire_quiescent_template", 1)).is_empty());
        // Without checks, or with "remove", nothing quiesces.
        let mut plain = checked(&[(true, OnDown::Quiesce)]);
        plain.checks = Default::default();
        assert!(messages(&plain).is_empty());
        let remove = set(checked(&[(true, OnDown::Remove)]), "expire_nodest_conn", 1);
        assert!(messages(&remove).is_empty());
    }

    #[test]
    fn w2_conn_reuse_mode_0_with_checks() {
        let b = set(checked(&[(false, OnDown::Quiesce)]), "conn_reuse_mode", 0);
        assert_eq!(
            messages(&b),
            [
                "`conn_reuse_mode` 0 with health checks: a client reusing a source port follows its \
              old connection to a quiesced or failed server; leave it at 1 (the default)"
            ]
        );
        assert!(messages(&set(Balancer::default(), "conn_reuse_mode", 0)).is_empty());
    }

    #[test]
    fn w4_remove_needs_expire_nodest_conn() {
        let b = checked(&[(false, OnDown::Remove)]);
        assert_eq!(
            messages(&b),
            [
                "service tcp 192.168.10.120:80 removes failed servers, but `expire_nodest_conn` is \
              not 1: their connections hang until their IPVS timeout (by default 900 s for TCP, 300 s for UDP); add \
              `sysctl(\"expire_nodest_conn\", 1)`"
            ]
        );
        assert!(messages(&set(b, "expire_nodest_conn", 1)).is_empty());
    }

    #[test]
    fn w10_backup_only_and_w12_run_estimation() {
        let b = set(checked(&[]), "backup_only", 1);
        assert!(messages(&b).is_empty(), "no services, nothing to balance");
        let mut b = set(b, "run_estimation", 0);
        b.services.insert(key(80), Service::new(key(80)));
        let m = messages(&b);
        assert!(m[0].starts_with("`backup_only` 1: this director balances none of its services"));
        assert!(m[1].starts_with("`run_estimation` 0 stops the kernel's rate estimators"));
    }
}
