//! Weights held by the run-time side (drains, health) in `plan` and the REPL, against
//! a state file and a `runtime.json` under a temporary `LVSH_STATE_DIR`; and the
//! arguments of `drain`, `undrain` and `status`. No kernel needed.

mod support;

use std::path::Path;
use support::Test;

const SCRIPT: &str = r#"let vip = "192.168.10.120";
service(vip, 80).scheduler("rr").rs(rs("192.168.10.11").weight(10)).rs(rs("192.168.10.12").weight(10));
service(vip, 443).scheduler("rr").rs(rs("192.168.10.11").weight(10)).rs(rs("192.168.10.13").weight(10));
"#;

/// 2026-12-03 12:13:20 UTC.
const T0: u64 = 1_796_300_000;

/// A directory with `site.rhai`, `kernel.json` (the script's model with the weights
/// given for rs .12:80 and .13:443, as `emit --to json` writes it), and a state
/// directory whose `runtime.json` drains .12:80 and has drained .13:443 for removal.
fn site(w12: u32, w13: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.rhai"), SCRIPT).unwrap();
    let kernel = SCRIPT
        .replace(
            r#"rs("192.168.10.12").weight(10)"#,
            &format!(r#"rs("192.168.10.12").weight({w12})"#),
        )
        .replace(
            r#"rs("192.168.10.13").weight(10)"#,
            &format!(r#"rs("192.168.10.13").weight({w13})"#),
        );
    std::fs::write(dir.path().join("kernel.rhai"), kernel).unwrap();
    let json = Test::new()
        .current_dir(dir.path())
        .args(["emit", "kernel.rhai", "--to", "json"])
        .run()
        .stdout;
    std::fs::write(dir.path().join("kernel.json"), json).unwrap();
    write_runtime(
        dir.path(),
        &serde_json::json!({
            "format": 1,
            "servers": [
                {
                    "service": {"protocol": "tcp", "address": "192.168.10.120", "port": 80},
                    "dest": {"address": "192.168.10.12", "port": 80},
                    "drain": {"state": "draining", "started": T0, "prior_weight": 10}
                },
                {
                    "service": {"protocol": "tcp", "address": "192.168.10.120", "port": 443},
                    "dest": {"address": "192.168.10.13", "port": 443},
                    "drain": {"state": "drained", "started": T0, "prior_weight": 10,
                              "remove": true, "ended": T0 + 300, "outcome": "connections ended"}
                }
            ]
        })
        .to_string(),
    );
    dir
}

/// Writes the `runtime.json` lvsh reads for the namespace the tests run in, under
/// `dir/state` (the directory `LVSH_STATE_DIR` names in [`plan`]).
fn write_runtime(dir: &Path, text: &str) {
    // The namespace's directory name (`default`, `netns-inode-N`), as lvsh picks it.
    let ns = lvsh::apply::namespace_state_dir(None);
    let ns_dir = dir.join("state").join(ns.file_name().unwrap());
    std::fs::create_dir_all(&ns_dir).unwrap();
    std::fs::write(ns_dir.join("runtime.json"), text).unwrap();
}

fn plan(dir: &Path) -> Test {
    Test::new()
        .current_dir(dir)
        .env("LVSH_STATE_DIR", dir.join("state").to_str().unwrap())
        .args(["plan", "site.rhai", "--state", "kernel.json"])
}

#[test]
fn a_drained_weight_is_held_and_said_instead_of_changed() {
    // The kernel holds the drain's weight 0 and still has the server drained for removal.
    let dir = site(0, 10);
    plan(dir.path()).stdout_golden("holds/plan.txt").run();
    plan(dir.path())
        .args(["--json"])
        .stdout_golden("holds/plan.json")
        .run();
    // Once the server is removed, only holds are left: nothing pending.
    let gone = site(0, 10);
    std::fs::write(
        gone.path().join("kernel.rhai"),
        SCRIPT
            .replace(
                r#"rs("192.168.10.12").weight(10)"#,
                r#"rs("192.168.10.12").weight(0)"#,
            )
            .replace(r#".rs(rs("192.168.10.13").weight(10))"#, ""),
    )
    .unwrap();
    let json = Test::new()
        .current_dir(gone.path())
        .args(["emit", "kernel.rhai", "--to", "json"])
        .run()
        .stdout;
    std::fs::write(gone.path().join("kernel.json"), json).unwrap();
    plan(gone.path())
        .args(["--detailed-exitcode"])
        .stdout_golden("holds/plan_only_holds.txt")
        .run();
}

#[test]
fn a_drain_recorded_before_its_weight_reached_the_kernel_is_planned() {
    // `lvsh drain` records first: cut off before the write, the kernel still has 10.
    let dir = site(10, 10);
    plan(dir.path())
        .args(["--detailed-exitcode"])
        .status(2)
        .stdout_contains(&[
            "draining since 2026-12-03 12:13:20 UTC, weight held at 0 (script: 10)\n",
            "weight 10 → 0 (no new connections)\n",
            "Plan: 0 to add, 1 to change, 1 to delete.\n",
        ])
        .run();
}

#[test]
fn without_run_time_state_nothing_is_held() {
    let dir = site(10, 10);
    std::fs::remove_dir_all(dir.path().join("state")).unwrap();
    plan(dir.path())
        .stdout("No changes. The state file `kernel.json` matches the script.\n")
        .run();
}

#[test]
fn a_damaged_run_time_state_is_an_error_that_names_it() {
    let dir = site(0, 10);
    write_runtime(dir.path(), "{\"format\": 1, \"servers\": [");
    let out = plan(dir.path()).status(1).stderr_any().run();
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    // The report wraps at a width that depends on the temporary path's length.
    let flat = out.stderr.split_whitespace().filter(|w| *w != "|");
    let flat = flat.collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("runtime.json` is damaged") && flat.contains("drains are then forgotten"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_repl_plans_with_the_holds_too() {
    let dir = site(0, 10);
    let out = Test::new()
        .current_dir(dir.path())
        .env("LVSH_STATE_DIR", dir.path().join("state").to_str().unwrap())
        .args(["repl", "site.rhai", "--state", "kernel.json"])
        .stdin(":plan\n:apply\n:plan\n")
        .run();
    assert_eq!(
        out.stdout
            .matches("Held by the run-time side (not changes):")
            .count(),
        3,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("-   rs 192.168.10.13:443"),
        "{}",
        out.stdout
    );
    // After the simulated apply, only holds remain.
    assert!(
        out.stdout.trim_end().ends_with(
            "No changes. The state file `kernel.json` matches the script with the weights held above."
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn drain_undrain_and_status_arguments_are_checked_before_anything_runs() {
    for (args, says) in [
        (
            &["drain", "rs2"][..],
            "`rs2` is not a real server's address; e.g. `192.168.10.12` (every port)",
        ),
        (
            &[
                "drain",
                "192.168.10.12",
                "--service",
                "http 192.168.10.120:80",
            ],
            "`http 192.168.10.120:80` is not a service; e.g. `tcp 192.168.10.120:80`",
        ),
        (
            &["drain", "192.168.10.12", "--deadline", "10"],
            "`10` is not a duration",
        ),
        (
            &["undrain", "192.168.10.12:http"],
            "is not a real server's address",
        ),
        (
            &["status", "--set", "a=1"],
            "`--set` means nothing: `lvsh status` runs no script",
        ),
        (
            &["drain", "192.168.10.12", "--scope", "mark:1"],
            "`--scope` means nothing: `lvsh drain` runs no script",
        ),
    ] {
        Test::new()
            .args(args)
            .status(1)
            .stderr_contains(&[says])
            .run();
    }
}
