//! The IPVS sysctls through the binary: check, plan, emit and warnings. No kernel
//! needed (the lab scenario `lvsh_sysctls` applies them to a real one).

mod support;

use support::Test;

const DIRECTOR: &str = "tests/sysctls/director.rhai";

#[test]
fn a_script_with_sysctls_checks_plans_and_emits() {
    Test::new()
        .args(["check", DIRECTOR])
        .stdout(&format!(
            "{DIRECTOR}: ok, 1 service, 2 real servers, 4 sysctls\n"
        ))
        .run();
    Test::new()
        .args(["plan", DIRECTOR, "--empty"])
        .stdout_golden("sysctls/director.plan")
        .run();
    Test::new()
        .args(["plan", DIRECTOR, "--empty", "--json"])
        .stdout_golden("sysctls/director.plan.json")
        .run();
    // ipvsadm has no word for them: stdout stays `ipvsadm -S -n`, stderr says how.
    Test::new()
        .args(["emit", DIRECTOR, "--to", "ipvsadm"])
        .stdout_golden("sysctls/director.ipvsadm")
        .stderr_golden("sysctls/director.ipvsadm.stderr")
        .run();
    Test::new()
        .args(["emit", DIRECTOR, "--to", "json"])
        .stdout_golden("sysctls/director.json")
        .run();
}

/// A state that holds the sysctls: the plan edits the ones that differ and leaves
/// the ones the script does not set alone.
#[test]
fn a_plan_edits_what_differs_and_only_what_the_script_sets() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let json = Test::new()
        .args(["emit", "-", "--to", "json"])
        .stdin(
            r#"let vip = "192.168.10.120";
service(vip, 80).scheduler("rr").persist(120)
    .rs(rs("192.168.10.11").dr()).rs(rs("192.168.10.12").dr());
sysctl("expire_nodest_conn", 0);
sysctl("expire_quiescent_template", 1);
sysctl("conn_reuse_mode", 1);
sysctl("sync_threshold", [3, 50]);
sysctl("sloppy_tcp", 1);
"#,
        )
        .run()
        .stdout;
    std::fs::write(&state, json).unwrap();
    let state = state.to_str().unwrap();
    Test::new()
        .args(["plan", DIRECTOR, "--state", state, "--detailed-exitcode"])
        .status(2)
        .stdout(
            "~ sysctl expire_nodest_conn  0 → 1\n\
             ~ sysctl sync_threshold      [3, 50] → [3, 100]\n\
             Plan: 0 to add, 2 to change, 0 to delete.\n",
        )
        .run();
    let own = dir.path().join("own.json");
    let json = Test::new()
        .args(["emit", DIRECTOR, "--to", "json"])
        .run()
        .stdout;
    std::fs::write(&own, json).unwrap();
    Test::new()
        .args([
            "plan",
            DIRECTOR,
            "--state",
            own.to_str().unwrap(),
            "--detailed-exitcode",
        ])
        .stdout_contains(&["No changes."])
        .run();
}

#[test]
fn a_trap_is_a_warning_with_its_place() {
    let rel = "tests/sysctls/backup_only.rhai";
    Test::new()
        .args(["check", rel])
        .stdout(&format!("{rel}: ok, 1 service, 1 real server, 1 sysctl\n"))
        .stderr(
            "warning: `backup_only` 1: this director balances none of its services while a \
             backup sync daemon runs; set it only on a director that is just a backup \
             (tests/sysctls/backup_only.rhai:2:1)\n",
        )
        .run();
}

/// The host settings a director needs, by full name: planned like the IPVS ones,
/// saved as `sysctl -w` advice by `emit --to ipvsadm`, and a NAT service on a host
/// that does not forward is a warning.
#[test]
fn host_sysctls_plan_and_warn_about_nat_without_forwarding() {
    let script = r#"service("10.0.0.1", 80).rs(rs("10.0.1.1").nat());
sysctl("net.ipv4.conf.lo.arp_ignore", 1);
sysctl("net.ipv4.conf.lo.arp_announce", 2);
"#;
    Test::new()
        .args(["plan", "-", "--empty"])
        .stdin(script)
        .stdout_contains(&[
            "+ sysctl net.ipv4.conf.lo.arp_announce  2",
            "+ sysctl net.ipv4.conf.lo.arp_ignore    1",
        ])
        .run();
    Test::new()
        .args(["emit", "-", "--to", "ipvsadm"])
        .stdin(script)
        .stderr_contains(&["`sysctl -w net.ipv4.conf.lo.arp_ignore=1` does"])
        .run();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(
        &state,
        r#"{"sysctls": {"net.ipv4.ip_forward": 0, "net.ipv4.conf.lo.arp_ignore": 0,
            "net.ipv4.conf.lo.arp_announce": 2}}"#,
    )
    .unwrap();
    let state = state.to_str().unwrap();
    Test::new()
        .args(["plan", "-", "--state", state])
        .stdin(script)
        .stdout_contains(&[
            "~ sysctl net.ipv4.conf.lo.arp_ignore  0 → 1",
            "Plan: 2 to add, 1 to change, 0 to delete.",
        ])
        .stderr(
            "warning: service tcp 10.0.0.1:80 has NAT servers, but `net.ipv4.ip_forward` is 0: \
             their replies will not get back to the clients; add \
             `sysctl(\"net.ipv4.ip_forward\", 1)` to the script\n",
        )
        .run();
    // Set by the script: no warning.
    Test::new()
        .args(["plan", "-", "--state", state])
        .stdin(&format!("{script}sysctl(\"net.ipv4.ip_forward\", 1);\n"))
        .stdout_contains(&["~ sysctl net.ipv4.ip_forward"])
        .stderr("")
        .run();
    Test::new()
        .args(["check", "-"])
        .stdin(r#"sysctl("net.ipv4.conf.lo.arp_ignore", 5);"#)
        .status_any()
        .stderr_contains(&[
            "sysctl `net.ipv4.conf.lo.arp_ignore` cannot be 5",
            "<stdin>:1:1",
        ])
        .run();
}
